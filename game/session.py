"""The session loop: the one place that owns time.

Each tick it reads the latest player input, asks the opponent for a command, steps the
engine, hands the tick to the recorder and to any frame sinks (the learner), and publishes
it to subscribers (the server's clients, the desktop window). None of those may block: the
recorder queues for its writer thread, sinks and subscribers only store or enqueue.

The same ``Session.run`` drives play (``RealClock``) and headless runs and tests
(``SimClock``), so benchmarks measure the code players use.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import math
import random
import sys
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from game.engine import LEFT, RIGHT, Event, Params, State, clamp_command, new_match, step, view
from game.opponent import Opponent
from game.ports import FrameSink
from game.recording import Record, RecordingWriter, UnfinishedMatch

log = logging.getLogger(__name__)

# How early the real clock stops sleeping and starts yielding until the deadline: asyncio's
# selector rounds its timeout up to whole milliseconds, so a plain sleep lands ~1 ms late.
_SPIN_WINDOW = 0.0015
# The most a step between ticks may ask for (``Session.wait_for_tick_gap``): at 60 Hz the
# gap after a ~1 ms tick, less the spin, is ~14 ms, so this is met early in every gap.
GAP_AFTER_TICK = 0.011
# If the loop falls this far behind (a suspended laptop), it resynchronises instead of
# running a burst of catch-up ticks.
_RESYNC_AFTER = 0.25


class Clock(Protocol):
    def now(self) -> float: ...

    async def sleep_until(self, deadline: float) -> None: ...


def tune_process_for_real_time() -> None:
    """Process-wide settings for real-time play; ``play`` (and the benches that measure it)
    call this once, after start-up and before the loop starts ticking."""
    # Background threads (recorder, model gate, queue feeders) hand the GIL back after
    # 1 ms instead of the default 5 ms, so a tick never waits long for it.
    sys.setswitchinterval(0.001)
    # Objects alive at start-up (modules, the app) leave the collector's view, which keeps
    # full collections, and their pauses, short.
    gc.freeze()


class RealClock:
    """Wall-clock time. Sleeps until just before the deadline, then yields until it."""

    def now(self) -> float:
        return time.perf_counter()

    async def sleep_until(self, deadline: float) -> None:
        delay = deadline - time.perf_counter() - _SPIN_WINDOW
        if delay > 0:
            await asyncio.sleep(delay)
        while time.perf_counter() < deadline:
            await asyncio.sleep(0)


class SimClock:
    """Simulated time: every deadline is reached at once (other tasks still get a turn)."""

    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    async def sleep_until(self, deadline: float) -> None:
        self.t = max(self.t, deadline)
        await asyncio.sleep(0)


RecorderFactory = Callable[[Params, int, str], "RecordingWriter | None"]
Subscriber = Callable[["Session", tuple[Event, ...]], None]


class Session:
    """One player's game: the current match, the inputs, the opponent, and who listens."""

    def __init__(
        self,
        opponent: Opponent,
        params: Params | None = None,
        seed: int | None = None,
        recorder_factory: RecorderFactory | None = None,
        player: str = "player",
        left_driver: Opponent | None = None,
        strict: bool = False,
        resume: UnfinishedMatch | None = None,
    ) -> None:
        """``resume``: go on with a match cut off by a killed server (see ``resume``) instead
        of starting a new one from ``seed``."""
        self.params = params or Params()
        self.opponent = opponent
        self.left_driver = left_driver  # a persona playing the left side instead of a person
        # Live play survives a failing driver (it stands still); headless benches set
        # strict so that a broken persona stops the run with its error.
        self.strict = strict
        self.player = player
        self.recorder_factory = recorder_factory
        self.subscribers: list[Subscriber] = []
        self.frame_sinks: list[FrameSink] = []
        self.paused = False
        self.lateness: deque[float] = deque(maxlen=60 * 60 * 10)  # seconds late, per tick
        self.ticks_run = 0  # ticks the loop has run (paused ones too)
        self.late_ticks = 0  # of those, ticks that started more than one tick late
        self.listener_errors = 0  # failures of sinks and subscribers (see _guarded)
        self._logged_failures: set[tuple[str, str]] = set()
        self.recording_error: str | None = None
        self._key_command = 0.0
        self._pointer_target: float | None = None  # court y the pointer asks for
        self._stopped = False
        self.last_tick_start = 0.0  # time.perf_counter() when the latest tick began
        self.last_tick_end = 0.0  # time.perf_counter() when the latest tick finished
        self.recorder: RecordingWriter | None = None
        self.seed = 0
        self.state: State
        self.resumed_at: State | None = None  # where this match was resumed (None: fresh)
        if resume is not None:
            self.resume(resume)
        else:
            self.new_match(seed)

    # -- input, called by the server / desktop front end ------------------------------------

    def set_key_command(self, command: float) -> None:
        self._key_command = clamp_command(command)
        self._pointer_target = None

    def set_pointer(self, y_fraction: float | None) -> None:
        """The pointer asks the paddle to go to this height (0 top, 1 bottom); None releases."""
        if y_fraction is None or not math.isfinite(y_fraction):
            self._pointer_target = None
        else:
            self._pointer_target = min(1.0, max(0.0, y_fraction)) * self.params.court_height
            self._key_command = 0.0

    def set_paused(self, paused: bool) -> None:
        if self.state.winner == 0:
            self.paused = paused

    @property
    def waiting_to_resume(self) -> bool:
        """A resumed match that has not played a tick since: it waits for the player's
        Space (the server does not unpause it just because a tab connected)."""
        return self.resumed_at is not None and self.state.tick == self.resumed_at.tick

    def new_match(self, seed: int | None = None) -> None:
        """Start a fresh match (and a fresh recording)."""
        self._close_recorder(wait=False)
        self._start(seed if seed is not None else random.SystemRandom().randrange(1 << 63))
        self.state = new_match(self.seed, self.params)
        self.resumed_at = None
        if self.recorder_factory is not None:
            try:
                self.recorder = self.recorder_factory(self.params, self.seed, self._opponent_name())
                self.recording_error = None
            except OSError as exc:
                self.recorder = None
                self.recording_error = f"not recording: {exc.strerror or exc}"
                log.error("%s", self.recording_error)

    def _opponent_name(self) -> str:
        """Who the recording says the match is against: a mirror by its name ("mirror", or a
        shared one's), even while its scripted stand-in plays the first rallies (each
        record's model version says which played), else the opponent's label."""
        return getattr(self.opponent, "name", None) or self.opponent.label

    def resume(self, match: UnfinishedMatch) -> None:
        """Go on with ``match`` from its last recorded state, appending to its recording (so
        re-simulating the file from its seed still reproduces every state). Its engine RNG
        travels in the state; the drivers are reset with its seed as at its start."""
        self._close_recorder(wait=False)
        self._start(match.seed)
        self.state = self.resumed_at = match.last.state
        if self.recorder_factory is not None:
            try:
                self.recorder = RecordingWriter(match.path, None, append_at=match.end)
                self.recording_error = None
            except OSError as exc:
                self.recorder = None
                self.recording_error = f"not recording: {exc.strerror or exc}"
                log.error("%s", self.recording_error)
        log.debug(
            "resumed the match in %s at tick %d, %d-%d",
            match.path.name,
            self.state.tick,
            self.state.score_left,
            self.state.score_right,
        )

    def _start(self, seed: int) -> None:
        self.seed = seed
        self.paused = False
        for driver in (self.opponent, self.left_driver):
            if driver is not None and hasattr(driver, "reset"):
                driver.reset(self.seed)

    def stop(self) -> None:
        self._stopped = True

    def close(self) -> None:
        self._close_recorder()

    # -- the tick ------------------------------------------------------------------------------

    def left_command(self) -> float:
        if self.left_driver is not None:
            return self._ask(self.left_driver, LEFT)
        if self._pointer_target is not None:
            distance = self._pointer_target - self.state.left_y
            return clamp_command(distance / (self.params.paddle_speed * self.params.dt))
        return self._key_command

    def _ask(self, driver: Opponent, side: str) -> float:
        try:
            return clamp_command(float(driver.act(view(self.state, side, self.params))))
        except Exception:  # a broken opponent must never stop the game
            if self.strict:
                raise
            log.exception("the %s paddle's driver failed; it stands still this tick", side)
            return 0.0

    def tick(self) -> tuple[Event, ...]:
        """Play one tick (nothing happens while paused or after the match is over)."""
        self.last_tick_start = time.perf_counter()
        if self.paused or self.state.winner:
            # No tick is played, but a first model waiting for one takes over now (what the
            # player is shown while a resumed match waits for Space is what will play).
            take_offer = getattr(self.opponent, "take_offer", None)
            if take_offer is not None:
                self._guarded(take_offer, True)
            self._publish(())
            self.last_tick_end = time.perf_counter()
            return ()
        before = self.state
        left_cmd = self.left_command()
        right_cmd = self._ask(self.opponent, RIGHT)
        model_version = self.opponent.model_version
        after, events = step(before, left_cmd, right_cmd, self.params)
        self.state = after
        if self.recorder is not None:
            self.recorder.append(Record(after.tick, left_cmd, right_cmd, model_version, after))
            if self.recorder.error:
                self.recording_error = self.recorder.error
        for sink in self.frame_sinks:
            self._guarded(sink.on_tick, before, left_cmd, right_cmd, after, events)
        if after.winner:
            self._close_recorder(wait=False)
        self._publish(events)
        self.last_tick_end = time.perf_counter()
        return events

    def wait_for_tick_gap(self, need: float = GAP_AFTER_TICK, timeout: float = 0.1) -> None:
        """Called from another thread before a step that holds the GIL for about ``need``
        seconds: return once the gap before the next tick (less the loop's spin before its
        deadline) has at least ``need`` left, or when the loop is not ticking; otherwise wait
        for the next tick to finish (at most ``timeout``). The default asks for the most a
        gap after a tick at 60 Hz offers."""
        deadline = time.perf_counter() + timeout
        while (now := time.perf_counter()) < deadline:
            if now - self.last_tick_end > 0.05:  # not ticking at all
                return
            between = self.last_tick_end >= self.last_tick_start  # not mid-tick
            left = self.last_tick_start + self.params.dt - _SPIN_WINDOW - now
            if between and left >= need:
                return
            time.sleep(0.0005)

    def _publish(self, events: tuple[Event, ...]) -> None:
        for subscriber in self.subscribers:
            self._guarded(subscriber, self, events)

    def _guarded(self, listener: Callable, *args) -> None:
        """Call a listener (the learner, the server's publisher); one that fails must never
        stop the game: its first failure of each kind is logged with the traceback, later
        ones are counted (``listener_errors``). Headless runs (strict) let it raise."""
        try:
            listener(*args)
        except Exception as exc:
            if self.strict:
                raise
            self.listener_errors += 1
            key = (getattr(listener, "__qualname__", repr(listener)), type(exc).__name__)
            if key not in self._logged_failures:
                self._logged_failures.add(key)
                log.exception("%s failed during a tick; the game goes on", key[0])

    def _close_recorder(self, wait: bool = True) -> None:
        if self.recorder is not None:
            recorder, self.recorder = self.recorder, None
            recorder.close(wait=wait)
            if recorder.error:
                self.recording_error = recorder.error

    async def run(self, clock: Clock, ticks: int | None = None) -> None:
        """Tick at the params' rate on ``clock`` until stopped (or for ``ticks`` ticks)."""
        dt = self.params.dt
        deadline = clock.now()
        played = 0
        self._stopped = False
        while not self._stopped and (ticks is None or played < ticks):
            deadline += dt
            await clock.sleep_until(deadline)
            late = clock.now() - deadline
            if late > _RESYNC_AFTER:
                deadline = clock.now()
            self.lateness.append(late)
            self.ticks_run += 1
            if late > dt:  # started after the next tick was already due: a frame was lost
                self.late_ticks += 1
            self.tick()
            played += 1
