"""How a mirror turns scores into commands: argmax, or seeded draws at a temperature."""

import math
import random

import pytest

from game.playback import ARGMAX, HELD, SAMPLE, BinPicker, Playback, argmax, refine, sample


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


def test_nucleus_sampling_draws_only_the_likeliest_bins_that_hold_the_share():
    """Probabilities 0.5, 0.3, 0.15, 0.05: a top-p of 0.75 keeps the first two (0.8), drawn
    in their own proportion 5:3; the two unlikely bins are never played."""
    scores = [math.log(p) for p in (0.5, 0.3, 0.15, 0.05)] + [-80.0] * 17
    rng = random.Random(0)
    counts = [0] * 21
    for _ in range(20000):
        counts[sample(scores, 1.0, rng, top_p=0.75)] += 1
    assert counts[2] == counts[3] == 0
    assert counts[0] / 20000 == pytest.approx(0.5 / 0.8, abs=0.02)
    picker = BinPicker(Playback(SAMPLE, 1.0, seed=1, top_p=0.75))
    picker.reset(0)
    assert {picker.pick(scores) for _ in range(2000)} == {0, 1}
    assert Playback(SAMPLE, 1.0, top_p=0.75).describe() == "sample T=1 top-p=0.75"


def test_bad_playbacks_are_refused_with_the_value():
    with pytest.raises(ValueError, match="by='best'"):
        Playback("best")
    for temperature in (-0.5, math.inf, math.nan):
        with pytest.raises(ValueError, match="temperature="):
            Playback(SAMPLE, temperature)
    for top_p in (0.0, 1.5, math.nan):
        with pytest.raises(ValueError, match="top_p="):
            Playback(SAMPLE, 1.0, top_p=top_p)


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


def _held_picks(rows, directions, seed=1, match_seed=5):
    picker = BinPicker(Playback(HELD, 1.0, seed=seed))
    picker.reset(match_seed)
    picks = []
    for row, vx in zip(rows, directions, strict=True):
        picker.see(vx)
        picks.append(picker.pick(row))
    return picks


def test_held_draws_keep_their_chance_until_the_ball_turns():
    """With the same scores every tick, a fresh draw each tick flickers between bins; a held
    draw plays one bin until the ball turns, and is reproducible from its seeds."""
    scores = [0.0] * 21  # every bin as likely: a fresh draw lands anywhere
    rows = [scores] * 120
    directions = [-1.0] * 60 + [1.0] * 60  # the ball turns once, at tick 60
    turned = 0
    for match in range(50):
        held = _held_picks(rows, directions, match_seed=match)
        assert len(set(held[:60])) == 1 and len(set(held[60:])) == 1
        assert held == _held_picks(rows, directions, match_seed=match)
        turned += held[0] != held[60]  # a new draw after the turn: 1 in 21 the same bin
    assert turned >= 40
    assert len(set(_picks(Playback(SAMPLE, 1.0, seed=1), rows))) > 10


def test_a_held_draw_moves_when_the_chance_of_moving_passes_it():
    """A player pressing a key at a random time: the chance that it is down by now grows
    over the ticks. A held draw presses once, when that chance passes it; over many balls
    the presses come when the chances say (here, half of them by tick 10)."""

    def scores(tick):  # bin 20 (down) has a chance of min(1, tick / 20), bin 10 the rest
        down = min(1.0, tick / 20)
        row = [-50.0] * 21
        row[20] = math.log(down) if down > 0 else -50.0
        row[10] = math.log(1.0 - down) if down < 1 else -50.0
        return row

    first_presses = []
    for ball in range(400):
        picks = _held_picks([scores(t) for t in range(25)], [-1.0] * 25, match_seed=ball)
        first_presses.append(picks.index(20))
        assert all(pick == 20 for pick in picks[picks.index(20) :])  # once down, it stays down
    by_tick_10 = sum(tick <= 10 for tick in first_presses) / len(first_presses)
    assert 0.43 < by_tick_10 < 0.57


def test_sampling_draws_the_same_whether_or_not_the_ball_turns():
    """Only held draws on a turn: a sampled match replays as before the held playback."""
    rows = _rows()
    picker = BinPicker(Playback(SAMPLE, 1.0, seed=1))
    picker.reset(5)
    turning = []
    for index, row in enumerate(rows):
        picker.see(1.0 if index % 7 < 3 else -1.0)
        turning.append(picker.pick(row))
    assert turning == _picks(Playback(SAMPLE, 1.0, seed=1), rows)


def test_auto_draws_at_the_models_own_temperature_or_the_fallback():
    """The default playback draws at the temperature the playing model carries (found for
    its player's jitter); without one, or one out of range, at 0.5; a set one always wins."""
    from game.playback import AUTO, DEFAULT_PLAYBACK, FALLBACK_TEMPERATURE

    assert DEFAULT_PLAYBACK.temperature is AUTO and DEFAULT_PLAYBACK.describe() == "sample T=auto"
    rows = _rows()
    picker = BinPicker(Playback(SAMPLE, AUTO, seed=1))
    for metadata, expected in [
        ({"temperature": "1.4"}, 1.4),
        ({}, FALLBACK_TEMPERATURE),
        ({"temperature": "40"}, FALLBACK_TEMPERATURE),
        ({"temperature": "nan"}, FALLBACK_TEMPERATURE),
    ]:
        picker.use_model(metadata)
        assert picker.temperature == expected
    picker.use_model({"temperature": "1.4"})
    picker.reset(5)
    assert [picker.pick(row) for row in rows] == _picks(Playback(SAMPLE, 1.4, seed=1), rows)
    fixed = BinPicker(Playback(SAMPLE, 0.7))
    fixed.use_model({"temperature": "1.4"})
    assert fixed.temperature == 0.7
