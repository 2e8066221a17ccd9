"""The mirror's own temperature: the one that makes it as jittery as its player.

A mirror samples its model's command distribution every tick (``game.playback``). One
temperature cannot serve every player: a player who holds a course (an intercept player, one
who misjudges a rally once and sticks to it) gets a clone that is too jittery, because fresh
draws every tick change the command where the player held it; a player whose hand trembles
gets a clone that is too smooth at the same temperature. Measured on 10-minute clones of the
eight built-ins, sampling at 0.5 made the angler's and misjudge's clones 20-50% too jittery
and the pointer's and nervous player's 13-19% too smooth, whatever the seed.

So each mirror finds its own temperature, by the one style figure a temperature moves most:
``jitter`` (``learner.style``: the mean |command change| a tick over each exchange).

- ``PlayerJitter`` keeps the player's jitter from the ticks the trainer receives (the newest
  ``PLAYER_EXCHANGES`` exchanges), with ``learner.style``'s own definition.
- ``Calibration`` plays a model at each of ``TEMPERATURES`` for ``MINUTES`` simulated
  minutes (the same matches and the same draws for each) against the mirror as it plays now
  (the same model at the mirror's temperature), measures the clone's jitter at each, and
  picks the temperature whose jitter is nearest the player's, by ratio. The opponent is the
  mirror because the player's jitter was measured against it: how much a player corrects
  depends on the balls they get (the angler's jitter is 0.026 a tick against its mirror and
  0.009 against the scripted opponent), so only play against the same opponent compares.
  It runs in steps (``advance``, about 30 ms each, whatever the model), so the trainer
  process's loop is never held for longer; ``run`` does it all at once.
- ``with_temperature`` writes the temperature into a model file's metadata, where the game
  reads it (``game.playback.model_temperature``): a shared mirror plays at its player's.

Calibration trains nothing and draws from none of the trainer's generators: a headless run
learns exactly as without it. It costs about 7 s of CPU a time here with the MLP (18 simulated
minutes, two models a tick) and about three times that with the transformer, which the live
trainer spends on its own core, a step at a time.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import numpy as np

from game.engine import DEFAULT_PARAMS, LEFT, Event, Params, State, clamp_command
from game.playback import FALLBACK_TEMPERATURE, SAMPLE, TEMPERATURE_RANGE, Playback
from game.session import Session
from learner.metrics import play_in_chunks
from learner.style import StyleSamples

# Measured: the 16 clones of docs/playback.md (8 built-ins, seeds 0-1, 10 minutes; style
# distance over 20 minutes) play at their own temperature 0.025 nearer their personas than at
# 0.5 (95% interval [-0.050, -0.004]); always sampling at 1 is -0.004 [-0.031, +0.021].
TEMPERATURES = (0.25, 0.35, 0.5, 0.7, 1.0, 1.4)
MINUTES = 3.0  # simulated minutes at each temperature
MIN_EXCHANGES = 60  # the player's exchanges needed before the first calibration
PLAYER_EXCHANGES = 2000  # the newest exchanges the player's jitter is taken over
CHUNK_TICKS = 60  # ticks played between looks at the clock (``advance``)
STEP_SECONDS = 0.03  # how long one ``advance`` plays, at most about (a chunk more)
SEED = 6000  # the calibration's matches and draws (apart from the benches' seeds)
TIE = 0.02  # jitters within 2% of the nearest are as near: 3 minutes measure no finer

assert all(TEMPERATURE_RANGE[0] <= t <= TEMPERATURE_RANGE[1] for t in TEMPERATURES)


class PlayerJitter:
    """The player's jitter, from each tick the trainer gets (``learner.style``'s figure)."""

    def __init__(self, params: Params = DEFAULT_PARAMS) -> None:
        self.params = params
        self._samples = StyleSamples(LEFT, params)

    def add_tick(self, before: State, command: float, events: list[tuple[str, str]]) -> None:
        happened = [Event(kind, side) for kind, side in events]
        # Clamped as the trainer's targets are: a corrupt recording's NaN never reaches it.
        self._samples.on_tick(before, clamp_command(command), 0.0, None, happened)
        if len(self._samples.values["jitter"]) > 2 * PLAYER_EXCHANGES:
            self._keep_newest()

    def _keep_newest(self) -> None:
        """Drop all but the newest exchanges (the other figures' lists go as well)."""
        samples = self._samples
        for name in samples.values:
            keep = PLAYER_EXCHANGES if name == "jitter" else PLAYER_EXCHANGES // 4
            samples.values[name] = samples.values[name][-keep:]
            samples.rally_of[name] = samples.rally_of[name][-keep:]

    def new_match(self) -> None:
        """A break in the ticks (a new session, another recording): no exchange spans it."""
        self._samples.end_run()

    @property
    def exchanges(self) -> int:
        return min(len(self._samples.values["jitter"]), PLAYER_EXCHANGES)

    def value(self) -> float | None:
        """The mean jitter of the newest exchanges; None before ``MIN_EXCHANGES``."""
        values = self._samples.values["jitter"][-PLAYER_EXCHANGES:]
        if len(values) < MIN_EXCHANGES:
            return None
        mean = float(np.mean(values))
        return mean if math.isfinite(mean) else None

    def clear(self) -> None:
        self._samples = StyleSamples(LEFT, self.params)


def monotone(values: list[float]) -> list[float]:
    """The nearest non-decreasing sequence (least squares: pool adjacent violators). A hotter
    draw changes the command at least as often, so a dip is the noise of a few minutes."""
    blocks: list[list[float]] = []  # [mean, count]
    for value in values:
        blocks.append([value, 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            (mean, count), (last, one) = blocks[-2], blocks.pop()
            blocks[-1] = [(mean * count + last * one) / (count + one), count + one]
    return [mean for mean, count in blocks for _ in range(int(count))]


def nearest(player: float, clone: dict[float, float]) -> float:
    """The temperature whose clone jitter (made ``monotone`` in the temperature) is nearest
    the player's, by ratio; of those within ``TIE`` of the nearest, the lowest (the steadier
    play: where the temperature barely moves the jitter, it moves the rest of the style)."""
    floor = 1e-6  # a clone that never changed its command: far from any player who does
    temperatures = sorted(clone)
    fitted = monotone([clone[t] for t in temperatures])
    off = [abs(math.log(max(j, floor) / max(player, floor))) for j in fitted]
    best = min(off)
    return next(t for t, o in zip(temperatures, off, strict=True) if o <= best + TIE)


class Calibration:
    """One calibration of ``model`` (a checked ``game.mirror_opponent.Model``) against the
    player's jitter ``player``: ``advance`` until ``done``, then read ``temperature``."""

    def __init__(
        self,
        model,
        player: float,
        params: Params = DEFAULT_PARAMS,
        temperatures: tuple[float, ...] = TEMPERATURES,
        minutes: float | None = None,  # at each temperature; None: MINUTES
        seed: int = SEED,
        opponent_temperature: float = FALLBACK_TEMPERATURE,
    ) -> None:
        self.model = model
        self.opponent_temperature = opponent_temperature  # the mirror it plays, as it plays
        self.player = player
        self.params = params
        self.seed = seed
        minutes = MINUTES if minutes is None else minutes
        self.seconds_each = minutes * 60.0  # simulated, at each temperature
        self.clone: dict[float, float] = {}  # temperature -> the clone's jitter
        self.temperature: float | None = None
        self._steps = self._play(temperatures)

    @property
    def done(self) -> bool:
        return self.temperature is not None

    def advance(self, seconds: float = STEP_SECONDS) -> bool:
        """Play for about ``seconds`` (whole chunks of ``CHUNK_TICKS`` ticks, at least one);
        True once the temperature is found."""
        started = time.perf_counter()
        while not self.done:
            next(self._steps, None)
            if time.perf_counter() - started >= seconds:
                break
        return self.done

    def run(self) -> float:
        while not self.advance():
            pass
        assert self.temperature is not None
        return self.temperature

    def _play(self, temperatures: tuple[float, ...]) -> Iterator[None]:
        from learner.mirror import fixed_mirror

        for temperature in temperatures:
            # Unwatched (no watchdog thread waking every 5 ms beside the game): the model is
            # the trainer's own, checked, and played here off any tick path.
            clone = fixed_mirror(
                self.model,
                self.params,
                playback=Playback(SAMPLE, temperature, self.seed),
                watched=False,
            )
            samples = StyleSamples(LEFT, self.params)
            mirror = fixed_mirror(
                self.model,
                self.params,
                playback=Playback(SAMPLE, self.opponent_temperature, self.seed + 1),
                watched=False,
            )
            session = Session(
                mirror,
                params=self.params,
                seed=self.seed,
                left_driver=clone,
                strict=True,
            )
            session.frame_sinks.append(samples)
            try:
                yield from play_in_chunks(session, self.seconds_each, self.seed, CHUNK_TICKS)
            finally:
                session.close()
            jitter = samples.values["jitter"]
            self.clone[temperature] = float(np.mean(jitter)) if jitter else 0.0
        self.temperature = nearest(self.player, self.clone)

    def describe(self) -> str:
        chosen = self.temperature
        shown = ", ".join(f"{t:g}: {j:.3f}" for t, j in sorted(self.clone.items()))
        return (
            f"plays at temperature {chosen:g}: the player's jitter {self.player:.3f} a tick, "
            f"the mirror's at each temperature {shown}"
        )


def with_temperature(onnx_bytes: bytes, temperature: float) -> bytes:
    """``onnx_bytes`` with ``temperature`` in its metadata (any earlier one replaced)."""
    import onnx

    proto = onnx.load_from_string(onnx_bytes)
    kept = {p.key: p.value for p in proto.metadata_props if p.key != "temperature"}
    kept["temperature"] = f"{temperature:g}"
    del proto.metadata_props[:]
    onnx.helper.set_model_props(proto, kept)
    return proto.SerializeToString()


def calibrated(
    model, player: float, params: Params = DEFAULT_PARAMS, playing: float = FALLBACK_TEMPERATURE
):
    """``model`` (a checked ``Model``) again, its file carrying the temperature that matches
    ``player``'s jitter (measured against the mirror playing at ``playing``), with the
    ``Calibration`` that found it."""
    from learner.mirror import checked_model

    calibration = Calibration(model, player, params, opponent_temperature=playing)
    temperature = calibration.run()
    again = checked_model(with_temperature(model.onnx_bytes, temperature))
    again.heldout_agreement = model.heldout_agreement
    return again, calibration
