"""How a mirror turns its model's scores into the command it plays.

A mirror model scores the 21 command bins (``models.contract.COMMAND_BINS``) for what the
player would do now. ``argmax`` plays the most likely bin every tick: the player's average
habit, never their variety. ``sample`` draws a bin from the predicted distribution,
softened or sharpened by a temperature (scores divided by it before the softmax: 1 is the
model's own distribution, towards 0 it becomes argmax), from a generator seeded by the
playback's seed and the match's, so a match replays exactly. What is measured best (``bench
fidelity``/``stylometry``'s style distance, see ``DEFAULT_PLAYBACK``) is the default:
sampling at the model's own temperature (``temperature=None``, "auto"): the one its trainer
found makes the mirror as jittery as the player (``learner.calibration``), carried in the
model file's metadata; a model without one samples at ``FALLBACK_TEMPERATURE``, 0.5.

Either way the bin picked is then refined (``refine``, on unless ``refine=False``): the mirror
plays the mean of that bin and its two neighbours, weighted by their probabilities. A model
trained on two-hot targets (``TrainerConfig.two_hot``) shares a command between the two bins
either side of it, so this gives back the player's command finer than the bins' 0.1 steps:
a player who steers smoothly is copied smoothly, not in steps.

Agreement (``game.mirror_opponent.agreement``) always scores the model's best guess
(``commands_from_logits``: the bin the player's command most likely lies within the
agreement tolerance of; for a steady player, the argmax bin): playback changes how a mirror
plays, not how it is judged.

Pure Python on 21 floats a tick (a few microseconds), and light: the command line imports
it for its defaults without loading numpy.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

from models.contract import COMMAND_BINS  # plain Python: no numpy

ARGMAX = "argmax"
SAMPLE = "sample"
HELD = "held"
PLAY_BY = (ARGMAX, SAMPLE, HELD)
AUTO = None  # Playback.temperature: the model's own (its metadata), else the fallback
FALLBACK_TEMPERATURE = 0.5  # what a model without a temperature of its own samples at
TEMPERATURE_RANGE = (0.05, 4.0)  # a model's own temperature must lie here (checked on load)


def model_temperature(metadata: dict[str, str]) -> float | None:
    """The temperature a model file carries (``temperature`` in its metadata), or None when it
    carries none. The game's checks (``game.mirror_opponent.check_metadata``) refuse a model
    whose temperature is not a number in ``TEMPERATURE_RANGE``; this reads a checked one."""
    text = metadata.get("temperature")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    low, high = TEMPERATURE_RANGE
    return value if low <= value <= high else None


@dataclass(frozen=True)
class Playback:
    by: str = ARGMAX  # ARGMAX, SAMPLE or HELD
    temperature: float | None = 1.0  # SAMPLE, HELD: scores / temperature before the
    # softmax; AUTO (None): the model's own (``model_temperature``), else FALLBACK_TEMPERATURE
    seed: int = 0  # SAMPLE, HELD: with each match's seed, the draws' seed
    refine: bool = True  # play the local mean around the bin picked (``refine``), not the bin
    top_p: float = 1.0  # SAMPLE, HELD: draw only among the likeliest bins that together
    # hold this share of the probability (nucleus sampling); 1: every bin

    def __post_init__(self) -> None:
        if self.by not in PLAY_BY:
            raise ValueError(f"playback must be one of {', '.join(PLAY_BY)}, got by={self.by!r}")
        if self.temperature is not AUTO and not (
            math.isfinite(self.temperature) and self.temperature >= 0.0
        ):
            raise ValueError(
                f"temperature must be a finite number >= 0, got temperature={self.temperature}"
            )

        if not (math.isfinite(self.top_p) and 0.0 < self.top_p <= 1.0):
            raise ValueError(f"top_p must be a share above 0, at most 1, got top_p={self.top_p}")

    def describe(self) -> str:
        auto = self.temperature is AUTO
        sampled = self.by != ARGMAX and (auto or self.temperature > 0.0)
        shown = "auto" if auto else f"{self.temperature:g}"
        how = f"{self.by} T={shown}" if sampled else "argmax"
        if sampled and self.top_p < 1.0:
            how += f" top-p={self.top_p:g}"
        return how if self.refine else f"{how}, bin centres"


# Measured (docs/playback.md: 8 personas x 2 seeds, clones of 10 simulated minutes, style
# distance over 20 minutes each, every playback refined), twice. Earlier: 0.188 by argmax,
# 0.151 sampling at 0.5 (argmax - 0.037, 95% interval [-0.078, -0.003] over the 16 runs),
# 0.147 at 1. With the averaged weights (``TrainerConfig.average``): 0.163 by argmax, 0.136
# at 0.5 (argmax - 0.027, [-0.067, +0.011]), 0.115 at 1 (argmax - 0.049, [-0.109, +0.005];
# 1 against 0.5: -0.021, [-0.049, +0.007]). Sampling takes most of its gain on the players
# with noise in every tick (nervous, pointer) for a little on the steadiest (angler). 1 has
# had the lower mean both times but no interval excludes 0; 0.5 stays, between the two.
# With the paddle's moves read (``models.mlp.MLPConfig.motion``, out/playback9): 0.138 by
# argmax, 0.107 at 0.5 (argmax - 0.031, [-0.053, -0.012]: the first interval to exclude 0),
# 0.103 at 1 (1 against 0.5: -0.004, [-0.031, +0.021], lower in 7 of 16). 0.5 stays.
# ``held`` at 1, measured once (seed 0, the same 10-minute clones as docs/playback.md,
# style distance; sampling at 0.5 in brackets): angler 0.253 (0.326), keyboard 0.137 (0.117,
# though its clone's reaction delay is -0.13 off the player's where sampling's is -0.19),
# nervous 0.451 (0.095), pointer 0.660 (0.336): nearer for a player whose chance is drawn
# once a ball, far further for one whose hand trembles every tick. Not the default.
# Nucleus sampling (``top_p``) at 1, the same 16 clones as out/playback9 (`bench fidelity
# --persona P --minutes 10 --seed S --temperature 1 --top-p P`): 0.107 with 0.9 (against
# 0.5: -0.000, [-0.017, +0.020]), 0.135 with 0.75 (+0.027, [+0.010, +0.047]). Cutting the
# unlikely commands takes back more of the variety sampling at 1 gives (the jitter's mean
# distance 0.16 at 1, 0.22 with 0.9, 0.26 with 0.75) than it saves of the balls returned
# (0.11, 0.09, 0.08). Not the default.
# A temperature of each model's own, matched to its player's jitter (``learner.calibration``),
# on the same 16 clones (docs/playback.md, `bench report --from out/playback10`): 0.082
# against 0.107 at 0.5 (-0.025, [-0.050, -0.004]) and 0.103 at 1 (-0.021), nearest in 8 of
# 16; the jitter's mean distance 0.10 (0.26 at 0.5, 0.16 at 1) with the balls returned at
# 0.08 (0.06 at 0.5, 0.11 at 1). The trembling hands draw at 1.4, the steady players at 0.25.
DEFAULT_PLAYBACK = Playback(SAMPLE, AUTO)


def argmax(scores: Sequence[float]) -> int:
    best, best_score = 0, scores[0]
    for index, score in enumerate(scores):
        if score > best_score:
            best, best_score = index, score
    return best


def sample(
    scores: Sequence[float], temperature: float, rng: random.Random, top_p: float = 1.0
) -> int:
    """A bin drawn with probability softmax(scores / temperature); argmax at 0."""
    if temperature == 0.0:
        return argmax(scores)
    return quantile(scores, temperature, rng.random(), top_p)


def quantile(scores: Sequence[float], temperature: float, u: float, top_p: float = 1.0) -> int:
    """The first bin, in command order, whose cumulative softmax(scores / temperature)
    passes ``u`` in [0, 1): ``sample``'s draw with the uniform given; argmax at 0. With
    ``top_p`` below 1, only the likeliest bins that together hold that share count."""
    if temperature == 0.0:
        return argmax(scores)
    top = max(scores)
    # Shifted by the top score: the largest weight is 1, so nothing overflows; at a tiny
    # temperature every other weight underflows to 0 and the draw is the argmax.
    weights = [math.exp((score - top) / temperature) for score in scores]
    if top_p < 1.0:
        weights = nucleus(weights, top_p)
    draw = u * math.fsum(weights)
    for index, weight in enumerate(weights):
        draw -= weight
        if draw < 0.0:
            return index
    return argmax(scores)  # rounding left the draw at the very top


def nucleus(weights: list[float], top_p: float) -> list[float]:
    """``weights`` with all but the likeliest bins that hold ``top_p`` of the total zeroed."""
    keep = top_p * math.fsum(weights)
    held = 0.0
    kept = [0.0] * len(weights)
    for index in sorted(range(len(weights)), key=weights.__getitem__, reverse=True):
        kept[index] = weights[index]
        held += weights[index]
        if held >= keep:
            break
    return kept


def refine(scores: Sequence[float], index: int) -> float:
    """The mean command of bin ``index`` and its neighbours, weighted by softmax(scores)."""
    top = scores[index]
    total = weighted = 0.0
    for near in range(max(0, index - 1), min(len(scores), index + 2)):
        weight = math.exp(min(scores[near] - top, 50.0))  # the picked bin weighs 1
        total += weight
        weighted += weight * COMMAND_BINS[near]
    return weighted / total


def temperature_for(
    playback: Playback, metadata: dict[str, str], found: float | None = None
) -> tuple[float, str]:
    """(temperature, where it comes from) of a model playing with ``playback``: "set" (the
    playback names one), "own" (the model's file carries one, or its trainer has found one
    for the player since: ``found``), "default" (``FALLBACK_TEMPERATURE``)."""
    if playback.temperature is not AUTO:
        return playback.temperature, "set"
    own = model_temperature(metadata)
    if own is not None:
        return own, "own"
    if found is not None:
        return found, "own"
    return FALLBACK_TEMPERATURE, "default"


class BinPicker:
    """Picks a bin from each tick's scores as ``playback`` says; ``reset`` with each match's
    seed, so the draws of a match are the same whenever it is played again.

    ``held`` draws like ``sample`` but with one uniform held from one turn of the ball to the
    next (``see`` tells it the ball's direction each tick), as a person draws one reaction
    time per ball, not one every tick: fresh draws each tick add up, so any early chance of
    moving makes the first move come early, and a paddle near its target flickers."""

    def __init__(self, playback: Playback = DEFAULT_PLAYBACK) -> None:
        self.playback = playback
        self.temperature = FALLBACK_TEMPERATURE  # what the draws use (``use_model``)
        self.use_model({})
        self.reset(0)

    def use_model(self, metadata: dict[str, str], found: float | None = None) -> None:
        """The model now playing: with an AUTO playback, draw at its own temperature (else
        at ``found``, one its trainer has found since, else the fallback)."""
        self.temperature = temperature_for(self.playback, metadata, found)[0]

    def reset(self, seed: int) -> None:
        # A string seed is hashed with SHA-512 by random: stable across runs and platforms.
        self._rng = random.Random(f"{self.playback.seed}/{seed}")
        self._direction: int | None = None
        self._u = self._rng.random() if self.playback.by == HELD else 0.0

    def see(self, ball_vx: float) -> None:
        """The ball's horizontal speed this tick: a new draw is held when it turns."""
        if self.playback.by != HELD:
            return  # the other playbacks draw nothing here: their draws stay as they were
        direction = (ball_vx > 0.0) - (ball_vx < 0.0)
        if direction != self._direction:
            self._direction = direction
            self._u = self._rng.random()

    def pick(self, scores: Sequence[float]) -> int:
        if self.playback.by == ARGMAX:
            return argmax(scores)
        if self.playback.by == HELD:
            return quantile(scores, self.temperature, self._u, self.playback.top_p)
        return sample(scores, self.temperature, self._rng, self.playback.top_p)
