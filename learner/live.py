"""Live learning: the trainer process and the game-side object that talks to it.

    game process                                   trainer process (spawned, niced, 1 thread)
    Session ── on_tick ──► LiveLearner ── frames (every 15 ticks) ──► MirrorTrainer
                               ▲   control (pause, reset, model, weights) ──►      │
       MirrorOpponent ◄── ModelGate ◄── receiver thread ◄── candidates, stats ─────┘

``LiveLearner`` implements the game's frame sink and learning-control port; nothing in it
blocks the session loop: ``on_tick`` appends to a list and hands a batch to a
``multiprocessing`` queue (whose feeder thread does the pickling). A receiver thread takes
candidates and stats, runs the gate off the tick path, and restarts the trainer if it dies;
the opponent keeps its last good model meanwhile.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import queue
import threading
import time
from collections import deque
from dataclasses import asdict
from pathlib import Path

from game.engine import DEFAULT_PARAMS, Params, State
from game.files import atomic_write
from game.mirror_opponent import GateStats, MirrorOpponent, ModelGate
from learner.config import TrainerConfig
from learner.mirror import MirrorFiles
from learner.sampler import RelevanceWeights

log = logging.getLogger(__name__)

FRAMES_PER_BATCH = 15  # a quarter second of play per message to the trainer
EVALUATE_EVERY = 2.0  # seconds of wall time between held-out evaluations
STATS_EVERY = 0.5
CHECKPOINT_EVERY = 20.0
ARCHITECTURES = ("mlp", "transformer")

CONTROL_SCHEMAS: list[dict] = [
    {
        "properties": {
            "type": {"const": "learning"},
            "action": {"enum": ["pause", "resume", "reset"]},
        },
        "required": ["action"],
        "additionalProperties": False,
    },
    {
        "properties": {"type": {"const": "architecture"}, "name": {"enum": list(ARCHITECTURES)}},
        "required": ["name"],
        "additionalProperties": False,
    },
    {
        "properties": {
            "type": {"const": "sampler_weights"},
            "weights": {
                "type": "object",
                "minProperties": 1,
                "additionalProperties": False,
                "properties": {
                    name: {"type": "number", "minimum": 0, "maximum": 1000}
                    for name in RelevanceWeights.__dataclass_fields__
                },
            },
        },
        "required": ["weights"],
        "additionalProperties": False,
    },
]


# -- the trainer process ------------------------------------------------------------------


def trainer_main(
    frames_q: mp.Queue,
    control_q: mp.Queue,
    out_q: mp.Queue,
    config: dict,
    weights: dict,
    params: dict,
    checkpoint_path: str | None,
    flat_out: bool = False,
    start_version: int = 0,
    start_generation: int = 0,
) -> None:
    """Entry point of the trainer process: learn until told to stop."""
    import torch  # only here: the game process never loads torch

    from learner.trainer import MirrorTrainer

    with contextlib.suppress(OSError):
        os.nice(10)  # the game loop comes first
    torch.set_num_threads(1)
    trainer = MirrorTrainer(
        TrainerConfig(**config), RelevanceWeights.from_dict(weights), Params.from_dict(params)
    )
    checkpoint = Path(checkpoint_path) if checkpoint_path else None
    if checkpoint is not None and checkpoint.exists():
        try:
            trainer.load_checkpoint(checkpoint.read_bytes())
        except Exception as exc:  # a damaged checkpoint costs the weights, never the game
            out_q.put(("log", f"could not load {checkpoint.name} ({exc}); starting fresh", 0))
    # Versions only go up, even when a restarted trainer lost its latest checkpoint.
    trainer.version = max(trainer.version, start_version)
    learning = True
    generation = start_generation  # bumped by each reset; older generations' messages are stale
    step_budget = 0.0
    last_eval = last_stats = last_checkpoint = time.monotonic()
    steps_at_stats, frames_at_stats = trainer.steps, trainer.frames_seen
    last_step_end = time.time()

    while True:
        new_ticks = 0
        try:
            for _ in range(64):
                batch = frames_q.get(timeout=0.02 if new_ticks == 0 and step_budget < 1 else 0)
                if learning:
                    for state, left_cmd, events in batch:
                        trainer.add_tick(State(*state), left_cmd, events)
                        new_ticks += 1
        except queue.Empty:
            pass
        while True:
            try:
                command, *args = control_q.get_nowait()
            except queue.Empty:
                break
            if command == "stop":
                if checkpoint is not None:
                    atomic_write(checkpoint, trainer.checkpoint())
                return
            if command == "pause":
                learning = False
            elif command == "resume":
                learning = True
            elif command == "reset":
                generation = args[0]
                trainer.reset_mirror()
                step_budget = 0.0
                if checkpoint is not None:
                    checkpoint.unlink(missing_ok=True)
            elif command == "architecture":
                trainer.set_architecture(args[0])
            elif command == "weights":
                trainer.sampler.set_weights(RelevanceWeights.from_dict(args[0]))
            elif command == "flat_out":
                flat_out = bool(args[0])

        if learning:
            tick_rate = trainer.params.tick_rate
            step_budget = min(
                step_budget + new_ticks / tick_rate * trainer.config.steps_per_second,
                2 * trainer.config.steps_per_second,
            )
            steps = 8 if flat_out else int(step_budget)
            for _ in range(steps):
                if trainer.train_step() is None:
                    break
                step_budget = max(0.0, step_budget - 1)
                last_step_end = time.time()

        now = time.monotonic()
        if learning and now - last_eval >= EVALUATE_EVERY:
            last_eval = now
            evaluation = trainer.evaluate()
            candidate = trainer.candidate(evaluation, produced_at=last_step_end)
            if candidate is not None:
                out_q.put(("candidate", candidate, generation))
        if now - last_stats >= STATS_EVERY:
            elapsed = now - last_stats
            last_stats = now
            latest = trainer.history[-1] if trainer.history else {}
            stats = {
                "learning": learning,
                "architecture": trainer.config.architecture,
                "frames": trainer.frames_trained,
                "frames_seen": trainer.frames_seen,
                "steps": trainer.steps,
                "loss": None if trainer.last_loss != trainer.last_loss else trainer.last_loss,
                "agreement": latest.get("agreement"),
                "approach_agreement": latest.get("approach_agreement"),
                "untrained_agreement": latest.get("untrained_agreement"),
                "heldout_frames": latest.get("heldout_frames", 0),
                "play_minutes": trainer.play_minutes(),
                "steps_per_second": (trainer.steps - steps_at_stats) / elapsed,
                "samples_per_second": (trainer.steps - steps_at_stats)
                * trainer.config.batch_size
                / elapsed,
                "frames_per_second": (trainer.frames_seen - frames_at_stats) / elapsed,
                "trainer_version": trainer.version,
                **trainer.sampler_stats(),
                "weights": trainer.sampler.weights.to_dict(),
            }
            steps_at_stats, frames_at_stats = trainer.steps, trainer.frames_seen
            out_q.put(("stats", stats, generation))
        if checkpoint is not None and now - last_checkpoint >= CHECKPOINT_EVERY:
            last_checkpoint = now
            try:
                atomic_write(checkpoint, trainer.checkpoint())
            except OSError as exc:
                out_q.put(("log", f"could not save checkpoint: {exc.strerror or exc}", 0))


# -- the game side --------------------------------------------------------------------------


class LiveLearner:
    """Frame sink, model source and learning controls for one player's session."""

    def __init__(
        self,
        opponent: MirrorOpponent,
        gate: ModelGate,
        files: MirrorFiles | None,
        config: TrainerConfig | None = None,
        params: Params = DEFAULT_PARAMS,
        flat_out: bool = False,
    ) -> None:
        self.opponent = opponent
        self.gate = gate
        self.files = files
        self.params = params
        self.flat_out = flat_out
        settings = files.load_settings() if files else {}
        self.config = config or TrainerConfig()
        if settings.get("architecture") in ARCHITECTURES and config is None:
            self.config.architecture = settings["architecture"]
        try:
            self.weights = RelevanceWeights.from_dict(settings.get("weights", {}))
        except (ValueError, TypeError) as exc:
            log.warning("ignoring saved sampler weights (%s); using defaults", exc)
            self.weights = RelevanceWeights()
        self.learning = bool(settings.get("learning", True))
        self.stats: dict = {}
        self.chart: deque[dict] = deque(maxlen=600)
        self.restarts = 0
        self.swap_latencies: deque[float] = deque(maxlen=1000)  # seconds, step end -> first tick
        self._produced_at: dict[int, float] = {}
        self._stages: dict[int, list[float]] = {}
        self.swap_stages: deque[tuple[float, float, float]] = deque(maxlen=1000)
        self._buffer: list = []
        self._generation = 0
        self._settings_lock = threading.Lock()
        self._stopping = False
        self._process: mp.Process | None = None
        self._context = mp.get_context("spawn")
        self._receiver: threading.Thread | None = None
        opponent.on_swap = self._on_swap

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        self._load_saved_model()
        self._spawn()
        self._receiver = threading.Thread(
            target=self._receive, name="learner-receiver", daemon=True
        )
        self._receiver.start()

    def _load_saved_model(self) -> None:
        if self.files is None or not self.files.model.exists():
            return
        try:
            data = self.files.model.read_bytes()
        except OSError as exc:
            log.warning("could not read the saved mirror: %s", exc.strerror or exc)
            return
        from game.mirror_opponent import check_candidate

        try:
            _, metadata = check_candidate(data)
            version = int(metadata.get("model_version", "0"))
        except Exception as exc:
            log.warning("the saved mirror cannot play (%s); starting from scripted", exc)
            return
        if self.gate.consider(data, version) is not None:
            log.info("your mirror v%d is back (from %s)", version, self.files.model)

    def _spawn(self) -> None:
        self._frames_q = self._context.Queue()
        self._control_q = self._context.Queue()
        self._out_q = self._context.Queue()
        if not self.learning:
            self._control_q.put(("pause",))
        self._process = self._context.Process(
            target=trainer_main,
            name="mirror-trainer",
            args=(
                self._frames_q,
                self._control_q,
                self._out_q,
                asdict(self.config),
                self.weights.to_dict(),
                self.params.to_dict(),
                str(self.files.checkpoint) if self.files else None,
                self.flat_out,
                max(self.opponent.model_version, self.stats.get("trainer_version", 0)),
                self._generation,
            ),
            daemon=True,
        )
        self._process.start()

    def stop(self) -> None:
        self._stopping = True
        process = self._process
        if process is not None and process.is_alive():
            self._control_q.put(("stop",))
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()
                process.join(timeout=2)
        if self._receiver is not None:
            self._receiver.join(timeout=2)

    @property
    def trainer_pid(self) -> int | None:
        return self._process.pid if self._process else None

    # -- frame sink (called by the session loop every tick; must not block) -----------------

    def on_tick(self, before, left_cmd, right_cmd, after, events) -> None:
        if not self.learning:
            return
        self._buffer.append((tuple(before), left_cmd, [(e.kind, e.side) for e in events]))
        if len(self._buffer) >= FRAMES_PER_BATCH:
            batch, self._buffer = self._buffer, []
            self._frames_q.put(batch)  # a feeder thread pickles and sends it

    # -- controls (called from the server's message handlers) ------------------------------

    def handle(self, message: dict) -> None:
        kind = message["type"]
        if kind == "learning":
            action = message["action"]
            if action == "reset":
                self._generation += 1
                self._control_q.put(("reset", self._generation))
                self.opponent.offer(None)  # back to the scripted opponent
                self.gate.stats = GateStats()
                self.chart.clear()
                self.stats = {}
                if self.files:
                    self.files.model.unlink(missing_ok=True)
            else:
                self.learning = action == "resume"
                self._control_q.put((action,))
        elif kind == "architecture":
            self.config.architecture = message["name"]
            self._control_q.put(("architecture", message["name"]))
        elif kind == "sampler_weights":
            try:
                weights = RelevanceWeights.from_dict(
                    {**self.weights.to_dict(), **message["weights"]}
                )
            except ValueError as exc:
                log.warning("refused sampler weights: %s", exc)
                return
            self.weights = weights
            self._control_q.put(("weights", weights.to_dict()))
        self.save_settings()

    def save_settings(self, wait: bool = False) -> None:
        """Save the learner's settings in the profile, off the calling (loop) thread."""
        if not self.files:
            return
        settings = {
            "architecture": self.config.architecture,
            "weights": self.weights.to_dict(),
            "learning": self.learning,
        }
        writer = threading.Thread(target=self._write_settings, args=(settings,), daemon=True)
        writer.start()
        if wait:
            writer.join()

    def _write_settings(self, settings: dict) -> None:
        with self._settings_lock:  # the last request wins, whole
            self.files.save_settings(settings)

    def set_flat_out(self, flat_out: bool) -> None:
        self.flat_out = flat_out
        self._control_q.put(("flat_out", flat_out))

    def hud(self) -> dict:
        """What the browser shows about learning."""
        gate = self.gate.stats
        stats = self.stats
        return {
            "learning": self.learning,
            "architecture": self.config.architecture,
            "version": self.opponent.model_version,
            "frames": stats.get("frames", 0),
            "agreement": stats.get("agreement"),
            "approach_agreement": stats.get("approach_agreement"),
            "untrained_agreement": stats.get("untrained_agreement"),
            "loss": stats.get("loss"),
            "samples_per_second": stats.get("samples_per_second"),
            "effective_sample_size": stats.get("effective_sample_size"),
            "phase_split": stats.get("phase_split", {}),
            "weights": self.weights.to_dict(),
            "accepted": gate.accepted,
            "rejected": gate.rejected,
            "last_rejection": gate.last_rejection,
            "trainer_restarts": self.restarts,
            "trainer_alive": bool(self._process and self._process.is_alive()),
        }

    # -- receiver thread ---------------------------------------------------------------------

    def _receive(self) -> None:
        # Checking a candidate takes milliseconds of CPU; on Linux a thread has its own nice
        # value, so this one yields the core to the session loop's thread.
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        while not self._stopping:
            try:
                kind, payload, generation = self._out_q.get(timeout=0.5)
                if kind != "log" and generation < self._generation:
                    kind = None  # made before the last reset: stale
            except queue.Empty:
                kind = None
            except (EOFError, OSError, ValueError) as exc:  # a trainer killed mid-message
                log.warning("lost a message from the trainer: %s", exc)
                kind = None
            if kind == "candidate":
                received = time.time()
                self._produced_at[payload.version] = payload.produced_at
                self._stages[payload.version] = [received - payload.produced_at]
                self.gate.consider(
                    payload.onnx_bytes,
                    payload.version,
                    payload.heldout_obs,
                    payload.heldout_commands,
                )
                self._stages[payload.version].append(time.time() - received)
            elif kind == "stats":
                self.stats = payload
                self.chart.append(
                    {
                        "t": time.time(),
                        "loss": payload.get("loss"),
                        "agreement": payload.get("agreement"),
                        "approach_agreement": payload.get("approach_agreement"),
                    }
                )
            elif kind == "log":
                log.warning("trainer: %s", payload)
            if not self._stopping and self._process is not None and not self._process.is_alive():
                self.restarts += 1
                log.error(
                    "the trainer process stopped (exit code %s); restarting it, the opponent "
                    "keeps its current model",
                    self._process.exitcode,
                )
                self._spawn()

    def _on_swap(self, model) -> None:
        produced_at = self._produced_at.pop(model.version, None)
        if produced_at is not None:
            now = time.time()
            self.swap_latencies.append(now - produced_at)
            stages = self._stages.pop(model.version, [])
            if len(stages) == 2:  # to the receiver, through the gate, to the first tick
                self.swap_stages.append((*stages, now - produced_at - sum(stages)))
