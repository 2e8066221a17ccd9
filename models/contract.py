"""The ONNX contract between the exporter (learner) and the opponent runtime (game).

Torch-free on purpose: the game imports this module and nothing else from models/.

A mirror model takes ``obs`` float32 of shape (batch, HISTORY, NUM_FEATURES): the feature
rows of the last HISTORY ticks as the player saw them, oldest first, newest last. It returns
``logits`` float32 of shape (batch, NUM_BINS): scores over COMMAND_BINS for the command the
player gives at the newest tick. The command played is the bin with the highest score.

Why bins rather than one regressed number: players mix decisive moves (full up, full down,
stay) with fine corrections; a regression averages such modes into a command nobody plays,
a distribution over bins keeps them (measured in DESIGN.md: 0.82 vs 0.53 agreement).
"""

from __future__ import annotations

CONTRACT_VERSION = 2
FEATURE_VERSION = 1
OPSET = 17

ARCHITECTURES = ("mlp", "transformer")
"""The mirror architectures (``models/registry.py`` builds them; the command line and the
learning panel offer them). The first is the default."""

INPUT_NAME = "obs"
OUTPUT_NAME = "logits"

HISTORY = 24  # ticks of history per observation (400 ms at 60 Hz: longer than a reaction)
FEATURE_NAMES = (
    "ball_x",  # 0 at my goal line, 1 at the opponent's
    "ball_y",  # 0 top, 1 bottom
    "ball_vx",  # per second; negative: coming at me
    "ball_vy",
    "paddle_y",
    "opponent_y",
    "ball_minus_paddle",  # ball_y - paddle_y
    "approaching",  # 1 while the ball comes toward me
    "serving",  # 1 while the ball waits to be served
    "time_to_reach",  # seconds until the ball reaches my paddle's face (capped), 0 if receding
    "intercept_y",  # where the ball will cross my face line, wall bounces folded in
    "intercept_minus_paddle",
)
NUM_FEATURES = len(FEATURE_NAMES)
COLUMN = {name: index for index, name in enumerate(FEATURE_NAMES)}
"""A feature's column in an observation row, by name: ``obs[..., COLUMN["approaching"]]``."""

NUM_BINS = 21
COMMAND_BINS = tuple(-1.0 + 2.0 * i / (NUM_BINS - 1) for i in range(NUM_BINS))

AGREEMENT_TOLERANCE = 0.25  # |model command - player command| <= this counts as agreeing

# Keys of the metadata every exported model carries (ONNX metadata_props; values are strings,
# "config" is JSON).
METADATA_KEYS = (
    "contract_version",
    "architecture",
    "config",
    "feature_version",
    "training_frames",
    "validation_agreement",
    "model_version",
)


def command_from_bin(index: int) -> float:
    return COMMAND_BINS[index]


def bin_from_command(command: float) -> int:
    """Nearest bin to a command in [-1, 1]."""
    command = max(-1.0, min(1.0, command))
    return int(round((command + 1.0) * 0.5 * (NUM_BINS - 1)))
