"""The court as a player sees it (view units) and where the ball will cross a line.

Personas (``game.personas``) and the learner's feature builder (``learner.features``) both
need the wall-folded intercept: where a ball travelling freely ends up after bouncing
between the top and bottom walls. This module is its one home, for single views (floats)
and for arrays of them alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from game.engine import DEFAULT_PARAMS, Params


@dataclass(frozen=True)
class Geometry:
    """Court constants in view units (x: 0..1 goal to goal, y: 0..1 top to bottom)."""

    face_x: float  # my paddle's face line
    ball_top: float  # the ball centre's lowest and highest y
    ball_bottom: float

    @classmethod
    def from_params(cls, params: Params = DEFAULT_PARAMS) -> Geometry:
        radius_y = params.ball_radius / params.court_height
        return cls(
            face_x=(params.paddle_inset + params.ball_radius) / params.court_width,
            ball_top=radius_y,
            ball_bottom=1.0 - radius_y,
        )


def fold_into(y, low: float, high: float):
    """Where a ball travelling freely to ``y`` ends up after bouncing between two walls at
    ``low`` and ``high`` (``y`` a float or a numpy array; the result is the same kind)."""
    span = high - low
    u = (y - low) % (2.0 * span)
    if isinstance(u, np.ndarray):
        return low + np.where(u <= span, u, 2.0 * span - u)
    return low + (u if u <= span else 2.0 * span - u)
