"""``bench relevance``: does relevance sampling make the mirror learn faster than uniform?

For every persona x seed, the same headless run (``learner.competence.train_checked``) is
made once with the relevance sampler (``RelevanceWeights()``, the seed defaults) and once with plain
uniform replay (``RelevanceWeights.uniform()``). From each learning curve it takes the
simulated minutes of play until held-out agreement *while the ball approaches the player*
first reaches 0.9, and the final overall and approach agreement (relevance sampling draws
receding frames less often, so it may cost accuracy there: the overall figure shows it).
``--sampler`` picks the samplers set against uniform (which always runs, as the baseline):
``relevance``, ``adaptive`` (loss-aware priorities, ``learner.sampler.LossPriority``, with the
relevance defaults as the prior) and ``adaptive-uniform`` (the same on a uniform prior).

Beside agreement it measures what the relevance claim is about, learning to *play*:
competence (``learner.competence``), the clone's rate of returning the ball against the scripted
opponent over the persona's own rate, checked every ``--competence-every`` simulated seconds
on ``learner.competence.MIN_ARRIVALS`` arrivals. Per run: the minutes until competence >= 0.9
and >= 0.95 held at ``HELD_CHECKS`` consecutive checks, and the mean competence over the run
(the area under its curve). Per persona, over the paired seeds (same persona and game seed,
one run per sampler): a paired sign test of which sampler got there first
(``scipy.stats.binomtest``) and a bootstrap interval (``scipy.stats.bootstrap``) of the
geometric-mean ratio of the times, sampler / uniform; the same pooled over personas.

A run that never reaches 0.9 within ``--minutes`` is right-censored: its time is only known to
be more than ``--minutes``. Medians treat censored times as larger than every measured one; a
median that falls on a censored run is reported as censored (``None``, shown "> M"), and a
ratio with one censored side is reported as a bound. In the sign test a censored run is slower
than every measured one (two censored runs tie); in the geometric mean a censored time counts
as the budget, which pulls the ratio toward 1 (a censored side makes it a bound on the effect).

    python main.py bench relevance [--persona SPEC ...] [--seeds N] [--minutes M]
        [--model mlp|transformer] [--sampler NAME ...] [--competence-every S] [--json OUT]
        [--plot OUT.png] [--write-docs [PATH]]
    python main.py bench relevance --from-json RESULT.json [--plot OUT.png] [--write-docs [PATH]]
    python main.py bench relevance --from-json A.json --from-json B.json [--json MERGED.json] ...

``--write-docs`` writes the measured part of docs/relevance.md (what was run, the tables, the
plot link) between the markers ``<!-- generated: start -->`` and ``<!-- generated: end -->``
and keeps the hand-written text around them. ``--from-json`` re-renders the table, the doc and
(with ``--plot``) the plot from a finished run's JSON without running anything; given several,
it merges them (runs of other seeds or personas with the same settings: a long experiment split
into parts) and ``--json`` writes the merged result.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shlex
import statistics
import sys
import time
from dataclasses import asdict
from pathlib import Path

from game.personas import BUILT_IN, PersonaError, load_persona
from learner.bench.cli import (
    RELEVANCE_COMPETENCE_EVERY,
    RELEVANCE_DOCS,
    RELEVANCE_EVALUATE_EVERY,
    RELEVANCE_LEVEL,
    RELEVANCE_MINUTES,
    RELEVANCE_MODEL,
    RELEVANCE_SEEDS,
    ROOT,
    add_relevance_parser,
)
from learner.bench.learning import _progress, sampler_setup
from learner.competence import (
    HELD_CHECKS,
    MIN_ARRIVALS,
    competence_figures,
    persona_check,
    train_checked,
)
from learner.config import TrainerConfig
from learner.sampler import LossPriority

DEFAULT_DOCS = RELEVANCE_DOCS
START_MARKER = "<!-- generated: start -->"
END_MARKER = "<!-- generated: end -->"


def pace_of(result: dict) -> float:
    """The training pace a result ran at (older results: the trainer's default)."""
    default = TrainerConfig().steps_per_second
    return float((result.get("trainer") or {}).get("steps_per_second", default))


def markers(result: dict) -> tuple[str, str]:
    """The doc markers a result's section goes between: one pair per training pace, so the
    default pace and the scarce one each have their section in the same page."""
    pace = pace_of(result)
    if pace == TrainerConfig().steps_per_second:
        return START_MARKER, END_MARKER
    return (
        f"<!-- generated at {pace:g} steps/s: start -->",
        f"<!-- generated at {pace:g} steps/s: end -->",
    )


def _heading(text: str, result: dict) -> str:
    pace = pace_of(result)
    if pace == TrainerConfig().steps_per_second:
        return text
    return f"{text}, at {pace:g} training steps per second of play"


SAMPLERS = ("relevance", "uniform")
"""The samplers run when --sampler is not given."""
BASELINE = "uniform"  # what every other sampler is compared with; always run
SAMPLER_TEXT = {
    "relevance": "`RelevanceWeights()`",
    "uniform": "`RelevanceWeights.uniform()`",
    "adaptive": "loss-aware priorities (`LossPriority()`) with `RelevanceWeights()` as the prior",
    "adaptive-uniform": "loss-aware priorities (`LossPriority()`) with "
    "`RelevanceWeights.uniform()` as the prior",
}
COLOURS = {
    "relevance": "blue",
    "uniform": "orange",
    "adaptive": "green",
    "adaptive-uniform": "purple",
}
COMPETENCE_LEVELS = (0.9, 0.95)
BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 0  # the interval is reproducible from the JSON's times
DEFAULT_COMPETENCE_EVERY = RELEVANCE_COMPETENCE_EVERY
LEVEL = RELEVANCE_LEVEL
TARGET_RATIO = 0.5
"""The product's target: relevance sampling reaches LEVEL in at most half uniform's time."""
DEFAULT_EVALUATE_EVERY = RELEVANCE_EVALUATE_EVERY  # the defaults are the command line's
DEFAULT_SEEDS = RELEVANCE_SEEDS
DEFAULT_MINUTES = RELEVANCE_MINUTES
DEFAULT_MODEL = RELEVANCE_MODEL
MAX_STEPS_PER_SECOND = 1000.0
TRAINER_FIELDS = ("steps_per_second", "batch_size", "heldout_every", "min_heldout_frames")
"""The trainer settings a run records (runs use TrainerConfig's defaults)."""


# -- measuring ---------------------------------------------------------------------------


def _config(model: str, seed: int, steps_per_second: float | None) -> TrainerConfig:
    config = TrainerConfig(architecture=model, seed=seed)
    if steps_per_second is not None:
        config.steps_per_second = steps_per_second
    return config


def samplers_of(result: dict) -> tuple[str, ...]:
    """The samplers a result ran (older results: relevance and uniform)."""
    return tuple(result.get("samplers", SAMPLERS))


def compared_of(samplers) -> list[str]:
    return [sampler for sampler in samplers if sampler != BASELINE]


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


def competence_key(level: float) -> str:
    return f"minutes_to_competence_{level:g}"


def run_competence(curve: list[dict], minutes: float) -> dict:
    """A run's competence figures from its curve (points that carry ``competence``)."""
    return competence_figures(curve, minutes, COMPETENCE_LEVELS)


def _later(a: float | None, b: float | None) -> int:
    """+1 if time a is later than b, -1 if sooner, 0 if equal; None (censored) is latest."""
    a, b = math.inf if a is None else a, math.inf if b is None else b
    return (a > b) - (a < b)


def _geometric_mean_interval(log_ratios: list[float]) -> list[float] | None:
    """95% bootstrap interval (percentile) of exp(mean of log ratios); None with < 2 pairs.

    With 5 pairs any bootstrap interval is rough (a percentile interval is too narrow at so
    few): it shows the size of the effect; the sign test says whether it has a direction."""
    import numpy as np
    from scipy.stats import bootstrap

    if len(log_ratios) < 2:
        return None
    logs = np.asarray(log_ratios, dtype=float)
    if np.ptp(logs) == 0:  # every pair the same ratio: no spread to resample
        return [float(np.exp(logs[0]))] * 2
    interval = bootstrap(
        (logs,),
        np.mean,
        n_resamples=BOOTSTRAP_RESAMPLES,
        method="percentile",
        rng=np.random.default_rng(BOOTSTRAP_SEED),
    ).confidence_interval
    return [float(np.exp(interval.low)), float(np.exp(interval.high))]


def paired_times(times: list[float | None], baseline: list[float | None], budget: float) -> dict:
    """Paired comparison of a sampler's times-to-level with the baseline's, seed by seed.

    ``sooner``/``later``/``ties``: pairs where the sampler got there first, last, or together
    (both censored included); ``sign_test_p``: two-sided binomial test of sooner vs later
    (None without an untied pair); ``geometric_mean_ratio`` and its bootstrap ``interval``:
    sampler / baseline, censored times counted as the budget; ``censored_pairs``: pairs with
    a censored side (the ratio is then a bound on theirs)."""
    from scipy.stats import binomtest

    order = [_later(t, b) for t, b in zip(times, baseline, strict=True)]
    sooner, later = order.count(-1), order.count(1)
    log_ratios = [
        math.log((budget if t is None else t) / (budget if b is None else b))
        for t, b in zip(times, baseline, strict=True)
    ]
    return {
        "sooner": sooner,
        "later": later,
        "ties": order.count(0),
        "sign_test_p": binomtest(sooner, sooner + later).pvalue if sooner + later else None,
        "geometric_mean_ratio": math.exp(sum(log_ratios) / len(log_ratios)) if log_ratios else None,
        "interval": _geometric_mean_interval(log_ratios),
        "censored_pairs": sum(t is None or b is None for t, b in zip(times, baseline, strict=True)),
    }


def paired_values(values: list[float | None], baseline: list[float | None]) -> dict:
    """Paired sign test where higher is better (mean competence): ``higher``/``lower``/``ties``,
    ``sign_test_p``, and the mean difference sampler - baseline."""
    from scipy.stats import binomtest

    pairs = [
        (v, b) for v, b in zip(values, baseline, strict=True) if v is not None and b is not None
    ]
    higher = sum(v > b for v, b in pairs)
    lower = sum(v < b for v, b in pairs)
    return {
        "higher": higher,
        "lower": lower,
        "ties": len(pairs) - higher - lower,
        "sign_test_p": binomtest(higher, higher + lower).pvalue if higher + lower else None,
        "mean_difference": sum(v - b for v, b in pairs) / len(pairs) if pairs else None,
    }


def compare_competence(
    by_seed: dict[str, dict[int, dict]], seeds: list[int], budget: float, samplers
) -> dict:
    """Every non-baseline sampler against the baseline on competence, over paired seeds."""
    comparison = {}
    for sampler in samplers:
        if sampler == BASELINE:
            continue
        mine, base = by_seed[sampler], by_seed[BASELINE]
        comparison[sampler] = {
            **{
                f"{level:g}": paired_times(
                    [mine[seed][competence_key(level)] for seed in seeds],
                    [base[seed][competence_key(level)] for seed in seeds],
                    budget,
                )
                for level in COMPETENCE_LEVELS
            },
            "mean_competence": paired_values(
                [mine[seed]["mean_competence"] for seed in seeds],
                [base[seed]["mean_competence"] for seed in seeds],
            ),
        }
    return comparison


def _has_competence(runs: list[dict]) -> bool:
    return bool(runs) and all("mean_competence" in run for run in runs)


def pooled_competence(
    runs: list[dict], personas: list[str], seeds: list[int], budget: float, samplers
) -> dict | None:
    """``compare_competence`` over every persona x seed pair at once; None without figures."""
    if not _has_competence(runs):
        return None
    by_pair: dict[str, dict[tuple, dict]] = {s: {} for s in samplers}
    for run in runs:
        by_pair[run["sampler"]][(run["persona"], run["seed"])] = run
    pairs = [(persona, seed) for persona in personas for seed in seeds]
    return compare_competence(by_pair, pairs, budget, samplers)


def _agreement_ratios(by_seed: dict, entry: dict, sampler: str, seeds, minutes) -> dict:
    """A sampler's times to 0.9 approach agreement against the baseline's."""
    ratios = {
        "ratio_of_medians": _ratio(
            entry[sampler]["minutes_to_0.9"]["median"],
            entry[BASELINE]["minutes_to_0.9"]["median"],
            minutes,
        ),
        "ratio_of_medians_sustained": _ratio(
            entry[sampler]["minutes_to_0.9_sustained"]["median"],
            entry[BASELINE]["minutes_to_0.9_sustained"]["median"],
            minutes,
        ),
        "ratio_per_seed": [
            _ratio(
                by_seed[sampler][seed]["minutes_to_0.9"],
                by_seed[BASELINE][seed]["minutes_to_0.9"],
                minutes,
            )
            for seed in seeds
        ],
    }
    value = ratios["ratio_of_medians"]["value"]
    ratios["meets_target"] = value is not None and value <= TARGET_RATIO
    return ratios


def summarise(
    runs: list[dict],
    personas: list[str],
    seeds: list[int],
    minutes: float,
    samplers: tuple[str, ...] = SAMPLERS,
) -> dict:
    """Per persona: each sampler's figures over the seeds, and each sampler against uniform
    (``vs_uniform``: agreement ratios; ``competence``: competence figures and comparisons)."""
    summary = {}
    for persona in personas:
        entry: dict = {}
        by_seed: dict[str, dict[int, dict]] = {s: {} for s in samplers}
        for run in runs:
            if run["persona"] == persona:
                by_seed[run["sampler"]][run["seed"]] = run
        for sampler in samplers:
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
        entry["vs_uniform"] = {
            sampler: _agreement_ratios(by_seed, entry, sampler, seeds, minutes)
            for sampler in compared_of(samplers)
        }
        chosen_runs = [by_seed[s][seed] for s in samplers for seed in seeds]
        if _has_competence(chosen_runs):
            entry["competence"] = {
                sampler: {
                    **{
                        competence_key(level): _spread(
                            [by_seed[sampler][seed][competence_key(level)] for seed in seeds]
                        )
                        for level in COMPETENCE_LEVELS
                    },
                    "mean_competence": _plain_spread(
                        [by_seed[sampler][seed]["mean_competence"] for seed in seeds]
                    ),
                }
                for sampler in samplers
            }
            entry["competence"]["vs_uniform"] = compare_competence(
                by_seed, seeds, minutes, samplers
            )
        summary[persona] = entry
    return summary


def code_version() -> dict:
    """The commit the bench ran from and whether tracked files differed from it: runs of
    other code must not be pooled (a model change mid-experiment moves every figure)."""
    import subprocess

    def git(*words: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *words], cwd=ROOT, capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": git("rev-parse", "HEAD"), "modified": bool(status)}


def experiment(
    personas: list[str],
    seeds: int,
    minutes: float,
    model: str = "mlp",
    evaluate_every: int = DEFAULT_EVALUATE_EVERY,
    first_seed: int = 0,
    competence_every: int = DEFAULT_COMPETENCE_EVERY,
    samplers: tuple[str, ...] = SAMPLERS,
    steps_per_second: float | None = None,
) -> dict:
    """Every persona x seed x sampler run; ``competence_every`` 0 turns competence off;
    ``steps_per_second``: the training pace (None: the trainer's default)."""
    from learner.bench.loop import machine_description

    started = time.perf_counter()
    seed_list = list(range(first_seed, first_seed + seeds))
    runs = []
    total = len(personas) * len(seed_list) * len(samplers)
    kept = ("minutes", "agreement", "approach_agreement", "competence", "competence_arrivals")
    for persona in personas:
        for seed in seed_list:
            # The persona's own rate, once for the pair: both samplers are judged against it.
            check = persona_check(persona, seed) if competence_every else None
            for sampler in samplers:
                label = f"[{len(runs) + 1}/{total}] {persona} {sampler} seed {seed}"
                weights, loss_priority = sampler_setup(sampler)
                run = train_checked(
                    persona,
                    minutes,
                    _config(model, seed, steps_per_second),
                    weights,
                    seed,
                    evaluate_every=evaluate_every,
                    competence_every=competence_every,
                    check=check,
                    on_evaluation=_progress(label, minutes),
                    loss_priority=loss_priority,
                )
                print(file=sys.stderr)
                curve = [{k: p[k] for k in kept if k in p} for p in run.curve]
                last = curve[-1] if curve else {"agreement": None, "approach_agreement": None}
                figures = {
                    "persona": persona,
                    "sampler": sampler,
                    "seed": seed,
                    "minutes_to_0.9": minutes_to_level(curve),
                    "minutes_to_0.9_sustained": minutes_to_level_sustained(curve),
                    "final_approach_agreement": last["approach_agreement"],
                    "final_agreement": last["agreement"],
                    "wall_seconds": round(run.wall_seconds, 2),
                }
                if check is not None:
                    figures.update(run_competence(curve, minutes))
                    figures["persona_hit_rate"] = check.persona.rate
                    figures["competence_wall_seconds"] = round(run.competence_seconds, 2)
                runs.append({**figures, "curve": curve})
    competence = None
    if competence_every:
        competence = {
            "every_seconds": competence_every,
            "min_arrivals": MIN_ARRIVALS,
            "held_checks": HELD_CHECKS,
            "levels": list(COMPETENCE_LEVELS),
            "pooled": pooled_competence(runs, personas, seed_list, minutes, samplers),
        }
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
        "samplers": list(samplers),
        "weights": {s: sampler_setup(s)[0].to_dict() for s in samplers},
        "loss_priority": asdict(LossPriority())
        if any(sampler_setup(s)[1] for s in samplers)
        else None,
        "trainer": {
            name: getattr(_config(model, 0, steps_per_second), name) for name in TRAINER_FIELDS
        },
        "censoring": "minutes_to_0.9 is null when the run never reached the level within "
        "'minutes' (right-censored: the true time is more than 'minutes'); a median that "
        "falls on a censored run is null, and a ratio with a censored side is given as "
        "a bound",
        "summary": summarise(runs, personas, seed_list, minutes, samplers),
        "competence": competence,
        "code": code_version(),
        "runs": runs,
        "wall_seconds": round(time.perf_counter() - started, 1),
        "machine": {
            "description": machine_description(),
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
    """Header and one row per persona x sampler: the printed table, also used by the docs.
    Each ratio (sampler ÷ uniform) sits on its sampler's row."""
    budget = result["minutes"]
    samplers = samplers_of(result)
    rows = [
        [
            "persona",
            "sampler",
            "min to 0.9 appr. median [min–max]",
            "ratio rel/uni" if samplers == SAMPLERS else "ratio ÷ uni",
            "sustained: min",
            "ratio",
            "final appr. agr.",
            "final overall agr.",
        ]
    ]
    for persona, entry in result["summary"].items():
        for sampler in samplers:
            figures = entry[sampler]
            ratios = entry["vs_uniform"].get(sampler)
            rows.append(
                [
                    persona if sampler == samplers[0] else "",
                    sampler,
                    _minutes_text(figures["minutes_to_0.9"], budget),
                    _ratio_text(ratios["ratio_of_medians"]) if ratios else "",
                    _median_text(figures["minutes_to_0.9_sustained"], budget),
                    _ratio_text(ratios["ratio_of_medians_sustained"]) if ratios else "",
                    _agreement_text(figures["final_approach_agreement"]),
                    _agreement_text(figures["final_agreement"]),
                ]
            )
    return rows


def meeting_target(result: dict) -> list[str]:
    """Personas where a sampler reaches 0.9 agreement in at most TARGET_RATIO of uniform's
    median time (named with the sampler when several are compared)."""
    several = len(compared_of(samplers_of(result))) > 1
    return [
        f"{persona} ({sampler})" if several else persona
        for persona, entry in result["summary"].items()
        for sampler, ratios in entry["vs_uniform"].items()
        if ratios["meets_target"]
    ]


def competence_rows(result: dict) -> list[list[str]]:
    """Header and one row per persona x sampler of competence figures (empty without them)."""
    budget = result["minutes"]
    rows = []
    for persona, entry in result["summary"].items():
        figures = entry.get("competence")
        if figures is None:
            continue
        samplers = samplers_of(result)
        for sampler in samplers:
            mine = figures[sampler]
            rows.append(
                [
                    persona if sampler == samplers[0] else "",
                    sampler,
                    *(
                        _minutes_text(mine[competence_key(level)], budget)
                        for level in COMPETENCE_LEVELS
                    ),
                    _agreement_text(mine["mean_competence"]),
                ]
            )
    if not rows:
        return []
    header = [
        "persona",
        "sampler",
        *(f"min to competence {level:g} median [min–max]" for level in COMPETENCE_LEVELS),
        "mean competence",
    ]
    return [header, *rows]


def _p_text(p_value: float | None) -> str:
    return "—" if p_value is None else f"{p_value:.3f}"


def _interval_text(times: dict) -> str:
    ratio, interval = times["geometric_mean_ratio"], times["interval"]
    if ratio is None:
        return "—"
    shown = f"{ratio:.2f}"
    if interval is not None:
        shown += f" [{interval[0]:.2f}–{interval[1]:.2f}]"
    if times["censored_pairs"]:
        shown += f" ({times['censored_pairs']} cens.)"
    return shown


def comparison_rows(result: dict) -> list[list[str]]:
    """Header and the paired comparisons with uniform, per persona and pooled ("all")."""
    compared = [
        (persona, entry["competence"]["vs_uniform"])
        for persona, entry in result["summary"].items()
        if entry.get("competence")
    ]
    pooled = (result.get("competence") or {}).get("pooled")
    if pooled:
        compared.append(("all", pooled))
    if not compared:
        return []
    rows = [
        [
            "persona",
            "sampler ÷ uniform",
            "measure",
            "sooner / later / tied",
            "sign test p",
            "geo-mean time ratio [95% bootstrap]",
        ]
    ]
    for persona, by_sampler in compared:
        first = True
        for sampler, figures in by_sampler.items():
            for level in COMPETENCE_LEVELS:
                times = figures[f"{level:g}"]
                rows.append(
                    [
                        persona if first else "",
                        sampler,
                        f"time to {level:g}",
                        f"{times['sooner']} / {times['later']} / {times['ties']}",
                        _p_text(times["sign_test_p"]),
                        _interval_text(times),
                    ]
                )
                first = False
            mean = figures["mean_competence"]
            difference = mean["mean_difference"]
            rows.append(
                [
                    "",
                    sampler,
                    "mean competence (higher / lower / tied)",
                    f"{mean['higher']} / {mean['lower']} / {mean['ties']}",
                    _p_text(mean["sign_test_p"]),
                    "—" if difference is None else f"difference {difference:+.3f}",
                ]
            )
    return rows


ADAPTIVE = ("adaptive", "adaptive-uniform")
"""The samplers that adapt to the player, each judged against the targets below."""
ADAPTIVE_SPEEDUP = 1.5
"""Target: the adaptive sampler reaches competence 0.9 this many times sooner than uniform
(geometric-mean time ratio per persona, median over personas), at the default pace."""
ADAPTIVE_SLOWER_AT_MOST = 1.1
"""Target: for no persona is it more than 10% slower than the better of uniform and fixed."""
SCARCE_PACE = 2.0
"""At or below this pace (steps per second of play) compute is scarce; the target there: its
mean competence beats uniform's on every persona."""


def adaptive_targets(result: dict) -> list[list[str]] | None:
    """Header and one row per target of each adaptive sampler the run has (``ADAPTIVE``),
    with what was measured and whether it was met; None without one or without competence.

    Time ratios are the per-persona geometric means over paired seeds (censored times count as
    the budget, which pulls a ratio toward 1, so a censored run cannot fake a speed-up)."""
    samplers = samplers_of(result)
    adaptive = [sampler for sampler in ADAPTIVE if sampler in samplers]
    if not adaptive or not (result.get("competence") or {}).get("pooled"):
        return None
    rows = [["sampler", "target", "measured", "met"]]
    for sampler in adaptive:
        rows += [[sampler, *row] for row in _targets_of(result, sampler)]
    return rows


def _targets_of(result: dict, adaptive: str) -> list[list[str]]:
    samplers = samplers_of(result)
    level = f"{COMPETENCE_LEVELS[0]:g}"
    budget, key = result["minutes"], competence_key(COMPETENCE_LEVELS[0])
    pace = pace_of(result)
    rows = []
    if pace > SCARCE_PACE:
        speedups = {}
        slower = {}
        for persona, entry in result["summary"].items():
            comparison = entry["competence"]["vs_uniform"][adaptive]
            speedups[persona] = 1 / comparison[level]["geometric_mean_ratio"]
            ratios = [comparison[level]["geometric_mean_ratio"]]
            if "relevance" in samplers:
                runs = {
                    (run["sampler"], run["seed"]): run[key]
                    for run in result["runs"]
                    if run["persona"] == persona
                }
                ratios.append(
                    paired_times(
                        [runs[(adaptive, seed)] for seed in result["seeds"]],
                        [runs[("relevance", seed)] for seed in result["seeds"]],
                        budget,
                    )["geometric_mean_ratio"]
                )
            slower[persona] = max(ratios)
        median = statistics.median(speedups.values())
        rows.append(
            [
                f"competence {level} sooner than uniform, median over personas ≥ "
                f"{ADAPTIVE_SPEEDUP:g}×",
                f"{median:.2f}× (" + ", ".join(f"{p} {v:.2f}×" for p, v in speedups.items()) + ")",
                "yes" if median >= ADAPTIVE_SPEEDUP else "no",
            ]
        )
        worst = max(slower, key=slower.get)
        rows.append(
            [
                f"never more than {ADAPTIVE_SLOWER_AT_MOST - 1:.0%} slower than the better of "
                + ("uniform and relevance" if "relevance" in samplers else "uniform"),
                f"worst {worst}: {slower[worst]:.2f}× the better one's time; over "
                f"{ADAPTIVE_SLOWER_AT_MOST:g}×: "
                + (
                    ", ".join(p for p, v in slower.items() if v > ADAPTIVE_SLOWER_AT_MOST) or "none"
                ),
                "yes" if slower[worst] <= ADAPTIVE_SLOWER_AT_MOST else "no",
            ]
        )
    else:
        differences = {
            persona: entry["competence"]["vs_uniform"][adaptive]["mean_competence"][
                "mean_difference"
            ]
            for persona, entry in result["summary"].items()
        }
        behind = [p for p, d in differences.items() if d is None or d <= 0]
        rows.append(
            [
                f"compute scarce ({pace:g} steps/s): mean competence above uniform's on every "
                "persona",
                ", ".join(
                    f"{p} {'—' if d is None else f'{d:+.3f}'}" for p, d in differences.items()
                )
                + f"; not above: {', '.join(behind) or 'none'}",
                "no" if behind else "yes",
            ]
        )
    return rows


def _print_rows(rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if index == 0:
            print("  ".join("-" * width for width in widths))


def _competence_explained(result: dict) -> str:
    settings = result["competence"]
    return (
        f"competence: the clone's return rate against the scripted opponent ÷ the persona's, "
        f"checked every {settings['every_seconds']} simulated s on "
        f"{settings['min_arrivals']} arrivals; 'min to competence L': the first of "
        f"{settings['held_checks']} consecutive checks at or above L; mean competence: the "
        "area under the competence curve ÷ the run's length (each check clipped at 1)."
    )


def print_competence(result: dict) -> None:
    rows = competence_rows(result)
    if not rows:
        return
    print()
    print(_competence_explained(result))
    _print_rows(rows)
    print()
    print(
        "paired over seeds, each sampler against uniform: sign test of which reached the "
        "level first; geometric mean of the time ratios (censored times counted as the "
        "budget) with a 95% bootstrap interval"
    )
    _print_rows(comparison_rows(result))
    targets = adaptive_targets(result)
    if targets:
        print()
        print("the adaptive samplers' targets (time ratios: geometric means over paired seeds)")
        _print_rows(targets)


def print_table(result: dict) -> None:
    rows = table_rows(result)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    print(
        f"{' vs '.join(samplers_of(result))} sampling, {result['model']}, "
        f"{len(result['seeds'])} seeds, "
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
    met = meeting_target(result)
    print(f"personas meeting the target: {', '.join(met) if met else 'none'}")
    print_competence(result)
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
    colours = {sampler: f"tab:{colour}" for sampler, colour in COLOURS.items()}
    lowest = 1.0
    for index, persona in enumerate(personas):
        ax = axes[index // columns][index % columns]
        for sampler in samplers_of(result):
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


# -- the doc -----------------------------------------------------------------------------


def _markdown_table(rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    return lines + ["| " + " | ".join(row) + " |" for row in rows[1:]]


def _command_text(result: dict) -> str:
    """The command that produced ``result``: its recorded argv when it was this bench,
    otherwise the equivalent ``main.py`` command rebuilt from the recorded settings."""
    argv = result.get("argv") or []
    if argv and Path(argv[0]).name == "main.py" and argv[1:3] == ["bench", "relevance"]:
        return shlex.join(["python", "main.py", *argv[1:]])
    if argv and Path(argv[0]).name == "relevance.py":
        return shlex.join(["python", "-m", "learner.bench.relevance", *argv[1:]])
    words = ["python", "main.py", "bench", "relevance"]
    for persona in result["personas"]:
        words += ["--persona", persona]
    words += ["--seeds", str(len(result["seeds"])), "--minutes", f"{result['minutes']:g}"]
    words += ["--model", result["model"], "--evaluate-every", str(result["evaluate_every_seconds"])]
    if samplers_of(result) != SAMPLERS:
        for sampler in compared_of(samplers_of(result)):
            words += ["--sampler", sampler]
    if pace_of(result) != TrainerConfig().steps_per_second:
        words += ["--steps-per-second", f"{pace_of(result):g}"]
    competence = result.get("competence")
    if competence and competence["every_seconds"] != DEFAULT_COMPETENCE_EVERY:
        words += ["--competence-every", str(competence["every_seconds"])]
    if result["seeds"] and result["seeds"][0] != 0:
        words += ["--first-seed", str(result["seeds"][0])]
    parts = len(result.get("merged_from") or [])
    how = f"run as {parts} commands and merged with --from-json" if parts else "not recorded"
    return shlex.join(words) + f"  # equivalent; {how}"


def _recorded_path(result: dict, option: str) -> Path | None:
    """The path given to ``option`` (e.g. ``--plot``) in the recorded argv, if any."""
    argv = result.get("argv") or []
    for index, word in enumerate(argv):
        if word == option and index + 1 < len(argv):
            return Path(argv[index + 1])
        if word.startswith(option + "="):
            return Path(word.split("=", 1)[1])
    return None


def _existing(path: Path | None) -> Path | None:
    if path is None:
        return None
    for candidate in (path, ROOT / path):
        if candidate.exists():
            return candidate
    return None


def _link(target: Path, doc: Path) -> str:
    """``target`` relative to the doc's folder, for a Markdown link."""
    return Path(os.path.relpath(target.resolve(), doc.resolve().parent)).as_posix()


def _shown(path: Path) -> str:
    """``path`` relative to the repository root when it lies inside it, else absolute."""
    resolved = path.resolve()
    return (
        resolved.relative_to(ROOT).as_posix()
        if resolved.is_relative_to(ROOT)
        else resolved.as_posix()
    )


def _machine_text(result: dict) -> str:
    """The machine that ran it, from the JSON only: ``learner.bench.loop.machine_description()`` as
    recorded at run time, or (older JSONs) the recorded cores, Python and platform."""
    machine = result.get("machine") or {}
    if machine.get("description"):
        return machine["description"]
    if not machine:
        return "a machine not recorded in the JSON"
    return f"{machine.get('cpus')} cores, Python {machine.get('python')}, {machine.get('platform')}"


def _weights_text(weights: dict) -> str:
    return ", ".join(f"{name} {value:g}" for name, value in weights.items())


def _trainer_text(result: dict) -> str:
    trainer = result.get("trainer")
    recorded = trainer is not None
    if not recorded:
        trainer = {name: getattr(TrainerConfig(), name) for name in TRAINER_FIELDS}
    text = (
        f"{trainer['steps_per_second']:g} training steps per second of play, batch "
        f"{trainer['batch_size']}; every {trainer['heldout_every']}th rally held out, never "
        f"trained on; agreement reported once {trainer['min_heldout_frames']} held-out frames "
        "exist"
    )
    if recorded:
        return text
    return f"not recorded in the JSON; the code that rendered this page uses {text}"


def _default_note(value, default) -> str:
    return " (default)" if value == default else f" (default: {default})"


def render_section(result: dict, doc: Path, json_path: Path | None, plot_path: Path | None) -> str:
    """The generated part of the doc (between the markers), from a result's figures only."""
    budget = result["minutes"]
    personas, seeds = result["personas"], result["seeds"]
    runs = len(result["runs"])
    regenerate = "python main.py bench relevance"
    if json_path is not None:
        regenerate += f" --from-json {shlex.quote(_shown(json_path))} --write-docs"
        if doc.resolve() != DEFAULT_DOCS.resolve():
            regenerate += f" {shlex.quote(_shown(doc))}"
    lines = [
        "<!-- Written by `python main.py bench relevance --write-docs` from the run's JSON; "
        "edit only outside the generated markers, they are rewritten on every run. -->",
        "",
        _heading("## What was run", result),
        "",
        "```",
        _command_text(result),
        "```",
        "",
        f"- personas: {', '.join(personas)}"
        + (" (default: all built-ins)" if personas == list(BUILT_IN) else ""),
        f"- seeds: {', '.join(map(str, seeds))}" + _default_note(seeds, list(range(DEFAULT_SEEDS))),
        f"- simulated minutes of play per run: {budget:g}" + _default_note(budget, DEFAULT_MINUTES),
        f"- model: {result['model']}" + _default_note(result["model"], DEFAULT_MODEL),
        f"- evaluation every {result['evaluate_every_seconds']} simulated seconds"
        + _default_note(result["evaluate_every_seconds"], DEFAULT_EVALUATE_EVERY),
        f"- trainer: {_trainer_text(result)}",
        *(
            f"- {sampler} sampler, {SAMPLER_TEXT[sampler]}: "
            f"{_weights_text(result['weights'][sampler])}"
            for sampler in samplers_of(result)
        ),
        *(
            [f"- loss-aware priorities: {_weights_text(result['loss_priority'])}"]
            if result.get("loss_priority")
            else []
        ),
        f"- measure: held-out `{result['metric']}` (agreement while the ball approaches the "
        f"player); level {result['level']:g}; target: ratio of medians ≤ "
        f"{result['target_ratio']:g}",
        f"- {runs} runs ({len(personas)} personas × {len(seeds)} seeds × "
        f"{len(samplers_of(result))} "
        f"samplers); total wall time {result['wall_seconds']:g} s on {_machine_text(result)}",
    ]
    if json_path is not None:
        lines.append(
            f"- every curve: [`{_shown(json_path)}`]({_link(json_path, doc)}); "
            f"this section is re-rendered from it, without re-running, by `{regenerate}`"
        )
    lines += [
        "",
        _heading("## Results", result),
        "",
        f'Medians over the {len(seeds)} seeds, with [min–max]. "min to {result["level"]:g}" '
        f"is the simulated minute of the first evaluation at which approach agreement was ≥ "
        f'{result["level"]:g}; "> {budget:g}" means the run never got there within '
        f"{budget:g} min. Such runs are censored: their time is only known to be more than "
        f"{budget:g} min. Medians treat censored runs as the slowest, and a median that falls "
        f'on one is shown as "> {budget:g}". "sustained" is the minute from which approach '
        f"agreement stays ≥ {result['level']:g} at every later evaluation. Each ratio is "
        "the sampler's median ÷ uniform's: below 1, that sampler was faster. A ratio "
        'shown as "< x" or "> x" is a bound, because one side is censored.',
        "",
        *_markdown_table(table_rows(result)),
        "",
    ]
    met = meeting_target(result)
    compared = compared_of(samplers_of(result))
    lines += [
        "Personas meeting the target (first-crossing ratio of medians ≤ "
        f"{result['target_ratio']:g}): "
        f"{', '.join(met) if met else 'none'}.",
        "",
        f"Ratio {' or '.join(compared)} ÷ uniform of the first-crossing minutes, for each "
        "seed. The runs of a pair share persona and game seed, so they play identically "
        "until their training first differs."
        if compared != ["relevance"]
        else "Ratio relevance ÷ uniform of the first-crossing minutes, for each seed. The two "
        "runs of a pair share persona and game seed, so they play identically until their "
        "training first differs.",
        "",
        *_markdown_table(
            [
                ["persona", *(f"seed {seed}" for seed in seeds)],
                *(
                    [
                        persona if len(compared) == 1 else f"{persona}, {sampler}",
                        *(_ratio_text(r) for r in ratios["ratio_per_seed"]),
                    ]
                    for persona, entry in result["summary"].items()
                    for sampler, ratios in entry["vs_uniform"].items()
                ),
            ]
        ),
        "",
    ]
    if competence_rows(result):
        lines += [
            _heading("## Competence", result),
            "",
            _competence_explained(result).replace("competence: ", "Competence is ", 1),
            "Medians over the seeds with [min–max]; censored runs as above.",
            "",
            *_markdown_table(competence_rows(result)),
            "",
            'Each sampler against uniform over the paired seeds ("all": every persona\'s '
            "pairs together): how many pairs reached the level sooner, later or at the same "
            "check (both censored included), the two-sided sign test on the untied pairs, and "
            "the geometric mean of the time ratios with a 95% percentile bootstrap interval. "
            "A censored time counts as the budget there, which pulls the ratio toward 1.",
            "",
            *_markdown_table(comparison_rows(result)),
            "",
        ]
        targets = adaptive_targets(result)
        if targets:
            lines += [
                _heading("### The adaptive samplers' targets", result),
                "",
                "Time ratios are each persona's geometric mean over its paired seeds "
                "(censored times count as the budget, so a run that never got there cannot "
                "make a speed-up look larger).",
                "",
                *_markdown_table(targets),
                "",
            ]
    if plot_path is not None:
        lines += [
            f"![learning curves]({_link(plot_path, doc)})",
            "",
            "Each panel: approach agreement against simulated minutes for one persona; "
            + ", ".join(f"{COLOURS[s]} {s}" for s in samplers_of(result))
            + "; thin lines single seeds, thick lines the median; dashed "
            f"{result['level']:g}.",
            "",
        ]
    return "\n".join(lines)


def write_docs(
    path: Path, section: str, pair: tuple[str, str] = (START_MARKER, END_MARKER)
) -> None:
    """Put ``section`` between the markers in ``path``, keeping the text around them.

    A missing file is created; a file without markers gets them appended at its end.
    Raises ValueError if the markers are unpaired, repeated or out of order."""
    block = f"{pair[0]}\n{section.rstrip()}\n{pair[1]}"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"# Relevance experiment\n\n{block}\n")
        return
    text = path.read_text()
    starts, ends = text.count(pair[0]), text.count(pair[1])
    if starts == 0 and ends == 0:
        path.write_text(text.rstrip("\n") + "\n\n" + block + "\n")
        return
    start, end = text.find(pair[0]), text.find(pair[1])
    if starts != 1 or ends != 1 or end < start:
        raise ValueError(
            f"{path}: expected one {pair[0]!r} followed by one {pair[1]!r}, found "
            f"{starts} and {ends}{' in the wrong order' if end < start else ''}"
        )
    path.write_text(text[:start] + block + text[end + len(pair[1]) :])


# -- command line ------------------------------------------------------------------------


EXPERIMENT_OPTIONS = {
    "persona": ("--persona", None),
    "seeds": ("--seeds", DEFAULT_SEEDS),
    "minutes": ("--minutes", DEFAULT_MINUTES),
    "model": ("--model", DEFAULT_MODEL),
    "evaluate_every": ("--evaluate-every", DEFAULT_EVALUATE_EVERY),
    "first_seed": ("--first-seed", 0),
    "competence_every": ("--competence-every", DEFAULT_COMPETENCE_EVERY),
    "sampler": ("--sampler", None),
    "steps_per_second": ("--steps-per-second", None),
    "json": ("--json", None),
}
"""Options that shape (or save) a new run, so make no sense with --from-json."""


def load_result(path: Path) -> dict:
    """A finished run's JSON; ValueError (naming the file) if it is not one."""
    try:
        result = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from exc
    if not isinstance(result, dict) or result.get("benchmark") != "relevance":
        raise ValueError(f"{path} is not the JSON of `bench relevance --json`")
    missing = [
        key
        for key in ("personas", "seeds", "minutes", "model", "summary", "runs", "wall_seconds")
        if key not in result
    ]
    if missing:
        raise ValueError(f"{path} lacks {', '.join(missing)}")
    return resummarise(result)


MERGED_SETTINGS = (
    "minutes",
    "model",
    "evaluate_every_seconds",
    "level",
    "metric",
    "target_ratio",
    "trainer",
)
"""Settings every part of a merged result must share (their samplers may differ)."""
RUN_TIMINGS = ("wall_seconds", "competence_wall_seconds")
"""What may differ between two runs of the same persona, sampler and seed (they are seeded:
everything else is the same, so a baseline run twice counts once)."""


def _competence_settings(result: dict) -> dict | None:
    settings = result.get("competence")
    return None if settings is None else {k: v for k, v in settings.items() if k != "pooled"}


def _same_run(a: dict, b: dict) -> bool:
    return {k: v for k, v in a.items() if k not in RUN_TIMINGS} == {
        k: v for k, v in b.items() if k not in RUN_TIMINGS
    }


def merge_results(results: list[dict]) -> dict:
    """Finished runs with the same settings as one result: their personas, seeds and samplers
    joined, every persona x seed x sampler run once (a run given twice, such as the uniform
    baseline of two parts that compared other samplers, must be the same run); ValueError
    saying what does not fit."""
    first = results[0]
    weights: dict = {}
    for other in results:
        for key in MERGED_SETTINGS:
            if other.get(key) != first.get(key):
                raise ValueError(
                    f"cannot merge: {key} differs ({first.get(key)!r} and {other.get(key)!r})"
                )
        if _competence_settings(other) != _competence_settings(first):
            raise ValueError("cannot merge: the competence settings differ")
        commits = [(result.get("code") or {}).get("commit") for result in (first, other)]
        if commits[0] != commits[1]:
            raise ValueError(f"cannot merge: runs of other code (commits {commits})")
        for sampler, setting in (other.get("weights") or {}).items():
            if weights.setdefault(sampler, setting) != setting:
                raise ValueError(f"cannot merge: the {sampler} sampler's weights differ")
    priorities = [r["loss_priority"] for r in results if r.get("loss_priority") is not None]
    if any(priority != priorities[0] for priority in priorities):
        raise ValueError("cannot merge: the loss-aware priorities' settings differ")
    chosen = [s for result in results for s in samplers_of(result) if s != BASELINE]
    samplers = [*dict.fromkeys(chosen), BASELINE]
    unique: dict[tuple, dict] = {}
    for run in (run for result in results for run in result["runs"]):
        key = (run["persona"], run["sampler"], run["seed"])
        if key in unique and not _same_run(unique[key], run):
            raise ValueError(f"cannot merge: runs given twice, with other figures: {key}")
        unique.setdefault(key, run)
    runs = list(unique.values())
    personas = list(dict.fromkeys(p for result in results for p in result["personas"]))
    seeds = sorted({seed for result in results for seed in result["seeds"]})
    merged = {
        **first,
        "personas": personas,
        "seeds": seeds,
        "runs": runs,
        "samplers": samplers,
        "weights": weights,
        "loss_priority": priorities[0] if priorities else None,
        "wall_seconds": round(sum(result["wall_seconds"] for result in results), 1),
        "argv": None,
        "merged_from": [result.get("argv") for result in results],
    }
    if first.get("competence"):
        merged["competence"] = dict(first["competence"])
    return resummarise(merged)


def resummarise(result: dict) -> dict:
    """The summary (and pooled competence) recomputed from the runs, so results written by
    older versions of this bench render with the current tables. ValueError if a persona x
    seed x sampler run is missing: every comparison is paired."""
    personas, seeds, minutes = result["personas"], result["seeds"], result["minutes"]
    samplers = samplers_of(result)
    keys = {(run["persona"], run["sampler"], run["seed"]) for run in result["runs"]}
    missing = [
        (persona, sampler, seed)
        for persona in personas
        for sampler in samplers
        for seed in seeds
        if (persona, sampler, seed) not in keys
    ]
    if missing:
        raise ValueError(
            f"every persona needs a run of every sampler and seed; missing {missing[:3]}"
            + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        )
    result["summary"] = summarise(result["runs"], personas, seeds, minutes, samplers)
    if result.get("competence"):
        result["competence"]["pooled"] = pooled_competence(
            result["runs"], personas, seeds, minutes, samplers
        )
    return result


def chosen_samplers(given: list[str] | None) -> tuple[str, ...]:
    """The samplers to run: those given, in order, once each, then uniform (the baseline)."""
    if not given:
        return SAMPLERS
    chosen = [s for index, s in enumerate(given) if s not in given[:index] and s != BASELINE]
    return (*chosen, BASELINE)


def run(args: argparse.Namespace) -> int:
    if args.from_json is not None:
        merging = len(args.from_json) > 1
        given = [
            flag
            for key, (flag, default) in EXPERIMENT_OPTIONS.items()
            if getattr(args, key) != default and not (merging and key == "json")
        ]
        if given:
            print(
                f"error: --from-json re-renders a finished run; {', '.join(given)} only "
                "apply to a new one",
                file=sys.stderr,
            )
            return 2
        try:
            results = [load_result(path) for path in args.from_json]
            result = merge_results(results) if merging else results[0]
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        if not merging:
            return report(result, args, args.from_json[0])
        if args.json is not None:
            args.json.write_text(json.dumps(result, indent=2))
        return report(result, args, args.json)
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
    pace = args.steps_per_second
    if pace is not None and not (math.isfinite(pace) and 0 < pace <= MAX_STEPS_PER_SECOND):
        print(
            f"error: --steps-per-second must be above 0 and at most {MAX_STEPS_PER_SECOND}, "
            f"got {pace}",
            file=sys.stderr,
        )
        return 2
    if args.competence_every < 0 or args.competence_every % args.evaluate_every:
        print(
            f"error: --competence-every must be 0 (off) or a multiple of --evaluate-every "
            f"({args.evaluate_every}), got {args.competence_every}",
            file=sys.stderr,
        )
        return 2
    personas = args.persona or list(BUILT_IN)
    try:
        for spec in personas:
            load_persona(spec, 0)  # fail before hours of runs, not after
        result = experiment(
            personas,
            args.seeds,
            args.minutes,
            args.model,
            args.evaluate_every,
            args.first_seed,
            args.competence_every,
            chosen_samplers(args.sampler),
            args.steps_per_second,
        )
    except (PersonaError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result["argv"] = list(sys.argv)
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2))
    return report(result, args, args.json)


def report(result: dict, args: argparse.Namespace, json_path: Path | None) -> int:
    """Print the table; draw the plot and write the doc where asked."""
    print_table(result)
    if args.json is not None:
        print(f"wrote {args.json}")
    if args.plot is not None:
        plot(result, args.plot)
        print(f"wrote {args.plot}")
    if args.write_docs is not None:
        plot_path = args.plot or _existing(_recorded_path(result, "--plot"))
        section = render_section(result, args.write_docs, json_path, plot_path)
        try:
            write_docs(args.write_docs, section, markers(result))
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"wrote {args.write_docs}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m learner.bench.relevance ...``: the same command without ``main.py bench``."""
    parser = argparse.ArgumentParser(prog="python -m learner.bench.relevance")
    add_relevance_parser(parser.add_subparsers(dest="bench", required=True))
    return run(parser.parse_args(["relevance", *(sys.argv[1:] if argv is None else argv)]))


if __name__ == "__main__":
    sys.exit(main())
