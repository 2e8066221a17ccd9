"""Style as a person sees it, measured as distributions with confidence intervals.

A person judges a mirror by when it starts to move, where it meets the ball, how often it
misses, how long the rallies last, how fast and how jittery it moves and where it waits.
``StyleSamples`` (a frame sink) keeps one sample per event or per rally for each of these
``FIGURES``; ``play_style`` lets a driver play the scripted opponent for a number of
simulated minutes, split over several seeds, and keeps them all. ``compare`` sets two such
collections side by side, figure by figure, as distributions:

- distance: the Wasserstein-1 distance between the two samples (the area between their
  cumulative distributions, in the figure's own unit), divided by the persona's spread (its
  standard deviation, at least the figure's ``resolution``, the smallest difference worth
  seeing), so it reads "how many of the persona's standard deviations apart";
- the KS statistic (largest gap between the cumulative distributions, 0..1), for reference;
- the means, and the relative error of the clone's mean, signed ((clone - persona) /
  |persona|: +0.3 reacts 30% slower).

The reaction delay is also split into its two parts (``REACTION_PARTS``, shown beside the
figures and not in the style distance): the share of balls coming at the player it moves
for at all, and its delay when it does.

Two finite samples of one player are never exactly 0 apart, so each distance has its
sampling bias taken off (twice the distance less the bootstrap's mean, at least 0) and its
interval is the basic bootstrap interval (``distance_uncorrected`` keeps the plain one).

The **style distance** is the mean of the figures' distances (figures one side has no sample
of are left out and named). 0 is the same style; a persona against itself under other seeds
stays near 0 (the floor of this much play), two different personas are several spreads
apart.

Confidence intervals (95%) are percentile bootstrap over rallies: a rally is drawn with all
its samples (samples within a rally are not independent), the persona's and the clone's
rallies independently, and the same draws serve every figure, so the style distance gets an
interval too. Every figure rests on all the play: at 20 simulated minutes that is hundreds
of rallies and a thousand or more reactions, not today's 7-30 rallies of 5-minute means.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from game.engine import DEFAULT_PARAMS, LEFT, Params
from game.opponent import Opponent, ScriptedOpponent
from game.session import Session
from learner.metrics import REACTION_THRESHOLD, play_headless

__all__ = [
    "FIGURES",
    "REACTION_PARTS",
    "Figure",
    "StyleSamples",
    "compare",
    "format_comparison",
    "play_style",
    "style_distance",
]

BOOTSTRAP_RESAMPLES = 1000
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Figure:
    name: str  # the key in samples and JSON
    label: str  # what a person sees
    unit: str
    resolution: float  # the smallest difference worth seeing: the floor of the spread


FIGURES = (
    Figure("reaction_s", "reaction delay", "s", 0.05),  # 3 ticks
    Figure("meet_offset", "meets the ball off centre", "0 centre..1 end", 0.05),
    Figure("returned", "balls returned", "1 hit, 0 missed", 0.05),
    Figure("rally_length", "rally length", "hits", 1.0),
    Figure("paddle_speed", "paddle speed", "mean |command|", 0.05),
    Figure("jitter", "jitter", "mean |command change| a tick", 0.02),
    Figure("wait_y", "where it waits", "0 top..1 bottom", 0.02),
)
FIGURE_BY_NAME = {figure.name: figure for figure in FIGURES}

# The reaction delay in its two parts, shown beside the figures and not in the style
# distance (the delay above already is): whether the player moves at all for a ball coming
# at it, and how soon when it does. A player who lets one ball in eight come to a paddle
# already in place has a mean delay that those balls, counted whole, weigh on as much as
# the timing of all the others; a clone that moves for a few of them more seems to react
# sooner while its timing is the player's to the tick.
REACTION_PARTS = (
    Figure("reacts", "moves for the ball", "share of approaches", 0.05),
    Figure("reaction_when_s", "delay when it moves", "s", 0.05),
)


class StyleSamples:
    """Frame sink keeping one side's style as samples, each tagged with its rally.

    Per approach (the ball in play coming toward the side): ``reaction_s``, the time from
    its first tick until the command differs by ``REACTION_THRESHOLD`` from the one given on
    the tick before the approach (a player who turns on its first tick reacts in 0 s; an
    approach it never reacts to counts whole: it reacted no sooner), and ``wait_y``, the
    paddle's height on that first tick. Per ball reaching it: ``returned`` (1 or 0) and, when hit,
    ``meet_offset`` (|where it met the paddle|). Per exchange (from one approach's first
    tick to the next's, or to the rally's end; a rally's ticks before its first approach are
    one too): ``paddle_speed`` (mean |command| while the ball is in play) and ``jitter``
    (mean |command change| from tick to tick). Per rally (serve to miss, either side):
    ``rally_length`` (hits, both sides). The reaction's parts (``REACTION_PARTS``): per
    approach ``reacts`` (1 or 0), and ``reaction_when_s``, the delay of those it reacted to."""

    def __init__(self, side: str = LEFT, params: Params = DEFAULT_PARAMS) -> None:
        self.side = side
        self.params = params
        names = [figure.name for figure in FIGURES + REACTION_PARTS]
        self.values: dict[str, list[float]] = {name: [] for name in names}
        self.rally_of: dict[str, list[int]] = {name: [] for name in names}
        self.ticks = 0
        self._previous_command: float | None = None  # the command on the tick before
        self._rally = 0  # the index of the rally under way
        self._rally_ticks = 0
        self._new_rally()

    @property
    def rallies(self) -> int:
        """Rallies seen, the one under way included if it has begun."""
        return self._rally + (1 if self._rally_ticks else 0)

    def _new_rally(self) -> None:
        self._rally_ticks = 0
        self._new_exchange()
        self._approach_ticks: int | None = None  # ticks into the approach under way
        self._approach_command = 0.0
        self._reacted = False

    def _new_exchange(self) -> None:
        self._in_play_ticks = 0
        self._speed_sum = 0.0
        self._change_sum = 0.0
        self._last_command: float | None = None

    def _end_exchange(self) -> None:
        if self._in_play_ticks:
            self._add("paddle_speed", self._speed_sum / self._in_play_ticks)
            if self._in_play_ticks > 1:
                self._add("jitter", self._change_sum / (self._in_play_ticks - 1))
        self._new_exchange()

    def _add(self, name: str, value: float) -> None:
        self.values[name].append(float(value))
        self.rally_of[name].append(self._rally)

    def _end_approach(self) -> None:
        if self._approach_ticks is not None and not self._reacted:
            self._add("reaction_s", self._approach_ticks / self.params.tick_rate)
            self._add("reacts", 0.0)
        self._approach_ticks = None

    def _end_rally(self, rally_hits: int | None) -> None:
        self._end_approach()
        if rally_hits is not None:
            self._add("rally_length", rally_hits)
        self._end_exchange()
        self._rally += 1
        self._new_rally()

    def end_run(self) -> None:
        """Close the rally under way (its exchanges count; its length does not, the rally did
        not end): call between runs, so no rally spans two."""
        if self._rally_ticks:
            self._end_rally(None)

    def on_tick(self, before, left_cmd, right_cmd, after, events) -> None:
        self.ticks += 1
        self._rally_ticks += 1
        left = self.side == LEFT
        command = left_cmd if left else right_cmd
        if before.serve_ticks == 0:
            approaching = before.ball_vx < 0.0 if left else before.ball_vx > 0.0
            if approaching and self._approach_ticks is None:
                self._end_exchange()
            self._in_play_ticks += 1
            self._speed_sum += abs(command)
            if self._last_command is not None:
                self._change_sum += abs(command - self._last_command)
            self._last_command = command
            if approaching and self._approach_ticks is None:
                paddle_y = before.left_y if left else before.right_y
                self._add("wait_y", paddle_y / self.params.court_height)
                self._approach_ticks = 0
                self._approach_command = (
                    command if self._previous_command is None else self._previous_command
                )
                self._reacted = False
            elif not approaching:
                self._end_approach()
            if self._approach_ticks is not None:
                if not self._reacted and abs(command - self._approach_command) >= (
                    REACTION_THRESHOLD
                ):
                    delay = self._approach_ticks / self.params.tick_rate
                    self._add("reaction_s", delay)
                    self._add("reaction_when_s", delay)
                    self._add("reacts", 1.0)
                    self._reacted = True
                self._approach_ticks += 1
        self._previous_command = command
        for event in events:
            if event.kind == "hit" and event.side == self.side:
                self._add("returned", 1.0)
                self._add("meet_offset", abs(event.value))
            elif event.kind == "miss":
                if event.side == self.side:
                    self._add("returned", 0.0)
                self._end_rally(before.rally_hits)

    def arrays(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(values, rally index of each) of one figure."""
        return (
            np.asarray(self.values[name], dtype=np.float64),
            np.asarray(self.rally_of[name], dtype=np.int64),
        )

    @property
    def minutes(self) -> float:
        return self.ticks / self.params.tick_rate / 60.0


