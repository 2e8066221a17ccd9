"""Style as distributions: a player against itself is ~0 apart, two players far apart."""

import numpy as np
import pytest
from scipy.stats import wasserstein_distance

from game.personas import load_persona
from learner.style import FIGURES, _w1, compare, format_comparison, play_style

MINUTES = 8.0  # enough rallies for the comparisons below, about a second each


@pytest.fixture(scope="module")
def keyboard():
    return play_style(load_persona("keyboard"), MINUTES, [1, 2])


def test_every_figure_has_samples_each_tagged_with_a_rally(keyboard):
    for figure in FIGURES:
        values, rallies = keyboard.arrays(figure.name)
        assert len(values) >= (5 if figure.name == "rally_length" else 30), figure.name
        assert len(rallies) == len(values) and rallies.min() >= 0
        assert rallies.max() < keyboard.rallies
    reactions, _ = keyboard.arrays("reaction_s")
    # Its reaction time is drawn per match from 150-250 ms, and it presses only when off target.
    assert np.median(reactions) >= 0.15
    assert set(np.unique(keyboard.arrays("returned")[0])) <= {0.0, 1.0}
    assert abs(keyboard.minutes - MINUTES) < 0.01


def test_a_player_who_turns_on_the_first_tick_of_an_approach_reacts_in_0_s(keyboard):
    """The predictor heads for the intercept the tick the ball turns toward it; its reaction
    is 0 s (not the time until it arrives and lets go), the keyboard player's is not."""
    reactions, _ = play_style(load_persona("predictor"), 2.0, [1]).arrays("reaction_s")
    assert len(reactions) >= 30
    assert np.median(reactions) == 0.0
    assert np.min(keyboard.arrays("reaction_s")[0]) > 0.0


def test_the_reaction_delay_splits_into_whether_it_moves_and_how_soon(keyboard):
    """The keyboard player leaves some balls to a paddle already close enough: it moves for
    most balls, not all, and when it moves it has waited about its reaction time. The
    predictor moves for more of them, at once; the parts show it, outside the distance."""
    reacts, _ = keyboard.arrays("reacts")
    when, _ = keyboard.arrays("reaction_when_s")
    assert len(reacts) == len(keyboard.arrays("reaction_s")[0])
    assert set(np.unique(reacts)) == {0.0, 1.0} and len(when) == reacts.sum()
    assert 0.6 < reacts.mean() < 0.97
    assert np.median(when) >= 0.15
    predictor = play_style(load_persona("predictor"), 2.0, [1])
    result = compare(keyboard, predictor, resamples=50)
    parts = result["reaction_parts"]
    assert parts["reacts"]["rel_error"] > 0.03  # moves for more of the balls
    assert parts["reaction_when_s"]["rel_error"] < -0.5  # and sooner
    assert set(result["figures"]) == {figure.name for figure in FIGURES}
    table = "\n".join(format_comparison(result))
    assert "(moves for the ball)" in table and "(delay when it moves)" in table


def test_a_persona_against_itself_under_other_seeds_is_near_zero(keyboard):
    again = play_style(load_persona("keyboard"), MINUTES, [11, 12])
    result = compare(keyboard, again, resamples=200)
    assert result["style_distance"] < 0.2, result["style_distance"]  # different: > 1
    low, high = result["style_distance_ci"]
    assert low <= result["style_distance"] <= high
    assert result["figures_left_out"] == []


def test_two_different_personas_are_far_apart(keyboard):
    chaser = play_style(load_persona("chaser"), MINUTES, [1, 2])
    result = compare(keyboard, chaser, resamples=200)
    assert result["style_distance"] > 1.0, result["style_distance"]
    low, _ = result["style_distance_ci"]
    assert low > 0.5
    returned = result["figures"]["returned"]
    assert returned["persona_mean"] > returned["clone_mean"]  # the chaser misses more
    assert returned["rel_error"] < 0 and returned["rel_error_ci"][1] < 0


def test_comparison_is_reproducible_from_its_seed(keyboard):
    chaser = play_style(load_persona("chaser"), 1.0, [1])
    assert compare(keyboard, chaser, 50, seed=3) == compare(keyboard, chaser, 50, seed=3)


def test_the_distance_is_scipys_wasserstein_distance():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=40), rng.exponential(size=60)
    ones, zeros = np.ones((1, 40)), np.zeros((1, 60))
    ours = _w1(np.concatenate([a, b]), np.hstack([ones, zeros]), np.hstack([1 - ones, 1 - zeros]))
    assert ours[0] == pytest.approx(wasserstein_distance(a, b))


def test_resamples_must_be_positive(keyboard):
    with pytest.raises(ValueError, match="resamples=0"):
        compare(keyboard, keyboard, resamples=0)
