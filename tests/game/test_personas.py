"""Personas: the built-ins replay exactly from a seed and stay in range, users' own load by
name, file or module, and a misbehaving one is stopped or clamped as the README promises."""

import asyncio
import logging
import math
import statistics
import sys
import textwrap

import pytest

from game.engine import LEFT, RIGHT, Params, new_match, step, view
from game.opponent import ScriptedOpponent
from game.personas import (
    BUILT_IN,
    Chaser,
    CheckedPersona,
    PersonaError,
    intercept_y,
    load_persona,
    load_persona_class,
)
from game.session import Session, SimClock

PATIENT = textwrap.dedent(
    '''
    class Patient:
        """Waits in the middle until the ball is close, then lunges for it."""

        def reset(self, seed: int) -> None:
            self.lunges = 0

        def act(self, view) -> float:
            if view.ball_vx < 0 and view.ball_x < 0.3:
                return max(-1.0, min(1.0, (view.ball_y - view.paddle_y) * 20))
            return max(-1.0, min(1.0, (0.5 - view.paddle_y) * 5))


    def helper(view):
        return 0.0


    class NoAct:
        pass


    class NeedsArguments:
        def __init__(self, speed):
            self.speed = speed

        def act(self, view):
            return 0.0
    '''
)


def _played_views(seed: int, ticks: int) -> list:
    """Views of both sides from a real match: a chaser on the left, the clumsy tracker on
    the right, so rallies, misses and serves all happen."""
    left, right = Chaser(), ScriptedOpponent()
    left.reset(seed)
    right.reset(seed)
    state = new_match(seed)
    views = []
    for _ in range(ticks):
        left_view, right_view = view(state, LEFT), view(state, RIGHT)
        views += [left_view, right_view]
        state, _ = step(state, left.act(left_view), right.act(right_view))
    return views


@pytest.fixture(scope="module")
def played_views():
    views = _played_views(seed=3, ticks=1500)
    # The sequence must exercise both branches of every persona: ball coming and going.
    assert any(v.ball_vx < 0 for v in views) and any(v.ball_vx > 0 for v in views)
    return views


def _commands(name: str, seed: int, views) -> list[float]:
    persona = BUILT_IN[name]()
    persona.reset(seed)
    return [persona.act(v) for v in views]


@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_built_in_persona_replays_exactly_from_its_seed(name, played_views):
    first = _commands(name, 11, played_views)
    second = _commands(name, 11, played_views)
    assert first == second
    assert len(set(first)) > 1, f"{name} never changed its command: the check proves nothing"


def test_nervous_jitter_follows_the_seed(played_views):
    assert _commands("nervous", 1, played_views) != _commands("nervous", 2, played_views)


@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_built_in_persona_commands_stay_in_range(name, played_views):
    commands = _commands(name, 5, played_views)
    assert all(math.isfinite(c) and -1.0 <= c <= 1.0 for c in commands)


def test_built_in_persona_loads_by_name_checked_and_reset():
    for name, persona_class in BUILT_IN.items():
        assert load_persona_class(name) is persona_class
        persona = load_persona(name, seed=4)
        assert isinstance(persona, CheckedPersona)
        assert isinstance(persona.persona, persona_class)
        assert persona.label == name
    # load_persona resets with the seed it is given: nervous then jitters as seeded.
    views = _played_views(seed=0, ticks=200)
    loaded = load_persona("nervous", seed=4)
    assert [loaded.act(v) for v in views] == _commands("nervous", 4, views)


def test_persona_loads_from_a_file(tmp_path, monkeypatch):
    (tmp_path / "my_persona.py").write_text(PATIENT)
    absolute = load_persona(f"{tmp_path / 'my_persona.py'}:Patient")
    assert type(absolute.persona).__name__ == "Patient"
    monkeypatch.chdir(tmp_path)  # the README's form: a path relative to where you run
    relative = load_persona("my_persona.py:Patient")
    close_ball = view(new_match(0)._replace(ball_x=0.2, ball_y=0.8, ball_vx=-1.0), LEFT)
    assert relative.act(close_ball) == 1.0  # lunges down towards the ball


@pytest.fixture
def persona_package(tmp_path, monkeypatch):
    """An importable package ``mp_test_styles`` with the README's persona in it."""
    package = tmp_path / "mp_test_styles"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "calm.py").write_text(PATIENT)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "mp_test_styles"
    for name in [m for m in sys.modules if m.split(".")[0] == "mp_test_styles"]:
        del sys.modules[name]


def test_persona_loads_from_a_module(persona_package):
    persona = load_persona(f"{persona_package}.calm:Patient")
    assert type(persona.persona).__name__ == "Patient"
    assert persona.act(view(new_match(0), LEFT)) == 0.0  # paddle already in the middle


