"""How a mirror turns scores into commands: argmax, or seeded draws at a temperature."""

import math
import random

import pytest

from game.playback import ARGMAX, SAMPLE, BinPicker, Playback, argmax, refine, sample


def _rows(count=300, seed=0):
    rng = random.Random(seed)
    return [[rng.gauss(0.0, 2.0) for _ in range(21)] for _ in range(count)]


def _picks(playback, rows, match_seed=5):
    picker = BinPicker(playback)
    picker.reset(match_seed)
    return [picker.pick(row) for row in rows]


def test_the_same_seed_draws_the_same_bins_and_another_seed_others():
    rows = _rows()
    first = _picks(Playback(SAMPLE, 1.0, seed=1), rows)
    assert first == _picks(Playback(SAMPLE, 1.0, seed=1), rows)
    assert first != _picks(Playback(SAMPLE, 1.0, seed=2), rows)
    assert first != _picks(Playback(SAMPLE, 1.0, seed=1), rows, match_seed=6)  # another match


def test_towards_temperature_zero_sampling_is_argmax():
    rows = _rows()
    best = [argmax(row) for row in rows]
    assert _picks(Playback(ARGMAX), rows) == best
    for temperature in (0.0, 1e-6, 1e-300):
        assert _picks(Playback(SAMPLE, temperature, seed=3), rows) == best
    assert _picks(Playback(SAMPLE, 1.0, seed=3), rows) != best  # at 1 it does vary


def test_draws_follow_the_softmax_of_the_scores_over_the_temperature():
    scores = [0.0, 1.0, 2.0] + [-50.0] * 18
    rng = random.Random(0)
    for temperature in (1.0, 0.5):
        counts = [0] * 21
        for _ in range(20000):
            counts[sample(scores, temperature, rng)] += 1
        weights = [math.exp(s / temperature) for s in scores[:3]]
        for index in range(3):
            assert counts[index] / 20000 == pytest.approx(weights[index] / sum(weights), abs=0.02)


def test_bad_playbacks_are_refused_with_the_value():
    with pytest.raises(ValueError, match="by='best'"):
        Playback("best")
    for temperature in (-0.5, math.inf, math.nan):
        with pytest.raises(ValueError, match="temperature="):
            Playback(SAMPLE, temperature)


def test_the_bin_picked_is_refined_to_the_mean_of_it_and_its_neighbours():
    """A model sure the command lies 80% of the way to bin 0.0 from 0.1 plays 0.02; a
    probability further than a bin away does not pull the command."""
    scores = [-50.0] * 21
    scores[10], scores[11] = math.log(0.8), math.log(0.2)
    assert refine(scores, 10) == pytest.approx(0.02)
    scores[15] = math.log(0.9)  # far away: another idea, not a nearer command
    assert refine(scores, 10) == pytest.approx(0.02)
    assert refine([0.0] + [-50.0] * 20, 0) == pytest.approx(-1.0)  # an edge has one neighbour
    assert Playback(refine=False).describe() == "argmax, bin centres"
