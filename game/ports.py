"""The ports game/ declares for a learner: what the game needs from one, nothing more.

A learner plugged into a session (``plug_learning``) receives every played tick (it is a
``FrameSink``), answers the page's learning controls (``handle_control``, for the message
types its ``control_schemas`` declare), and reports what the HUD shows (``hud_stats``). The
server owns the wire: it validates control messages against the declared schemas and sends
the HUD stats to every page a few times a second, in frames that are never skipped. A game
with no learner plugged in plays the scripted opponent. ``learner.live.LiveLearner``
implements this port; ``main.py`` plugs one into the other.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol, TypedDict

if TYPE_CHECKING:
    from game.engine import Event, State
    from game.session import Session


class FrameSink(Protocol):
    """Receives every played tick. Called on the loop's thread: must return at once."""

    def on_tick(
        self,
        before: State,
        left_cmd: float,
        right_cmd: float,
        after: State,
        events: tuple[Event, ...],
    ) -> None: ...


class LearningStats(TypedDict, total=False):
    """What the learning panel shows (fields may be None until the learner knows them)."""

    state: str  # live, paused, restarting, quiet (no report for a while), stopped, starting
    state_reason: str | None  # why, in words, when not live
    stats_age: float | None  # seconds since the learner made the figures below
    figures_from: str | None  # "live", or "saved" (the last session's, until new ones come)
    playing_agreement: float | None  # how like you the model playing now was when it passed
    playing_agreement_saved: bool  # that figure is from the last session (a restored mirror)
    mirror_number: int  # the mirrors the player has met, this one included (0: none yet)
    recorded_frames: int  # of ``play_frames``, ticks read from the player's earlier recordings
    earlier_sessions: int  # the earlier play sessions those came from
    learning: bool
    architecture: str
    version: int  # the model playing now (0: the scripted opponent)
    frames: int  # ticks of the player's play it trains on
    play_frames: int  # every tick of their play it has: ``frames`` and those kept aside to
    # judge each new mirror (the held-out rallies)
    agreement: float | None
    approach_agreement: float | None
    untrained_agreement: float | None
    loss: float | None
    samples_per_second: float | None
    effective_sample_size: float | None
    phase_split: dict[str, float]
    queued_seconds: float | None  # play sent to the learner that it has not taken in yet
    weights: dict[str, float]
    adapt: bool  # the sampler adapts to the player within the weights (loss-aware priorities)
    adapt_focus: dict[str, float | None]  # per phase, draws over the weights' share (1: as set)
    mirror_temperature: float | None  # what the playing mirror draws at (None: argmax or none)
    temperature_source: str | None  # "own" (found for the player's jitter), "default", "set"
    player_jitter: float | None  # the player's jitter it was matched to (|change| a tick)
    accepted: int
    rejected: int
    last_rejection: str | None
    trainer_restarts: int
    trainer_alive: bool
    match_card: dict | None  # the last finished match, you vs your mirror (see StyleRecorder)


class LearningPort(FrameSink, Protocol):
    """A learner as the game sees it."""

    control_schemas: Sequence[dict]
    """JSON Schemas (oneOf branches, each with a ``type`` const) of the control messages."""

    def handle_control(self, message: dict) -> None:
        """A validated control message from the page; called on the loop's thread."""

    def hud_stats(self) -> LearningStats: ...

    def start(self, wait_for_tick_gap: Callable[[float], None] | None = None) -> None:
        """Start learning; ``wait_for_tick_gap`` lets heavy work wait for a gap between ticks."""

    def stop(self) -> None: ...


def control_types(port: LearningPort) -> set[str]:
    """The message types a port's schemas declare."""
    return {schema["properties"]["type"]["const"] for schema in port.control_schemas}


def plug_learning(session: Session, port: LearningPort) -> None:
    """Every tick of ``session`` reaches ``port``, which starts learning."""
    session.frame_sinks.append(port)
    port.start(session.wait_for_tick_gap)
