"""``main.py bench``: every benchmark's options, defaults and entry point.

Kept apart from the benchmarks so that building ``main.py``'s parser (every ``--help``)
imports none of them, nor numpy, torch, onnxruntime or aiohttp: each subcommand's ``func``
imports its module (``learner.bench.NAME``) and calls its ``run(args)`` when it runs.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from pathlib import Path

from learner.config import TrainerConfig  # torch-free dataclasses
from learner.tools.command import add_playback_options  # light: imports on use
from models.contract import ARCHITECTURES  # torch-free, imports nothing

ROOT = Path(__file__).resolve().parents[2]

# game.personas.BUILT_IN's names, written out: importing game.personas loads numpy.
SAMPLERS = ("relevance", "uniform", "adaptive", "adaptive-uniform")
"""How a bench's trainer draws frames: the relevance weights, uniform, or loss-aware
priorities (``learner.sampler.LossPriority``) with either as the prior."""
LIVE_SAMPLER = "adaptive-uniform"
"""What live play does by default (``learner.live.LIVE_WEIGHTS`` with the adaptation on): the
learning benches measure it unless told otherwise."""
PERSONAS = ("chaser", "predictor", "lazy", "nervous", "angler", "keyboard", "pointer", "misjudge")

# bench relevance
RELEVANCE_LEVEL = 0.9  # the approach agreement whose arrival time is compared
RELEVANCE_DOCS = ROOT / "docs" / "relevance.md"
RELEVANCE_EVALUATE_EVERY = 5
RELEVANCE_SEEDS = 3
RELEVANCE_MINUTES = 3.0
RELEVANCE_MODEL = "mlp"
RELEVANCE_COMPETENCE_EVERY = 15  # simulated seconds between competence checks

# bench fidelity and stylometry: how much play the style distributions rest on
STYLE_MINUTES = 20.0  # simulated minutes each player plays, in all
STYLE_SEEDS = 3  # split over this many seeds

# bench perf
PERF_SECONDS = 60.0  # seconds of each tick-lateness run (idle, trainer flat out)
PERF_DOCS = ROOT / "docs" / "benchmarks.md"
TORCHRL_VENV = ROOT / ".venv-torchrl"


def _runner(module: str) -> Callable[[argparse.Namespace], int]:
    """``func`` of a subcommand: import ``learner.bench.<module>`` when it runs, not before."""

    def run(args: argparse.Namespace) -> int:
        return importlib.import_module(f"learner.bench.{module}").run(args)

    return run


def _model(parser: argparse.ArgumentParser, default: str = "mlp") -> None:
    parser.add_argument(
        "--model",
        choices=ARCHITECTURES,
        default=default,
        help="the mirror's architecture (default: %(default)s)",
    )


def _style(parser: argparse.ArgumentParser) -> None:
    """How much play the style distributions rest on (``learner.style``)."""
    parser.add_argument(
        "--style-minutes",
        type=float,
        default=STYLE_MINUTES,
        metavar="MINUTES",
        help="simulated minutes each player (persona, clone, the persona again on other "
        "matches) plays for the style figures, in all (default: %(default)g)",
    )
    parser.add_argument(
        "--style-seeds",
        type=int,
        default=STYLE_SEEDS,
        metavar="N",
        help="split the style minutes over this many seeds (default: %(default)s)",
    )


def _json(parser: argparse.ArgumentParser, what: str = "the figures") -> None:
    parser.add_argument("--json", type=Path, default=None, help=f"also write {what} here")


def add_bench_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``bench`` and its subcommands to ``main.py``'s subparsers."""
    bench = subparsers.add_parser(
        "bench", help="benchmarks that print figures", description="Benchmarks."
    )
    sub = bench.add_subparsers(
        dest="bench",
        metavar="{loop,live,soak,fidelity,stylometry,relevance,perf,report}",
        required=True,
    )
    add_loop_parser(sub)
    add_live_parser(sub)
    add_soak_parser(sub)
    add_learning_parsers(sub)
    add_relevance_parser(sub)
    add_perf_parser(sub)
    add_report_parser(sub)
    return bench


def add_loop_parser(sub) -> argparse.ArgumentParser:
    loop = sub.add_parser(
        "loop",
        help="session-loop tick lateness at 60 Hz with one connected client",
        description="Tick lateness of the real session loop while the server serves one "
        "WebSocket client (run in a separate process), on the real clock.",
    )
    loop.add_argument(
        "--seconds", type=float, default=60.0, help="how long to measure (default: 60)"
    )
    _json(loop)
    loop.set_defaults(func=_runner("loop"))
    return loop


