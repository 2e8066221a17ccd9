"""The observation builder: from a per-side view to the model's input. Numpy only.

The trainer and the opponent both call ``ObservationBuilder``, so what the model learns
from and what it plays from cannot drift apart. Because both sides' views come from the
same ``game.engine.view``, a model trained on the player's (left) side plays the right side
as the player would.

Besides the raw view it computes what a player perceives: is the ball coming at me, how
soon it reaches my paddle, and where it will cross my line once wall bounces are folded in
(the prototype in DESIGN.md found raw state alone makes the model estimate that intercept
itself, and it learns it slowly).
"""

from __future__ import annotations

import math

import numpy as np

from game.engine import DEFAULT_PARAMS, Params, View
from game.geometry import Geometry, fold_into
from models.contract import HISTORY, NUM_FEATURES

MAX_TIME_TO_REACH = 3.0  # seconds; further than that is 'not soon' for any player


def features(
    ball_x: np.ndarray,
    ball_y: np.ndarray,
    ball_vx: np.ndarray,
    ball_vy: np.ndarray,
    paddle_y: np.ndarray,
    opponent_y: np.ndarray,
    geometry: Geometry,
) -> np.ndarray:
    """Feature rows (N, NUM_FEATURES) float32 from N views' fields (see FEATURE_NAMES)."""
    approaching = ball_vx < 0.0
    serving = (ball_vx == 0.0) & (ball_vy == 0.0)
    safe_vx = np.where(approaching, ball_vx, -1.0)
    time_to_reach = np.where(
        approaching, np.clip((ball_x - geometry.face_x) / -safe_vx, 0.0, MAX_TIME_TO_REACH), 0.0
    )
    free_y = ball_y + ball_vy * time_to_reach
    intercept_y = np.where(
        approaching, fold_into(free_y, geometry.ball_top, geometry.ball_bottom), ball_y
    )
    rows = np.stack(
        [
            ball_x,
            ball_y,
            ball_vx,
            ball_vy,
            paddle_y,
            opponent_y,
            ball_y - paddle_y,
            approaching.astype(np.float64),
            serving.astype(np.float64),
            time_to_reach,
            intercept_y,
            intercept_y - paddle_y,
        ],
        axis=-1,
    )
    return rows.astype(np.float32)


def view_features(view: View, geometry: Geometry) -> np.ndarray:
    """One feature row (NUM_FEATURES,) for one view.

    The same arithmetic as ``features`` in plain floats: numpy's per-call overhead would
    cost the opponent ~80 µs a tick, this costs a few. A test checks both agree exactly."""
    ball_x, ball_y, ball_vx, ball_vy = view.ball_x, view.ball_y, view.ball_vx, view.ball_vy
    approaching = ball_vx < 0.0
    serving = ball_vx == 0.0 and ball_vy == 0.0
    if approaching:
        time_to_reach = min(max((ball_x - geometry.face_x) / -ball_vx, 0.0), MAX_TIME_TO_REACH)
        low, high = geometry.ball_top, geometry.ball_bottom
        span = high - low
        u = math.fmod(ball_y + ball_vy * time_to_reach - low, 2.0 * span)
        if u < 0.0:
            u += 2.0 * span  # fmod keeps the sign; np.mod (floor) does not
        intercept_y = low + (u if u <= span else 2.0 * span - u)
    else:
        time_to_reach = 0.0
        intercept_y = ball_y
    return np.array(
        [
            ball_x,
            ball_y,
            ball_vx,
            ball_vy,
            view.paddle_y,
            view.opponent_y,
            ball_y - view.paddle_y,
            float(approaching),
            float(serving),
            time_to_reach,
            intercept_y,
            intercept_y - view.paddle_y,
        ],
        dtype=np.float32,
    )


class ObservationBuilder:
    """Keeps the last HISTORY feature rows of one side and builds the model input window.

    At the start of a match the window is padded with copies of the first row, so the
    model always sees HISTORY rows."""

    def __init__(self, params: Params = DEFAULT_PARAMS, history: int = HISTORY) -> None:
        self.geometry = Geometry.from_params(params)
        self.history = history
        self._window = np.zeros((history, NUM_FEATURES), dtype=np.float32)
        self._filled = False

    def reset(self) -> None:
        self._filled = False

    def push(self, view: View) -> np.ndarray:
        """Add this tick's view; return the window (HISTORY, NUM_FEATURES), newest last."""
        row = view_features(view, self.geometry)
        if not self._filled:
            self._window[:] = row
            self._filled = True
        else:
            self._window[:-1] = self._window[1:]
            self._window[-1] = row
        return self._window.copy()
