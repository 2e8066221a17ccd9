"""The trainer process: learns from the game's frames, exports candidates, reports stats.

The process reads top to bottom like one training loop::

    while True:
        drain frames       (the game sends a batch of ticks every quarter second; until they
                            are all read, one of the player's earlier recordings too)
        apply controls     (pause, resume, reset, architecture, weights, flat out, stop)
        train, paced       (steps_per_second steps per second of play received)
        maybe export       (every EVALUATE_EVERY seconds: evaluate; a candidate if better)
        maybe calibrate    (a step of finding the mirror's own temperature, one started
                            every CALIBRATE_EVERY seconds: ``learner.calibration``)
        maybe report       (every STATS_EVERY seconds: a TrainerStats with its time)
        maybe checkpoint   (every CHECKPOINT_EVERY seconds, only while the game lives)

Messages both ways are the typed dataclasses below (pickled by ``multiprocessing``). This
module imports torch only inside the process (``trainer_main``): the game process imports
it for the message types alone.

The process never outlives the game: a thread waits on the parent's sentinel and ends the
process at once when the game dies (kill -9, closed terminal), before it can write a stale
checkpoint over a later session's. Ctrl-C is the game's to handle: the process ignores
SIGINT and stops when told to (saving its checkpoint).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import queue
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from game.engine import Params, State
from game.files import atomic_write
from learner.config import StepPacer, TrainerConfig
from learner.sampler import LossPriority, RelevanceWeights

EVALUATE_EVERY = 2.0  # seconds of wall time between held-out evaluations
STATS_EVERY = 0.5
CHECKPOINT_EVERY = 20.0
CALIBRATE_EVERY = 60.0  # seconds from the end of one calibration to the start of the next
FRAME_BATCHES_PER_DRAIN = 64

Tick = tuple[tuple, float, list[tuple[str, str]]]
"""One tick as the game sends it: the state before it (as a tuple), the player's command,
and the tick's events as (kind, side) pairs."""


# -- game -> trainer ------------------------------------------------------------------------


@dataclass(frozen=True)
class Stop:
    """Save the checkpoint and exit."""


@dataclass(frozen=True)
class Pause:
    pass


@dataclass(frozen=True)
class Resume:
    pass


@dataclass(frozen=True)
class Reset:
    """Forget the mirror and its frames; messages of older generations are stale."""

    generation: int


@dataclass(frozen=True)
class SetArchitecture:
    name: str


@dataclass(frozen=True)
class SetWeights:
    weights: dict[str, float]


@dataclass(frozen=True)
class SetAdapt:
    """Loss-aware priorities (``LossPriority``) on or off; the sliders' weights stay the prior."""

    on: bool


@dataclass(frozen=True)
class SetFlatOut:
    """Train as fast as possible instead of paced (``bench live``)."""

    flat_out: bool


Control = Stop | Pause | Resume | Reset | SetArchitecture | SetWeights | SetAdapt | SetFlatOut


@dataclass
class TrainerSetup:
    """Everything a (re)started trainer process needs."""

    config: dict
    weights: dict
    params: dict
    checkpoint_path: str | None
    learning: bool = True
    adapt: bool = True
    """The sampler adapts to the player (loss-aware priorities within the sliders' weights)."""
    flat_out: bool = False
    start_version: int = 0
    """Versions only go up, even when a restarted trainer lost its latest checkpoint."""
    generation: int = 0
    primer: list[list[Tick]] = field(default_factory=list)
    """Recent frames a restarted trainer learns from at once (the ones its predecessor had)."""
    recordings: list[tuple[str, int]] = field(default_factory=list)
    """The player's earlier recordings, oldest first, to learn from as well (read in this
    process, one at a time, so neither the game nor this loop waits for them), each with
    the bytes of it to read: as long as it was when play started (a match resumed into it
    goes on growing with play that comes as live frames)."""


# -- trainer -> game ------------------------------------------------------------------------


