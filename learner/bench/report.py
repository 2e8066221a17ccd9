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

from learner.bench.cli import LIVE_SAMPLER
from learner.bench.loop import machine_description
from learner.style import FIGURES, REACTION_PARTS


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
        f"`python main.py bench live --minutes {_minutes_of(runs)} [--model transformer] "
        "--json out/live-MODEL.json`: "
        "the chaser persona plays live (real clock, real server, one WebSocket client in another "
        "process) while the trainer process trains without pacing. Measured from the trainer's "
        "first report. Hot swap: from the end of the training step that produced a model to "
        "the first tick it drives (held-out evaluation, export, transfer, the gate's checks and "
        "the wait for the next tick included). Swap stages: trainer to the learner's supervisor "
        "thread (evaluation, export, transfer) / the gate's checks (each GIL-holding C++ step "
        "starts only in a gap between ticks with room for what it took last time, "
        "`game.mirror_opponent.GapPacer`, so none delays a tick) / waiting for the next tick.",
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


def _minutes_of(runs: list[dict]) -> str:
    return ", ".join(sorted({f"{run.get('minutes', 3):g}" for run in runs}))


def _sampler_option(samplers: set[str]) -> str:
    """`` --sampler X`` when the runs drew frames otherwise than the benches do by default
    (several samplers: each run's is in its table row)."""
    if samplers == {LIVE_SAMPLER}:
        return ""
    return f" --sampler {samplers.pop()}" if len(samplers) == 1 else " --sampler SAMPLER"


def _fidelity_section(runs: list[dict]) -> list[str]:
    if not runs:
        return []
    sampler = _sampler_option({run.get("sampler", "relevance") for run in runs})
    lines = [
        "## Fidelity: how well and how fast the mirror copies each persona",
        "",
        f"`python main.py bench fidelity --persona NAME --minutes {_minutes_of(runs)} --seed S"
        f"{sampler} [--model transformer] --json out/fidelity-NAME.json`: the persona plays "
        "against its own evolving mirror on a simulated clock; then the clone is scored on the "
        "persona's held-out play (given exactly the history the persona saw), and both play "
        "`--style-minutes` (20) against the scripted opponent for the style figures.",
        "",
        "| persona | model | sampler | seed | agreement | approach agreement | "
        "min to 0.8 / 0.9 / 0.95 | speed × real time | wall s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for run in runs:
        reached = " / ".join(_fmt(run["minutes_to"][k], 2) for k in ("0.8", "0.9", "0.95"))
        lines.append(
            f"| {run['persona']} | {run['model']} | {run.get('sampler', 'relevance')} | "
            f"{run.get('seed', 0)} | "
            f"{_fmt(run['agreement'])} | "
            f"{_fmt(run['approach_agreement'])} | {reached} | {run['speed_vs_real_time']} | "
            f"{run['wall_seconds']} |"
        )
    lines += _style_table(runs)
    lines += _target_table(runs)
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
        "the relative error of the clone's mean, with its interval. The last two columns "
        "split the reaction delay into its parts (not in the style distance): the share of "
        "balls coming at the player it moves for at all, and its delay when it does.",
        "",
        "| persona | model | seed | clone plays by | style distance | floor | "
        + " | ".join(figure.label for figure in FIGURES + REACTION_PARTS)
        + " |",
        "|" + "---|" * (6 + len(FIGURES) + len(REACTION_PARTS)),
    ]
    for run in runs:
        clone, twin = run["style"]["clone"], run["style"]["twin"]
        cells = [
            _with_ci(clone["style_distance"], clone["style_distance_ci"]),
            _with_ci(twin["style_distance"], twin["style_distance_ci"]),
        ]
        figures = {**clone["figures"], **(clone.get("reaction_parts") or {})}
        for figure in FIGURES + REACTION_PARTS:  # runs from before the parts show "—"
            entry = figures.get(figure.name) or {}
            cells.append(_with_ci(entry.get("rel_error"), entry.get("rel_error_ci"), signed=True))
        lines.append(
            f"| {run['persona']} | {run['model']} | {run.get('seed', 0)} | "
            f"{run['style'].get('playback', 'argmax')} | " + " | ".join(cells) + " |"
        )
    return lines


TARGET_FIGURES = ("reaction_s", "meet_offset")  # held to within 10% of the persona's
TARGET_ERROR = 0.10


def _known_to_target(entry: dict) -> bool:
    """Whether this much play measures the persona's own mean to 10% (its 95% interval
    within 10% of it): a precondition for telling 10% at all, not enough on its own (the
    clone's mean has its own uncertainty). A player who turns at once has a reaction mean of
    a few milliseconds, made of the few balls it lets come, known to no better than +-30-80%
    over 20 minutes; 10% of it is less than one tick of the game."""
    mean, interval = entry.get("persona_mean"), entry.get("persona_mean_ci")
    if not mean or not interval:
        return False
    return max(mean - interval[0], interval[1] - mean) <= TARGET_ERROR * abs(mean)


