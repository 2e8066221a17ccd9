"""Headless simulation: a scripted player against its own evolving mirror, faster than real time.

The same session loop (on the simulated clock), feature builder, sampler, trainer step,
exporter, gate and opponent runtime as live play; only the trainer runs in-process, in
lockstep with simulated time, at ``steps_per_second`` training steps per second of play
(the live trainer's pacing), so a run is reproducible from its seed.

With a ``competence`` check (``learner.competence.CompetenceCheck``) the clone the gate last
accepted is also played against the scripted opponent at evaluation points, and those points
carry its competence. The check neither trains nor draws from the run's generators, so the
run learns exactly as without it, and its wall time is kept out of ``wall_seconds``.

At the end, the clone finds its own temperature (``learner.calibration``: the one at which,
against its mirror, it is as jittery as the persona was against its mirror in training) and
``model`` carries it, as the live trainer's exports do. Only the final clone is calibrated,
against the mirror as it played here (at the fallback temperature): the live trainer
calibrates every minute, on its own core, and its mirror plays each temperature found while
the player plays. Calibrating draws from none of the run's generators, so the run learns the
same; its time (``calibration_seconds``, about 7 s) is kept out of ``wall_seconds`` and
reported beside it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from game.engine import DEFAULT_PARAMS, Params
from game.mirror_opponent import MirrorOpponent, Model, ModelGate
from game.opponent import Opponent
from game.session import Session, SimClock
from learner.config import StepPacer
from learner.mirror import make_mirror
from learner.sampler import LossPriority, RelevanceWeights
from learner.trainer import MirrorTrainer, TrainerConfig


class TrainerSink:
    """Frame sink that feeds an in-process trainer (the live one feeds a queue instead)."""

    def __init__(self, trainer: MirrorTrainer) -> None:
        self.trainer = trainer

    def on_tick(self, before, left_cmd, right_cmd, after, events) -> None:
        self.trainer.add_tick(before, left_cmd, [(e.kind, e.side) for e in events])


@dataclass
class SimulationResult:
    trainer: MirrorTrainer
    opponent: MirrorOpponent
    gate: ModelGate
    curve: list[dict] = field(default_factory=list)
    wall_seconds: float = 0.0  # the run itself, competence checks not included
    competence_seconds: float = 0.0  # wall time of the competence checks
    model: Model | None = None  # the last model the gate accepted: the clone
    calibration: object | None = None  # learner.calibration.Calibration of the final clone
    calibration_seconds: float = 0.0


def simulate(
    persona: Opponent,
    minutes: float,
    config: TrainerConfig | None = None,
    weights: RelevanceWeights | None = None,
    params: Params = DEFAULT_PARAMS,
    seed: int = 0,
    evaluate_every: float = 15.0,
    on_evaluation: Callable[[dict], None] | None = None,
    competence: Callable[[Model | None], dict] | None = None,
    competence_every: float | None = None,
    loss_priority: LossPriority | None = None,
    calibrate: bool = True,
) -> SimulationResult:
    """Let ``persona`` play the left side for ``minutes`` of simulated play while its mirror
    learns and plays the right side. Evaluates every ``evaluate_every`` simulated seconds.

    ``competence``: called with the accepted clone (None before the first) at the evaluation
    points every ``competence_every`` simulated seconds (default: every evaluation) and at the
    last; those points carry its ``competence`` (None before the first clone) and
    ``competence_arrivals``. Other points carry neither key.

    ``loss_priority``: the sampler adapts to the player by loss-aware priorities, with
    ``weights`` as the prior (``learner.sampler.LossPriority``).

    ``calibrate``: the final clone finds its own temperature (see above).
    """
    competence_every = competence_every or evaluate_every
    if competence_every % evaluate_every:
        raise ValueError(
            f"competence_every must be a multiple of evaluate_every ({evaluate_every:g} s), "
            f"got competence_every={competence_every:g}"
        )
    config = config or TrainerConfig(seed=seed)
    trainer = MirrorTrainer(config, weights, params)
    if loss_priority is not None:
        trainer.sampler.set_loss_priority(loss_priority)
    opponent, gate = make_mirror(params)
    session = Session(opponent, params=params, seed=seed, left_driver=persona, strict=True)
    session.frame_sinks.append(TrainerSink(trainer))
    result = SimulationResult(trainer, opponent, gate)
    started = time.perf_counter()
    total_seconds = int(round(minutes * 60))
    pacer = StepPacer(config.steps_per_second)
    for second in range(1, total_seconds + 1):
        asyncio.run(session.run(SimClock(), ticks=params.tick_rate))
        if session.state.winner:
            session.new_match(seed + second)  # matches follow each other as in play
        pacer.add_play(1.0)
        for _ in range(pacer.due()):
            pacer.spend()
            trainer.train_step()
        if second % evaluate_every == 0 or second == total_seconds:
            evaluation = trainer.evaluate()
            candidate = trainer.candidate(evaluation)
            if candidate is not None:
                result.model = (
                    gate.consider(
                        candidate.onnx_bytes,
                        candidate.version,
                        candidate.heldout_obs,
                        candidate.heldout_commands,
                    )
                    or result.model
                )
            point = {
                "minutes": round(second / 60.0, 4),
                "agreement": evaluation["agreement"],
                "approach_agreement": evaluation["approach_agreement"],
                "loss": evaluation["loss"],
                "model_version": gate.opponent.model_version if gate.stats.accepted else 0,
            }
            if competence is not None and (
                second % competence_every == 0 or second == total_seconds
            ):
                checked_at = time.perf_counter()
                check = competence(result.model)
                result.competence_seconds += time.perf_counter() - checked_at
                point["competence"] = check["competence"]
                point["competence_arrivals"] = check["arrivals"]
            result.curve.append(point)
            if on_evaluation:
                on_evaluation(point)
    session.close()
    result.wall_seconds = time.perf_counter() - started - result.competence_seconds
    player = trainer.player_jitter.value()
    if calibrate and result.model is not None and player is not None:
        from learner.calibration import calibrated

        calibrating = time.perf_counter()
        result.model, result.calibration = calibrated(result.model, player, params)
        trainer.temperature = result.calibration.temperature
        result.calibration_seconds = time.perf_counter() - calibrating
    return result