@dataclass
class TrainerStats:
    """What the trainer reports twice a second; ``made_at`` (time.time()) dates it."""

    made_at: float
    learning: bool
    architecture: str
    frames: int  # ticks that went into training storage
    frames_seen: int  # every player tick received
    steps: int
    loss: float | None
    agreement: float | None
    approach_agreement: float | None
    untrained_agreement: float | None
    heldout_frames: int
    play_minutes: float
    steps_per_second: float
    samples_per_second: float
    frames_per_second: float
    trainer_version: int
    recorded_frames: int  # of ``frames_seen``, ticks read from earlier sessions' recordings
    recordings_read: int  # recordings read so far (of those named in the setup)
    effective_sample_size: float
    phase_split: dict[str, float]
    weights: dict[str, float]
    live_ticks: int = 0
    """Ticks this process has taken from the game's queue (not the primer, not recordings):
    the game compares it with what it sent to tell how much play waits in the queue."""
    adapt_focus: dict[str, float | None] = field(default_factory=dict)
    """With the sampler adapting: per phase, how much more (above 1) or less its frames are
    drawn than the weights alone would draw them; empty when it does not adapt."""
    temperature: float | None = None
    """The temperature the mirror's exports play at (None: not calibrated yet)."""
    player_jitter: float | None = None
    """The player's jitter it was matched to (mean |command change| a tick)."""


@dataclass
class CandidateReady:
    candidate: object  # learner.trainer.Candidate (the module needs torch to import)
    generation: int


@dataclass
class StatsReport:
    stats: TrainerStats
    generation: int


@dataclass
class TrainerLog:
    text: str
    level: int = logging.WARNING  # detail for --verbose (how a temperature was found): DEBUG


Report = CandidateReady | StatsReport | TrainerLog


# -- the process ----------------------------------------------------------------------------


def trainer_main(
    frames_q: mp.Queue, control_q: mp.Queue, out_q: mp.Queue, setup: TrainerSetup
) -> None:
    """Entry point of the trainer process: learn until told to stop or the game dies."""
    # Ctrl-C and a closed terminal reach the game too, which stops us (we save on Stop).
    for signum in (signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)
    _exit_with_parent()
    with contextlib.suppress(OSError):
        os.nice(10)  # the game loop comes first
    import torch  # only here: the game process never loads torch

    torch.set_num_threads(1)
    TrainerLoop(frames_q, control_q, out_q, setup).run()


def _exit_with_parent() -> None:
    parent = mp.parent_process()
    if parent is None:
        return

    def watch() -> None:
        from multiprocessing.connection import wait

        wait([parent.sentinel])  # ready when the game process is gone, however it went
        os._exit(0)  # no checkpoint: a later session may own the profile by now

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _parent_alive() -> bool:
    parent = mp.parent_process()
    return parent is None or parent.is_alive()


