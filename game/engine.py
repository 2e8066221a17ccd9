"""The Pong engine: a pure, deterministic transition function and the per-side view.

Everything here is plain floats at a fixed timestep (60 ticks per second by default). The
state is an immutable NamedTuple that also carries the random generator's state, so
``step(state, left_cmd, right_cmd, params)`` is a pure function: the same state and the same
commands always give the same next state, bit for bit. That is what lets a recording be
re-simulated exactly. No pygame, torch or web imports belong in this module (a test checks).

Geometry, in court units (the court is ``court_width`` wide and ``court_height`` tall):
the left goal line is x = 0 and the right one x = court_width; y = 0 is the top wall.
Each paddle's face stands ``paddle_inset`` in front of its goal line. The ball is a circle;
a point is scored when the ball reaches a paddle's face plane outside the paddle's span, so
the ball can never overlap a paddle.

Collision is swept: within one tick the ball travels segment by segment to its next contact
(wall or paddle face), reflects there and spends the rest of the tick on the new heading, so
no speed can tunnel through a paddle and a wall bounce keeps its overshoot.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import NamedTuple

ENGINE_VERSION = 1

LEFT = "left"
RIGHT = "right"
SIDES = (LEFT, RIGHT)

_MASK64 = (1 << 64) - 1
_MAX_CONTACTS_PER_TICK = 32  # far above what any legal speed can produce in one tick


@dataclass(frozen=True)
class Params:
    """Constants of one match. Part of every recording's header."""

    tick_rate: int = 60
    """Ticks per second; the timestep is 1 / tick_rate."""
    court_width: float = 1.6
    """Distance between the two goal lines, in court units."""
    court_height: float = 1.0
    """Distance between the top and bottom walls."""
    paddle_inset: float = 0.04
    """Distance from a goal line to its paddle's face."""
    paddle_half_height: float = 0.09
    """Half the paddle's length along y."""
    paddle_speed: float = 1.3
    """Maximum paddle speed (court units per second), reached at command +-1."""
    ball_radius: float = 0.012
    serve_speed: float = 0.85
    """Ball speed at the serve."""
    speedup: float = 1.06
    """Speed multiplier on every paddle hit ..."""
    max_speed: float = 2.2
    """... up to this cap."""
    max_bounce_angle: float = math.radians(60)
    """Return angle (from the x axis) when the ball meets the very end of the paddle."""
    max_serve_angle: float = math.radians(30)
    """Serves leave at a seeded random angle within +- this."""
    serve_delay_ticks: int = 45
    """Ticks the ball waits at the centre before each serve."""
    points_to_win: int = 11

    @property
    def dt(self) -> float:
        return 1.0 / self.tick_rate

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Params:
        known = {name for name in cls.__dataclass_fields__}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown engine parameters: {sorted(unknown)}")
        return cls(**data)


DEFAULT_PARAMS = Params()


class State(NamedTuple):
    """Everything about a match at one tick. Immutable; ``step`` returns a new one."""

    tick: int
    ball_x: float
    ball_y: float
    ball_vx: float
    ball_vy: float
    left_y: float  # paddle centres
    right_y: float
    score_left: int
    score_right: int
    serve_ticks: int  # ticks until the ball is served; 0 while it is in play
    serve_dir: int  # +1: the next serve goes right, -1: left
    rng: int  # splitmix64 state: the seeded random generator travels with the state
    rally_hits: int  # paddle hits since the last serve
    winner: int  # 0 while the match goes on, -1 left won, +1 right won


class Event(NamedTuple):
    """Something that happened during a tick."""

    kind: str  # "wall", "hit", "miss", "serve", "match_over"
    side: str  # LEFT / RIGHT where it applies, "" otherwise
    value: float = 0.0  # "hit": where the ball met the paddle, -1 (top end) .. +1 (bottom end)


class View(NamedTuple):
    """The match seen from one side: x from the viewer's goal line (0) to the opponent's (1),
    y from top (0) to bottom (1), velocities in those units per second."""

    ball_x: float
    ball_y: float
    ball_vx: float
    ball_vy: float
    paddle_y: float
    opponent_y: float
    paddle_half_height: float
    tick: int
    dt: float