def add_soak_parser(sub) -> argparse.ArgumentParser:
    soak = sub.add_parser(
        "soak",
        help="the real game for minutes with faults injected: does learning ever stop?",
        description="Runs 'main.py play' with a persona and a browser-like WebSocket client "
        "on the real clock, kills the trainer process at random moments and the server once "
        "(then starts it again on the same profile), and prints: sessions in which learning "
        "stopped, model versions accepted per minute, ticks later than one frame, recording "
        "ticks lost. Exits 1 if learning stopped in any session.",
    )
    soak.add_argument(
        "--minutes", type=float, default=10.0, help="real minutes in all (default: %(default)s)"
    )
    soak.add_argument(
        "--persona", default="chaser", help="who plays, as for play (default: %(default)s)"
    )
    soak.add_argument(
        "--kill-every",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="mean seconds between trainer kills (default: %(default)s)",
    )
    soak.add_argument(
        "--seed", type=int, default=0, help="seed of the fault schedule (default: %(default)s)"
    )
    soak.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="profile folder to play in (default: a new temporary folder)",
    )
    _json(soak)
    soak.set_defaults(func=_runner("soak"))
    return soak


def add_live_parser(sub) -> argparse.ArgumentParser:
    live = sub.add_parser(
        "live",
        help="live play with the trainer flat out: lateness, decision and hot-swap latency",
        description="A persona plays live (real clock, real server, one client) while its "
        "mirror trains flat out in the trainer process.",
    )
    live.add_argument("--persona", default="chaser", help="who plays (default: %(default)s)")
    _model(live)
    live.add_argument("--minutes", type=float, default=3.0, help="real minutes (default: 3)")
    _json(live)
    live.set_defaults(func=_runner("live"))
    return live


def _model_config(text: str) -> dict:
    """--model-config's value: a small JSON object (the model's own checks come later)."""
    from game.safe_json import loads

    try:
        value = loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object, e.g. '{\"frames\": 4}'")
    return value


def add_learning_parsers(sub) -> None:
    fidelity = sub.add_parser(
        "fidelity",
        help="how well and how fast a mirror copies a persona (headless, seeded)",
        description="A persona plays against its own evolving mirror on a simulated clock; "
        "then the clone is scored on held-out play, and its style is compared with the "
        "persona's as distributions (reaction delay, where it meets the ball, balls "
        "returned, rally length, paddle speed, jitter, where it waits) over --style-minutes "
        "of play each, with bootstrap confidence intervals and one style distance.",
    )
    fidelity.add_argument("--persona", required=True, metavar="SPEC", help="who to copy")
    _model(fidelity)
    fidelity.add_argument(
        "--model-config",
        type=_model_config,
        default=None,
        metavar="JSON",
        help="overrides of the architecture's settings, as a JSON object, e.g. "
        "'{\"taps\": [0, 1, 2, 3]}' for the MLP of the first contract (default: none)",
    )
    _sampler(fidelity)
    fidelity.add_argument("--minutes", type=float, default=3.0, help="simulated minutes of play")
    fidelity.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the run, and which player of the persona's kind it copies: the same "
        "player plays the held-out and style matches (default: 0)",
    )
    _style(fidelity)
    add_playback_options(fidelity)
    fidelity.add_argument(
        "--compare-temperatures",
        type=float,
        nargs="+",
        default=None,
        metavar="T",
        help="also measure the clone's style when it plays by argmax and when it samples at "
        "each of these temperatures (e.g. 0.5 1), and print each one's style distance",
    )
    _json(fidelity, "the results")
    fidelity.set_defaults(func=_runner("learning"))

    stylometry = sub.add_parser(
        "stylometry",
        help="can each clone be told apart: clone x persona agreement matrix",
        description="Trains one clone per persona, then scores every clone on every "
        "persona's held-out play (agreement) and sets every clone's style beside every "
        "persona's (style distance over --style-minutes of play each). Accuracy is read by "
        "persona: the share whose own clone is the nearest to their play.",
    )
    stylometry.add_argument(
        "--persona", action="append", metavar="SPEC", help="repeat; default: all built-ins"
    )
    stylometry.add_argument("--minutes", type=float, default=3.0, help="simulated minutes each")
    _model(stylometry)
    stylometry.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the first clone; the clone of the Nth persona copies player seed+N "
        "(default: 0)",
    )
    _sampler(stylometry)
    _style(stylometry)
    add_playback_options(stylometry)
    _json(stylometry, "the results")
    stylometry.set_defaults(func=_runner("learning"))


def _sampler(parser) -> None:
    parser.add_argument(
        "--sampler",
        choices=SAMPLERS,
        default=LIVE_SAMPLER,
        help="how training frames are drawn: the fixed relevance weights, uniform, or "
        "loss-aware priorities on either (adaptive: on the relevance weights; "
        "adaptive-uniform: on uniform, what live play does) (default: %(default)s)",
    )