class TrainerLoop:
    """One trainer's life: the steps of ``run`` in order, every pass."""

    def __init__(
        self, frames_q: mp.Queue, control_q: mp.Queue, out_q: mp.Queue, setup: TrainerSetup
    ) -> None:
        from learner.trainer import MirrorTrainer

        self.frames_q, self.control_q, self.out_q = frames_q, control_q, out_q
        self.trainer = MirrorTrainer(
            TrainerConfig(**setup.config),
            RelevanceWeights.from_dict(setup.weights),
            Params.from_dict(setup.params),
        )
        self.checkpoint = Path(setup.checkpoint_path) if setup.checkpoint_path else None
        self._load_checkpoint()
        self.set_adapt(setup.adapt)  # the player's setting, whatever the checkpoint said
        self.trainer.version = max(self.trainer.version, setup.start_version)
        self.learning = setup.learning
        self.flat_out = setup.flat_out
        self.generation = setup.generation
        self.pacer = StepPacer(self.trainer.config.steps_per_second, cap_seconds=2.0)
        self.last_eval = self.last_stats = self.last_checkpoint = time.monotonic()
        self.last_calibration = self.last_eval - CALIBRATE_EVERY / 2  # the first after 30 s
        self.calibration = None  # learner.calibration.Calibration under way
        self.calibration_failed = False
        self.player_jitter: float | None = None  # the player's, at the last calibration
        self.exported: bytes | None = None  # the newest candidate's model file
        self.last_step_end = time.time()
        self.recordings = [(Path(path), size) for path, size in setup.recordings]
        self.recordings_read = 0
        self.recorded_frames = 0
        self.live_ticks = 0
        primed = sum(self._add(batch) for batch in setup.primer)
        if primed:
            self.log(f"restarted with the {primed} most recent ticks of play")
        # Rates count from here: a checkpoint's steps were not taken in this report's time.
        self.steps_at_stats, self.frames_at_stats = self.trainer.steps, self.trainer.frames_seen

    def run(self) -> None:
        while True:
            new_ticks = self.drain_frames() + self.read_a_recording()
            if not self.apply_controls():
                return
            self.train_paced(new_ticks)
            now = time.monotonic()
            self.maybe_export(now)
            self.maybe_calibrate(now)
            self.maybe_report(now)
            self.maybe_checkpoint(now)

    # -- the steps -------------------------------------------------------------------------

    def drain_frames(self) -> int:
        """Take what the game sent (waiting briefly when there is nothing else to do)."""
        new_ticks = 0
        with contextlib.suppress(queue.Empty):
            for _ in range(FRAME_BATCHES_PER_DRAIN):
                idle = new_ticks == 0 and self.pacer.due() == 0
                batch = self.frames_q.get(timeout=0.02 if idle else 0)
                self.live_ticks += len(batch)
                if self.learning:
                    new_ticks += self._add(batch)
        return new_ticks

    def read_a_recording(self) -> int:
        """Learn from the next of the player's earlier recordings, if any are left: their
        ticks count as play received, so training keeps its pace. An unreadable one is
        skipped with a log line."""
        if not self.recordings or not self.learning:
            return 0
        from game.recording import RecordingError, read_recording
        from game.replay import ticks

        path, size = self.recordings.pop(0)
        try:
            recording = read_recording(path, size)
        except RecordingError as exc:
            self.log(f"skipped a recording that cannot be read: {exc}")
            return 0
        added = 0
        for before, record, events in ticks(recording):
            self.trainer.add_tick(before, record.left_cmd, [(e.kind, e.side) for e in events])
            added += 1
        self.recordings_read += 1
        self.recorded_frames += added
        return added

    def apply_controls(self) -> bool:
        """Apply every waiting control; False when told to stop."""
        while True:
            try:
                control = self.control_q.get_nowait()
            except queue.Empty:
                return True
            match control:
                case Stop():
                    self.save_checkpoint()
                    return False
                case Pause():
                    self.learning = False
                case Resume():
                    self.learning = True
                case Reset(generation):
                    self.generation = generation
                    self.trainer.reset_mirror()
                    self.calibration, self.exported, self.player_jitter = None, None, None
                    self.recordings.clear()  # a reset forgets earlier play too
                    self.recorded_frames = 0
                    self.pacer.reset()
                    if self.checkpoint is not None:
                        self.checkpoint.unlink(missing_ok=True)
                case SetArchitecture(name):
                    if name != self.trainer.config.architecture:
                        # The calibration under way was of the old model; its temperature
                        # is kept until the new model's own is found.
                        self.calibration, self.exported = None, None
                    self.trainer.set_architecture(name)
                case SetWeights(weights):
                    self.trainer.sampler.set_weights(RelevanceWeights.from_dict(weights))
                case SetAdapt(on):
                    self.set_adapt(on)
                case SetFlatOut(flat_out):
                    self.flat_out = flat_out

    def train_paced(self, new_ticks: int) -> None:
        """``steps_per_second`` steps per second of play received (a burst is capped at two
        seconds' worth); flat out, a fixed number per pass."""
        if not self.learning:
            return
        self.pacer.add_play(new_ticks / self.trainer.params.tick_rate)
        for _ in range(8 if self.flat_out else self.pacer.due()):
            if self.trainer.train_step() is None:
                break
            self.pacer.spend()
            self.last_step_end = time.time()

    def maybe_export(self, now: float) -> None:
        if not self.learning or now - self.last_eval < EVALUATE_EVERY:
            return
        self.last_eval = now
        evaluation = self.trainer.evaluate()
        candidate = self.trainer.candidate(evaluation, produced_at=self.last_step_end)
        if candidate is not None:
            self.exported = candidate.onnx_bytes
            self.out_q.put(CandidateReady(candidate, self.generation))

    def maybe_calibrate(self, now: float) -> None:
        """One step of the calibration under way, or start one (on the newest candidate,
        against the player's jitter now) every ``CALIBRATE_EVERY`` seconds. Its result goes
        out with the next candidate. A failure is logged once; the temperature stays."""
        from learner.calibration import Calibration

        if not self.learning:
            return
        try:
            if self.calibration is None:
                player = self.trainer.player_jitter.value()
                if player is None or self.exported is None:
                    return
                if now - self.last_calibration < CALIBRATE_EVERY:
                    return
                from game.playback import FALLBACK_TEMPERATURE
                from learner.mirror import checked_model

                model = checked_model(self.exported)
                playing = self.trainer.temperature or FALLBACK_TEMPERATURE  # as the mirror plays
                self.calibration = Calibration(
                    model, player, self.trainer.params, opponent_temperature=playing
                )
            if not self.calibration.advance():
                return
            calibration, self.calibration = self.calibration, None
            self.last_calibration = now
            if calibration.temperature != self.trainer.temperature:
                self.log(f"mirror {calibration.describe()}", level=logging.DEBUG)
            self.trainer.temperature = calibration.temperature
            self.player_jitter = calibration.player
        except Exception as exc:  # never the trainer's end: it goes on at the last temperature
            self.calibration = None
            self.last_calibration = now
            if not self.calibration_failed:
                self.calibration_failed = True
                self.log(
                    f"could not find the mirror's temperature ({exc!r}); it keeps "
                    f"{self.trainer.temperature or 'the default'}"
                )

    def maybe_report(self, now: float) -> None:
        if now - self.last_stats < STATS_EVERY:
            return
        elapsed, self.last_stats = now - self.last_stats, now
        self.out_q.put(StatsReport(self.stats(elapsed), self.generation))
        self.steps_at_stats, self.frames_at_stats = self.trainer.steps, self.trainer.frames_seen

    def maybe_checkpoint(self, now: float) -> None:
        if now - self.last_checkpoint >= CHECKPOINT_EVERY:
            self.last_checkpoint = now
            self.save_checkpoint()

    # -- helpers ---------------------------------------------------------------------------

    def _add(self, batch: list[Tick]) -> int:
        for state, left_cmd, events in batch:
            self.trainer.add_tick(State(*state), left_cmd, events)
        return len(batch)

    def stats(self, elapsed: float) -> TrainerStats:
        trainer = self.trainer
        latest = trainer.history[-1] if trainer.history else {}
        steps = trainer.steps - self.steps_at_stats
        sampler = trainer.sampler_stats()
        return TrainerStats(
            made_at=time.time(),
            learning=self.learning,
            architecture=trainer.config.architecture,
            frames=trainer.frames_trained,
            frames_seen=trainer.frames_seen,
            steps=trainer.steps,
            loss=None if trainer.last_loss != trainer.last_loss else trainer.last_loss,
            agreement=latest.get("agreement"),
            approach_agreement=latest.get("approach_agreement"),
            untrained_agreement=latest.get("untrained_agreement"),
            heldout_frames=latest.get("heldout_frames", 0),
            play_minutes=trainer.play_minutes(),
            steps_per_second=steps / elapsed,
            samples_per_second=steps * trainer.config.batch_size / elapsed,
            frames_per_second=(trainer.frames_seen - self.frames_at_stats) / elapsed,
            trainer_version=trainer.version,
            recorded_frames=self.recorded_frames,
            recordings_read=self.recordings_read,
            effective_sample_size=sampler["effective_sample_size"],
            phase_split=sampler["phase_split"],
            weights=trainer.sampler.weights.to_dict(),
            live_ticks=self.live_ticks,
            adapt_focus=trainer.sampler.adaptation_focus(),
            temperature=trainer.temperature,
            # A temperature restored from the checkpoint was matched to the player's jitter
            # in an earlier session: until this one calibrates, their jitter as of now.
            player_jitter=self.player_jitter
            if self.player_jitter is not None or trainer.temperature is None
            else trainer.player_jitter.value(),
        )

    def set_adapt(self, on: bool) -> None:
        sampler = self.trainer.sampler
        if on != (sampler.loss_priority is not None):
            sampler.set_loss_priority(LossPriority() if on else None)

    def log(self, text: str, level: int = logging.WARNING) -> None:
        self.out_q.put(TrainerLog(text, level))

    def _load_checkpoint(self) -> None:
        if self.checkpoint is None or not self.checkpoint.exists():
            return
        try:
            self.trainer.load_checkpoint(self.checkpoint.read_bytes())
        except Exception as exc:  # a damaged checkpoint costs the weights, never the game
            self.log(f"could not load {self.checkpoint.name} ({exc}); starting fresh")

    def save_checkpoint(self) -> None:
        if self.checkpoint is None or not _parent_alive():
            return  # the game is gone: its profile may have a new owner
        try:
            atomic_write(self.checkpoint, self.trainer.checkpoint())
        except OSError as exc:
            self.log(f"could not save checkpoint: {exc.strerror or exc}")
