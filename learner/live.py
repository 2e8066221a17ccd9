"""Live learning: the game-side half of the learner, which implements ``game.ports``.

    game process                                   trainer process (trainer_process.py)
    Session ── on_tick ──► LiveLearner ── frames (every 15 ticks) ──► TrainerLoop
                               ▲   controls (Pause, Reset, SetWeights...) ──►   │
       MirrorOpponent ◄── ModelGate ◄── supervisor ◄── CandidateReady, StatsReport

Nothing here blocks the session loop: ``on_tick`` appends to a list and hands a batch to a
``multiprocessing`` queue (whose feeder thread does the pickling). The supervisor thread
takes candidates and stats, runs the gate off the tick path, and restarts a trainer that
died, primed with the last minutes of play; the opponent keeps its last good model
meanwhile. ``hud_stats`` tells the page the learner's true state and the age of its figures.
"""

from __future__ import annotations

import contextlib
import logging
import math
import multiprocessing as mp
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from game.engine import DEFAULT_PARAMS, LEFT, RIGHT, Params
from game.mirror_opponent import GapPacer, GateStats, MirrorOpponent, ModelGate
from game.ports import LearningStats
from learner.config import TrainerConfig
from learner.metrics import StyleRecorder
from learner.mirror import MirrorError, MirrorFiles, load_model
from learner.sampler import RelevanceWeights
from learner.trainer_process import (
    CandidateReady,
    Control,
    Pause,
    Reset,
    Resume,
    SetAdapt,
    SetArchitecture,
    SetFlatOut,
    SetWeights,
    StatsReport,
    Stop,
    TrainerLog,
    TrainerSetup,
    TrainerStats,
    trainer_main,
)
from models.contract import ARCHITECTURES

log = logging.getLogger(__name__)

FRAMES_PER_BATCH = 15  # a quarter second of play per message to the trainer
PRIME_TICKS = 3 * 60 * 60  # the last 3 minutes of play, kept for a restarted trainer
QUIET_AFTER = 10.0  # seconds without a report from a live trainer: the HUD says "quiet"
# (a first export on a busy two-core machine can hold the trainer for several seconds)
RESTART_BACKOFF_FIRST = 1.0  # seconds; doubles with each early death in a row
RESTART_BACKOFF_MAX = 30.0
HEALTHY_AFTER = 20.0  # seconds a trainer must live for its death not to count as early
MAX_EARLY_DEATHS = 5  # early deaths in a row after which learning is reported stopped
TIMINGS_KEPT = 2000
MEMORY_MINUTES = 20  # of the player's earlier play the trainer learns from when play starts
SESSION_GAP = 10 * 60  # seconds between recordings that start a new play session

LIVE_WEIGHTS = RelevanceWeights.uniform()
"""Where the sliders start: every moment alike. With the adaptation on (the default) the
mirror then studies more of what it still gets wrong. Measured against the fixed relevance
weights and plain uniform: more like the player at 3 minutes, and no slower to play well
(docs/relevance.md)."""

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
    {
        "properties": {"type": {"const": "sampler_adapt"}, "on": {"type": "boolean"}},
        "required": ["on"],
        "additionalProperties": False,
    },
]


# -- the game side --------------------------------------------------------------------------


@dataclass
class SwapTiming:
    """When a candidate was made, reached the game, passed the gate: filled by the
    supervisor thread only. The tick that first plays it is noted separately (``_swaps``), so
    timing can never break the swap it measures."""

    produced_at: float  # time.time() at the end of the training step that made it
    received_at: float
    checked_at: float | None = None