def _splitmix64(rng: int) -> tuple[int, float]:
    """Advance the generator; return its new state and a float in [0, 1)."""
    rng = (rng + 0x9E3779B97F4A7C15) & _MASK64
    z = rng
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    z ^= z >> 31
    return rng, (z >> 11) / float(1 << 53)


def new_match(seed: int, params: Params = DEFAULT_PARAMS) -> State:
    """A fresh match: paddles centred, ball waiting at the centre, first serve direction seeded."""
    rng = seed & _MASK64
    rng, u = _splitmix64(rng)
    return State(
        tick=0,
        ball_x=params.court_width / 2,
        ball_y=params.court_height / 2,
        ball_vx=0.0,
        ball_vy=0.0,
        left_y=params.court_height / 2,
        right_y=params.court_height / 2,
        score_left=0,
        score_right=0,
        serve_ticks=params.serve_delay_ticks,
        serve_dir=1 if u < 0.5 else -1,
        rng=rng,
        rally_hits=0,
        winner=0,
    )


def clamp_command(command: float) -> float:
    """Commands outside [-1, 1] are limited to it; NaN means 'no input'."""
    if command != command:  # NaN
        return 0.0
    return -1.0 if command < -1.0 else 1.0 if command > 1.0 else float(command)


def move_paddle(y: float, command: float, params: Params = DEFAULT_PARAMS) -> float:
    """A paddle centre after one tick of ``command`` (clamped to the court)."""
    low = params.paddle_half_height
    high = params.court_height - params.paddle_half_height
    y = y + clamp_command(command) * params.paddle_speed * params.dt
    return low if y < low else high if y > high else y


def step(
    state: State, left_cmd: float, right_cmd: float, params: Params = DEFAULT_PARAMS
) -> tuple[State, tuple[Event, ...]]:
    """Advance the match by one tick. Pure: returns the next state and what happened."""
    if state.winner:
        return state._replace(tick=state.tick + 1), ()

    left_y = move_paddle(state.left_y, left_cmd, params)
    right_y = move_paddle(state.right_y, right_cmd, params)
    tick = state.tick + 1

    if state.serve_ticks > 0:
        serve_ticks = state.serve_ticks - 1
        if serve_ticks > 0:
            moved = state._replace(
                tick=tick, left_y=left_y, right_y=right_y, serve_ticks=serve_ticks
            )
            return moved, ()
        rng, u = _splitmix64(state.rng)
        angle = (2.0 * u - 1.0) * params.max_serve_angle
        served = state._replace(
            tick=tick,
            left_y=left_y,
            right_y=right_y,
            serve_ticks=0,
            ball_vx=state.serve_dir * params.serve_speed * math.cos(angle),
            ball_vy=params.serve_speed * math.sin(angle),
            serve_dir=-state.serve_dir,  # serves alternate
            rng=rng,
            rally_hits=0,
        )
        return served, (Event("serve", RIGHT if state.serve_dir > 0 else LEFT),)

    return _fly_ball(state, tick, left_y, right_y, params)


