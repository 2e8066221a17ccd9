"""A small MLP mirror: the window's ticks, each read by one shared linear layer, then
flattened, to scores over command bins.

It sees the whole window (HISTORY = 24 ticks, 400 ms): a person acts on what they saw a
reaction time ago (150-250 ms) and a key held down is memory, so a mirror that saw only the
newest 4 ticks (67 ms, the first contract) could not copy when a person starts to move. The
shared per-tick layer (a kernel-1 convolution over ticks) reads a tick the same way wherever
it sits in the window, the temporal inductive bias that keeps a 24-tick window learning as
fast as 4 did. Chosen by measurement (``bench fidelity`` on all built-in personas; the
closing note of the issue that asked for it gives the figures): against 4 raw ticks it held
or raised 3-minute agreement on every persona but angler, and a causal convolutional net
(dilations 1-2-4-8) that did as well cost 10-20x more per training step, too slow for the
headless benches' 30x real time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from models.contract import HISTORY, NUM_BINS, NUM_FEATURES


@dataclass
class MLPConfig:
    frames: int = HISTORY  # how many of the newest ticks the MLP looks at (<= HISTORY)
    hidden: list[int] = field(default_factory=lambda: [64, 64])  # widths of the hidden layers
    embed: int = 16  # 0: the raw window, flattened; N: each tick first through one shared
    # linear layer to N numbers (a kernel-1 convolution over ticks: the same reading of a
    # tick wherever it sits in the window, so a longer window costs few new weights)
    num_features: int = NUM_FEATURES  # feature columns per tick (from the contract)
    num_bins: int = NUM_BINS  # command bins it scores


class MLP(nn.Module):
    architecture = "mlp"

    def __init__(self, config: MLPConfig) -> None:
        super().__init__()
        if not 1 <= config.frames <= HISTORY:
            raise ValueError(f"frames must be in 1..{HISTORY}, got frames={config.frames}")
        self.config = config
        if config.embed < 0:
            raise ValueError(f"embed must be 0 (none) or positive, got embed={config.embed}")
        self.embed = nn.Linear(config.num_features, config.embed) if config.embed else None
        layers: list[nn.Module] = []
        width = config.frames * (config.embed or config.num_features)
        for hidden in config.hidden:
            layers += [nn.Linear(width, hidden), nn.GELU()]
            width = hidden
        layers.append(nn.Linear(width, config.num_bins))
        self.net = nn.Sequential(*layers)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """obs (B, HISTORY, F) -> logits (B, NUM_BINS) for the newest tick."""
        recent = obs[:, -self.config.frames :, :]  # (B, frames, F)
        if self.embed is not None:
            recent = self.embed(recent)  # (B, frames, embed)
        return self.net(recent.flatten(1))

    def training_logits(self, obs: torch.Tensor) -> torch.Tensor:
        """Logits for every tick that has a target in training: just the newest. (B, 1, bins)"""
        return self.forward(obs).unsqueeze(1)
