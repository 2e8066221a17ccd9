"""Features: identical for the two sides of a mirrored state, and one arithmetic everywhere."""

import random

import numpy as np

from game.engine import LEFT, RIGHT, mirror, new_match, step, view
from learner.features import Geometry, ObservationBuilder, features, view_features
from models.contract import FEATURE_NAMES, HISTORY, NUM_FEATURES


def _states(seed=0, ticks=4000):
    rng = random.Random(seed)
    state = new_match(seed)
    for _ in range(ticks):
        state, _ = step(state, rng.uniform(-1, 1), rng.uniform(-1, 1))
        yield state


def test_mirrored_states_give_the_same_features_to_the_other_side():
    geometry = Geometry.from_params()
    for state in _states():
        mirrored = mirror(state)
        left = view_features(view(state, LEFT), geometry)
        right_of_mirror = view_features(view(mirrored, RIGHT), geometry)
        np.testing.assert_allclose(left, right_of_mirror, atol=1e-6)


def test_scalar_and_vectorised_features_agree_exactly():
    geometry = Geometry.from_params()
    views = [view(state, side) for state in _states(3) for side in (LEFT, RIGHT)]
    columns = [
        np.array([getattr(v, name) for v in views])
        for name in ("ball_x", "ball_y", "ball_vx", "ball_vy", "paddle_y", "opponent_y")
    ]
    batch = features(*columns, geometry)
    single = np.stack([view_features(v, geometry) for v in views])
    assert batch.shape == (len(views), NUM_FEATURES)
    np.testing.assert_array_equal(batch, single)


def test_intercept_predicts_where_the_ball_meets_the_face_line():
    # A paddle parked at the predicted intercept meets the ball dead centre, bounces included.
    geometry = Geometry.from_params()
    intercept = FEATURE_NAMES.index("intercept_y")
    rng = random.Random(0)
    for _ in range(50):
        state = new_match(0)._replace(
            serve_ticks=0,
            ball_x=1.3,
            ball_y=rng.uniform(0.1, 0.9),
            ball_vx=-rng.uniform(0.6, 1.5),
            ball_vy=rng.uniform(-2.0, 2.0),
        )
        predicted = float(view_features(view(state, LEFT), geometry)[intercept])
        h = 0.09
        parked = min(max(predicted, h), 1 - h)
        for _ in range(200):
            state, events = step(state._replace(left_y=parked), 0.0, 0.0)
            hits = [e for e in events if e.kind == "hit" and e.side == LEFT]
            if hits or any(e.kind == "miss" for e in events):
                break
        assert hits, "the ball missed a paddle parked at the predicted intercept"
        if h < predicted < 1 - h:
            assert abs(hits[0].value) < 0.02


def test_history_window_pads_then_slides():
    builder = ObservationBuilder()
    states = list(_states(1, 40))
    first = builder.push(view(states[0], LEFT))
    assert first.shape == (HISTORY, NUM_FEATURES)
    assert (first == first[-1]).all()  # padded with the first row
    for state in states[1:]:
        window = builder.push(view(state, LEFT))
    expected = [view_features(view(s, LEFT), builder.geometry) for s in states[-HISTORY:]]
    np.testing.assert_array_equal(window, np.stack(expected))