def _fly_ball(
    state: State, tick: int, left_y: float, right_y: float, params: Params
) -> tuple[State, tuple[Event, ...]]:
    """Move the ball through one tick of swept collisions."""
    radius = params.ball_radius
    top, bottom = radius, params.court_height - radius
    left_face = params.paddle_inset + radius  # ball centre x when touching the left face
    right_face = params.court_width - params.paddle_inset - radius
    reach = params.paddle_half_height + radius
    dt = params.dt

    x, y, vx, vy = state.ball_x, state.ball_y, state.ball_vx, state.ball_vy
    rally_hits = state.rally_hits
    events: list[Event] = []
    remaining = dt

    for _ in range(_MAX_CONTACTS_PER_TICK):
        t_wall = math.inf
        if vy < 0.0:
            t_wall = max((top - y) / vy, 0.0)
        elif vy > 0.0:
            t_wall = max((bottom - y) / vy, 0.0)
        t_face = math.inf
        if vx < 0.0:
            t_face = max((left_face - x) / vx, 0.0)
        elif vx > 0.0:
            t_face = max((right_face - x) / vx, 0.0)

        t_hit = min(t_wall, t_face)
        if t_hit > remaining:
            x += vx * remaining
            y += vy * remaining
            break

        remaining -= t_hit
        if t_wall <= t_face:
            x += vx * t_hit
            y = top if vy < 0.0 else bottom
            vy = -vy
            events.append(Event("wall", ""))
            if t_wall < t_face:
                continue
            # A corner: the ball meets a wall and a face at the same moment; fall through.
        else:
            y += vy * t_hit
        side = LEFT if vx < 0.0 else RIGHT
        x = left_face if side == LEFT else right_face

        # Where is the paddle at this moment of the tick? It moves linearly through the tick.
        progress = (dt - remaining) / dt
        start_y, end_y = (state.left_y, left_y) if side == LEFT else (state.right_y, right_y)
        paddle_y = start_y + (end_y - start_y) * progress
        offset = (y - paddle_y) / reach
        if -1.0 <= offset <= 1.0:
            speed = min(math.hypot(vx, vy) * params.speedup, params.max_speed)
            angle = offset * params.max_bounce_angle
            away = 1.0 if side == LEFT else -1.0
            vx = away * speed * math.cos(angle)
            vy = speed * math.sin(angle)
            rally_hits += 1
            events.append(Event("hit", side, offset))
            continue
        return _point_scored(state, tick, left_y, right_y, side, events, params)

    moved = state._replace(
        tick=tick,
        ball_x=x,
        ball_y=y,
        ball_vx=vx,
        ball_vy=vy,
        left_y=left_y,
        right_y=right_y,
        rally_hits=rally_hits,
    )
    return moved, tuple(events)


def _point_scored(
    state: State,
    tick: int,
    left_y: float,
    right_y: float,
    missed_by: str,
    events: list[Event],
    params: Params,
) -> tuple[State, tuple[Event, ...]]:
    score_left = state.score_left + (missed_by == RIGHT)
    score_right = state.score_right + (missed_by == LEFT)
    events.append(Event("miss", missed_by))
    winner = 0
    if score_left >= params.points_to_win:
        winner = -1
    elif score_right >= params.points_to_win:
        winner = 1
    if winner:
        events.append(Event("match_over", LEFT if winner < 0 else RIGHT))
    scored = state._replace(
        tick=tick,
        ball_x=params.court_width / 2,
        ball_y=params.court_height / 2,
        ball_vx=0.0,
        ball_vy=0.0,
        left_y=left_y,
        right_y=right_y,
        score_left=score_left,
        score_right=score_right,
        serve_ticks=params.serve_delay_ticks,
        rally_hits=0,
        winner=winner,
    )
    return scored, tuple(events)


def view(state: State, side: str, params: Params = DEFAULT_PARAMS) -> View:
    """The match as ``side`` sees it. The same function serves both sides: that is the mirror."""
    width, height = params.court_width, params.court_height
    if side == LEFT:
        ball_x, ball_vx = state.ball_x / width, state.ball_vx / width
        own_y, other_y = state.left_y, state.right_y
    elif side == RIGHT:
        ball_x, ball_vx = 1.0 - state.ball_x / width, -state.ball_vx / width
        own_y, other_y = state.right_y, state.left_y
    else:
        raise ValueError(f"side must be {LEFT!r} or {RIGHT!r}, got side={side!r}")
    return View(
        ball_x=ball_x,
        ball_y=state.ball_y / height,
        ball_vx=ball_vx,
        ball_vy=state.ball_vy / height,
        paddle_y=own_y / height,
        opponent_y=other_y / height,
        paddle_half_height=params.paddle_half_height / height,
        tick=state.tick,
        dt=params.dt,
    )


def mirror(state: State, params: Params = DEFAULT_PARAMS) -> State:
    """The same moment with left and right exchanged (used to test the mirror)."""
    return state._replace(
        ball_x=params.court_width - state.ball_x,
        ball_vx=-state.ball_vx,
        left_y=state.right_y,
        right_y=state.left_y,
        score_left=state.score_right,
        score_right=state.score_left,
        serve_dir=-state.serve_dir,
        winner=-state.winner,
    )
