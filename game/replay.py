"""Re-simulating recordings: the proof that a recording is exactly what was played."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from game.engine import Event, State, new_match, step
from game.recording import Record, Recording, RecordingError


@dataclass
class Divergence:
    index: int  # record number (0-based)
    tick: int
    field: str
    recorded: object
    simulated: object


def verify(recording: Recording) -> Divergence | None:
    """Replay the recorded commands from the recorded seed; return the first state that
    differs from the recording, or None when every recorded state is reproduced exactly.

    A recording with no records proves nothing: RecordingError (one line)."""
    if not recording.records:
        raise RecordingError(
            f"{recording.path.name} has no recorded ticks: there is nothing to verify"
        )
    state = new_match(recording.seed, recording.params)
    for index, record in enumerate(recording.records):
        state, _ = step(state, record.left_cmd, record.right_cmd, recording.params)
        if state != record.state:
            return _first_difference(index, record.state, state)
    return None


def _first_difference(index: int, recorded: State, simulated: State) -> Divergence:
    for name, want, got in zip(State._fields, recorded, simulated, strict=True):
        if want != got:
            return Divergence(index, recorded.tick, name, want, got)
    raise AssertionError("states differ but no field does")


def ticks(recording: Recording) -> Iterator[tuple[State, Record, tuple[Event, ...]]]:
    """Each record with the state before it and the events of its tick.

    Events are not stored: stepping the engine from the state before reproduces them exactly
    (the states themselves are what ``verify`` checks)."""
    before = new_match(recording.seed, recording.params)
    for record in recording.records:
        _, events = step(before, record.left_cmd, record.right_cmd, recording.params)
        yield before, record, events
        before = record.state
