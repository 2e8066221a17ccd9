"""``MirrorPong-v0``: the Pong engine as a Gymnasium environment, for training agents against
the built-in personas or against an exported mirror.

The agent drives one paddle (the left one by default) with a continuous command in [-1, 1]
per tick, exactly as a player does; the other paddle is played by ``opponent``:

- a persona spec (``"chaser"``, ``"predictor"``, ``path/to/file.py:Class``, ...), or
- a path to an exported mirror model (``"path/to/model.onnx"``), played through
  ``MirrorOpponent`` after the same checks the game runs on every candidate, or
- any object with ``act(view) -> float`` (and optionally ``reset(seed)``).

Observation: float32 ``(ball_x, ball_y, ball_vx, ball_vy, paddle_y, opponent_y)`` of the
agent's own view (``game.engine.view``: x from its goal line, 0, to the opponent's, 1).
Reward: +1 when the agent scores, -1 when it concedes, 0 otherwise. An episode terminates
when the match ends (first to ``points``, default 5); ``gymnasium.make`` adds a time limit
of ``MAX_EPISODE_STEPS`` ticks (5 minutes of play) that truncates it.

``reset(seed=s)`` seeds the engine with ``new_match(s)``, so equal seeds and equal actions
give equal episodes, bit for bit (the personas and the ONNX runtime are deterministic too).

It lives in ``learner`` because an ONNX opponent needs the feature builder the mirror was
trained on (``game`` never imports ``learner``, DESIGN.md); that import is lazy, so a persona
opponent loads neither it nor torch. pygame is imported only inside ``render``.
Importing this module registers ``MirrorPong-v0`` with Gymnasium.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import gymnasium
import numpy as np
from gymnasium import spaces

from game.engine import DEFAULT_PARAMS, LEFT, RIGHT, Params, State, View, new_match, step, view

ENV_ID = "MirrorPong-v0"
MAX_EPISODE_STEPS = 60 * 60 * 5  # five minutes of play at 60 ticks per second
OBSERVATION_FIELDS = ("ball_x", "ball_y", "ball_vx", "ball_vy", "paddle_y", "opponent_y")
RENDER_SIZE = (480, 330)  # pixels (width, height) of an rgb_array frame

ObserveFactory = Callable[[], Callable[[View], np.ndarray]]


def load_onnx_opponent(
    path: str | Path, params: Params = DEFAULT_PARAMS, observe_factory: ObserveFactory | None = None
):
    """A ``MirrorOpponent`` playing the model in ``path``, after the game's candidate checks."""
    from learner.mirror import MirrorError, fixed_mirror, load_model

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"opponent model {str(path)!r}: no such file")
    try:
        model = load_model(path)
    except MirrorError as exc:
        raise ValueError(f"opponent model {str(path)!r} was refused: {exc.reason}") from None
    # The model is offered: it plays from the first act() on.
    return fixed_mirror(model, params, observe_factory=observe_factory)


def make_opponent(
    opponent: object,
    params: Params = DEFAULT_PARAMS,
    observe_factory: ObserveFactory | None = None,
):
    """The opponent named by ``opponent``: a persona spec, an ``.onnx`` path or an object."""
    if isinstance(opponent, Path) or (
        isinstance(opponent, str) and opponent.lower().endswith(".onnx")
    ):
        return load_onnx_opponent(opponent, params, observe_factory)
    if isinstance(opponent, str):
        from game.personas import load_persona

        return load_persona(opponent)
    if not callable(getattr(opponent, "act", None)):
        raise TypeError(
            "opponent must be a persona spec, a path to an .onnx model or an object with "
            f"act(view), got {opponent!r}"
        )
    return opponent


class MirrorPongEnv(gymnasium.Env):
    """One match of Mirror Pong per episode; the agent plays ``side`` against ``opponent``."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 60}

    def __init__(
        self,
        opponent: object = "chaser",
        side: str = LEFT,
        points: int = 5,
        params: Params | None = None,
        render_mode: str | None = None,
        render_size: tuple[int, int] = RENDER_SIZE,
        observe_factory: ObserveFactory | None = None,
    ) -> None:
        if side not in (LEFT, RIGHT):
            raise ValueError(f"side must be {LEFT!r} or {RIGHT!r}, got side={side!r}")
        if isinstance(points, bool) or not isinstance(points, int) or points < 1:
            raise ValueError(f"points must be an integer of at least 1, got points={points!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be None or one of {self.metadata['render_modes']}, "
                f"got render_mode={render_mode!r}"
            )
        self.params = dataclasses.replace(params or DEFAULT_PARAMS, points_to_win=points)
        self.side = side
        self.other_side = RIGHT if side == LEFT else LEFT
        self.render_mode = render_mode
        self.render_size = tuple(render_size)
        self.opponent = make_opponent(opponent, self.params, observe_factory)

        p = self.params
        vx_max = p.max_speed / p.court_width  # view units per second
        vy_max = p.max_speed / p.court_height
        low = np.array([0.0, 0.0, -vx_max, -vy_max, 0.0, 0.0], dtype=np.float32)
        high = np.array([1.0, 1.0, vx_max, vy_max, 1.0, 1.0], dtype=np.float32)
        self.observation_space = spaces.Box(low, high, dtype=np.float32)
        self.action_space = spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
        self.state: State = new_match(0, self.params)

    # -- the Gymnasium API -------------------------------------------------------------------

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        # Without a seed the match seed comes from the env's generator, itself seeded by the
        # last seeded reset: a seeded sequence of episodes repeats as a whole.
        match_seed = seed if seed is not None else int(self.np_random.integers(0, 2**63 - 1))
        self.state = new_match(match_seed, self.params)
        reset = getattr(self.opponent, "reset", None)
        if reset is not None:
            reset(match_seed)
        return self._observation(), self._info()

    def step(self, action):
        command = float(np.asarray(action, dtype=np.float64).reshape(-1)[0])
        other_command = float(self.opponent.act(view(self.state, self.other_side, self.params)))
        if self.side == LEFT:
            self.state, events = step(self.state, command, other_command, self.params)
        else:
            self.state, events = step(self.state, other_command, command, self.params)
        reward = 0.0
        for event in events:
            if event.kind == "miss":
                reward += -1.0 if event.side == self.side else 1.0
        terminated = self.state.winner != 0
        return self._observation(), reward, terminated, False, self._info()

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        import pygame  # only here: the engine and the env's stepping never need it

        from game.render import render_state

        surface = render_state(self.state, self.params, self.render_size)
        # surfarray is (width, height, 3); images are (height, width, 3).
        return np.ascontiguousarray(pygame.surfarray.array3d(surface).transpose(1, 0, 2))

    # -- helpers -----------------------------------------------------------------------------

    def _observation(self) -> np.ndarray:
        seen = view(self.state, self.side, self.params)
        return np.array(
            [seen.ball_x, seen.ball_y, seen.ball_vx, seen.ball_vy, seen.paddle_y, seen.opponent_y],
            dtype=np.float32,
        )

    def _info(self) -> dict:
        state = self.state
        mine, theirs = (
            (state.score_left, state.score_right)
            if self.side == LEFT
            else (state.score_right, state.score_left)
        )
        return {"score": mine, "opponent_score": theirs, "tick": state.tick}


if ENV_ID not in gymnasium.registry:  # importing twice (or reloading) must not re-register
    gymnasium.register(
        id=ENV_ID,
        entry_point="learner.tools.gym_env:MirrorPongEnv",
        max_episode_steps=MAX_EPISODE_STEPS,
    )