class LiveLearner:
    """The game's learning port for one player's session: frames out to the trainer
    process, models in through the gate, controls and HUD stats for the page.

    Supervision: a supervisor thread receives the trainer's reports, runs the gate, and
    watches the process. A trainer that dies is restarted, primed with the most recent play.
    One that had lived HEALTHY_AFTER seconds comes back after a second, however often that
    happens; one that dies early again is given more time each time (1, 2, 4 ... 30 s), and
    after MAX_EARLY_DEATHS early deaths in a row (a crash loop: a broken checkpoint, a
    missing library) learning is reported stopped, with the reason, and the mirror keeps
    playing. An error
    in the supervisor itself is logged once with its traceback and the loop goes on; the
    HUD always says which of live, paused, restarting, quiet or stopped is true, and how old
    the figures are.
    """

    control_schemas = CONTROL_SCHEMAS

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
            saved = settings.get("weights", {})
            self.weights = RelevanceWeights.from_dict({**LIVE_WEIGHTS.to_dict(), **saved})
        except (ValueError, TypeError) as exc:
            log.warning("ignoring saved sampler weights (%s); using defaults", exc)
            self.weights = replace(LIVE_WEIGHTS)
        self._saved_figures = saved_figures(settings.get("last_figures"))
        self._created_at = time.time()  # recordings started since are this session's own
        self._styles = _match_styles(params)
        self.match_card: dict | None = None  # the last finished match, you vs your mirror
        self._memory: list[Path] = []  # earlier recordings the trainer learns from, oldest first
        self._memory_sessions: list[int] = []  # the play session each of them belongs to
        self._memory_bytes: list[int] = []  # and how long each was then (a match resumed
        # into one goes on growing with this session's play, which comes as live frames)
        self.mirrors_met = settings_count(settings.get("mirrors_met"))  # mirrors the player has met
        self._met_version = settings_count(settings.get("mirror_met_version"))  # the last one met
        self.learning = _saved_switch(settings, "learning", "learning is on")
        self.adapt = _saved_switch(settings, "adapt", "the sampler adapts to your play")
        self.latest: TrainerStats | None = None
        self.chart: deque[dict] = deque(maxlen=600)
        self.restarts = 0
        self.state = "starting"  # starting, live, restarting, stopped
        self.state_reason: str | None = None
        self._early_deaths = 0  # trainers in a row that died within HEALTHY_AFTER of starting
        self._spawned_at = 0.0  # time.monotonic() of the latest start
        self._respawn_at: float | None = None
        self._recent: deque[list] = deque(maxlen=PRIME_TICKS // FRAMES_PER_BATCH)
        self._timings: dict[int, SwapTiming] = {}
        self._swaps: deque[tuple[int, float]] = deque(maxlen=1000)  # (version, first tick)
        self._buffer: list = []
        self._sent_ticks = 0  # ticks put in the current trainer's queue
        self._spawned_wall = 0.0  # time.time() when it started
        self._generation = 0
        self._settings_lock = threading.Lock()
        self._stopping = threading.Event()
        self._process: mp.process.BaseProcess | None = None
        self._context = mp.get_context("spawn")
        self._supervisor: threading.Thread | None = None
        self._errors_logged: set[str] = set()
        opponent.on_swap = self._on_swap

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, wait_for_tick_gap: Callable[[float], None] | None = None) -> None:
        if wait_for_tick_gap is not None:
            self.gate.pacer = GapPacer(wait_for_tick_gap)
        self._load_saved_model()
        if self.files is not None:
            self._memory, self._memory_sessions, self._memory_bytes = earlier_play(
                self.files.folder.parent, before=self._created_at
            )
        self._spawn(primer=[])
        self._supervisor = threading.Thread(
            target=self._supervise, name="learner-supervisor", daemon=True
        )
        self._supervisor.start()

    def _load_saved_model(self) -> None:
        if self.files is None or not self.files.model.exists():
            return
        try:
            model = load_model(self.files.model)
        except MirrorError as exc:
            log.warning("the saved mirror cannot play (%s); starting from scripted", exc.reason)
            return
        if self.gate.consider(model.onnx_bytes, model.version) is not None:
            # The number the panel shows: mirrors met over all sessions, this one counted.
            shown = self.mirrors_met if model.version == self._met_version else model.version
            log.info("your mirror v%d is back (from %s)", shown or model.version, self.files.model)

    def _spawn(self, primer: list) -> None:
        self._frames_q = self._context.Queue()
        self._control_q = self._context.Queue()
        self._out_q = self._context.Queue()
        setup = TrainerSetup(
            config=asdict(self.config),
            weights=self.weights.to_dict(),
            params=self.params.to_dict(),
            checkpoint_path=str(self.files.checkpoint) if self.files else None,
            learning=self.learning,
            adapt=self.adapt,
            flat_out=self.flat_out,
            start_version=max(self.opponent.model_version, self._trainer_version()),
            generation=self._generation,
            primer=primer,
            recordings=[
                (str(path), size)
                for path, size in zip(self._memory, self._memory_bytes, strict=True)
            ],
        )
        self._process = self._context.Process(
            target=trainer_main,
            name="mirror-trainer",
            args=(self._frames_q, self._control_q, self._out_q, setup),
            daemon=True,
        )
        self._sent_ticks = 0  # to this process; its reports say how many it took
        self._spawned_wall = time.time()
        self._process.start()
        self._spawned_at = time.monotonic()
        self.state = "live"
        self.state_reason = None

    def stop(self) -> None:
        self.save_settings(wait=True)  # with the last figures, shown until new ones come
        self._stopping.set()
        process = self._process
        if process is not None and process.is_alive():
            self._control_q.put(Stop())
            process.join(timeout=5)  # it saves its checkpoint first
            if process.is_alive():
                process.terminate()
                process.join(timeout=2)
        if self._supervisor is not None:
            self._supervisor.join(timeout=2)

    @property
    def trainer_pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def stats(self) -> dict:
        """The trainer's latest report as a dict ({} before the first)."""
        return asdict(self.latest) if self.latest else {}

    # -- frame sink (called by the session loop every tick; must not block) -----------------

    def on_tick(self, before, left_cmd, right_cmd, after, events) -> None:
        self._note_style(before, left_cmd, right_cmd, after, events)
        if not self.learning:
            return
        self._buffer.append((tuple(before), left_cmd, [(e.kind, e.side) for e in events]))
        if len(self._buffer) >= FRAMES_PER_BATCH:
            batch, self._buffer = self._buffer, []
            self._recent.append(batch)  # what a restarted trainer is primed with
            if self.state == "live":
                self._frames_q.put(batch)  # a feeder thread pickles and sends it
                self._sent_ticks += len(batch)

    def _note_style(self, before, left_cmd, right_cmd, after, events) -> None:
        """You and your mirror, this match: the figures of the card shown when it ends."""
        if before.tick == 0:
            self._styles = _match_styles(self.params)
        for recorder in self._styles:
            recorder.on_tick(before, left_cmd, right_cmd, after, events)
        if after.winner:
            you, mirror = self._styles
            self.match_card = {
                "id": (self.match_card or {}).get("id", 0) + 1,
                "opponent": self.opponent.label,
                "you": you.card(),
                "mirror": mirror.card(),
            }
            self._styles = _match_styles(self.params)

    # -- controls (called from the server's message handlers) ------------------------------

    def handle_control(self, message: dict) -> None:
        kind = message["type"]
        if kind == "learning":
            action = message["action"]
            if action == "reset":
                self._generation += 1
                self._send(Reset(self._generation))
                self.opponent.offer(None)  # back to the scripted opponent
                self.gate.stats = GateStats()
                self.chart.clear()
                self.latest = None
                self._recent.clear()
                if self.files:
                    self.files.model.unlink(missing_ok=True)
            else:
                self.learning = action == "resume"
                self._send(Resume() if self.learning else Pause())
        elif kind == "architecture":
            self.config.architecture = message["name"]
            self._send(SetArchitecture(message["name"]))
        elif kind == "sampler_weights":
            try:
                weights = RelevanceWeights.from_dict(
                    {**self.weights.to_dict(), **message["weights"]}
                )
            except ValueError as exc:
                log.warning("refused sampler weights: %s", exc)
                return
            self.weights = weights
            self._send(SetWeights(weights.to_dict()))
        elif kind == "sampler_adapt":
            self.adapt = message["on"]
            self._send(SetAdapt(self.adapt))
        self.save_settings()

    def _send(self, control: Control) -> None:
        """Controls go to the running trainer; a restarted one gets them in its setup."""
        if self.state == "live":
            self._control_q.put(control)

    def save_settings(self, wait: bool = False) -> None:
        """Save the learner's settings in the profile, off the calling (loop) thread."""
        if not self.files:
            return
        settings = {
            "architecture": self.config.architecture,
            "weights": self.weights.to_dict(),
            "learning": self.learning,
            "adapt": self.adapt,
            "mirrors_met": self.mirrors_met,
            "mirror_met_version": self._met_version,
        }
        figures = self._figures_to_save()
        if figures is not None:
            settings["last_figures"] = figures
        writer = threading.Thread(target=self._write_settings, args=(settings,), daemon=True)
        writer.start()
        if wait:
            writer.join()

    def _write_settings(self, settings: dict) -> None:
        try:
            with self._settings_lock:  # the last request wins, whole
                self.files.save_settings(settings)
        except Exception:  # a writer thread must not die unheard
            self._log_once("settings", "could not save the learner's settings")

    def set_flat_out(self, flat_out: bool) -> None:
        self.flat_out = flat_out
        self._send(SetFlatOut(flat_out))

    # -- what the page shows ---------------------------------------------------------------

    def hud_stats(self) -> LearningStats:
        gate = self.gate.stats
        latest = self.latest
        age = None if latest is None else max(0.0, time.time() - latest.made_at)
        state = self.state
        if state == "live" and not self.learning:
            state = "paused"
        elif state == "live" and latest is not None and age > QUIET_AFTER:
            state = "quiet"
        saved = self._saved_figures if latest is None else None
        if saved is not None:
            age = max(0.0, time.time() - saved.get("made_at", time.time()))
        playing_agreement, playing_saved = self._playing_agreement()
        return {
            "state": state,
            "state_reason": self.state_reason,
            "stats_age": None if age is None else round(age, 1),
            "figures_from": "live" if latest else "saved" if saved else None,
            "learning": self.learning,
            "architecture": self.config.architecture,
            "version": self.opponent.model_version,
            "playing_agreement": playing_agreement,
            "playing_agreement_saved": playing_saved,
            "mirror_number": self.mirrors_met if self.opponent.model else 0,
            "recorded_frames": latest.recorded_frames if latest else 0,
            "earlier_sessions": self._sessions_read(latest.recordings_read if latest else 0),
            "frames": latest.frames if latest else (saved or {}).get("frames", 0),
            "play_frames": latest.frames_seen if latest else _saved_play(saved),
            "agreement": latest.agreement if latest else (saved or {}).get("agreement"),
            "approach_agreement": latest.approach_agreement
            if latest
            else (saved or {}).get("approach_agreement"),
            "untrained_agreement": latest.untrained_agreement if latest else None,
            "loss": latest.loss if latest else None,
            "samples_per_second": latest.samples_per_second if latest else None,
            "effective_sample_size": latest.effective_sample_size if latest else None,
            "phase_split": latest.phase_split if latest else {},
            "queued_seconds": self._queued_seconds(latest),
            "weights": self.weights.to_dict(),
            "adapt": self.adapt,
            "adapt_focus": latest.adapt_focus if latest else {},
            "mirror_temperature": self.opponent.temperature if self.opponent.model else None,
            "temperature_source": self.opponent.temperature_source,
            "player_jitter": latest.player_jitter if latest else None,
            "accepted": gate.accepted,
            "rejected": gate.rejected,
            "last_rejection": gate.last_rejection,
            "trainer_restarts": self.restarts,
            "trainer_alive": bool(self._process and self._process.is_alive()),
            "match_card": self.match_card,
        }

    def _queued_seconds(self, latest: TrainerStats | None) -> float | None:
        """Seconds of play sent to the trainer and not yet taken (it falls behind on a busy
        machine: those frames are learned late, not lost); None before its first report."""
        if latest is None or self.state != "live" or latest.made_at < self._spawned_wall:
            return None  # no report yet from this trainer
        backlog = max(0, self._sent_ticks - latest.live_ticks)
        return round(backlog / self.params.tick_rate, 1)

    def _figures_to_save(self) -> dict | None:
        latest = self.latest
        if latest is None or latest.agreement is None:
            return self._saved_figures
        playing = self.opponent.model
        return {
            "made_at": latest.made_at,
            "agreement": latest.agreement,
            "approach_agreement": latest.approach_agreement,
            "playing_agreement": self._playing_agreement()[0],
            "frames": latest.frames,
            "play_frames": latest.frames_seen,
            "version": playing.version if playing else 0,
        }

    def _playing_agreement(self) -> tuple[float | None, bool]:
        """How like the player the model playing now was when it passed its checks, and
        whether that figure is the saved one (a mirror restored from the last session)."""
        playing = self.opponent.model
        if playing is None:
            return None, False
        if playing.heldout_agreement is not None:
            return playing.heldout_agreement, False
        saved = self._saved_figures or {}
        if saved.get("version") == playing.version and saved.get("playing_agreement"):
            return saved["playing_agreement"], True
        return None, False

    # -- swap timing (read by the benches, never on the path it measures) ------------------

    def _on_swap(self, model) -> None:
        self._swaps.append((model.version, time.time()))  # on the tick: one append, no lookups
        if model.version != self._met_version:  # the saved mirror coming back is not new
            self._met_version = model.version
            self.mirrors_met += 1

    @property
    def swap_latencies(self) -> list[float]:
        """Seconds from the end of the training step that made a model to its first tick."""
        return [first - timing.produced_at for timing, first in self._played_timings()]

    @property
    def swap_stages(self) -> list[tuple[float, float, float]]:
        """(to the game, through the gate, to the first tick) seconds, per swapped model."""
        return [
            (t.received_at - t.produced_at, t.checked_at - t.received_at, first - t.checked_at)
            for t, first in self._played_timings()
            if t.checked_at is not None
        ]

    def _played_timings(self) -> list[tuple[SwapTiming, float]]:
        timings = dict(self._timings)  # the supervisor may be adding one
        return [(timings[v], first) for v, first in list(self._swaps) if v in timings]

    # -- the supervisor thread -------------------------------------------------------------

    def _supervise(self) -> None:
        # Checking a candidate takes milliseconds of CPU; on Linux a thread has its own nice
        # value, so this one yields the core to the session loop's thread.
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        while not self._stopping.is_set():
            try:
                self._receive_one()
                self._watch_trainer()
            except Exception:
                # Logged once per kind of failure; the loop, and learning, go on.
                self._log_once("supervisor", "the learner's supervisor hit an error")
                self._stopping.wait(0.5)

    def _receive_one(self) -> None:
        if self.state != "live":
            self._stopping.wait(0.2)
            return
        try:
            report = self._out_q.get(timeout=0.5)
        except queue.Empty:
            return
        except (EOFError, OSError, ValueError) as exc:  # a trainer killed mid-message
            log.warning("lost a message from the trainer: %s", exc)
            return
        if isinstance(report, TrainerLog):
            log.log(report.level, "trainer: %s", report.text)
        elif report.generation < self._generation:
            return  # made before the last reset: stale
        elif isinstance(report, CandidateReady):
            self._consider(report.candidate)
        elif isinstance(report, StatsReport):
            self.latest = report.stats
            # A mirror whose file carries no temperature (restored, or kept by the gate since
            # the trainer found one) draws at the one found for this player.
            self.opponent.found_temperature = report.stats.temperature
            self.chart.append(
                {
                    "t": report.stats.made_at,
                    "loss": report.stats.loss,
                    "agreement": report.stats.agreement,
                    "approach_agreement": report.stats.approach_agreement,
                }
            )

    def _consider(self, candidate) -> None:
        timing = SwapTiming(candidate.produced_at, time.time())
        self._timings[candidate.version] = timing
        while len(self._timings) > TIMINGS_KEPT:
            del self._timings[next(iter(self._timings))]
        self.gate.consider(
            candidate.onnx_bytes,
            candidate.version,
            candidate.heldout_obs,
            candidate.heldout_commands,
        )
        timing.checked_at = time.time()

    def _watch_trainer(self) -> None:
        now = time.monotonic()
        process = self._process
        if self.state == "live" and process is not None and not process.is_alive():
            self._on_trainer_death(process.exitcode, now)
        respawn_due = self._respawn_at is not None and now >= self._respawn_at
        if self.state == "restarting" and respawn_due and not self._stopping.is_set():
            primer = list(self._recent)
            self._respawn_at = None
            self.restarts += 1
            self._spawn(primer)

    def _on_trainer_death(self, exitcode: int | None, now: float) -> None:
        early = now - self._spawned_at < HEALTHY_AFTER
        self._early_deaths = self._early_deaths + 1 if early else 0
        if self._early_deaths >= MAX_EARLY_DEATHS:
            self.state = "stopped"
            self.state_reason = (
                f"the trainer stopped {self._early_deaths} times in a row within "
                f"{HEALTHY_AFTER:.0f} s of starting (last exit code {exitcode}); your mirror "
                "keeps playing. Restart the game to learn again"
            )
            log.error("learning stopped: %s", self.state_reason)
            return
        delay = min(
            RESTART_BACKOFF_MAX, RESTART_BACKOFF_FIRST * 2 ** max(0, self._early_deaths - 1)
        )
        self.state = "restarting"
        self.state_reason = f"the trainer stopped (exit code {exitcode}); back in {delay:.0f} s"
        self._respawn_at = now + delay
        log.error(
            "the trainer process stopped (exit code %s); restarting it in %.0f s with the "
            "last %d s of play; the opponent keeps its current model",
            exitcode,
            delay,
            len(self._recent) * FRAMES_PER_BATCH / self.params.tick_rate,
        )

    def _sessions_read(self, recordings_read: int) -> int:
        return len(set(self._memory_sessions[:recordings_read]))

    def _trainer_version(self) -> int:
        return self.latest.trainer_version if self.latest else 0

    def _log_once(self, key: str, message: str) -> None:
        if key in self._errors_logged:
            return
        self._errors_logged.add(key)
        log.exception("%s (shown once)", message)


