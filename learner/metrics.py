"""How well a mirror copies a player: agreement and style, measured headless.

``held_out_play`` lets a player (persona) play on its own and keeps, for every tick, the
observation window it saw and the command it gave: the clone is scored on exactly that
history. ``agreement`` is the one measure of copying: the share of ticks where the model's
command is within ``AGREEMENT_TOLERANCE`` of the player's. ``StyleRecorder`` keeps one side's
style figures as means (hit rate, rally length, where it meets the ball, how fast it moves,
how soon it reacts) for the match card and the replay comparison; the benches compare styles
as distributions (``learner.style``).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from game.engine import DEFAULT_PARAMS, LEFT, Params, clamp_command, view
from game.mirror_opponent import Model, agreeing, agreement, commands_from_logits
from game.opponent import Opponent, ScriptedOpponent
from game.session import Session, SimClock
from learner.features import ObservationBuilder
from models.contract import COLUMN, INPUT_NAME, OUTPUT_NAME

__all__ = [  # agreement is game.mirror_opponent's (the gate scores candidates with it)
    "HeldOut",
    "StyleRecorder",
    "Watcher",
    "agreeing",
    "agreement",
    "agreement_on",
    "compare_styles",
    "held_out_play",
    "model_commands",
    "play_headless",
]

REACTION_THRESHOLD = 0.2  # a command change this large counts as reacting


TWIN_SEED_OFFSET = 7919  # the twin's noise seed, apart from the persona's


@dataclass
class HeldOut:
    obs: np.ndarray  # (N, HISTORY, F) what the player saw
    commands: np.ndarray  # (N,) what the player did
    approach: np.ndarray  # (N,) bool: the ball was coming toward the player
    twin_commands: np.ndarray | None = None  # (N,) what its twin did on the same views


class Twinned:
    """Plays ``persona`` and asks ``twin`` (the same persona, reset with another noise seed)
    what it would do on the very same views: how often a player with noise agrees with
    itself, the reference a clone of it is judged against (1.0 for a deterministic one)."""

    def __init__(self, persona: Opponent, twin: Opponent) -> None:
        self.persona, self.twin = persona, twin
        self.twin_commands: list[float] = []

    def reset(self, seed: int) -> None:
        self.persona.reset(seed)
        self.twin.reset(seed + TWIN_SEED_OFFSET)

    def act(self, view) -> float:
        self.twin_commands.append(clamp_command(float(self.twin.act(view))))
        return self.persona.act(view)


class Watcher:
    """Frame sink that keeps the left player's observation windows and commands."""

    def __init__(self, params: Params) -> None:
        self.params = params
        self.builder = ObservationBuilder(params)
        self.obs: list[np.ndarray] = []
        self.commands: list[float] = []

    def on_tick(self, before, left_cmd, right_cmd, after, events) -> None:
        if before.tick == 0:
            self.builder.reset()
        self.obs.append(self.builder.push(view(before, LEFT, self.params)))
        self.commands.append(left_cmd)

    def held_out(self) -> HeldOut:
        """What was watched, as held-out play to score a clone on."""
        obs = np.stack(self.obs)
        commands = np.asarray(self.commands, dtype=np.float32)
        return HeldOut(obs, commands, obs[:, -1, COLUMN["approaching"]] > 0.5)


def held_out_play(
    persona: Opponent,
    seconds: float,
    seed: int,
    opponent: Opponent | None = None,
    params: Params = DEFAULT_PARAMS,
    twin: Opponent | None = None,
) -> HeldOut:
    """The persona plays ``seconds`` against ``opponent`` (scripted by default); with
    ``twin`` (another instance of it), the twin's commands on the same views are kept too."""
    driver = Twinned(persona, twin) if twin is not None else persona
    session = Session(
        opponent or ScriptedOpponent(), params=params, seed=seed, left_driver=driver, strict=True
    )
    watcher = Watcher(params)
    session.frame_sinks.append(watcher)
    play_headless(session, seconds, seed)
    heldout = watcher.held_out()
    if twin is not None:
        heldout.twin_commands = np.asarray(driver.twin_commands, dtype=np.float32)
    return heldout


def twin_agreement(heldout: HeldOut) -> tuple[float, float]:
    """(agreement, approach agreement) of the persona's twin with the persona."""
    twin, approach = heldout.twin_commands, heldout.approach
    return (
        agreement(twin, heldout.commands),
        agreement(twin[approach], heldout.commands[approach]),
    )


def play_headless(session: Session, seconds: float, seed: int) -> None:
    """Run ``session`` for ``seconds`` of simulated play; a finished match is followed by
    a new one (seeded from ``seed`` and the ticks played), as in play. Only ticks in which
    the game moved count: a match that ends mid-chunk idles the rest of it."""
    for _ in play_in_chunks(session, seconds, seed, session.params.tick_rate * 10):
        pass