@pytest.mark.parametrize(
    "spec_of, says",
    [
        (lambda d: "champion", "expected a built-in name"),
        (lambda d: f"{d / 'absent.py'}:Patient", "no such file"),
        (lambda d: f"{d / 'styles.py'}:Missing", "has no Missing"),
        (lambda d: f"{d / 'styles.py'}:helper", "has no act"),
        (lambda d: f"{d / 'styles.py'}:NoAct", "has no act"),
        (lambda d: f"{d / 'styles.py'}:NeedsArguments", "could not be created"),
        (lambda d: f"{d / 'broken.py'}:Patient", "failed to load"),
        (lambda d: "mp_no_such_package.styles:Patient", "cannot import"),
    ],
)
def test_bad_spec_fails_with_a_message_naming_it(tmp_path, spec_of, says):
    (tmp_path / "styles.py").write_text(PATIENT)
    (tmp_path / "broken.py").write_text("class Patient(:\n")
    spec = spec_of(tmp_path)
    with pytest.raises(PersonaError) as error:
        load_persona(spec)
    assert repr(spec) in str(error.value)
    assert says in str(error.value)


class _FailsAt:
    """Plays sensibly, then at ``tick`` misbehaves in the given way."""

    def __init__(self, tick: int, bad) -> None:
        self.tick = tick
        self.bad = bad

    def act(self, view):
        return self.bad() if view.tick >= self.tick else 0.0


def _explode():
    raise ZeroDivisionError("the persona divided by zero")


def _strict_session(persona) -> Session:
    return Session(ScriptedOpponent(), seed=0, left_driver=persona, strict=True)


@pytest.mark.parametrize(
    "bad, says",
    [(_explode, "failed at tick 30: ZeroDivisionError"), (lambda: math.nan, "NaN at tick 30")],
)
def test_persona_that_raises_or_returns_nan_stops_a_strict_session(bad, says):
    session = _strict_session(CheckedPersona(_FailsAt(30, bad), "mine.py:Sloppy"))
    with pytest.raises(PersonaError) as error:
        asyncio.run(session.run(SimClock(), ticks=120))
    assert "'mine.py:Sloppy'" in str(error.value)
    assert says in str(error.value)
    assert session.state.tick == 30  # stopped at the tick it failed, not later


def test_out_of_range_command_is_clamped_with_one_warning(caplog):
    persona = CheckedPersona(_FailsAt(0, lambda: 7.5), "mine.py:Eager")
    session = _strict_session(persona)
    with caplog.at_level(logging.WARNING, logger="game.personas"):
        asyncio.run(session.run(SimClock(), ticks=120))
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "'mine.py:Eager'" in warnings[0].getMessage()
    assert "7.5" in warnings[0].getMessage()
    assert persona.act(view(session.state, LEFT)) == 1.0
    too_far_up = CheckedPersona(_FailsAt(0, lambda: -3.0), "up")
    assert too_far_up.act(view(session.state, LEFT)) == -1.0
    # Clamped to full speed down: after 120 ticks the left paddle rests on the bottom.
    params = session.params
    assert session.state.left_y == params.court_height - params.paddle_half_height


# A paddle as tall as the court: every ball is met, so the "hit" event says exactly where
# it crossed the face line. The face line and the walls are those of the default court.
_WALL_TO_WALL = Params(paddle_half_height=0.5)
_REACH = _WALL_TO_WALL.paddle_half_height + _WALL_TO_WALL.ball_radius


def _engine_crossing(state, side: str) -> tuple[float, int]:
    """Drive the engine until the ball meets ``side``'s face: where (court y), and after how
    many wall bounces."""
    bounces = 0
    for _ in range(600):
        state, events = step(state, 0.0, 0.0, _WALL_TO_WALL)
        for event in events:
            if event.kind == "wall":
                bounces += 1
            elif event.kind == "hit" and event.side == side:
                return 0.5 + event.value * _REACH, bounces
            elif event.kind in {"hit", "miss"}:
                raise AssertionError(f"unexpected {event} before the ball reached {side}")
    raise AssertionError("the ball never reached the face line")


@pytest.mark.parametrize(
    "ball_x, ball_y, ball_vx, ball_vy, side, bounces",
    [
        (1.2, 0.5, -0.9, 0.1, LEFT, 0),  # straight
        (1.2, 0.5, -0.9, 0.6, LEFT, 1),  # off the bottom wall
        (0.9, 0.3, -1.2, -0.7, LEFT, 1),  # off the top wall
        (1.2, 0.5, -0.9, -1.5, LEFT, 2),  # top, then bottom
        (0.4, 0.2, 0.8, 0.05, RIGHT, 0),  # the same from the other side
        (0.3, 0.7, 1.0, 1.1, RIGHT, 2),
    ],
)
def test_intercept_y_is_where_the_engine_ball_crosses_the_face_line(
    ball_x, ball_y, ball_vx, ball_vy, side, bounces
):
    state = new_match(0, _WALL_TO_WALL)._replace(
        serve_ticks=0, ball_x=ball_x, ball_y=ball_y, ball_vx=ball_vx, ball_vy=ball_vy
    )
    predicted = intercept_y(view(state, side, _WALL_TO_WALL))
    crossed, walls = _engine_crossing(state, side)
    assert walls == bounces
    assert predicted == pytest.approx(crossed, abs=1e-6)


def test_intercept_y_of_a_receding_ball_is_its_height():
    state = new_match(0)._replace(serve_ticks=0, ball_x=0.6, ball_y=0.3, ball_vx=0.9, ball_vy=0.4)
    assert intercept_y(view(state, LEFT)) == pytest.approx(0.3)