def play_style(
    driver: Opponent,
    minutes: float,
    seeds: Sequence[int],
    params: Params = DEFAULT_PARAMS,
) -> StyleSamples:
    """``driver`` plays the left side against the scripted opponent for ``minutes`` of
    simulated play in all, split evenly over ``seeds`` (each its own run of matches)."""
    samples = StyleSamples(LEFT, params)
    for seed in seeds:
        session = Session(
            ScriptedOpponent(), params=params, seed=seed, left_driver=driver, strict=True
        )
        session.frame_sinks.append(samples)
        play_headless(session, minutes * 60.0 / len(seeds), seed)
        session.close()
        samples.end_run()
    return samples


# -- comparing two styles ---------------------------------------------------------------------


def _w1(values: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Wasserstein-1 distances between weighted samples on the shared points ``values``:
    ``left`` and ``right`` are (B, N) weights (zero where a point is not the side's); one
    distance per row. The area between the two cumulative distributions."""
    order = np.argsort(values, kind="stable")
    steps = np.diff(values[order])  # (N - 1,)
    left_cdf = np.cumsum(left[:, order], axis=1)[:, :-1]
    right_cdf = np.cumsum(right[:, order], axis=1)[:, :-1]
    left_cdf /= left.sum(axis=1, keepdims=True)
    right_cdf /= right.sum(axis=1, keepdims=True)
    return np.abs(left_cdf - right_cdf) @ steps


def _ks(persona: np.ndarray, clone: np.ndarray) -> float:
    points = np.union1d(persona, clone)
    persona_cdf = np.searchsorted(np.sort(persona), points, side="right") / len(persona)
    clone_cdf = np.searchsorted(np.sort(clone), points, side="right") / len(clone)
    return float(np.max(np.abs(persona_cdf - clone_cdf)))


def _rally_draws(rallies: int, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """(resamples + 1, rallies) counts: row 0 all ones (the sample itself), then each row
    how often each rally was drawn in one bootstrap resample."""
    draws = rng.multinomial(rallies, np.full(rallies, 1.0 / rallies), size=resamples)
    return np.vstack([np.ones((1, rallies), dtype=np.int64), draws]).astype(np.float64)


def _interval(values: np.ndarray) -> list[float] | None:
    finite = values[np.isfinite(values)]
    if not len(finite):
        return None
    tail = (1.0 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return [_round(low), _round(high)]


def _corrected(distances: np.ndarray) -> tuple[float | None, list[float] | None]:
    """A distance with its sampling bias taken off, and its basic bootstrap interval, both
    at least 0. Two finite samples of one player are never 0 apart, and resampling moves
    them further apart by about as much: the bootstrap's mean estimates that bias."""
    point, draws = distances[0], distances[1:]
    draws = draws[np.isfinite(draws)]
    if not math.isfinite(point) or not len(draws):
        return _round(point), None
    tail = (1.0 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    corrected = max(2 * point - float(np.mean(draws)), 0.0)
    return _round(corrected), [
        _round(max(2 * point - high, 0.0)),
        _round(max(2 * point - low, 0.0)),
    ]


def _round(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), 4)


def _compare_figure(
    figure: Figure,
    persona: StyleSamples,
    clone: StyleSamples,
    persona_draws: np.ndarray,
    clone_draws: np.ndarray,
) -> tuple[dict, np.ndarray | None]:
    """One figure's entry, and its distance under every draw (row 0: the sample itself)."""
    persona_values, persona_rallies = persona.arrays(figure.name)
    clone_values, clone_rallies = clone.arrays(figure.name)
    entry: dict = {"persona_n": len(persona_values), "clone_n": len(clone_values)}
    if not len(persona_values) or not len(clone_values):
        return entry | {"distance": None}, None
    # Weights (draws, points): a point weighs as often as its rally was drawn.
    persona_weights = persona_draws[:, persona_rallies]
    clone_weights = clone_draws[:, clone_rallies]
    with np.errstate(invalid="ignore", divide="ignore"):
        persona_means = persona_weights @ persona_values / persona_weights.sum(axis=1)
        clone_means = clone_weights @ clone_values / clone_weights.sum(axis=1)
        rel_errors = (clone_means - persona_means) / np.abs(persona_means)
        zeros = (persona_weights.sum(axis=1) == 0) | (clone_weights.sum(axis=1) == 0)
        spread = max(float(np.std(persona_values)), figure.resolution)
        values = np.concatenate([persona_values, clone_values])
        padding = (len(persona_draws), len(clone_values))
        distances = (
            _w1(
                values,
                np.hstack([persona_weights, np.zeros(padding)]),
                np.hstack([np.zeros((len(clone_draws), len(persona_values))), clone_weights]),
            )
            / spread
        )
    distances[zeros] = np.nan
    distance, distance_ci = _corrected(distances)
    entry |= {
        "distance": distance,
        "distance_ci": distance_ci,
        "distance_uncorrected": _round(distances[0]),
        "ks": _round(_ks(persona_values, clone_values)),
        "spread": _round(spread),
        "persona_mean": _round(persona_means[0]),
        "persona_mean_ci": _interval(persona_means[1:]),
        "clone_mean": _round(clone_means[0]),
        "clone_mean_ci": _interval(clone_means[1:]),
        "rel_error": _round(rel_errors[0]),
        "rel_error_ci": _interval(rel_errors[1:]),
    }
    return entry, distances


def compare(
    persona: StyleSamples,
    clone: StyleSamples,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
) -> dict:
    """``clone``'s style beside ``persona``'s, figure by figure, and the style distance,
    each with its bootstrap interval (see the module's docstring). ``clone`` is whoever is
    compared: a clone, or the persona itself under other seeds. JSON-ready."""
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, got resamples={resamples}")
    rng = np.random.default_rng(seed)
    persona_draws = _rally_draws(persona.rallies, resamples, rng)
    clone_draws = _rally_draws(clone.rallies, resamples, rng)
    figures, per_draw, missing = {}, [], []
    for figure in FIGURES:
        entry, distances = _compare_figure(figure, persona, clone, persona_draws, clone_draws)
        figures[figure.name] = entry
        if distances is None:
            missing.append(figure.name)
        else:
            per_draw.append(distances)
    if per_draw:
        with np.errstate(invalid="ignore"):
            overall = np.mean(np.vstack(per_draw), axis=0)  # NaN where a figure had none
    else:
        overall = np.full(resamples + 1, np.nan)
    distance, distance_ci = _corrected(overall)
    parts = {
        figure.name: _compare_figure(figure, persona, clone, persona_draws, clone_draws)[0]
        for figure in REACTION_PARTS
    }
    return {
        "style_distance": distance,
        "style_distance_ci": distance_ci,
        "figures_left_out": missing,  # no sample on one side: not in the style distance
        "persona_minutes": round(persona.minutes, 3),
        "clone_minutes": round(clone.minutes, 3),
        "persona_rallies": persona.rallies,
        "clone_rallies": clone.rallies,
        "figures": figures,
        "reaction_parts": parts,  # beside the figures, not in the style distance
    }


def style_distance(persona: StyleSamples, clone: StyleSamples, resamples: int = 200) -> float:
    """The style distance alone, on fewer resamples (for matrices of many pairs; NaN: none)."""
    distance = compare(persona, clone, resamples)["style_distance"]
    return math.nan if distance is None else distance


# -- a readable table -------------------------------------------------------------------------


def _ci(interval: list[float] | None, digits: int = 3) -> str:
    if interval is None:
        return ""
    return f"[{interval[0]:.{digits}f}, {interval[1]:.{digits}f}]"


def _value(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def format_comparison(result: dict, twin: dict | None = None, indent: str = "  ") -> list[str]:
    """Lines of a table: per figure the means, the relative error and the distance with
    their intervals, the twin's distance beside (the floor), then the style distance."""
    header = (
        f"{'figure':26s} {'persona mean [95% CI]':>26s} {'clone mean [95% CI]':>26s} "
        f"{'rel. error [95% CI]':>24s} {'distance [95% CI]':>24s}"
    )
    if twin is not None:
        header += f" {'twin distance':>14s}"
    lines = [indent + header]
    parts = result.get("reaction_parts") or {}
    rows = [(figure, result["figures"][figure.name]) for figure in FIGURES]
    rows += [(figure, parts[figure.name]) for figure in REACTION_PARTS if figure.name in parts]
    for figure, entry in rows:
        if entry.get("distance") is None:
            lines.append(
                f"{indent}{figure.label:26s} no samples (persona {entry['persona_n']}, "
                f"clone {entry['clone_n']})"
            )
            continue
        label = figure.label if figure in FIGURES else f"({figure.label})"
        line = (
            f"{label:26s} "
            f"{_value(entry['persona_mean']):>7s} {_ci(entry['persona_mean_ci']):>18s} "
            f"{_value(entry['clone_mean']):>7s} {_ci(entry['clone_mean_ci']):>18s} "
            f"{_value(entry['rel_error'], 2):>6s} {_ci(entry['rel_error_ci'], 2):>17s} "
            f"{_value(entry['distance'], 2):>6s} {_ci(entry['distance_ci'], 2):>17s}"
        )
        if twin is not None:
            floor = {**twin["figures"], **(twin.get("reaction_parts") or {})}.get(figure.name)
            line += f" {_value((floor or {}).get('distance'), 2):>14s}"
        lines.append(indent + line)
    summary = (
        f"style distance {_value(result['style_distance'], 3)} {_ci(result['style_distance_ci'])}"
    )
    if twin is not None:
        summary += (
            f"; the persona against itself under other seeds: "
            f"{_value(twin['style_distance'], 3)} {_ci(twin['style_distance_ci'])}"
        )
    if result["figures_left_out"]:
        summary += f" (left out, no samples: {', '.join(result['figures_left_out'])})"
    lines.append(indent + summary)
    if parts:
        lines.append(
            indent + "(in brackets: the reaction delay's two parts, not in the style distance)"
        )
    return lines
