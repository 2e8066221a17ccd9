"""Personas: scripted players with human-like styles, and the loader for users' own.

A persona is any class with ``act(self, view) -> float`` (a command in [-1, 1], negative =
up) and optionally ``reset(self, seed)``, called at the start of every match. It is named
on the command line as ``path/to/file.py:ClassName``, ``package.module:ClassName`` or, for
the built-ins, just its name (``chaser``, ``predictor``, ``lazy``, ``nervous``, ``angler``,
and three modelled on traits of human play: ``keyboard``, ``pointer``, ``misjudge``).

What a persona gets wrong is handled by ``CheckedPersona``: an exception or a NaN stops
the run with a ``PersonaError`` naming the persona and the tick; a finite value outside
[-1, 1] is clamped, with one warning per persona.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import math
import random
import sys
from collections import deque
from pathlib import Path

from game.engine import DEFAULT_PARAMS, View
from game.geometry import Geometry, fold_into

log = logging.getLogger(__name__)

_GEOMETRY = Geometry.from_params(DEFAULT_PARAMS)


def clamp(command: float) -> float:
    return -1.0 if command < -1.0 else 1.0 if command > 1.0 else command


def intercept_y(view: View) -> float:
    """Where the ball will cross my face line, walls folded in (the ball's y if receding)."""
    if view.ball_vx >= 0.0:
        return view.ball_y
    t = (view.ball_x - _GEOMETRY.face_x) / -view.ball_vx
    return fold_into(view.ball_y + view.ball_vy * t, _GEOMETRY.ball_top, _GEOMETRY.ball_bottom)


def steer(target: float, paddle_y: float, gain: float, dead_zone: float = 0.0) -> float:
    error = target - paddle_y
    if abs(error) <= dead_zone:
        return 0.0
    return clamp(error * gain)


class Chaser:
    """Follows the ball's height as it was a few ticks ago, all the time, smoothly."""

    def __init__(self, reaction_ticks: int = 8, gain: float = 10.0) -> None:
        self.reaction_ticks = reaction_ticks
        self.gain = gain
        self._seen: list[float] = []

    def reset(self, seed: int) -> None:
        self._seen.clear()

    def act(self, view: View) -> float:
        self._seen.append(view.ball_y)
        if len(self._seen) > self.reaction_ticks + 1:
            del self._seen[0]
        return steer(self._seen[0], view.paddle_y, self.gain)


class Predictor:
    """Computes where the ball will arrive and goes there at full speed (bang-bang), then
    waits in the middle while the ball is away."""

    def reset(self, seed: int) -> None:
        pass

    def act(self, view: View) -> float:
        if view.ball_vx < 0.0:
            error = intercept_y(view) - view.paddle_y
            return 0.0 if abs(error) < 0.02 else math.copysign(1.0, error)
        error = 0.5 - view.paddle_y
        return 0.0 if abs(error) < 0.05 else math.copysign(1.0, error)


class Lazy:
    """Moves only once the ball has crossed into its half, and then only at half speed;
    otherwise drifts slowly back to a home position a little above centre."""

    home = 0.42

    def reset(self, seed: int) -> None:
        pass

    def act(self, view: View) -> float:
        if view.ball_vx < 0.0 and view.ball_x < 0.5:
            return 0.5 * steer(view.ball_y, view.paddle_y, 12.0, dead_zone=0.03)
        return 0.25 * steer(self.home, view.paddle_y, 10.0, dead_zone=0.02)


class Nervous:
    """Over-eager: heads for the intercept with too much gain, overshoots, and jitters."""

    def __init__(self) -> None:
        self._rng = random.Random(0)
        self._momentum = 0.0

    def reset(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self._momentum = 0.0

    def act(self, view: View) -> float:
        target = intercept_y(view) if view.ball_vx < 0.0 else view.ball_y
        wanted = steer(target, view.paddle_y, 25.0)
        self._momentum = 0.8 * self._momentum + 0.2 * wanted  # late to stop: overshoot
        jitter = self._rng.uniform(-0.35, 0.35)
        return clamp(self._momentum * 1.6 + jitter)


class Angler:
    """Meets the ball off-centre on purpose for steep returns: aims the paddle's end at the
    intercept, choosing the end that sends the ball away from the opponent."""

    def reset(self, seed: int) -> None:
        pass

    def act(self, view: View) -> float:
        if view.ball_vx >= 0.0:
            return steer(0.5, view.paddle_y, 6.0, dead_zone=0.03)
        arrive = intercept_y(view)
        # Hitting below the paddle's centre sends the ball down: do so if the opponent is up.
        send_down = view.opponent_y < 0.5
        offset = 0.7 * view.paddle_half_height
        target = arrive - offset if send_down else arrive + offset
        return steer(target, view.paddle_y, 15.0, dead_zone=0.005)


# -- players modelled on how people play -----------------------------------------------------
#
# The five above are styles; the three below each copy one documented trait of human play:
# a reaction time of 150-250 ms before a visual change moves the hand, keys that are either
# held or not (so a key state is memory, released only once the paddle is close), a pointer
# that lags the eye and trembles, and a judgement of where the ball will arrive that is off
# by a different amount each time. A person is the same person from match to match: what
# makes them who they are (their mean reaction time, how much their pointer lags) is drawn
# once, from the seed of the first match they play (``load_persona(spec, seed)``: player
# ``seed``), and each match's seed draws only that match's noise. So a clone is judged
# against the player it learned from, on new play, and the twin (another noise seed) is the
# same person too.

_PADDLE_SPEED = DEFAULT_PARAMS.paddle_speed / DEFAULT_PARAMS.court_height  # view units per s
_HOME = 0.5


class _Person:
    """Traits drawn once, from the first match's seed; noise drawn again for every match."""

    def __init__(self) -> None:
        self.player: int | None = None  # the seed the traits came from, once a match began
        self.draw_traits(random.Random(0))  # until the first match names the player
        self.draw_noise(random.Random("noise 0"))

    def reset(self, seed: int) -> None:
        if self.player is None:
            self.player = seed
            self.draw_traits(random.Random(seed))
        self.draw_noise(random.Random(f"noise {seed}"))

    def draw_traits(self, rng: random.Random) -> None:
        raise NotImplementedError

    def draw_noise(self, rng: random.Random) -> None:
        raise NotImplementedError


class Keyboard(_Person):
    """Plays with the arrow keys: only up, down or nothing. It acts on what it saw a
    reaction time ago: the player's mean reaction time (150-250 ms) is a trait, and each
    reaction (to the ball turning or being served) takes that give or take a person's
    trial-to-trial spread (normal, 20 ms; never more than 50 ms off). It presses a key once
    the paddle is clearly off target and lets go once it is close, so the key held carries
    memory; between rallies it walks back to the middle the same way."""

    press_at = 0.06  # view units off target before a key goes down
    release_at = 0.015  # within this, the key comes up
    spread_s = 0.02  # trial-to-trial spread of one reaction time
    most_off_s = 0.05  # a reaction is never further than this from the mean

    def draw_traits(self, rng: random.Random) -> None:
        self.reaction_s = rng.uniform(0.15, 0.25)

    def draw_noise(self, rng: random.Random) -> None:
        self._rng = rng
        self._seen: deque[View] = deque()  # views from the one it acts on to now
        self._first = 0  # the tick (counted in this match) of the oldest view kept
        self._look = 0  # the tick of the view it acts on: never goes back
        self._direction: int | None = None
        self.delay_s = self.reaction_s  # the reaction under way
        self._key = 0

    def _draw_delay(self) -> float:
        off = self._rng.gauss(0.0, self.spread_s)
        return self.reaction_s + max(-self.most_off_s, min(self.most_off_s, off))

    def act(self, view: View) -> float:
        now = self._first + len(self._seen)
        self._seen.append(view)
        direction = (view.ball_vx > 0.0) - (view.ball_vx < 0.0)
        if direction != self._direction:  # it turned or was served: a new reaction
            if self._direction is not None:
                self.delay_s = self._draw_delay()
            self._direction = direction
        delay = max(1, round(self.delay_s / view.dt))
        self._look = min(now, max(self._look, now - delay))
        while self._first < self._look:
            self._seen.popleft()
            self._first += 1
        seen = self._seen[0]  # the ball as it was a reaction time ago
        target = intercept_y(seen) if seen.ball_vx < 0.0 else _HOME
        error = target - view.paddle_y  # its own paddle it feels where it is now
        if self._key == 0:
            if abs(error) > self.press_at:
                self._key = 1 if error > 0 else -1
        elif abs(error) < self.release_at or (error > 0) != (self._key > 0):
            self._key = 0
        return float(self._key)


class Pointer(_Person):
    """Steers with a mouse or a finger: the paddle follows a pointer that trails where the
    player looks by a smoothing time and trembles (a hand tremor plus noise), under the
    paddle's speed limit like the game's pointer input. The lag (90-150 ms), the tremor's
    rate (8-12 Hz) and size are the player's traits; its phase and the noise, the match's."""

    def draw_traits(self, rng: random.Random) -> None:
        self.lag_s = rng.uniform(0.09, 0.15)
        self.tremor_hz = rng.uniform(8.0, 12.0)
        self.tremor = rng.uniform(0.004, 0.01)  # view units

    def draw_noise(self, rng: random.Random) -> None:
        self._rng = rng
        self._phase = rng.uniform(0.0, 2.0 * math.pi)
        self._pointer: float | None = None
        self._t = 0.0

    def act(self, view: View) -> float:
        # The eye goes to where the ball will arrive, and follows it loosely while it is away.
        look = intercept_y(view) if view.ball_vx < 0.0 else 0.5 * (view.ball_y + _HOME)
        if self._pointer is None:
            self._pointer = view.paddle_y
        self._pointer += view.dt / (self.lag_s + view.dt) * (look - self._pointer)
        self._t += view.dt
        shake = self.tremor * math.sin(2.0 * math.pi * self.tremor_hz * self._t + self._phase)
        target = self._pointer + shake + self._rng.gauss(0.0, self.tremor / 3)
        return clamp((target - view.paddle_y) / (_PADDLE_SPEED * view.dt))


class Misjudge:
    """Goes for where it believes the ball will arrive, and that belief is off by a
    different amount every time the ball comes (normal, 0.05 of the court's height spread);
    steers there smoothly, then drifts back to the middle."""

    spread = 0.05

    def __init__(self) -> None:
        self.reset(0)

    def reset(self, seed: int) -> None:
        self._rng = random.Random(seed)
        self._coming = False
        self.misjudgement = 0.0  # of the approach under way

    def act(self, view: View) -> float:
        coming = view.ball_vx < 0.0
        if coming and not self._coming:
            self.misjudgement = self._rng.gauss(0.0, self.spread)
        self._coming = coming
        if coming:
            return steer(intercept_y(view) + self.misjudgement, view.paddle_y, 12.0, 0.01)
        return steer(_HOME, view.paddle_y, 5.0, dead_zone=0.03)


BUILT_IN = {
    "chaser": Chaser,
    "predictor": Predictor,
    "lazy": Lazy,
    "nervous": Nervous,
    "angler": Angler,
    "keyboard": Keyboard,
    "pointer": Pointer,
    "misjudge": Misjudge,
}


class PersonaError(Exception):
    """A persona that cannot be loaded or that misbehaved; the message names it."""


def load_persona_class(spec: str) -> type:
    """The class named by ``spec`` (a built-in name, ``file.py:Class`` or ``module:Class``)."""
    if spec in BUILT_IN:
        return BUILT_IN[spec]
    if ":" not in spec:
        raise PersonaError(
            f"persona {spec!r}: expected a built-in name ({', '.join(BUILT_IN)}), "
            "path/to/file.py:ClassName or package.module:ClassName"
        )
    where, _, name = spec.rpartition(":")
    if where.endswith(".py"):
        path = Path(where)
        if not path.is_file():
            raise PersonaError(f"persona {spec!r}: no such file {path}")
        module_name = f"mirror_pong_persona_{abs(hash(str(path.resolve())))}"
        module_spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(module_spec)
        try:
            sys.modules[module_name] = module
            module_spec.loader.exec_module(module)
        except Exception as exc:
            raise PersonaError(f"persona {spec!r}: {path} failed to load: {exc!r}") from None
    else:
        try:
            module = importlib.import_module(where)
        except Exception as exc:
            raise PersonaError(f"persona {spec!r}: cannot import {where}: {exc!r}") from None
    persona_class = getattr(module, name, None)
    if persona_class is None:
        raise PersonaError(f"persona {spec!r}: {where} has no {name}")
    if not callable(getattr(persona_class, "act", None)):
        raise PersonaError(f"persona {spec!r}: {name} has no act(self, view) method")
    return persona_class


class CheckedPersona:
    """Wraps a persona: errors and NaN become a PersonaError naming it; out-of-range
    commands are clamped with a warning (once)."""

    model_version = 0

    def __init__(self, persona: object, name: str) -> None:
        self.persona = persona
        self.name = name
        self.label = name
        self._warned = False

    def reset(self, seed: int) -> None:
        reset = getattr(self.persona, "reset", None)
        if reset is not None:
            try:
                reset(seed)
            except Exception as exc:
                raise PersonaError(f"persona {self.name!r} failed in reset(): {exc!r}") from exc

    def act(self, view: View) -> float:
        try:
            command = float(self.persona.act(view))
        except Exception as exc:
            raise PersonaError(
                f"persona {self.name!r} failed at tick {view.tick}: {exc!r}"
            ) from exc
        if math.isnan(command):
            raise PersonaError(f"persona {self.name!r} returned NaN at tick {view.tick}")
        if not -1.0 <= command <= 1.0:
            if not self._warned:
                log.warning(
                    "persona %r returned %r at tick %d; commands are clamped to [-1, 1]",
                    self.name,
                    command,
                    view.tick,
                )
                self._warned = True
            command = clamp(command)
        return command


def load_persona(spec: str, seed: int = 0) -> CheckedPersona:
    """An instance of the persona named by ``spec``, checked, and reset with ``seed``."""
    persona_class = load_persona_class(spec)
    try:
        instance = persona_class()
    except Exception as exc:
        raise PersonaError(f"persona {spec!r}: could not be created: {exc!r}") from None
    checked = CheckedPersona(instance, spec)
    checked.reset(seed)
    return checked