def _verdict(entry: dict) -> str | None:
    """ "met" (the relative error's 95% interval inside +-10%), "missed" (wholly outside),
    "open" (across the line: this much play cannot tell), None without an interval."""
    interval = entry.get("rel_error_ci")
    if not interval:
        return None
    low, high = interval
    if low >= -TARGET_ERROR and high <= TARGET_ERROR:
        return "met"
    if high < -TARGET_ERROR or low > TARGET_ERROR:
        return "missed"
    return "open"


def _target_table(runs: list[dict]) -> list[str]:
    """The two figures with a target, the clone's relative error beside the persona's own
    against itself on other matches: where the persona misses 10% too, the figure's mean
    over this much play is not steady enough to be held to 10%. Each is counted by its point
    estimate and by its interval (``_verdict``: met, missed, or open), and the runs where the
    persona's own mean is known to 10% are counted apart (``_known_to_target``)."""
    runs = [run for run in runs if (run.get("style") or {}).get("twin")]
    if not runs:
        return []
    labels = {figure.name: figure.label for figure in FIGURES}
    lines = [
        "",
        f"The figures held to within {TARGET_ERROR:.0%} of the persona's mean: the clone's "
        "relative error beside the persona's own when it plays other matches (its twin). "
        "A reaction an approach never gets counts as the whole approach, so a player who "
        "turns at once has a mean made of the few balls it lets come.",
        "",
        "| persona | seed | "
        + " | ".join(
            f"{labels[name]}: persona's mean | clone | persona on other matches"
            for name in TARGET_FIGURES
        )
        + " |",
        "|" + "---|" * (2 + 3 * len(TARGET_FIGURES)),
    ]
    point = {name: [0, 0] for name in TARGET_FIGURES}  # clone, twin within 10%
    verdicts = {name: ([], []) for name in TARGET_FIGURES}  # clone's, twin's
    known = dict.fromkeys(TARGET_FIGURES, 0)
    for run in runs:
        clone, twin = run["style"]["clone"]["figures"], run["style"]["twin"]["figures"]
        cells = []
        for name in TARGET_FIGURES:
            mine, floor = clone.get(name) or {}, twin.get(name) or {}
            cells += [
                _with_ci(mine.get("persona_mean"), mine.get("persona_mean_ci"), digits=3),
                _with_ci(mine.get("rel_error"), mine.get("rel_error_ci"), signed=True),
                _with_ci(floor.get("rel_error"), floor.get("rel_error_ci"), signed=True),
            ]
            for k, entry in enumerate((mine, floor)):
                error = entry.get("rel_error")
                point[name][k] += error is not None and abs(error) <= TARGET_ERROR
                verdicts[name][k].append(_verdict(entry))
            known[name] += _known_to_target(mine)
        lines.append(f"| {run['persona']} | {run.get('seed', 0)} | " + " | ".join(cells) + " |")
    lines.append("")
    total = len(runs)

    def by_interval(found: list[str | None]) -> str:
        return (
            f"its 95% interval inside +-{TARGET_ERROR:.0%} in {found.count('met')}, wholly "
            f"outside in {found.count('missed')}, across the line in {found.count('open')}"
        )

    for name in TARGET_FIGURES:
        clone_found, twin_found = verdicts[name]
        lines.append(
            f"{labels[name].capitalize()} within {TARGET_ERROR:.0%}: the clone in "
            f"{point[name][0]} of {total} runs ({by_interval(clone_found)}), the persona on "
            f"other matches in {point[name][1]} of {total} ({by_interval(twin_found)}); an "
            "interval across the line is a run this much play cannot tell. It measures the "
            f"persona's own mean to {TARGET_ERROR:.0%} in {known[name]} of {total} runs."
        )
    return lines


def accuracies(result: dict) -> tuple[float, float, float | None, list[str]]:
    """A stylometry result's (agreement accuracy by persona, by clone, style accuracy, the
    personas whose nearest clone by either is another's), from its matrices: ``bench
    stylometry`` reports these, and a JSON from before the agreement accuracy was read by
    persona reads the same here. By persona, as the style: every clone in a column is judged
    on the same play. A row holds plays of different noise (the misjudging player agrees
    with itself 0.68 of the time, the angler 1.0), so a noisy player's clone can agree best
    with a steadier look-alike while it copies its own player far above that player's twin."""
    names, matrix = result["personas"], result["matrix"]
    best = [max(column) for column in zip(*matrix, strict=True)]
    own = [matrix[j][j] == best[j] for j in range(len(names))]
    by_clone = sum(row[i] == max(row) for i, row in enumerate(matrix)) / len(names)
    style = result.get("style_matrix")
    style_own = [True] * len(names)
    if style:
        nearest = [min(column) for column in zip(*style, strict=True)]
        style_own = [style[j][j] == nearest[j] for j in range(len(names))]
    missed = [name for name, a, b in zip(names, own, style_own, strict=True) if not (a and b)]
    style_accuracy = sum(style_own) / len(names) if style else None
    return sum(own) / len(names), by_clone, style_accuracy, missed