def play_in_chunks(session: Session, seconds: float, seed: int, chunk: int) -> Iterator[None]:
    """``play_headless`` a chunk of ``chunk`` ticks at a time, yielding after each (for work
    done in steps between other work: ``learner.calibration``)."""
    ticks = int(seconds * session.params.tick_rate)
    played = 0
    while played < ticks:
        first = session.state.tick
        asyncio.run(session.run(SimClock(), ticks=min(chunk, ticks - played)))
        moved = session.state.tick - first
        played += moved
        if session.state.winner:
            session.new_match(seed + played)
        elif not moved:
            raise RuntimeError("the session did not move (paused?)")
        yield


def model_commands(model: Model, obs: np.ndarray) -> np.ndarray:
    commands = []
    for start in range(0, len(obs), 4096):
        (logits,) = model.session.run([OUTPUT_NAME], {INPUT_NAME: obs[start : start + 4096]})
        commands.append(commands_from_logits(logits))
    return np.concatenate(commands)


def agreement_on(model: Model, heldout: HeldOut) -> tuple[float, float]:
    """(agreement, approach agreement) of a model on a player's held-out play (NaN: none)."""
    commands = model_commands(model, heldout.obs)
    approach = heldout.approach
    return (
        agreement(commands, heldout.commands),
        agreement(commands[approach], heldout.commands[approach]),
    )


@dataclass
class StyleRecorder:
    """Frame sink gathering one side's style figures (the left side, the player's, unless
    told otherwise): the benches compare a persona's with its clone's, the learning panel's
    match card the player's with their mirror's."""

    side: str = LEFT
    court_height: float = DEFAULT_PARAMS.court_height
    hits: int = 0
    misses: int = 0
    offsets: list[float] = field(default_factory=list)  # |where the ball met the paddle|
    signed_offsets: list[float] = field(default_factory=list)  # -1 top edge .. +1 bottom edge
    speeds: list[float] = field(default_factory=list)
    rally_hits: list[int] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)  # paddle height (0..1) while the ball goes
    _approach_start: int | None = None
    _start_command: float = 0.0  # the command on the tick before the approach began
    _previous_command: float | None = None

    def on_tick(self, before, left_cmd, right_cmd, after, events) -> None:
        left = self.side == LEFT
        command = left_cmd if left else right_cmd
        approaching = before.ball_vx < 0.0 if left else before.ball_vx > 0.0
        if before.serve_ticks == 0:
            self.speeds.append(abs(command))
            if not approaching:
                paddle_y = before.left_y if left else before.right_y
                self.waits.append(paddle_y / self.court_height)
        if approaching and self._approach_start is None:
            self._approach_start = before.tick
            self._start_command = (
                command if self._previous_command is None else self._previous_command
            )
        elif not approaching:
            self._approach_start = None
        reacting = abs(command - self._start_command) >= REACTION_THRESHOLD
        if self._approach_start is not None and self._approach_start >= 0 and reacting:
            self.delays.append((before.tick - self._approach_start) / 60.0)
            self._approach_start = -1  # reacted; wait for the next approach
        self._previous_command = command
        for event in events:
            if event.kind == "hit" and event.side == self.side:
                self.hits += 1
                self.offsets.append(abs(event.value))
                self.signed_offsets.append(event.value)
            elif event.kind == "miss":
                self.rally_hits.append(before.rally_hits)
                if event.side == self.side:
                    self.misses += 1

    def figures(self) -> dict[str, float]:
        def mean(values):
            return float(np.mean(values)) if len(values) else math.nan

        arrivals = self.hits + self.misses
        return {
            "hit_rate": self.hits / arrivals if arrivals else math.nan,
            "mean_rally_length": mean(self.rally_hits),
            "mean_abs_hit_offset": mean(self.offsets),
            "mean_abs_paddle_speed": mean(self.speeds),
            "mean_reaction_delay": mean(self.delays),
        }

    def card(self) -> dict:
        """The figures a player recognises, for the panel's match card (None: not seen)."""

        def mean(values):
            return round(float(np.mean(values)), 3) if len(values) else None

        arrivals = self.hits + self.misses
        return {
            "reaction_s": mean(self.delays),
            "meet_offset": mean(self.offsets),
            "miss_rate": round(self.misses / arrivals, 3) if arrivals else None,
            "wait_y": mean(self.waits),
            "meets": [round(v, 3) for v in self.signed_offsets[-200:]],
        }


def compare_styles(persona: dict, clone: dict) -> dict:
    result = {}
    for name, value in persona.items():
        other = clone[name]
        if math.isnan(value) or math.isnan(other):
            rel = None
        else:
            rel = abs(other - value) / abs(value) if value else (0.0 if other == 0 else None)
        result[name] = {
            "persona": None if math.isnan(value) else round(value, 6),
            "clone": None if math.isnan(other) else round(other, 6),
            "rel_error": None if rel is None else round(rel, 6),
        }
    return result
