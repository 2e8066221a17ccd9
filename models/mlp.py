"""A small MLP mirror: the last few ticks' features, flattened, to scores over command bins."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from models.contract import HISTORY, NUM_BINS, NUM_FEATURES


@dataclass
class MLPConfig:
    frames: int = 4  # how many of the newest ticks the MLP looks at (<= HISTORY)
    hidden: list[int] = field(default_factory=lambda: [64, 64])  # widths of the hidden layers
    num_features: int = NUM_FEATURES  # feature columns per tick (from the contract)
    num_bins: int = NUM_BINS  # command bins it scores


class MLP(nn.Module):
    architecture = "mlp"

    def __init__(self, config: MLPConfig) -> None:
        super().__init__()
        if not 1 <= config.frames <= HISTORY:
            raise ValueError(f"frames must be in 1..{HISTORY}, got frames={config.frames}")
        self.config = config
        layers: list[nn.Module] = []
        width = config.frames * config.num_features
        for hidden in config.hidden:
            layers += [nn.Linear(width, hidden), nn.GELU()]
            width = hidden
        layers.append(nn.Linear(width, config.num_bins))
        self.net = nn.Sequential(*layers)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """obs (B, HISTORY, F) -> logits (B, NUM_BINS) for the newest tick."""
        recent = obs[:, -self.config.frames :, :]  # (B, frames, F)
        return self.net(recent.flatten(1))

    def training_logits(self, obs: torch.Tensor) -> torch.Tensor:
        """Logits for every tick that has a target in training: just the newest. (B, 1, bins)"""
        return self.forward(obs).unsqueeze(1)
