"""Benchmark commands about learning: ``bench fidelity`` and ``bench stylometry``.

Each prints a readable summary and can write JSON. Runs are headless (``learner.headless``)
and reproducible from their seed: the trainer runs in-process on one torch thread.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import numpy as np

from game.personas import BUILT_IN, PersonaError, load_persona
from game.playback import ARGMAX, DEFAULT_PLAYBACK, SAMPLE, Playback
from learner.bench import write_json
from learner.bench.cli import LIVE_SAMPLER, SAMPLERS, STYLE_MINUTES, STYLE_SEEDS
from learner.bench.report import accuracies
from learner.config import TrainerConfig
from learner.metrics import agreement_on, held_out_play, twin_agreement
from learner.mirror import fixed_mirror
from learner.sampler import LossPriority, RelevanceWeights
from learner.style import compare, format_comparison, play_style, style_distance

LEVELS = ("0.8", "0.9", "0.95")
HELD_OUT_SECONDS = 180.0  # a clone judged on 60 s varied by ±0.04 between held-out seeds
HELD_OUT_SEED_OFFSET = 1000  # held-out matches: the same player, serves apart from training
STYLE_SEED_OFFSET = 2000  # the persona and the clone play the same matches (same serves)
TWIN_STYLE_SEED_OFFSET = 3000  # the persona again, on other matches: the floor


def sampler_setup(sampler: str) -> tuple[RelevanceWeights, LossPriority | None]:
    """The weights (the prior) and the loss-aware priorities (None: fixed weights) a named
    sampler (``learner.bench.cli.SAMPLERS``) draws with."""
    if sampler == "relevance":
        return RelevanceWeights(), None
    if sampler == "uniform":
        return RelevanceWeights.uniform(), None
    if sampler == "adaptive":
        return RelevanceWeights(), LossPriority()
    if sampler == "adaptive-uniform":  # what live play does by default
        return RelevanceWeights.uniform(), LossPriority()
    raise ValueError(f"sampler must be one of {', '.join(SAMPLERS)}, got sampler={sampler!r}")


def minutes_to(curve: list[dict], key: str = "agreement") -> dict[str, float | None]:
    """Play time until the curve's ``key`` first reaches each level (None: never)."""
    reached: dict[str, float | None] = {}
    for level in LEVELS:
        reached[level] = next(
            (p["minutes"] for p in curve if p[key] is not None and p[key] >= float(level)), None
        )
    return reached


def _progress(label: str, total_minutes: float):
    def report(point: dict) -> None:
        agreement = point["agreement"]
        shown = "—" if agreement is None else f"{agreement:.3f}"
        print(
            f"\r  {label}: {point['minutes']:5.2f} / {total_minutes:g} min  agreement {shown}",
            end="",
            file=sys.stderr,
            flush=True,
        )

    return report


def train_clone(
    spec: str,
    model: str,
    sampler: str,
    minutes: float,
    seed: int,
    label: str = "",
    evaluate_every: float = 15.0,
):
    import torch  # here, not at import: a headless run is the first to need it

    from learner.headless import simulate

    torch.set_num_threads(1)
    persona = load_persona(spec, seed)
    weights, loss_priority = sampler_setup(sampler)
    return simulate(
        persona,
        minutes,
        TrainerConfig(architecture=model, seed=seed),
        weights,
        loss_priority=loss_priority,
        seed=seed,
        evaluate_every=evaluate_every,
        on_evaluation=_progress(label or spec, minutes),
    )


@dataclass(frozen=True)
class StyleRun:
    """How the style figures are measured (``learner.style``)."""

    minutes: float = STYLE_MINUTES  # simulated minutes each player plays, in all
    seeds: int = STYLE_SEEDS  # the minutes split over this many seeds
    playback: Playback = DEFAULT_PLAYBACK  # how the clone plays
    compare_temperatures: tuple[float, ...] = ()  # also measured: argmax and these samplings


def style_seeds(seed: int, count: int, offset: int = STYLE_SEED_OFFSET) -> list[int]:
    return [seed + offset + index for index in range(count)]