def _stylometry_seeds(runs: list[dict]) -> list[str]:
    """One line per stylometry run (``stylometry-*.json``): how steady the accuracies are."""
    if not runs:
        return []
    lines = [
        "Every stylometry run kept (`bench stylometry --minutes M --seed S`), its accuracies "
        "and the personas whose nearest clone, by agreement or by style, is another's:",
        "",
        "| minutes | seed | accuracy | by clone | style accuracy | missed |",
        "|---|---|---|---|---|---|",
    ]
    for run in runs:
        by_persona, by_clone, style, missed = accuracies(run)
        lines.append(
            f"| {run['minutes']:g} | {run['seed']} | {by_persona:.2f} | {by_clone:.2f} | "
            f"{_fmt(style, 2)} | {', '.join(missed) or '—'} |"
        )
    return [*lines, ""]


def _stylometry_section(result: dict | None) -> list[str]:
    if not result:
        return []
    names = result["personas"]
    lines = [
        "## Stylometry: can each clone be told apart",
        "",
        f"`python main.py bench stylometry --minutes {result['minutes']:g}"
        # Runs from before the JSON named it trained with the fixed relevance weights.
        f"{_sampler_option({result.get('sampler', 'relevance')})} --json "
        "out/stylometry.json`: one clone per built-in persona; each clone is scored on every "
        "persona's held-out play. Rows: clones; columns: personas; the clone that agrees best "
        "with each persona's play in bold.",
        "",
        "| clone \\ persona | " + " | ".join(names) + " |",
        "|" + "---|" * (len(names) + 1),
    ]
    matrix = result["matrix"]
    best = [max(column) for column in zip(*matrix, strict=True)]
    for name, row in zip(names, matrix, strict=True):
        cells = [f"**{v:.3f}**" if v == b else f"{v:.3f}" for v, b in zip(row, best, strict=True)]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    by_persona, by_clone, _, _ = accuracies(result)
    lines += [
        "",
        "Accuracy (personas whose own clone agrees best with their play; every clone in a "
        f"column is scored on the same play, so columns compare): {by_persona:.2f}",
        "By clone (clones that agree best with their own persona's play; a row mixes plays "
        "of different noise, and a noisy player's clone can agree best with a steadier "
        f"look-alike): {by_clone:.2f}",
        "",
    ]
    if result.get("style_matrix"):
        lines += [
            f"Style distance of each clone (row) from each persona (column), "
            f"{result['style_minutes']:g} simulated minutes each (`learner/style.py`); the "
            "nearest clone of each persona in bold:",
            "",
            "| clone \\ persona | " + " | ".join(names) + " |",
            "|" + "---|" * (len(names) + 1),
        ]
        nearest = [min(column) for column in zip(*result["style_matrix"], strict=True)]
        for name, row in zip(names, result["style_matrix"], strict=True):
            cells = [
                f"**{v:.2f}**" if v == best else f"{v:.2f}"
                for v, best in zip(row, nearest, strict=True)
            ]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines += [
            "",
            "Style accuracy (personas whose nearest clone is their own; a distance is in its "
            f"persona's spreads, so columns compare): {result['style_accuracy']:.2f}",
            "",
        ]
    return lines


def _playbacks(run: dict) -> dict[str, dict]:
    """A run's playbacks by name: the ones it compared, and the one it played by (the
    default) when that is not among them."""
    style = run["style"]
    entries = {entry["playback"]: entry for entry in style.get("playbacks") or []}
    played = style.get("playback")
    if played and played not in entries and style.get("clone"):
        clone = style["clone"]
        entries[played] = {
            "playback": played,
            "style_distance": clone["style_distance"],
            "style_distance_ci": clone["style_distance_ci"],
            "distances": {k: v.get("distance") for k, v in clone["figures"].items()},
        }
    return entries


