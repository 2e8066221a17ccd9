"""``bench relevance``: does relevance sampling make the mirror learn faster than uniform?

For every persona x seed, the same headless run (``learner.benches.train_clone``) is made once
with the relevance sampler (``RelevanceWeights()``, the seed defaults) and once with plain
uniform replay (``RelevanceWeights.uniform()``). From each learning curve it takes the
simulated minutes of play until held-out agreement *while the ball approaches the player*
first reaches 0.9, and the final overall and approach agreement (relevance sampling draws
receding frames less often, so it may cost accuracy there: the overall figure shows it).

A run that never reaches 0.9 within ``--minutes`` is right-censored: its time is only known to
be more than ``--minutes``. Medians treat censored times as larger than every measured one; a
median that falls on a censored run is reported as censored (``None``, shown "> M"), and a
ratio with one censored side is reported as a bound.

    python main.py bench relevance [--persona SPEC ...] [--seeds N] [--minutes M]
        [--model mlp|transformer] [--json OUT] [--plot OUT.png]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from game.personas import BUILT_IN, PersonaError, load_persona
from learner.benches import _weights, train_clone

SAMPLERS = ("relevance", "uniform")
LEVEL = 0.9
TARGET_RATIO = 0.5
"""The product's target: relevance sampling reaches LEVEL in at most half uniform's time."""
DEFAULT_EVALUATE_EVERY = 5


# -- measuring ---------------------------------------------------------------------------


def minutes_to_level(curve: list[dict], key: str = "approach_agreement", level: float = LEVEL):
    """Simulated minutes at the first evaluation where ``key`` >= level; None: never."""
    return next((p["minutes"] for p in curve if p[key] is not None and p[key] >= level), None)


def minutes_to_level_sustained(
    curve: list[dict], key: str = "approach_agreement", level: float = LEVEL
):
    """Minutes from which ``key`` stays >= level at every later evaluation; None: never.

    Less sensitive than the first crossing to one lucky evaluation on a small held-out set."""
    reached = None
    for point in curve:
        value = point[key]
        if value is not None and value >= level:
            if reached is None:
                reached = point["minutes"]
        else:
            reached = None
    return reached


def _median_censored(values: list[float | None]) -> float | None:
    """Median where None means "more than the budget" (sorted last); None if it lands there.

    With an even count the median of two measured values is their mean; if either middle
    value is censored the median is censored."""
    if not values:
        return None
    ordered = sorted(values, key=lambda v: math.inf if v is None else v)
    n = len(ordered)
    middle = ordered[(n - 1) // 2 : n // 2 + 1]
    if any(v is None for v in middle):
        return None
    return sum(middle) / len(middle)


def _spread(values: list[float | None]) -> dict:
    measured = [v for v in values if v is not None]
    return {
        "median": _median_censored(values),
        "min": min(measured) if measured else None,
        "max": None if any(v is None for v in values) or not values else max(values),
        "censored": sum(v is None for v in values),
        "values": values,
    }


def _plain_spread(values: list[float | None]) -> dict:
    measured = [v for v in values if v is not None]
    return {
        "median": statistics.median(measured) if measured else None,
        "min": min(measured) if measured else None,
        "max": max(measured) if measured else None,
        "values": values,
    }


def _ratio(relevance: float | None, uniform: float | None, budget: float) -> dict:
    """relevance / uniform minutes, or a bound when one side is censored (> budget)."""
    if relevance is not None and uniform is not None:
        return {"value": relevance / uniform, "bound": None}
    if relevance is not None:  # uniform > budget, so the ratio < relevance / budget
        return {"value": None, "bound": f"< {relevance / budget:.2f}"}
    if uniform is not None:  # relevance > budget
        return {"value": None, "bound": f"> {budget / uniform:.2f}"}
    return {"value": None, "bound": "both censored"}


def summarise(runs: list[dict], personas: list[str], seeds: list[int], minutes: float) -> dict:
    summary = {}
    for persona in personas:
        entry: dict = {}
        by_seed: dict[str, dict[int, dict]] = {s: {} for s in SAMPLERS}
        for run in runs:
            if run["persona"] == persona:
                by_seed[run["sampler"]][run["seed"]] = run
        for sampler in SAMPLERS:
            chosen = [by_seed[sampler][seed] for seed in seeds]
            entry[sampler] = {
                "minutes_to_0.9": _spread([r["minutes_to_0.9"] for r in chosen]),
                "minutes_to_0.9_sustained": _spread(
                    [r["minutes_to_0.9_sustained"] for r in chosen]
                ),
                "final_approach_agreement": _plain_spread(
                    [r["final_approach_agreement"] for r in chosen]
                ),
                "final_agreement": _plain_spread([r["final_agreement"] for r in chosen]),
            }
        entry["ratio_of_medians"] = _ratio(
            entry["relevance"]["minutes_to_0.9"]["median"],
            entry["uniform"]["minutes_to_0.9"]["median"],
            minutes,
        )
        entry["ratio_of_medians_sustained"] = _ratio(
            entry["relevance"]["minutes_to_0.9_sustained"]["median"],
            entry["uniform"]["minutes_to_0.9_sustained"]["median"],
            minutes,
        )
        entry["ratio_per_seed"] = [
            _ratio(
                by_seed["relevance"][seed]["minutes_to_0.9"],
                by_seed["uniform"][seed]["minutes_to_0.9"],
                minutes,
            )
            for seed in seeds
        ]
        value = entry["ratio_of_medians"]["value"]
        entry["meets_target"] = value is not None and value <= TARGET_RATIO
        summary[persona] = entry
    return summary


def experiment(
    personas: list[str],
    seeds: int,
    minutes: float,
    model: str = "mlp",
    evaluate_every: int = DEFAULT_EVALUATE_EVERY,
    first_seed: int = 0,
) -> dict:
    started = time.perf_counter()
    seed_list = list(range(first_seed, first_seed + seeds))
    runs = []
    total = len(personas) * len(seed_list) * len(SAMPLERS)
    for persona in personas:
        for seed in seed_list:
            for sampler in SAMPLERS:
                label = f"[{len(runs) + 1}/{total}] {persona} {sampler} seed {seed}"
                run = train_clone(
                    persona, model, sampler, minutes, seed, label, evaluate_every=evaluate_every
                )
                print(file=sys.stderr)
                curve = [
                    {k: p[k] for k in ("minutes", "agreement", "approach_agreement")}
                    for p in run.curve
                ]
                last = curve[-1] if curve else {"agreement": None, "approach_agreement": None}
                runs.append(
                    {
                        "persona": persona,
                        "sampler": sampler,
                        "seed": seed,
                        "minutes_to_0.9": minutes_to_level(curve),
                        "minutes_to_0.9_sustained": minutes_to_level_sustained(curve),
                        "final_approach_agreement": last["approach_agreement"],
                        "final_agreement": last["agreement"],
                        "wall_seconds": round(run.wall_seconds, 2),
                        "curve": curve,
                    }
                )
    return {
        "benchmark": "relevance",
        "personas": personas,
        "seeds": seed_list,
        "minutes": minutes,
        "model": model,
        "evaluate_every_seconds": evaluate_every,
        "level": LEVEL,
        "metric": "approach_agreement",
        "target_ratio": TARGET_RATIO,
        "weights": {s: _weights(s).to_dict() for s in SAMPLERS},
        "censoring": "minutes_to_0.9 is null when the run never reached the level within "
        "'minutes' (right-censored: the true time is more than 'minutes'); a median that "
        "falls on a censored run is null, and a ratio with a censored side is given as "
        "a bound",
        "summary": summarise(runs, personas, seed_list, minutes),
        "runs": runs,
        "wall_seconds": round(time.perf_counter() - started, 1),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
    }


# -- reporting ---------------------------------------------------------------------------


def _minutes_text(spread: dict, budget: float) -> str:
    median = spread["median"]
    shown = f"> {budget:g}" if median is None else f"{median:.2f}"
    low = "—" if spread["min"] is None else f"{spread['min']:.2f}"
    high = f">{budget:g}" if spread["max"] is None else f"{spread['max']:.2f}"
    censored = f" ({spread['censored']} cens.)" if spread["censored"] else ""
    return f"{shown} [{low}–{high}]{censored}"


def _median_text(spread: dict, budget: float) -> str:
    return f"> {budget:g}" if spread["median"] is None else f"{spread['median']:.2f}"


def _agreement_text(spread: dict) -> str:
    if spread["median"] is None:
        return "—"
    return f"{spread['median']:.3f} [{spread['min']:.3f}–{spread['max']:.3f}]"


def _ratio_text(ratio: dict) -> str:
    return f"{ratio['value']:.2f}" if ratio["value"] is not None else ratio["bound"]


def table_rows(result: dict) -> list[list[str]]:
    """Header and one row per persona x sampler: the printed table, also used by the docs."""
    budget = result["minutes"]
    rows = [
        [
            "persona",
            "sampler",
            "min to 0.9 appr. median [min–max]",
            "ratio rel/uni",
            "sustained: min",
            "ratio",
            "final appr. agr.",
            "final overall agr.",
        ]
    ]
    for persona, entry in result["summary"].items():
        for sampler in SAMPLERS:
            figures = entry[sampler]
            rows.append(
                [
                    persona if sampler == SAMPLERS[0] else "",
                    sampler,
                    _minutes_text(figures["minutes_to_0.9"], budget),
                    _ratio_text(entry["ratio_of_medians"]) if sampler == SAMPLERS[0] else "",
                    _median_text(figures["minutes_to_0.9_sustained"], budget),
                    _ratio_text(entry["ratio_of_medians_sustained"])
                    if sampler == SAMPLERS[0]
                    else "",
                    _agreement_text(figures["final_approach_agreement"]),
                    _agreement_text(figures["final_agreement"]),
                ]
            )
    return rows


def print_table(result: dict) -> None:
    rows = table_rows(result)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    print(
        f"relevance vs uniform sampling, {result['model']}, {len(result['seeds'])} seeds, "
        f"{result['minutes']:g} simulated min, evaluated every "
        f"{result['evaluate_every_seconds']} s; medians over seeds [min–max]"
    )
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if index == 0:
            print("  ".join("-" * width for width in widths))
    budget = result["minutes"]
    print(
        f"'> {budget:g}': never reached 0.9 within {budget:g} min (censored). "
        f"Target: ratio <= {TARGET_RATIO} (relevance reaches 0.9 in at most half the time)."
    )
    print(
        "'sustained': minutes from which approach agreement stays >= 0.9 at every later "
        "evaluation (median over seeds); less fooled by one lucky evaluation."
    )
    met = [p for p, e in result["summary"].items() if e["meets_target"]]
    print(f"personas meeting the target: {', '.join(met) if met else 'none'}")
    print(f"total wall time {result['wall_seconds']} s")


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    personas = result["personas"]
    columns = min(3, len(personas))
    rows = math.ceil(len(personas) / columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(4.6 * columns, 3.6 * rows), squeeze=False, sharey=True
    )
    colours = {"relevance": "tab:blue", "uniform": "tab:orange"}
    lowest = 1.0
    for index, persona in enumerate(personas):
        ax = axes[index // columns][index % columns]
        for sampler in SAMPLERS:
            runs = [
                r for r in result["runs"] if r["persona"] == persona and r["sampler"] == sampler
            ]
            grids = []
            for run in runs:
                xs = [p["minutes"] for p in run["curve"]]
                ys = [
                    np.nan if p["approach_agreement"] is None else p["approach_agreement"]
                    for p in run["curve"]
                ]
                ax.plot(xs, ys, color=colours[sampler], linewidth=0.7, alpha=0.45)
                grids.append((xs, ys))
                finite = [y for y in ys if not np.isnan(y)]
                if finite:
                    lowest = min(lowest, min(finite))
            if grids and all(g[0] == grids[0][0] for g in grids):
                with np.errstate(all="ignore"):
                    values = np.array([g[1] for g in grids], dtype=float)
                    median = np.full(values.shape[1], np.nan)
                    some = ~np.all(np.isnan(values), axis=0)
                    median[some] = np.nanmedian(values[:, some], axis=0)
                ax.plot(
                    grids[0][0],
                    median,
                    color=colours[sampler],
                    linewidth=2.4,
                    label=f"{sampler} (median of {len(grids)})",
                )
        ax.axhline(LEVEL, color="black", linestyle="--", linewidth=1.0)
        ax.set_title(persona)
        ax.set_xlabel("simulated minutes of play")
        ax.set_xlim(0, result["minutes"])
        ax.grid(alpha=0.3)
        if index % columns == 0:
            ax.set_ylabel("held-out approach agreement")
        if index == 0:
            ax.legend(loc="lower right", fontsize=8)
    for index in range(len(personas), rows * columns):
        axes[index // columns][index % columns].set_visible(False)
    axes[0][0].set_ylim(max(0.0, math.floor(lowest * 10) / 10 - 0.05), 1.0)
    figure.suptitle(
        f"Relevance vs uniform sampling ({result['model']}): approach agreement; thin = one "
        f"seed, thick = median; dashed = {LEVEL}",
        fontsize=10,
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


# -- command line ------------------------------------------------------------------------


def add_parser(bench_subparsers) -> argparse.ArgumentParser:
    """Add ``relevance`` to ``main.py bench``'s subparsers; returns its parser."""
    parser = bench_subparsers.add_parser(
        "relevance",
        help="does relevance sampling learn faster than uniform (headless, seeded)",
        description="For each persona x seed, trains a mirror with relevance sampling and "
        "with uniform sampling on a simulated clock, and compares the minutes of play until "
        f"held-out agreement while the ball approaches first reaches {LEVEL}.",
    )
    parser.add_argument(
        "--persona",
        action="append",
        metavar="SPEC",
        help="repeat; default: all built-ins (" + ", ".join(BUILT_IN) + ")",
    )
    parser.add_argument("--seeds", type=int, default=3, help="seeds per persona (default: 3)")
    parser.add_argument(
        "--minutes", type=float, default=3.0, help="simulated minutes per run (default: 3)"
    )
    parser.add_argument("--model", choices=("mlp", "transformer"), default="mlp")
    parser.add_argument(
        "--evaluate-every",
        type=int,
        default=DEFAULT_EVALUATE_EVERY,
        metavar="SECONDS",
        help="simulated seconds between evaluations (default: %(default)s)",
    )
    parser.add_argument("--first-seed", type=int, default=0, help="seeds are first-seed, +1, ...")
    parser.add_argument("--json", type=Path, default=None, help="also write all curves here")
    parser.add_argument("--plot", type=Path, default=None, help="draw learning curves (PNG)")
    return parser