def saved_figures(saved: object) -> dict | None:
    """The figures a previous session saved, if they are what they should be (the settings
    file is outside input): fractions in [0, 1], a count, a time."""
    if not isinstance(saved, dict):
        return None
    fractions = ("agreement", "approach_agreement")
    for key in fractions:
        value = saved.get(key)
        if value is not None and not (isinstance(value, int | float) and 0 <= value <= 1):
            return None
    frames, made_at = saved.get("frames", 0), saved.get("made_at")
    if not isinstance(frames, int) or frames < 0 or not isinstance(made_at, int | float):
        return None
    playing = saved.get("playing_agreement")
    if playing is not None and not (isinstance(playing, int | float) and 0 <= playing <= 1):
        return None
    play = saved.get("play_frames")  # absent from a session before it was saved
    if play is not None and not (settings_count(play) == play and play >= frames):
        return None
    keys = (*fractions, "playing_agreement", "frames", "play_frames", "made_at", "version")
    return {key: saved.get(key) for key in keys}


def _saved_play(saved: dict | None) -> int:
    """All the play the last session's figures rest on (its training frames where a session
    from before ``play_frames`` was saved left only those)."""
    saved = saved or {}
    play = saved.get("play_frames")
    return play if play is not None else saved.get("frames", 0)