# -- the personas modelled on human play -------------------------------------------------------


def _view(**fields):
    from game.engine import View

    base = dict(
        ball_x=0.5, ball_y=0.5, ball_vx=0.6, ball_vy=0.0, paddle_y=0.5, opponent_y=0.5,
        paddle_half_height=0.1, tick=0, dt=1 / 60,
    )  # fmt: skip
    return View(**{**base, **fields})


def _first_press_after_a_turn(player, start_tick: int = 0) -> int:
    """Ticks from the ball turning toward the player (arriving well below the waiting
    paddle) until its first key press."""
    for tick in range(30):  # the ball goes away; the paddle waits in the middle: no key
        assert player.act(_view(tick=start_tick + tick, ball_vx=0.6)) == 0.0
    commands = [
        player.act(_view(tick=start_tick + 30 + i, ball_vx=-0.6, ball_x=0.6, ball_vy=0.5))
        for i in range(40)
    ]
    assert set(commands) <= {-1.0, 0.0, 1.0}
    first_press = next(i for i, c in enumerate(commands) if c != 0.0)
    assert commands[first_press] == 1.0  # down
    for i in range(40):  # the ball goes away again; the key comes up when home
        player.act(_view(tick=start_tick + 70 + i, ball_vx=0.6, paddle_y=0.5))
    return first_press


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_the_keyboard_player_presses_a_reaction_time_after_the_ball_turns(seed):
    from game.personas import Keyboard

    player = Keyboard()
    player.reset(seed)
    assert 0.15 <= player.reaction_s <= 0.25
    presses = [_first_press_after_a_turn(player, 110 * turn) for turn in range(12)]
    shortest = player.reaction_s - player.most_off_s - 1 / 60
    longest = player.reaction_s + player.most_off_s + 1 / 60
    assert all(shortest <= ticks / 60 <= longest for ticks in presses)
    # A person's reaction time varies from one reaction to the next, around their own.
    assert len(set(presses)) >= 2
    assert abs(sum(presses) / len(presses) / 60 - player.reaction_s) < 0.025


def test_a_human_player_keeps_their_traits_from_match_to_match():
    from game.personas import load_persona

    keyboard = load_persona("keyboard", 5)
    pointer = load_persona("pointer", 5)
    first = (keyboard.persona.reaction_s, pointer.persona.lag_s, pointer.persona.tremor_hz)
    for match_seed in (6, 1005, 7924):  # later matches, held-out play, the twin's noise
        keyboard.reset(match_seed)
        pointer.reset(match_seed)
        again = (keyboard.persona.reaction_s, pointer.persona.lag_s, pointer.persona.tremor_hz)
        assert again == first
    # Another player (another seed) is another person; the same seed, the same one.
    assert load_persona("keyboard", 6).persona.reaction_s != first[0]
    assert load_persona("pointer", 5).persona.lag_s == first[1]
    # The match's seed draws the match's noise: the tremor's phase differs between matches.
    pointer.reset(1)
    phase = pointer.persona._phase
    pointer.reset(2)
    assert pointer.persona._phase != phase


def test_the_keyboard_player_holds_the_key_until_close():
    from game.personas import Keyboard

    player = Keyboard()
    player.reset(0)
    view = _view(ball_vx=-0.6, ball_x=0.6, ball_vy=0.5)
    for _ in range(30):
        player.act(view)
    assert player.act(view._replace(paddle_y=0.55)) == 1.0
    # Off target by less than press_at but more than release_at: still held (memory).
    assert player.act(view._replace(paddle_y=intercept_y(view) - 0.03)) == 1.0
    assert player.act(view._replace(paddle_y=intercept_y(view) - 0.005)) == 0.0


def test_the_pointer_player_trembles_around_a_lagging_target():
    from game.personas import Pointer

    player = Pointer()
    player.reset(4)
    still = _view(ball_vx=-0.6, ball_x=0.6, ball_y=0.5, ball_vy=0.0, paddle_y=0.5)
    commands = [player.act(still) for _ in range(120)]  # on target: only the tremor moves it
    assert all(-1.0 <= c <= 1.0 for c in commands)
    assert max(abs(c) for c in commands) > 0.05 and len({round(c, 6) for c in commands}) > 60
    player.reset(4)
    player.act(still)
    for _ in range(3):  # the eye jumps to a new arrival point; the pointer trails it
        player.act(still._replace(ball_y=0.9))
    assert 0.5 < player._pointer < 0.75


def test_the_misjudging_player_is_off_by_one_amount_per_approach():
    from game.personas import Misjudge

    player = Misjudge()
    player.reset(9)
    errors = []
    for _ in range(20):
        for tick in range(10):
            player.act(_view(ball_vx=-0.6, tick=tick))
            if tick == 0:
                errors.append(player.misjudgement)
            assert player.misjudgement == errors[-1]  # fixed while the ball comes
        player.act(_view(ball_vx=0.6))
    assert len(set(errors)) == 20 and 0.02 < statistics.pstdev(errors) < 0.1