def clone_style(spec: str, model, seed: int, style: StyleRun = StyleRun()) -> dict:
    """The clone's style beside the persona's (``learner.style``), and the persona's beside
    itself on other matches (the twin: how near a perfect copy could come with this much
    play). Persona and clone play the same matches, ``style.minutes`` each. With
    ``style.compare_temperatures``, the clone also plays by argmax and by sampling at each
    temperature (seeded by ``seed``), and each playback's style distance is kept."""
    played = style_seeds(seed, style.seeds)
    persona = play_style(load_persona(spec, seed), style.minutes, played)
    twin_seeds = style_seeds(seed, style.seeds, TWIN_STYLE_SEED_OFFSET)
    twin = play_style(load_persona(spec, seed), style.minutes, twin_seeds)
    compared: dict[str, dict] = {}

    def against(playback: Playback) -> dict:
        key = playback.describe()
        if key not in compared:
            clone = play_style(fixed_mirror(model, playback=playback), style.minutes, played)
            compared[key] = compare(persona, clone, seed=seed)
        return compared[key]

    result = {
        "minutes": style.minutes,
        "seeds": played,
        "playback": style.playback.describe(),
        "clone": against(style.playback),
        "twin": compare(persona, twin, seed=seed),
    }
    if style.compare_temperatures:
        sweep = [Playback(ARGMAX)]
        sweep += [Playback(SAMPLE, t, seed) for t in style.compare_temperatures]
        result["playbacks"] = [_playback_entry(p.describe(), against(p)) for p in sweep]
    return result


def _playback_entry(name: str, comparison: dict) -> dict:
    return {
        "playback": name,
        "style_distance": comparison["style_distance"],
        "style_distance_ci": comparison["style_distance_ci"],
        "distances": {k: v.get("distance") for k, v in comparison["figures"].items()},
        "rel_errors": {k: v.get("rel_error") for k, v in comparison["figures"].items()},
    }


def fidelity(
    spec: str,
    model: str,
    sampler: str,
    minutes: float,
    seed: int,
    style: StyleRun = StyleRun(),
    model_config: dict | None = None,
) -> dict:
    from learner.competence import competence_figures, train_checked

    started = time.perf_counter()
    # train_clone's run, with the clone's competence checked at every evaluation.
    config = TrainerConfig(architecture=model, model_config=model_config or {}, seed=seed)
    weights, loss_priority = sampler_setup(sampler)
    progress = _progress(spec, minutes)
    run = train_checked(
        spec, minutes, config, weights, seed, on_evaluation=progress, loss_priority=loss_priority
    )
    print(file=sys.stderr)
    result = {
        "persona": spec,
        "model": model,
        "model_config": model_config or {},
        "sampler": sampler,
        "minutes": minutes,
        "seed": seed,
        "wall_seconds": None,
        "speed_vs_real_time": None,
        "agreement": None,
        "approach_agreement": None,
        "twin_agreement": None,  # the persona with itself under another noise seed
        "twin_approach_agreement": None,
        "curve": [
            {k: p[k] for k in ("minutes", "agreement", "approach_agreement")} for p in run.curve
        ],
        "minutes_to": minutes_to(run.curve),
        "competence": competence_figures(run.curve, minutes),
        "style": None,
        "model_version": run.model.version if run.model else 0,
        "calibration": _calibration(run),
    }
    if run.model is not None:
        # Held-out play as in training: the same player against its mirror, fresh rallies
        # (matches seeded apart from training's), its twin under another noise seed.
        heldout = held_out_play(
            load_persona(spec, seed),
            HELD_OUT_SECONDS,
            seed + HELD_OUT_SEED_OFFSET,
            opponent=fixed_mirror(run.model, playback=style.playback),
            twin=load_persona(spec, seed),
        )
        result["agreement"], result["approach_agreement"] = agreement_on(run.model, heldout)
        result["twin_agreement"], result["twin_approach_agreement"] = (
            round(value, 6) for value in twin_agreement(heldout)
        )
        result["style"] = clone_style(spec, run.model, seed, style)
    result["wall_seconds"] = round(time.perf_counter() - started, 2)
    result["speed_vs_real_time"] = round(minutes * 60 / run.wall_seconds, 1)
    return result


def _calibration(run) -> dict | None:
    """The final clone's own temperature and what it was found from (``learner.calibration``)."""
    calibration = run.calibration
    if calibration is None:
        return None
    return {
        "temperature": calibration.temperature,
        "player_jitter": round(calibration.player, 6),
        "clone_jitter": {f"{t:g}": round(j, 6) for t, j in sorted(calibration.clone.items())},
        "seconds": round(run.calibration_seconds, 2),
    }