def _saved_switch(settings: dict, name: str, default_text: str) -> bool:
    """An on/off setting from the settings file: true or false, anything else (a string
    "false" once meant on, silently) is logged and taken as on."""
    value = settings.get(name, True)
    if isinstance(value, bool):
        return value
    log.warning(
        "ignoring %s=%r in the saved settings (must be true or false); %s",
        name,
        value,
        default_text,
    )
    return True


def settings_count(value: object) -> int:
    """A non-negative count from the settings file (anything else counts as 0)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def earlier_play(
    profile_folder: Path, before: float = math.inf
) -> tuple[list[Path], list[int], list[int]]:
    """The player's recordings the trainer learns from when play starts: those started
    ``before`` (this session's own come as live frames), the newest first up to
    MEMORY_MINUTES of play, returned oldest first (the order they were played), the play
    session each belongs to (recordings less than SESSION_GAP apart share one), and the
    bytes each holds now. A match resumed from an earlier session started then, so it counts
    as earlier play, up to those bytes: what this session appends to it comes as live
    frames, and is not learned from twice."""
    from game.profiles import recordings_in
    from game.recording import RECORD

    chosen: list[tuple[Path, float, float, int]] = []  # path, started, ended, bytes
    budget = MEMORY_MINUTES * 60 * 60  # ticks
    for path in reversed(recordings_in(profile_folder / "recordings")):
        try:
            info = path.stat()
        except OSError:
            continue
        ticks = info.st_size // RECORD.size  # the header is small next to the records
        started = _started(path, info.st_mtime)
        if ticks == 0 or started >= before - 1.0:  # names carry whole seconds
            continue
        chosen.append((path, started, info.st_mtime, info.st_size))
        budget -= ticks
        if budget <= 0:
            break
    chosen.reverse()
    sessions, session, last_end = [], 0, None
    for _, started, ended, _ in chosen:
        if last_end is not None and started - last_end > SESSION_GAP:
            session += 1
        sessions.append(session)
        last_end = max(ended, last_end or ended)
    return [path for path, *_ in chosen], sessions, [size for *_, size in chosen]


def _started(path: Path, fallback: float) -> float:
    """A recording's start time from its name (YYYYmmdd-HHMMSS-...), else ``fallback``."""
    try:
        return time.mktime(time.strptime(path.name[:15], "%Y%m%d-%H%M%S"))
    except ValueError:
        return fallback


def _match_styles(params: Params) -> tuple[StyleRecorder, StyleRecorder]:
    """The player's (left) and the mirror's (right) style recorders for one match."""
    return (
        StyleRecorder(side=LEFT, court_height=params.court_height),
        StyleRecorder(side=RIGHT, court_height=params.court_height),
    )
