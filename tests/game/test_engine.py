"""Engine invariants over thousands of seeds, determinism, and the engine's purity."""

import math
import random
import subprocess
import sys

import pytest

from game.engine import (
    DEFAULT_PARAMS,
    LEFT,
    RIGHT,
    Params,
    State,
    mirror,
    new_match,
    step,
    view,
)

SEEDS = 5000
TICKS_PER_SEED = 240  # about four seconds of play per seed: serve plus a rally or two


def random_commands(rng: random.Random):
    """Erratic players: random holds, bursts and out-of-range values."""
    left = right = 0.0
    while True:
        if rng.random() < 0.1:
            left = rng.choice([-1.0, 0.0, 1.0, rng.uniform(-1.5, 1.5)])
        if rng.random() < 0.1:
            right = rng.choice([-1.0, 0.0, 1.0, rng.uniform(-1.5, 1.5)])
        yield left, right


def tracking_command(state: State, side: str, params: Params) -> float:
    """A paddle that follows the ball: produces long, fast rallies."""
    own = state.left_y if side == LEFT else state.right_y
    return max(-1.0, min(1.0, (state.ball_y - own) * 30))


def assert_invariants(state: State, params: Params) -> None:
    r = params.ball_radius
    tol = 1e-9
    assert r - tol <= state.ball_y <= params.court_height - r + tol, state
    left_face = params.paddle_inset
    right_face = params.court_width - params.paddle_inset
    # The ball never overlaps a paddle: it stays in front of both faces.
    assert left_face + r - tol <= state.ball_x <= right_face - r + tol, state
    h = params.paddle_half_height
    assert h <= state.left_y <= params.court_height - h
    assert h <= state.right_y <= params.court_height - h
    assert math.hypot(state.ball_vx, state.ball_vy) <= params.max_speed + tol


def test_invariants_over_many_seeds():
    params = DEFAULT_PARAMS
    wall_bounces = hits = points = 0
    for seed in range(SEEDS):
        rng = random.Random(seed)
        commands = random_commands(rng)
        state = new_match(seed, params)
        track = seed % 2 == 0
        for _ in range(TICKS_PER_SEED):
            if track:
                left = tracking_command(state, LEFT, params)
                right = tracking_command(state, RIGHT, params)
            else:
                left, right = next(commands)
            before = state
            state, events = step(state, left, right, params)
            assert_invariants(state, params)
            kinds = [event.kind for event in events]
            if kinds and all(kind == "wall" for kind in kinds):
                wall_bounces += 1
                # A wall bounce flips vy and keeps speed exactly.
                assert math.hypot(state.ball_vx, state.ball_vy) == math.hypot(
                    before.ball_vx, before.ball_vy
                )
                assert state.ball_vx == before.ball_vx
                assert state.ball_vy == -before.ball_vy
            hits += kinds.count("hit")
            points += kinds.count("miss")
    # The sweep really exercised the physics.
    assert wall_bounces > 1000 and hits > 1000 and points > 1000


def test_fast_ball_never_tunnels_through_a_paddle():
    # Balls far faster than any rally, up to several court crossings per tick, still hit
    # every paddle that stands in their way.
    rng = random.Random(0)
    for speed in (5.0, 50.0, 150.0, 400.0):
        params = Params(max_speed=speed, speedup=1.0)
        for _ in range(200):
            y = rng.uniform(
                params.paddle_half_height, params.court_height - params.paddle_half_height
            )
            state = new_match(0, params)._replace(
                serve_ticks=0,
                ball_x=rng.uniform(0.2, 1.4),
                ball_y=y,
                ball_vx=rng.choice([-speed, speed]),
                ball_vy=0.0,
                left_y=y,
                right_y=y,
            )
            hits = 0
            for _ in range(40):
                state, events = step(state, 0, 0, params)
                assert_invariants(state, params)
                assert not any(event.kind == "miss" for event in events), state
                hits += sum(event.kind == "hit" for event in events)
            assert hits >= 1


def test_wall_bounce_keeps_the_overshoot():
    params = DEFAULT_PARAMS
    r = params.ball_radius
    state = new_match(0, params)._replace(
        serve_ticks=0, ball_x=0.8, ball_y=r + 0.005, ball_vx=0.0, ball_vy=-0.6
    )
    state, events = step(state, 0, 0, params)
    travel = 0.6 * params.dt  # 0.01: 0.005 to the wall, 0.005 back out
    assert [e.kind for e in events] == ["wall"]
    assert state.ball_y == pytest.approx(r + travel - 0.005, abs=1e-12)
    assert state.ball_vy == 0.6