def add_relevance_parser(sub) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        "relevance",
        help="does relevance sampling learn faster than uniform (headless, seeded)",
        description="For each persona x seed, trains a mirror with relevance sampling and "
        "with uniform sampling on a simulated clock, and compares the minutes of play until "
        f"held-out agreement while the ball approaches first reaches {RELEVANCE_LEVEL}, and "
        "until the clone returns the ball at 0.9 and 0.95 of the persona's rate (competence), "
        "with paired sign tests and bootstrap intervals.",
    )
    parser.add_argument(
        "--persona",
        action="append",
        metavar="SPEC",
        help="repeat; default: all built-ins (" + ", ".join(PERSONAS) + ")",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        default=RELEVANCE_SEEDS,
        help="seeds per persona (default: %(default)s)",
    )
    parser.add_argument(
        "--minutes",
        type=float,
        default=RELEVANCE_MINUTES,
        help="simulated minutes per run (default: %(default)g)",
    )
    _model(parser, RELEVANCE_MODEL)
    parser.add_argument(
        "--evaluate-every",
        type=int,
        default=RELEVANCE_EVALUATE_EVERY,
        metavar="SECONDS",
        help="simulated seconds between evaluations (default: %(default)s)",
    )
    parser.add_argument("--first-seed", type=int, default=0, help="seeds are first-seed, +1, ...")
    parser.add_argument(
        "--sampler",
        action="append",
        choices=SAMPLERS,
        help="repeat; the samplers compared with uniform, which always runs (default: "
        "relevance). adaptive: loss-aware priorities with the relevance defaults as the "
        "prior; adaptive-uniform: the same with a uniform prior",
    )
    parser.add_argument(
        "--steps-per-second",
        type=float,
        default=None,
        metavar="N",
        help="training steps per second of simulated play, the pace compute allows (default: "
        f"the live trainer's, {TrainerConfig().steps_per_second:g}; 2 is the scarce-compute "
        "case)",
    )
    parser.add_argument(
        "--competence-every",
        type=int,
        default=RELEVANCE_COMPETENCE_EVERY,
        metavar="SECONDS",
        help="simulated seconds between checks of the clone's competence (its return rate "
        "against the scripted opponent over the persona's); a multiple of --evaluate-every, "
        "0 turns them off (default: %(default)s)",
    )
    _json(parser, "all curves")
    parser.add_argument("--plot", type=Path, default=None, help="draw learning curves (PNG)")
    parser.add_argument(
        "--write-docs",
        type=Path,
        nargs="?",
        const=RELEVANCE_DOCS,
        default=None,
        metavar="PATH",
        help="write what was run, the tables and the plot link between the generated markers "
        "of the relevance page, keeping the text around them (default path: "
        "docs/relevance.md)",
    )
    parser.add_argument(
        "--from-json",
        type=Path,
        action="append",
        default=None,
        metavar="PATH",
        help="re-render the table, --write-docs and --plot from a finished run's --json "
        "output instead of running anything; repeat to merge runs of other seeds or personas "
        "made with the same settings (--json then writes the merged result)",
    )
    parser.set_defaults(func=_runner("relevance"))
    return parser


def add_perf_parser(sub) -> argparse.ArgumentParser:
    perf = sub.add_parser(
        "perf",
        help="every performance figure in one run: lateness, inference, swaps, engine, sampler",
        description="Tick lateness (idle and trainer flat out), opponent decision latency, "
        "hot-swap latency, engine ticks/s and the sampler beside cpprb and torchrl. "
        "About 4 minutes at the defaults.",
    )
    perf.add_argument(
        "--seconds",
        type=float,
        default=PERF_SECONDS,
        help="seconds of each tick-lateness run, idle and training (default: %(default)g)",
    )
    _json(perf)
    perf.add_argument(
        "--with-torchrl",
        action="store_true",
        help="also compare torchrl's PrioritizedSampler, in its own environment "
        "(created on first use: torch 2.14.1 + torchrl 0.14.1, ~5.5 GB)",
    )
    perf.add_argument(
        "--torchrl-venv",
        type=Path,
        default=TORCHRL_VENV,
        help="where that environment lives (default: %(default)s)",
    )
    perf.add_argument(
        "--write-docs",
        type=Path,
        nargs="?",
        const=PERF_DOCS,
        default=None,
        metavar="PATH",
        help="regenerate the benchmarks page (default path: docs/benchmarks.md)",
    )
    perf.set_defaults(func=_runner("perf"))
    return perf


def add_report_parser(sub) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        "report",
        help="render the bench JSON files of a folder into docs/results.md",
        description="Lay out loop.json, live-*.json, fidelity-*.json and stylometry.json "
        "from a folder as one Markdown page.",
    )
    parser.add_argument(
        "--from",
        dest="folder",
        type=Path,
        default=Path("out"),
        help="folder of bench JSON files (default: %(default)s)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("docs/results.md"),
        help="the page to write (default: %(default)s)",
    )
    parser.set_defaults(func=_runner("report"))
    return parser