def print_fidelity(result: dict) -> None:
    print(
        f"{result['persona']} / {result['model']} / {result['sampler']} sampling, "
        f"{result['minutes']:g} simulated min, seed {result['seed']}: "
        f"{result['wall_seconds']} s wall ({result['speed_vs_real_time']}x real time in training)"
    )
    print(
        f"  held-out agreement {result['agreement']}, while the ball approaches "
        f"{result['approach_agreement']}"
    )
    if result.get("twin_agreement") is not None:
        print(
            f"  its twin (the persona under another noise seed, same history): "
            f"{result['twin_agreement']}, while the ball approaches "
            f"{result['twin_approach_agreement']}"
        )
    print(f"  minutes to agreement: {result['minutes_to']}")
    calibration = result.get("calibration")
    if calibration:
        table = ", ".join(f"{t}: {j:.3f}" for t, j in calibration["clone_jitter"].items())
        print(
            f"  its own temperature {calibration['temperature']:g} (the persona's jitter "
            f"{calibration['player_jitter']:.3f} a tick; the clone's at each temperature {table}; "
            f"{calibration['seconds']} s)"
        )
    competence = result.get("competence") or {}
    print(
        "  competence (its return rate ÷ the persona's, against the scripted opponent): "
        f"minutes to 0.9 {competence.get('minutes_to_competence_0.9')}, to 0.95 "
        f"{competence.get('minutes_to_competence_0.95')} (held 3 checks), mean "
        f"{competence.get('mean_competence')}, last {competence.get('final_competence')}"
    )
    style = result["style"]
    if style is not None:
        print(
            f"  style, persona vs clone (playing by {style.get('playback', 'argmax')}"
            + (
                f", its own {calibration['temperature']:g}"
                if calibration and "auto" in style.get("playback", "")
                else ""
            )
            + "): "
            f"{style['minutes']:g} simulated min each (seeds "
            f"{', '.join(map(str, style['seeds']))}), against the scripted opponent; 95% "
            "intervals by bootstrap over rallies; distance in the persona's spreads:"
        )
        for line in format_comparison(style["clone"], style["twin"], indent="    "):
            print(line)
        for line in _playback_table(style.get("playbacks") or []):
            print(line)


def _playback_table(entries: list[dict]) -> list[str]:
    """The clone's style distance by how it plays, and each figure's distance."""
    if not entries:
        return []
    names = list(entries[0]["distances"])
    lines = [
        "  the clone's style by how it plays (style distance [95% CI]; per figure: distance):",
        f"    {'playback':14s} {'style distance':>24s} "
        + " ".join(f"{n[:12]:>12s}" for n in names),
    ]
    for entry in entries:
        cells = " ".join(
            f"{'—' if entry['distances'][n] is None else format(entry['distances'][n], '.2f'):>12s}"
            for n in names
        )
        lines.append(f"    {entry['playback']:14s} {_distance(entry):>24s} {cells}")
    return lines


def stylometry(
    specs: list[str],
    minutes: float,
    seed: int,
    model: str = "mlp",
    style: StyleRun = StyleRun(),
    sampler: str = LIVE_SAMPLER,
) -> dict:
    """One clone per persona, trained with ``sampler``; every clone scored on every persona's
    held-out play (agreement), and every clone's style set against every persona's (style
    distance). The clone of the Nth persona copies player ``seed + N``, and that same player
    plays its held-out and style matches."""
    models, calibrations = [], []
    for index, spec in enumerate(specs):
        run = train_clone(spec, model, sampler, minutes, seed + index, f"clone of {spec}")
        print(file=sys.stderr)
        if run.model is None:
            raise RuntimeError(f"no clone of {spec} passed the checks in {minutes} minutes")
        models.append(run.model)
        calibrations.append(_calibration(run))
    players = [seed + index for index in range(len(specs))]  # the player each clone copies
    heldouts = [
        held_out_play(load_persona(spec, player), HELD_OUT_SECONDS, seed + HELD_OUT_SEED_OFFSET)
        for spec, player in zip(specs, players, strict=True)
    ]
    matrix = [[round(agreement_on(m, h)[0], 6) for h in heldouts] for m in models]
    # Style: each persona and each clone on the same matches; the twin on other ones.
    played = style_seeds(seed, style.seeds)
    elsewhere = style_seeds(seed, style.seeds, TWIN_STYLE_SEED_OFFSET)
    personas = [
        play_style(load_persona(spec, player), style.minutes, played)
        for spec, player in zip(specs, players, strict=True)
    ]
    clones = [
        play_style(fixed_mirror(m, playback=style.playback), style.minutes, played) for m in models
    ]
    styles = []
    for spec, player, persona, clone in zip(specs, players, personas, clones, strict=True):
        twin = play_style(load_persona(spec, player), style.minutes, elsewhere)
        styles.append(
            {
                "persona": spec,
                "clone": compare(persona, clone, seed=seed),
                "twin": compare(persona, twin, seed=seed),
            }
        )
    style_matrix = [[style_distance(p, c) for p in personas] for c in clones]
    # By column: a distance is in its persona's spreads, so only one persona's are comparable.
    columns = np.asarray(style_matrix, dtype=float).T
    own_nearest = [int(np.nanargmin(column)) == j for j, column in enumerate(columns)]
    by_persona, by_clone, _, _ = accuracies({"personas": specs, "matrix": matrix})
    return {
        "personas": specs,
        "minutes": minutes,
        "seed": seed,
        "model": model,
        "sampler": sampler,
        "matrix": matrix,
        "accuracy": by_persona,
        "accuracy_by_clone": by_clone,
        "style_minutes": style.minutes,
        "playback": style.playback.describe(),
        "style_seeds": played,
        "style": styles,
        "style_matrix": style_matrix,
        "style_accuracy": sum(own_nearest) / len(specs),
        "calibrations": calibrations,
    }


