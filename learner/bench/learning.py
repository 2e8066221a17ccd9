"""Benchmark commands about learning: ``bench fidelity`` and ``bench stylometry``.

Each prints a readable summary and can write JSON. Runs are headless (``learner.headless``)
and reproducible from their seed: the trainer runs in-process on one torch thread.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from game.personas import BUILT_IN, PersonaError, load_persona
from learner.bench import write_json
from learner.config import TrainerConfig
from learner.metrics import (
    agreement_on,
    compare_styles,
    held_out_play,
    style,
    twin_agreement,
)
from learner.mirror import fixed_mirror
from learner.sampler import RelevanceWeights

LEVELS = ("0.8", "0.9", "0.95")
HELD_OUT_SECONDS = 60.0
STYLE_SECONDS = 300.0


def sampler_weights(sampler: str) -> RelevanceWeights:
    """The weights a named sampler draws with: the relevance defaults, or uniform."""
    if sampler == "relevance":
        return RelevanceWeights()
    if sampler == "uniform":
        return RelevanceWeights.uniform()
    raise ValueError(f"sampler must be relevance or uniform, got sampler={sampler!r}")


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
    return simulate(
        persona,
        minutes,
        TrainerConfig(architecture=model, seed=seed),
        sampler_weights(sampler),
        seed=seed,
        evaluate_every=evaluate_every,
        on_evaluation=_progress(label or spec, minutes),
    )


def fidelity(spec: str, model: str, sampler: str, minutes: float, seed: int) -> dict:
    started = time.perf_counter()
    run = train_clone(spec, model, sampler, minutes, seed)
    print(file=sys.stderr)
    result = {
        "persona": spec,
        "model": model,
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
        "style": None,
        "model_version": run.model.version if run.model else 0,
    }
    if run.model is not None:
        # Held-out play as in training: the persona against its mirror, fresh rallies.
        heldout = held_out_play(
            load_persona(spec, seed + 1000),
            HELD_OUT_SECONDS,
            seed + 1000,
            opponent=fixed_mirror(run.model),
            twin=load_persona(spec, seed + 1000),
        )
        result["agreement"], result["approach_agreement"] = agreement_on(run.model, heldout)
        result["twin_agreement"], result["twin_approach_agreement"] = (
            round(value, 6) for value in twin_agreement(heldout)
        )
        persona_style = style(load_persona(spec, seed + 2000), STYLE_SECONDS, seed + 2000)
        clone_style = style(fixed_mirror(run.model), STYLE_SECONDS, seed + 2000)
        result["style"] = compare_styles(persona_style, clone_style)
    result["wall_seconds"] = round(time.perf_counter() - started, 2)
    result["speed_vs_real_time"] = round(minutes * 60 / run.wall_seconds, 1)
    return result


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
    for name, figures in (result["style"] or {}).items():
        print(
            f"  {name:24s} persona {figures['persona']!s:>10}  clone {figures['clone']!s:>10}  "
            f"rel. error {figures['rel_error']}"
        )


def stylometry(specs: list[str], minutes: float, seed: int, model: str = "mlp") -> dict:
    models = []
    for index, spec in enumerate(specs):
        run = train_clone(spec, model, "relevance", minutes, seed + index, f"clone of {spec}")
        print(file=sys.stderr)
        if run.model is None:
            raise RuntimeError(f"no clone of {spec} passed the checks in {minutes} minutes")
        models.append(run.model)
    heldouts = [
        held_out_play(load_persona(spec, seed + 1000), HELD_OUT_SECONDS, seed + 1000)
        for spec in specs
    ]
    matrix = [[round(agreement_on(m, h)[0], 6) for h in heldouts] for m in models]
    own_best = [int(np.argmax(row)) == i for i, row in enumerate(matrix)]
    return {
        "personas": specs,
        "minutes": minutes,
        "seed": seed,
        "model": model,
        "matrix": matrix,
        "accuracy": sum(own_best) / len(specs),
    }


def print_stylometry(result: dict) -> None:
    names = result["personas"]
    width = max(len(n) for n in names) + 2
    print("agreement of clone (row) on persona (column):")
    print(" " * width + "".join(f"{n:>{width}}" for n in names))
    for name, row in zip(names, result["matrix"], strict=True):
        print(f"{name:<{width}}" + "".join(f"{v:>{width}.3f}" for v in row))
    print(f"accuracy (clones closest to their own persona): {result['accuracy']:.2f}")


DEFAULT_PERSONAS = list(BUILT_IN)


def run(args) -> int:
    """``main.py bench fidelity`` and ``main.py bench stylometry``."""
    if args.minutes <= 0:
        print(f"error: --minutes must be positive, got {args.minutes}", file=sys.stderr)
        return 2
    try:
        if args.bench == "fidelity":
            result = fidelity(args.persona, args.model, args.sampler, args.minutes, args.seed)
            print_fidelity(result)
        else:
            specs = args.persona or DEFAULT_PERSONAS
            result = stylometry(specs, args.minutes, args.seed, args.model)
            print_stylometry(result)
    except (PersonaError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    write_json(result, args.json)
    return 0
