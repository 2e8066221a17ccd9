"""What every mirror does to its input first: keep it inside the play it has learned from,
then bring each feature to a common scale.

Two measured problems, one module (``bench fidelity`` on the built-in personas, see
docs/results.md):

- **Play it has never seen.** Rallies grow faster as the mirror gets better: a ball speeds
  up 6% a hit, so the mirror judged (and played) after 3 minutes meets balls up to 1.5
  court/s across while it learned from a clumsier mirror whose rallies never passed 1.0.
  A network asked about speeds outside its data answers anything; clamped to the range of
  the frames it trained on (``low``/``high``, which the trainer widens as frames arrive), a
  fast ball reads as the fastest ball it knows, and a player who goes where the ball will
  arrive is still copied.
- **Scale.** The features are in court units: a player's dead zone of 0.02 is a sliver of
  a raw input, and a network learns such a step slowly. Each feature is centred and
  divided by a fixed spread (``CENTRE``/``SPREAD``, the typical range of that feature in
  play; fixed, so the model's reading of a feature never shifts under it).

The range is held as parameters that never get a gradient, so the exporter writes the
current range into every exported model, and a checkpoint keeps it.
"""

from __future__ import annotations

import torch
from torch import nn

from models.contract import FEATURE_NAMES

_TYPICAL = {  # feature: (centre, spread) in play, court units (see FEATURE_NAMES)
    "ball_x": (0.5, 0.29),
    "ball_y": (0.5, 0.29),
    "ball_vx": (0.0, 1.0),
    "ball_vy": (0.0, 0.5),
    "paddle_y": (0.5, 0.2),
    "opponent_y": (0.5, 0.2),
    "ball_minus_paddle": (0.0, 0.25),
    "approaching": (0.5, 0.5),
    "serving": (0.1, 0.3),
    "time_to_reach": (0.3, 0.4),
    "intercept_y": (0.5, 0.29),
    "intercept_minus_paddle": (0.0, 0.15),
}
assert tuple(_TYPICAL) == FEATURE_NAMES, "one centre and spread per feature, in order"
CENTRE = tuple(centre for centre, _ in _TYPICAL.values())
SPREAD = tuple(spread for _, spread in _TYPICAL.values())
UNBOUNDED = 1e4  # the range before any frame is seen: wider than any feature can be


class InputNorm(nn.Module):
    """(..., F) features -> clamped to [low, high], centred and scaled; ``enabled`` False
    passes them through (the mirrors saved before this existed)."""

    def __init__(self, num_features: int, enabled: bool = True) -> None:
        super().__init__()
        self.enabled = enabled
        if not enabled:
            return
        if num_features != len(CENTRE):
            raise ValueError(
                f"input normalisation knows {len(CENTRE)} features, got num_features="
                f"{num_features}; set normalize to false for another feature set"
            )
        self.low = nn.Parameter(torch.full((num_features,), -UNBOUNDED), requires_grad=False)
        self.high = nn.Parameter(torch.full((num_features,), UNBOUNDED), requires_grad=False)
        scale = 1.0 / torch.tensor(SPREAD)
        self.register_buffer("scale", scale)
        self.register_buffer("offset", -torch.tensor(CENTRE) * scale)

    @torch.no_grad()
    def widen(self, low: torch.Tensor, high: torch.Tensor) -> None:
        """Widen the range to take in features from ``low`` to ``high`` (F,) per feature."""
        if not self.enabled:
            return
        if bool((self.low <= -UNBOUNDED).all()):  # the first frames: the range is theirs
            self.low.copy_(low)
            self.high.copy_(high)
        else:
            torch.minimum(self.low, low.to(self.low), out=self.low)
            torch.maximum(self.high, high.to(self.high), out=self.high)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.enabled:
            return x
        x = torch.minimum(torch.maximum(x, self.low), self.high)
        return x * self.scale + self.offset
