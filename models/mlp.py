"""A small MLP mirror: some ticks of the window, flattened, to scores over command bins.

It reads ticks spread over the whole window (HISTORY = 24 ticks, 400 ms): the newest four
densely, as the first contract's MLP did (a paddle's speed and a jittery player's momentum
are in them), then ever sparser back to 23 ticks ago (``taps``), so it sees what happened a
reaction time before (150-250 ms: a person acts on what they saw then) without one weight
per feature per tick. Chosen by measurement (``bench fidelity --model-config`` on the
built-in personas, 3 simulated minutes, 2 seeds, each judged on 3 minutes of held-out play):
reading all 24 ticks raw or through a shared per-tick layer (a kernel-1 convolution over
ticks) raised some personas (misjudge, predictor) and lost 0.08 on a jittery one (nervous);
a causal convolutional net (dilations 1-2-4-8) cost 10-20x more per training step, too
slow for the headless benches' 30x real time; the taps below kept the old model's
agreement on every persona tried, within the runs' spread, while seeing 400 ms.

Besides the taps it reads one column at every tick of the window (``dense``): whether the
ball is coming. A person starts to move a reaction time after the ball turns toward them,
and between the taps the model could not tell when that was to the tick. Measured with the
human personas keeping their traits from match to match (``game.personas``), beside the same
code without it (``--model-config '{"dense": []}'``): on two players written for the check
and never tuned on (arrow keys with a 280-360 ms reaction; a pointer that starts a reaction
time after the ball turns and then lags), held-out agreement rose in all 8 runs at 3
minutes (seeds 0-3, mean +0.025) and all 4 at 10 (seeds 0-1, +0.013); on the 8 built-in
personas x 8 seeds at 3 minutes it moved by -0.001 (32 runs up, 31 down), no persona's mean
by more than 0.009.

And it reads where things stand at the newest tick (where the ball, its own paddle and the
opponent are, and how far apart: ``periodic_columns``) a second way, as sines and cosines at
four fixed frequencies (``periodic``): the periodic embedding of numerical features
(Gorishniy, Rubachev & Babenko 2022, "On Embeddings for Numerical Features in Tabular Deep
Learning"; fixed frequencies, as in Tancik et al. 2020). A person's habits step at small
distances: let go of the key once the paddle is a sliver off the ball's line, aim with the
paddle's end, or go for the other end once the opponent crosses the middle. Read linearly,
such a step needs steep weights, which take long to learn from minutes of play; read through
a sine it is a gentle one. Measured beside ``--model-config '{"periodic": 0}'`` (3 simulated
minutes, seeds 0-7, every built-in persona and the two players never tuned on; figures in
issue 10's notes): the angler, who aims with the paddle's end by the opponent's half, rose on
every seed, the predictor and the keyboard player on most, and no other player moved by more
than 0.01 on average. Reading speeds, times or flags this way, or with a fifth frequency,
lost more on the jittery player (nervous) than it won.

And it reads the paddle's last three moves (``motion``), each divided by the longest move a
tick allows: the commands the player gave on the last three ticks. A person's last command
carries on into the next: a key held down stays down until the paddle is close, a hand has
momentum. The positions hold that already, but as a difference of 0.02 between two numbers
that span the court, which takes steep weights to read, as the steps above do. Measured
beside ``--model-config '{"motion": 0}'`` (3 simulated minutes, seeds 0-7, judged on 3
minutes of held-out play; figures in issue 10's notes): over the 8 built-in personas and the
two players never tuned on, 80 runs, held-out agreement rose by 0.011 on average (95%
interval 0.005 to 0.017, 54 runs up, 26 down): the pointer that starts late and lags by 0.058
(8 of 8 up), misjudge by 0.023, the key players by 0.001-0.006; the predictor lost 0.005 and
no persona more. Reading one move, not three, gained less (angler, keyboard, misjudge and
predictor, 32 runs: 0.003 below three moves, 20 runs of 32 lower).

Its input first goes through ``models.inputs.InputNorm``: clamped to the range of the play it
learned from (rallies grow faster than any it has seen as it improves) and scaled per
feature. Over 8 personas x 4 seeds at 3 minutes (``bench fidelity --persona P --seed S
--minutes 3``, beside ``--model-config '{"normalize": false}'``) that lifted predictor from
0.926 to 0.966, keyboard from 0.895 to 0.934 and pointer from 0.616 to 0.728 (agreement then
judged on the highest-scoring bin).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from models.contract import COLUMN, HISTORY, NUM_BINS, NUM_FEATURES
from models.inputs import CENTRE, SPREAD, InputNorm

FLAG_NAMES = ("approaching", "serving")  # the 0-or-1 columns a model may read at every tick
FLAGS = tuple(COLUMN[name] for name in FLAG_NAMES)
PADDLE = COLUMN["paddle_y"]
# Where things are, the columns a person's habits step on: how far off the ball is, which
# half the opponent is in. Not speeds, times or flags.
WHERE_NAMES = (
    "ball_y", "paddle_y", "opponent_y", "ball_minus_paddle", "intercept_y",
    "intercept_minus_paddle",
)  # fmt: skip
WHERE = tuple(COLUMN[name] for name in WHERE_NAMES)
MAX_MOTION = HISTORY - 1  # tick-to-tick moves a window holds
MAX_MOVE = 1.3 / 60  # the game's paddle speed (view units a second) over its tick rate:
# ``game.engine.Params``, which models/ does not import; a test holds the two together
MAX_PERIODIC = 8  # frequencies: 2 ** 7 quarter turns per unit is finer than any feature's noise


@dataclass
class MLPConfig:
    hidden: list[int] = field(default_factory=lambda: [64, 64])  # widths of the hidden layers
    embed: int = 0  # 0: the ticks read, flattened; N: each tick first through one shared
    # linear layer to N numbers (a kernel-1 convolution over ticks: the same reading of a
    # tick wherever it sits in the window, so a longer window costs few new weights)
    taps: list[int] = field(default_factory=lambda: [0, 1, 2, 3, 5, 8, 12, 17, 23])
    # the ticks read, as ticks back from the newest (0 = newest; [0, 1, 2, 3] is the MLP of
    # the first contract)
    dense: list[int] = field(default_factory=lambda: [COLUMN["approaching"]])
    # flag columns (``FLAGS``) also read at every tick of the window: "is the ball coming" says
    # to the tick when the ball turned, which a reaction time is counted from (mirrors saved
    # before it existed have none)
    periodic: int = 4  # N > 0: the newest tick's ``periodic_columns``, scaled, also read as
    # sin and cos at N frequencies (a quarter turn per unit of the scaled feature, doubling
    # N - 1 times), so a habit that steps at a small distance (let go of the key once the
    # paddle is 0.02 off) is learned as fast as a gentle one; 0: none (mirrors saved before
    # it existed)
    periodic_columns: list[int] = field(default_factory=lambda: list(WHERE))
    motion: int = 3  # N > 0: the paddle's last N tick-to-tick moves, each divided by the
    # longest move a tick allows (``MAX_MOVE``): the commands the paddle just followed, so a
    # key held down reads as 1, not as a small difference of two positions; 0: none (mirrors
    # saved before it existed)
    max_move: float = MAX_MOVE  # the paddle's longest move in one tick, in view units
    num_features: int = NUM_FEATURES  # feature columns per tick (from the contract)
    num_bins: int = NUM_BINS  # command bins it scores
    normalize: bool = True  # inputs clamped to the play trained on and scaled
    # (``models.inputs``); mirrors saved before it existed have it off


class MLP(nn.Module):
    architecture = "mlp"

    def __init__(self, config: MLPConfig) -> None:
        super().__init__()
        self.config = config
        if config.embed < 0:
            raise ValueError(f"embed must be 0 (none) or positive, got embed={config.embed}")
        self.inputs = InputNorm(config.num_features, config.normalize)
        self.embed = nn.Linear(config.num_features, config.embed) if config.embed else None
        layers: list[nn.Module] = []
        if not config.taps or not all(0 <= t < HISTORY for t in config.taps):
            raise ValueError(f"taps must be one or more of 0..{HISTORY - 1}, got {config.taps}")
        self.register_buffer(
            "index",
            torch.tensor(
                [HISTORY - 1 - t for t in sorted(config.taps, reverse=True)], dtype=torch.long
            ),
        )
        if not set(config.dense) <= set(FLAGS) or len(set(config.dense)) != len(config.dense):
            raise ValueError(
                "dense must be flag columns, each once ("
                + ", ".join(f"{name} {COLUMN[name]}" for name in FLAG_NAMES)
                + f"), got {config.dense}"
            )
        self.register_buffer("columns", torch.tensor(config.dense, dtype=torch.long))
        # A flag is 0 or 1, inside any range of play: scaled as InputNorm would, never clamped.
        scale = [1.0 / SPREAD[c] if config.normalize else 1.0 for c in config.dense]
        offset = [-CENTRE[c] / SPREAD[c] if config.normalize else 0.0 for c in config.dense]
        self.register_buffer("flag_scale", torch.tensor(scale, dtype=torch.float32))
        self.register_buffer("flag_offset", torch.tensor(offset, dtype=torch.float32))
        if not 0 <= config.periodic <= MAX_PERIODIC:
            raise ValueError(
                f"periodic must be 0 (none) to {MAX_PERIODIC} frequencies, got {config.periodic}"
            )
        columns = config.periodic_columns
        known = set(range(config.num_features))
        if not set(columns) <= known or len(set(columns)) != len(columns):
            raise ValueError(
                f"periodic_columns must be feature columns (0..{config.num_features - 1}), "
                f"each once, got {columns}"
            )
        turns = [0.5 * math.pi * 2.0**k for k in range(config.periodic)]
        self.register_buffer("frequencies", torch.tensor(turns, dtype=torch.float32))
        self.register_buffer("periodic_columns", torch.tensor(columns, dtype=torch.long))
        width = len(config.taps) * (config.embed or config.num_features)
        width += HISTORY * len(config.dense)
        width += 2 * len(turns) * len(columns)
        if not 0 <= config.motion <= MAX_MOTION:
            raise ValueError(f"motion must be 0 (none) to {MAX_MOTION} moves, got {config.motion}")
        if not (math.isfinite(config.max_move) and config.max_move > 0.0):
            raise ValueError(f"max_move must be a positive number, got {config.max_move}")
        width += config.motion
        # tick-to-tick differences of the newest motion + 1 positions as one product (the
        # game runs no Sub: ``game.mirror_opponent.ALLOWED_OPS``)
        moves = torch.zeros(config.motion + 1, config.motion)
        for k in range(config.motion):
            moves[k, k], moves[k + 1, k] = -1.0 / config.max_move, 1.0 / config.max_move
        self.register_buffer("moves", moves)
        for hidden in config.hidden:
            layers += [nn.Linear(width, hidden), nn.GELU()]
            width = hidden
        layers.append(nn.Linear(width, config.num_bins))
        self.net = nn.Sequential(*layers)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """obs (B, HISTORY, F) -> logits (B, NUM_BINS) for the newest tick."""
        tapped = self.inputs(obs[:, self.index, :])  # (B, taps, F), oldest first
        parts = [self.read(tapped)]
        if self.config.dense:
            every = obs[:, :, self.columns] * self.flag_scale + self.flag_offset  # (B, HISTORY, D)
            parts.append(every.flatten(1))
        if self.config.periodic and self.config.periodic_columns:
            newest = tapped[:, -1, self.periodic_columns]  # the newest tick read: (B, P)
            turned = newest[:, :, None] * self.frequencies  # (B, P, N)
            parts += [torch.sin(turned).flatten(1), torch.cos(turned).flatten(1)]
        if self.config.motion:
            paddle = obs[:, -1 - self.config.motion :, PADDLE]  # (B, motion + 1), oldest first
            parts.append(paddle @ self.moves)
        return self.net(parts[0] if len(parts) == 1 else torch.cat(parts, dim=1))

    def read(self, recent: torch.Tensor) -> torch.Tensor:
        """The tapped ticks (B, taps, F) flattened, each through the shared embedding if any."""
        if self.embed is None:
            return recent.flatten(1)
        return self.embed(recent).flatten(1)  # embed: (B, ticks, embed)

    def training_logits(self, obs: torch.Tensor) -> torch.Tensor:
        """Logits for every tick that has a target in training: just the newest. (B, 1, bins)"""
        return self.forward(obs).unsqueeze(1)