def run(args: argparse.Namespace) -> int:
    if args.minutes <= 0:
        print(f"error: --minutes must be positive, got {args.minutes}", file=sys.stderr)
        return 2
    if args.seeds < 1:
        print(f"error: --seeds must be at least 1, got {args.seeds}", file=sys.stderr)
        return 2
    if args.evaluate_every < 1:
        print(
            f"error: --evaluate-every must be at least 1 s, got {args.evaluate_every}",
            file=sys.stderr,
        )
        return 2
    personas = args.persona or list(BUILT_IN)
    try:
        for spec in personas:
            load_persona(spec, 0)  # fail before hours of runs, not after
        result = experiment(
            personas, args.seeds, args.minutes, args.model, args.evaluate_every, args.first_seed
        )
    except (PersonaError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result["argv"] = list(sys.argv)
    print_table(result)
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2))
        print(f"wrote {args.json}")
    if args.plot is not None:
        plot(result, args.plot)
        print(f"wrote {args.plot}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m learner.relevance ...``: the same command without ``main.py bench``."""
    parser = argparse.ArgumentParser(prog="python -m learner.relevance")
    add_parser(parser.add_subparsers(dest="bench", required=True))
    return run(parser.parse_args(["relevance", *(sys.argv[1:] if argv is None else argv)]))


if __name__ == "__main__":
    sys.exit(main())
