"""``python main.py train``: train a mirror from recordings instead of live play.

The recordings are ``--from``'s files and folders, or else the player's own
(``recordings_to_read``, which ``tune`` shares).

Each recording is re-read tick by tick exactly as the live trainer would have seen it (the
view before the tick and the player's command), through the same ``MirrorTrainer``; then
the trainer takes a fixed number of steps per second of recorded play (the learning rate
warms up, then decays along a cosine to zero at the last step), evaluating on the
held-out rallies as it goes. The best model by held-out agreement is written as ONNX with
the standard metadata, atomically; Ctrl-C stops early and still writes the best so far.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from game.files import atomic_write
from game.recording import Recording, RecordingError, read_recording
from game.replay import ticks
from learner.config import TrainerConfig, steps_for_play
from learner.recordings import TrainingError, find_recordings
from learner.sampler import RelevanceWeights, read_sampler_config
from learner.trainer import MirrorTrainer


def run(args: argparse.Namespace) -> int:
    """``main.py train``: exit 0, or 130 when Ctrl-C stopped it early (the best model kept)."""
    weights = load_sampler_config(args.sampler_config)
    sources = recordings_to_read(args)
    try:
        result = train(sources, args.out, args.model, weights, args.seed, args.steps_per_second)
    except OSError as exc:
        raise TrainingError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    print(result.summary(args.out, args.model))
    return 130 if result.interrupted else 0


def recordings_to_read(args: argparse.Namespace) -> list[Path]:
    """``--from``'s paths, or else the recordings of the player's profile (``--data-dir``,
    ``--player``): what ``train`` and ``tune`` learn from."""
    if args.sources:
        return args.sources
    from learner.tools.command import player_profile

    profile = player_profile(args)
    found = profile.list_recordings()
    if not found:
        raise TrainingError(
            f"player {args.player!r} has no recordings in {profile.recordings}: "
            "play first, or pass --from PATH"
        )
    return found


def load_sampler_config(path: Path | None) -> RelevanceWeights:
    try:
        return read_sampler_config(path)
    except ValueError as exc:
        raise TrainingError(str(exc)) from None


def feed(trainer: MirrorTrainer, recording: Recording) -> int:
    """Give the trainer every tick of a recording, as live play would have. Returns ticks."""
    for before, record, events in ticks(recording):
        trainer.add_tick(before, record.left_cmd, [(e.kind, e.side) for e in events])
    return len(recording.records)


@dataclass
class TrainResult:
    version: int
    agreement: float
    approach_agreement: float | None
    steps: int
    frames: int
    interrupted: bool
    temperature: float | None = None  # its own (``learner.calibration``); None: too little play

    def summary(self, out: Path, architecture: str) -> str:
        """The line ``main.py train`` prints."""
        approach = self.approach_agreement
        return (
            f"wrote {out}: {architecture} v{self.version}, held-out agreement "
            f"{self.agreement:.3f}"
            + (f" ({approach:.3f} while the ball approaches)" if approach is not None else "")
            + f", {self.frames} frames, {self.steps} steps"
            + (
                f", draws at {self.temperature:g} (its player's jitter)"
                if self.temperature is not None
                else ", no temperature of its own (too little play: draws at 0.5)"
            )
            + (" (interrupted)" if self.interrupted else "")
        )


def train(
    sources: list[Path],
    out: Path,
    architecture: str = "mlp",
    weights: RelevanceWeights | None = None,
    seed: int = 0,
    steps_per_second: float = 30.0,
    evaluate_every: int = 200,
    progress: bool = True,
) -> TrainResult:
    torch.set_num_threads(1)  # deterministic given the seed, and polite to the machine
    files = find_recordings(sources)
    trainer = MirrorTrainer(
        TrainerConfig(architecture=architecture, seed=seed, min_frames=0), weights
    )
    ticks = 0
    skipped = []
    for path in tqdm(files, desc="reading recordings", unit="file", disable=not progress):
        try:
            recording = read_recording(path)
        except RecordingError as exc:
            skipped.append(str(exc))
            continue
        ticks += feed(trainer, recording)
    for message in skipped:
        tqdm.write(f"skipped: {message}")
    if ticks == 0:
        raise TrainingError("the recordings hold no play to learn from")
    if len(trainer.heldout()[1]) < trainer.config.min_heldout_frames:
        raise TrainingError(
            "too little play to validate on: one rally in five is held out, and the held-out "
            f"rallies must add up to {trainer.config.min_heldout_frames} ticks; record more"
        )
    total_steps = steps_for_play(ticks / trainer.params.tick_rate, steps_per_second)
    trainer.config.total_steps = total_steps  # it knows its length: warm-up, then cosine
    best = None
    interrupted = False
    bar = tqdm(total=total_steps, desc="training", unit="step", disable=not progress)
    try:
        for step in range(1, total_steps + 1):
            trainer.train_step()
            bar.update()
            if step % evaluate_every == 0 or step == total_steps:
                best = _keep_best(trainer, best)
                bar.set_postfix(agreement=f"{best.agreement:.3f}")
    except KeyboardInterrupt:
        interrupted = True
        tqdm.write("interrupted: keeping the best model so far")
        best = _keep_best(trainer, best)
    finally:
        bar.close()
    atomic_write(out, best.onnx_bytes)  # kept whatever happens while finding its temperature
    temperature = None
    if not interrupted:
        try:
            onnx_bytes, temperature = _own_temperature(trainer, best.onnx_bytes)
        except (Exception, KeyboardInterrupt) as exc:
            interrupted = interrupted or isinstance(exc, KeyboardInterrupt)
            tqdm.write(f"kept the model without a temperature of its own ({exc!r})")
        else:
            if temperature is not None:
                atomic_write(out, onnx_bytes)
    evaluation = best.evaluation
    return TrainResult(
        temperature=temperature,
        version=best.version,
        agreement=evaluation["agreement"],
        approach_agreement=evaluation["approach_agreement"],
        steps=trainer.steps,
        frames=trainer.frames_trained,
        interrupted=interrupted,
    )


def _own_temperature(trainer: MirrorTrainer, onnx_bytes: bytes) -> tuple[bytes, float | None]:
    """The model file carrying the temperature at which it is as jittery as the player in
    the recordings (``learner.calibration``), unless they hold too little play to say."""
    from learner.calibration import calibrated
    from learner.mirror import checked_model

    player = trainer.player_jitter.value()
    if player is None:
        return onnx_bytes, None
    tqdm.write("finding its temperature (its jitter against the player's)…")
    model, calibration = calibrated(checked_model(onnx_bytes), player, trainer.params)
    return model.onnx_bytes, calibration.temperature


@dataclass
class _Best:
    onnx_bytes: bytes
    agreement: float
    version: int
    evaluation: dict


def _keep_best(trainer: MirrorTrainer, best: _Best | None) -> _Best:
    evaluation = trainer.evaluate()
    if best is not None and evaluation["agreement"] <= best.agreement:
        return best
    trainer.best_exported = -math.inf  # export whenever this is the best so far
    candidate = trainer.candidate(evaluation)
    return _Best(candidate.onnx_bytes, evaluation["agreement"], candidate.version, evaluation)
