"""``python main.py bench report``: render benchmark JSON files into one Markdown page.

Every figure in ``docs/results.md`` comes from a JSON file written by a bench command; this
module only lays them out, with the command that produced each, so the page can always be
regenerated and never holds a number typed by hand.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

from learner.bench.loop import machine_description
from learner.style import FIGURES


def _load(folder: Path, name: str) -> dict | None:
    path = folder / name
    if not path.exists():
        return None
    return json.loads(path.read_text())


def _fmt(value, digits: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _loop_section(loop: dict | None) -> list[str]:
    if not loop:
        return []
    return [
        "## Session loop, idle",
        "",
        "`python main.py bench loop --seconds 60 --json out/loop.json`: the real server and "
        "session loop at 60 Hz serving one WebSocket client in another process; lateness is "
        "how long after its deadline each tick started.",
        "",
        "| ticks | median ms | p99 ms | max ms | frames the client received |",
        "|---|---|---|---|---|",
        f"| {loop['ticks']} | {_fmt(loop['median_ms'], 4)} | {_fmt(loop['p99_ms'], 4)} | "
        f"{_fmt(loop['max_ms'], 4)} | {loop['client_frames']} |",
        "",
    ]


def _live_section(runs: list[dict]) -> list[str]:
    if not runs:
        return []
    lines = [
        "## Live play while the mirror trains flat out",
        "",
        "`python main.py bench live --minutes 3 [--model transformer] --json out/live-MODEL.json`: "
        "the chaser persona plays live (real clock, real server, one WebSocket client in another "
        "process) while the trainer process trains without pacing. Measured from the trainer's "
        "first report. Hot swap: from the end of the training step that produced a model to "
        "the first tick it drives (held-out evaluation, export, transfer, the gate's checks and "
        "the wait for the next tick included). Swap stages: trainer to the learner's supervisor "
        "thread (evaluation, export, transfer) / the gate's checks (which start only early in "
        "the gap after a tick, so their GIL-holding C++ steps never delay a tick) / waiting "
        "for the next tick.",
        "",
        "| model | ticks | lateness median / p99 / max ms | decision p50 / p99 µs | hot swap "
        "median / max ms (swaps) | swap stages, medians ms | rejected | trainer steps/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        late = run["tick_lateness_while_training"]
        decision = run["decision_latency"]["mirror"]
        swap = run["hot_swap_ms"]
        cells = [
            run["model"],
            str(late["ticks"]),
            f"{_fmt(late['median_ms'], 4)} / {_fmt(late['p99_ms'], 3)} / {_fmt(late['max_ms'], 3)}",
            f"{_fmt(decision['p50_us'], 1)} / {_fmt(decision['p99_us'], 1)}",
            f"{_fmt(swap['median'], 1)} / {_fmt(swap['max'], 1)} ({swap['n']})",
            " / ".join(_fmt(v, 1) for v in swap.get("stages_median") or []) or "—",
            str(run["models_rejected"]),
            _fmt(run["trainer_steps_per_second"], 0),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Held-out agreement (trainer's validation rallies) at each minute:", ""]
    lines += [
        "| model | minute | agreement | while the ball approaches | untrained model | version |"
    ]
    lines += ["|---|---|---|---|---|---|"]
    for run in runs:
        for point in run["agreement_by_minute"]:
            lines.append(
                f"| {run['model']} | {point['minute']} | {_fmt(point['agreement'])} | "
                f"{_fmt(point['approach_agreement'])} | {_fmt(point['untrained_agreement'])} | "
                f"v{point['model_version']} |"
            )
    return [*lines, ""]


def _fidelity_section(runs: list[dict]) -> list[str]:
    if not runs:
        return []
    lines = [
        "## Fidelity: how well and how fast the mirror copies each persona",
        "",
        "`python main.py bench fidelity --persona NAME --minutes 3 [--model transformer] "
        "--json out/fidelity-NAME.json` (seed 0): the persona plays against its own evolving "
        "mirror on a simulated clock; then the clone is scored on a minute of the persona's "
        "held-out play (given exactly the history the persona saw), and both play "
        "`--style-minutes` (20) against the scripted opponent for the style figures.",
        "",
        "| persona | model | agreement | approach agreement | min to 0.8 / 0.9 / 0.95 | "
        "speed × real time | wall s |",
        "|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        reached = " / ".join(_fmt(run["minutes_to"][k], 2) for k in ("0.8", "0.9", "0.95"))
        lines.append(
            f"| {run['persona']} | {run['model']} | {_fmt(run['agreement'])} | "
            f"{_fmt(run['approach_agreement'])} | {reached} | {run['speed_vs_real_time']} | "
            f"{run['wall_seconds']} |"
        )
    lines += _style_table(runs)
    return [*lines, ""]


def _with_ci(value, interval, digits: int = 2, signed: bool = False) -> str:
    if value is None:
        return "—"
    text = f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"
    if interval:
        text += f" [{interval[0]:.{digits}f}, {interval[1]:.{digits}f}]"
    return text


def _style_table(runs: list[dict]) -> list[str]:
    runs = [run for run in runs if (run.get("style") or {}).get("clone")]
    if not runs:
        return []
    minutes = ", ".join(sorted({f"{run['style']['minutes']:g}" for run in runs}))
    lines = [
        "",
        f"Style, persona vs clone, each playing {minutes} simulated minutes against the "
        "scripted opponent (the same matches, over several seeds; `learner/style.py`): the "
        "style distance (mean over the figures of the Wasserstein-1 distance between the two "
        "distributions, in the persona's spreads) with its 95% interval (bootstrap over "
        "rallies), the persona against itself on other matches (the floor), and per figure "
        "the relative error of the clone's mean, with its interval.",
        "",
        "| persona | model | style distance | floor | "
        + " | ".join(figure.label for figure in FIGURES)
        + " |",
        "|" + "---|" * (4 + len(FIGURES)),
    ]
    for run in runs:
        clone, twin = run["style"]["clone"], run["style"]["twin"]
        cells = [
            _with_ci(clone["style_distance"], clone["style_distance_ci"]),
            _with_ci(twin["style_distance"], twin["style_distance_ci"]),
        ]
        for figure in FIGURES:
            entry = clone["figures"].get(figure.name) or {}
            cells.append(_with_ci(entry.get("rel_error"), entry.get("rel_error_ci"), signed=True))
        lines.append(f"| {run['persona']} | {run['model']} | " + " | ".join(cells) + " |")
    return lines


def _stylometry_section(result: dict | None) -> list[str]:
    if not result:
        return []
    names = result["personas"]
    lines = [
        "## Stylometry: can each clone be told apart",
        "",
        f"`python main.py bench stylometry --minutes {result['minutes']:g} --json "
        "out/stylometry.json`: one clone per built-in persona; each clone is scored on every "
        "persona's held-out play. Rows: clones; columns: personas.",
        "",
        "| clone \\ persona | " + " | ".join(names) + " |",
        "|" + "---|" * (len(names) + 1),
    ]
    for name, row in zip(names, result["matrix"], strict=True):
        best = max(row)
        cells = [f"**{v:.3f}**" if v == best else f"{v:.3f}" for v in row]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", f"Accuracy (clones closest to their own persona): {result['accuracy']:.2f}", ""]
    if result.get("style_matrix"):
        lines += [
            f"Style distance of each clone (row) from each persona (column), "
            f"{result['style_minutes']:g} simulated minutes each (`learner/style.py`):",
            "",
            "| clone \\ persona | " + " | ".join(names) + " |",
            "|" + "---|" * (len(names) + 1),
        ]
        for name, row in zip(names, result["style_matrix"], strict=True):
            nearest = min(row)
            cells = [f"**{v:.2f}**" if v == nearest else f"{v:.2f}" for v in row]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines += [
            "",
            f"Style accuracy (clones nearest their own persona): {result['style_accuracy']:.2f}",
            "",
        ]
    return lines


def render(folder: Path) -> str:
    lines = [
        "# Results: live play, fidelity, stylometry",
        "",
        f"Generated by `python main.py bench report --from {folder}` on "
        f"{datetime.date.today().isoformat()} ({machine_description()}) from the JSON files "
        "the commands below wrote. Performance figures: `benchmarks.md`; the relevance "
        "experiment: `relevance.md`.",
        "",
    ]
    lines += _loop_section(_load(folder, "loop.json"))
    live = [r for m in ("mlp", "transformer") if (r := _load(folder, f"live-{m}.json"))]
    lines += _live_section(live)
    fidelity = sorted(
        (json.loads(p.read_text()) for p in folder.glob("fidelity-*.json")),
        key=lambda r: (r["model"], r["persona"]),
    )
    lines += _fidelity_section(fidelity)
    lines += _stylometry_section(_load(folder, "stylometry.json"))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if not args.folder.is_dir():
        print(f"error: no such folder: {args.folder}", file=sys.stderr)
        return 2
    args.out.write_text(render(args.folder) + "\n")
    print(f"wrote {args.out}")
    return 0