def print_stylometry(result: dict) -> None:
    names = result["personas"]
    width = max(max(len(n) for n in names) + 2, 8)
    print("agreement of clone (row) on persona (column):")
    print(" " * width + "".join(f"{n:>{width}}" for n in names))
    for name, row in zip(names, result["matrix"], strict=True):
        print(f"{name:<{width}}" + "".join(f"{v:>{width}.3f}" for v in row))
    print(
        f"accuracy (personas whose own clone agrees best with their play): {result['accuracy']:.2f}"
    )
    if "accuracy_by_clone" in result:
        print(
            "  by clone (clones that agree best with their own persona's play; rows mix plays "
            f"of different noise): {result['accuracy_by_clone']:.2f}"
        )
    if "style_matrix" not in result:
        return
    print(
        f"style distance of clone (row) from persona (column), {result['style_minutes']:g} "
        "simulated min each, in the persona's spreads:"
    )
    print(" " * width + "".join(f"{n:>{width}}" for n in names))
    for name, row in zip(names, result["style_matrix"], strict=True):
        print(f"{name:<{width}}" + "".join(f"{v:>{width}.2f}" for v in row))
    print(
        f"style accuracy (personas whose nearest clone is their own): "
        f"{result['style_accuracy']:.2f}"
    )
    print(f"{'persona':<{width}} {'clone: style distance [95% CI]':>32} {'twin (floor)':>22}")
    for entry in result["style"]:
        clone, twin = entry["clone"], entry["twin"]
        print(f"{entry['persona']:<{width}} {_distance(clone):>32} {_distance(twin):>22}")


def _distance(comparison: dict) -> str:
    value, interval = comparison["style_distance"], comparison["style_distance_ci"]
    if value is None:
        return "—"
    if interval is None:
        return f"{value:.3f}"
    return f"{value:.3f} [{interval[0]:.3f}, {interval[1]:.3f}]"


DEFAULT_PERSONAS = list(BUILT_IN)


def run(args) -> int:
    """``main.py bench fidelity`` and ``main.py bench stylometry``."""
    if args.minutes <= 0:
        print(f"error: --minutes must be positive, got {args.minutes}", file=sys.stderr)
        return 2
    if args.style_minutes <= 0 or args.style_seeds < 1:
        print(
            f"error: --style-minutes must be positive and --style-seeds at least 1, got "
            f"{args.style_minutes} and {args.style_seeds}",
            file=sys.stderr,
        )
        return 2
    from learner.tools.command import UsageError, playback_from

    temperatures = tuple(getattr(args, "compare_temperatures", None) or ())
    try:
        for temperature in temperatures:
            Playback(SAMPLE, temperature)  # a bad one stops here, before any training
    except ValueError as exc:
        raise UsageError(f"--compare-temperatures: {exc}") from None
    style = StyleRun(
        args.style_minutes, args.style_seeds, playback_from(args, args.seed), temperatures
    )
    try:
        if args.bench == "fidelity":
            result = fidelity(
                args.persona,
                args.model,
                args.sampler,
                args.minutes,
                args.seed,
                style,
                args.model_config,
            )
            print_fidelity(result)
        else:
            specs = args.persona or DEFAULT_PERSONAS
            result = stylometry(specs, args.minutes, args.seed, args.model, style, args.sampler)
            print_stylometry(result)
    except (PersonaError, RuntimeError, TypeError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    write_json(result, args.json)
    return 0
