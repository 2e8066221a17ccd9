"""Opponents: whatever drives the right paddle, given the right side's view.

Every opponent has ``act(view) -> float`` (a command in [-1, 1]), a ``label`` for the HUD
and the ``model_version`` that the recording notes per tick (0 for a scripted opponent).
The learned mirror (``game.mirror_opponent``) sits behind the same interface; it also has
``take_offer(first_only)``, which the session calls between ticks while none is played
(paused, or the match over), so a first model waiting for the next tick (the mirror restored
when a resumed match waits for Space) takes over and is shown at once.
"""

from __future__ import annotations

import math
from typing import Protocol

from game.engine import View


class Opponent(Protocol):
    label: str
    model_version: int

    def act(self, view: View) -> float: ...


class ScriptedOpponent:
    """A deliberately clumsy tracker: slow reactions, a dead zone, and a habit of aiming at
    where the ball is rather than where it will be. Beatable, so the mirror has work to do."""

    label = "scripted"
    model_version = 0

    def __init__(
        self,
        reaction_ticks: int = 9,
        dead_zone: float = 0.03,
        max_command: float = 0.7,
        gain: float = 15.0,
    ):
        self.gain = gain  # command per court height of distance to the target
        self.reaction_ticks = reaction_ticks
        self.dead_zone = dead_zone
        self.max_command = max_command
        self._seen: list[float] = []

    def reset(self, seed: int) -> None:
        self._seen.clear()

    def act(self, view: View) -> float:
        # Reacts to where the ball was `reaction_ticks` ago; drifts home while it recedes.
        self._seen.append(view.ball_y)
        if len(self._seen) > self.reaction_ticks:
            del self._seen[0]
        target = self._seen[0] if view.ball_vx < 0 else 0.5
        error = target - view.paddle_y
        if abs(error) < self.dead_zone or math.isnan(error):
            return 0.0
        return max(-self.max_command, min(self.max_command, error * self.gain))