def test_return_angle_depends_on_where_the_ball_meets_the_paddle():
    params = DEFAULT_PARAMS
    angles = []
    for offset in (-0.8, 0.0, 0.8):
        state = new_match(0, params)._replace(
            serve_ticks=0,
            ball_x=params.paddle_inset + params.ball_radius + 0.005,
            ball_y=0.5 + offset * (params.paddle_half_height + params.ball_radius),
            ball_vx=-1.0,
            ball_vy=0.0,
            left_y=0.5,
        )
        state, events = step(state, 0, 0, params)
        assert [e.kind for e in events] == ["hit"]
        angles.append(math.atan2(state.ball_vy, state.ball_vx))
        assert math.hypot(state.ball_vx, state.ball_vy) == pytest.approx(params.speedup)
    assert angles[0] < -0.5 and abs(angles[1]) < 1e-12 and angles[2] > 0.5


def test_serves_alternate_and_are_seeded():
    params = DEFAULT_PARAMS
    directions = []
    state = new_match(7, params)
    for _ in range(params.serve_delay_ticks * 6 + 2000):
        state, events = step(state, 0, 0, params)
        directions += [e.side for e in events if e.kind == "serve"]
    assert len(directions) >= 4
    assert all(a != b for a, b in zip(directions, directions[1:], strict=False))
    first_angles = set()
    for seed in range(20):
        s = new_match(seed, params)
        for _ in range(params.serve_delay_ticks):
            s, _ = step(s, 0, 0, params)
        first_angles.add(round(math.atan2(s.ball_vy, abs(s.ball_vx)), 9))
    assert len(first_angles) == 20


def test_match_ends_at_the_configured_score():
    params = Params(points_to_win=3)
    state = new_match(3, params)
    over = []
    for _ in range(20000):
        state, events = step(state, 0, 0, params)  # nobody moves: every serve scores
        over += [e for e in events if e.kind == "match_over"]
        if state.winner:
            break
    assert state.winner != 0 and len(over) == 1
    assert max(state.score_left, state.score_right) == 3
    frozen, events = step(state, 1, 1, params)
    assert events == () and frozen._replace(tick=state.tick) == state


def test_same_seed_and_commands_give_identical_states():
    for seed in range(50):
        runs = []
        for _ in range(2):
            rng = random.Random(seed)
            state = new_match(seed, DEFAULT_PARAMS)
            states = []
            for _ in range(1500):
                state, _ = step(state, rng.uniform(-1, 1), rng.uniform(-1, 1))
                states.append(state)
            runs.append(states)
        assert runs[0] == runs[1]
    a, b = new_match(1), new_match(2)
    for _ in range(DEFAULT_PARAMS.serve_delay_ticks):
        a, _ = step(a, 0, 0)
        b, _ = step(b, 0, 0)
    assert (a.ball_vx, a.ball_vy) != (b.ball_vx, b.ball_vy)


def test_nan_and_out_of_range_commands_are_harmless():
    state = new_match(0)
    a, _ = step(state, float("nan"), 5.0)
    b, _ = step(state, 0.0, 1.0)
    assert a == b


def test_view_is_the_same_function_for_both_sides():
    rng = random.Random(0)
    state = new_match(11)
    for _ in range(3000):
        state, _ = step(state, rng.uniform(-1, 1), rng.uniform(-1, 1))
        mirrored = mirror(state)
        for own, other in ((LEFT, RIGHT), (RIGHT, LEFT)):
            assert view(state, own) == pytest.approx(view(mirrored, other), abs=1e-12)
    v = view(state, LEFT)
    assert 0 <= v.ball_x <= 1 and 0 <= v.ball_y <= 1 and v.dt == pytest.approx(1 / 60)
    with pytest.raises(ValueError, match="side must be"):
        view(state, "up")


def test_ball_approaching_means_negative_vx_in_the_view():
    state = new_match(0)._replace(serve_ticks=0, ball_vx=-1.0)
    assert view(state, LEFT).ball_vx < 0 and view(state, RIGHT).ball_vx > 0


def test_engine_imports_no_pygame_torch_or_web_stack():
    code = (
        "import sys, game.engine, game.session, game.recording, game.replay\n"
        "bad = [m for m in ('pygame', 'torch', 'aiohttp', 'onnxruntime') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