def _playback_section(runs: list[dict]) -> list[str]:
    """The clone's style distance by how it plays (``bench fidelity --compare-temperatures``),
    its default playback included."""
    runs = [run for run in runs if (run.get("style") or {}).get("playbacks")]
    if not runs:
        return []
    names = list(_playbacks(runs[0]))
    own = any(run.get("calibration") for run in runs)
    lines = [
        "## Style by how the clone plays: argmax or sampling",
        "",
        f"`python main.py bench fidelity --persona NAME --minutes {_minutes_of(runs)} --seed S"
        f"{_sampler_option({run.get('sampler', 'relevance') for run in runs})} "
        "--compare-temperatures T... --json out/playback/fidelity-NAME-sS.json`: the same "
        "trained clone plays by its most likely command (argmax), by sampling its "
        "predicted distribution at each temperature, and as it plays by default; each "
        "playback's style distance from the persona (lower is more like it), 95% interval; "
        "the floor is the persona against itself on other matches. Lowest of the row in bold."
        + (
            " `T=auto` samples at the clone's own temperature (`own T`), the one whose "
            "jitter its trainer found nearest the persona's (`learner/calibration.py`)."
            if own
            else ""
        ),
        "",
        "| persona | seed | agreement | floor | "
        + ("own T | " if own else "")
        + " | ".join(names)
        + " |",
        "|" + "---|" * (4 + own + len(names)),
    ]
    distances: dict[str, list[float]] = {name: [] for name in names}
    lowest = dict.fromkeys(names, 0)
    for run in sorted(runs, key=lambda r: (r["persona"], r["seed"])):
        entries = _playbacks(run)
        best = min(names, key=lambda name: entries[name]["style_distance"])
        lowest[best] += 1
        cells = []
        for name in names:
            entry = entries[name]
            distances[name].append(entry["style_distance"])
            text = _with_ci(entry["style_distance"], entry["style_distance_ci"])
            cells.append(f"**{text}**" if name == best else text)
        twin = run["style"]["twin"]
        temperature = (run.get("calibration") or {}).get("temperature")
        lines.append(
            f"| {run['persona']} | {run['seed']} | {_fmt(run['agreement'])} | "
            f"{_with_ci(twin['style_distance'], twin['style_distance_ci'])} | "
            + ((f"{temperature:g} | " if temperature is not None else "— | ") if own else "")
            + " | ".join(cells)
            + " |"
        )
    half = "sample T=0.5" if "sample T=0.5" in names else None
    lines += [
        "",
        f"Over the {len(runs)} runs: the mean style distance; the mean difference from argmax"
        + (" and from sampling at 0.5" if half else "")
        + " (negative: more like the persona) with a 95% bootstrap interval over runs; how "
        "many runs each playback was the nearest in.",
        "",
        "| playback | mean style distance | difference from argmax | "
        + ("difference from T=0.5 | " if half else "")
        + "nearest in |",
        "|---|---|---|" + ("---|" if half else "") + "---|",
    ]
    for name in names:
        mean = sum(distances[name]) / len(runs)
        columns = [names[0]] + ([half] if half else [])
        cells = []
        for base in columns:
            differences = [d - b for d, b in zip(distances[name], distances[base], strict=True)]
            cells.append("—" if base == name else _with_ci(*_mean_interval(differences), 3, True))
        lines.append(
            f"| {name} | {mean:.3f} | " + " | ".join(cells) + f" | {lowest[name]} of {len(runs)} |"
        )
    lines += [
        "",
        "Mean distance per figure (in the persona's spreads) by playback:",
        "",
        "| playback | " + " | ".join(figure.label for figure in FIGURES) + " |",
        "|" + "---|" * (1 + len(FIGURES)),
    ]
    for name in names:
        cells = []
        for figure in FIGURES:
            values = [_playbacks(run)[name]["distances"].get(figure.name) for run in runs]
            values = [v for v in values if v is not None]
            cells.append(f"{sum(values) / len(values):.2f}" if values else "—")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _mean_interval(values: list[float], resamples: int = 10000) -> tuple[float, list[float]]:
    """The mean and its 95% percentile bootstrap interval (seeded: the page is stable)."""
    import numpy as np

    data = np.asarray(values, dtype=float)
    draws = np.random.default_rng(0).choice(data, size=(resamples, len(data)))
    low, high = np.percentile(draws.mean(axis=1), [2.5, 97.5])
    return float(data.mean()), [float(low), float(high)]


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
        key=lambda r: (r["model"], r["persona"], r.get("seed", 0)),
    )
    lines += _fidelity_section(fidelity)
    lines += _playback_section(fidelity)
    lines += _stylometry_section(_load(folder, "stylometry.json"))
    seeds = sorted(
        (json.loads(p.read_text()) for p in folder.glob("stylometry-*.json")),
        key=lambda r: (r["minutes"], r["seed"]),
    )
    lines += _stylometry_seeds(seeds)
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if not args.folder.is_dir():
        print(f"error: no such folder: {args.folder}", file=sys.stderr)
        return 2
    args.out.write_text(render(args.folder) + "\n")
    print(f"wrote {args.out}")
    return 0
