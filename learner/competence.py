"""Competence: does the mirror *play* as well as its player, not only move like them?

Agreement (``learner.metrics``) scores a clone on the player's own history, one tick at a
time. What a player notices is whether their mirror returns the ball. Competence measures
that directly: the clone plays the left side against the scripted opponent
(``game.opponent.ScriptedOpponent``) from the same seeds as the persona did, and

    competence = clone's return rate / persona's return rate

where a return rate is hits / arrivals, an arrival being the ball reaching the player's
paddle line (a hit or a miss on the left). 1.0 means "returns the ball as often as the player
does against the same opponent"; it can exceed 1 (a clone steadier than a noisy player).

How many arrivals a check needs: a return rate p measured on n arrivals has a binomial
standard error sqrt(p (1 - p) / n). The benches ask whether competence reaches 0.9, so a
check must tell 0.9 from its neighbours: at p = 0.9 and n = ``MIN_ARRIVALS`` = 100 the 95%
interval is +-0.06 (n = 40 would give +-0.09, wider than the gap between 0.9 and 0.95 the
benches report). The persona's rate is the denominator of every check in a run, so it is
measured once, on ``PERSONA_ARRIVALS`` = 400 arrivals (+-0.03 at p = 0.9, 0 at p = 1), from
the same seed the checks start from. A check plays whole ticks until it has seen its
arrivals; against the scripted opponent the ball reaches the player every 2 to 4.5 s of play
(measured for the built-in personas), so a check is 3.5 to 7.5 simulated minutes, about one
second of wall time for an MLP clone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from game.engine import DEFAULT_PARAMS, LEFT, Params
from game.mirror_opponent import Model
from game.opponent import Opponent, ScriptedOpponent
from game.session import Session

MIN_ARRIVALS = 100
"""Arrivals a check of the clone plays for: a 95% interval of +-0.06 at a 0.9 return rate."""
PERSONA_ARRIVALS = 400
"""Arrivals the persona's own rate is measured on, once per run (+-0.03 at 0.9)."""
MAX_SECONDS_PER_ARRIVAL = 30.0
"""A check gives up after ``arrivals * this`` simulated seconds (a rally of the scripted
opponent with a clone that returns everything can last long, but not this long); it then
reports the arrivals it saw, fewer than asked."""
COMPETENCE_SEED_OFFSET = 5000
"""Checks play from ``run seed + this``: away from training (+0), held-out (+1000) and style
(+2000) seeds, so the clone is never checked on the very serves it trained on."""


@dataclass(frozen=True)
class ReturnRate:
    """How often a driver returned the ball: ``hits`` of ``arrivals`` in ``seconds`` of play."""

    hits: int
    arrivals: int
    seconds: float

    @property
    def rate(self) -> float:
        """hits / arrivals; NaN with no arrival."""
        return self.hits / self.arrivals if self.arrivals else math.nan


def return_rate(
    driver: Opponent,
    seed: int,
    arrivals: int = MIN_ARRIVALS,
    params: Params = DEFAULT_PARAMS,
    opponent: Opponent | None = None,
) -> ReturnRate:
    """``driver`` plays the left side against ``opponent`` (scripted by default) from match
    seed ``seed`` until the ball has reached its paddle line ``arrivals`` times (or the
    ``MAX_SECONDS_PER_ARRIVAL`` budget runs out). Matches follow each other, the k-th with
    seed ``seed + k``, so every driver checked from one seed meets the same serves."""
    if arrivals < 1:
        raise ValueError(f"arrivals must be at least 1, got arrivals={arrivals}")
    session = Session(
        opponent or ScriptedOpponent(), params=params, seed=seed, left_driver=driver, strict=True
    )
    hits = seen = ticks = matches = 0
    max_ticks = int(arrivals * MAX_SECONDS_PER_ARRIVAL * params.tick_rate)
    while seen < arrivals and ticks < max_ticks:
        # Ticked directly: the simulated clock adds nothing but an event loop per chunk.
        for event in session.tick():
            if event.side == LEFT and event.kind in {"hit", "miss"}:
                seen += 1
                hits += event.kind == "hit"
        ticks += 1
        if session.state.winner:
            matches += 1
            session.new_match(seed + matches)
    session.close()
    return ReturnRate(hits, seen, ticks / params.tick_rate)


def clone_driver(model: Model, params: Params = DEFAULT_PARAMS) -> Opponent:
    """The game's opponent runtime playing ``model`` and nothing else: what the player meets."""
    from learner.mirror import fixed_mirror

    return fixed_mirror(model, params, name="clone")


class CompetenceCheck:
    """Measures the persona's return rate once; then each call checks a clone against it.

    ``persona`` is a fresh instance of the player being copied (it is reset with each match's
    seed, as in any session); ``seed`` is where every check starts (use
    ``run seed + COMPETENCE_SEED_OFFSET``).
    """

    def __init__(
        self,
        persona: Opponent,
        seed: int,
        arrivals: int = MIN_ARRIVALS,
        persona_arrivals: int = PERSONA_ARRIVALS,
        params: Params = DEFAULT_PARAMS,
    ) -> None:
        self.seed = seed
        self.arrivals = arrivals
        self.params = params
        self.persona = return_rate(persona, seed, persona_arrivals, params)
        if not self.persona.hits:
            raise ValueError(
                f"the persona returned none of {self.persona.arrivals} balls against the "
                "scripted opponent: competence relative to it is undefined"
            )

    def of_driver(self, driver: Opponent) -> dict:
        """Competence of any left-side driver (a clone's runtime, a persona, a test double)."""
        clone = return_rate(driver, self.seed, self.arrivals, self.params)
        return {
            "competence": clone.rate / self.persona.rate if clone.arrivals else None,
            "hit_rate": clone.rate if clone.arrivals else None,
            "arrivals": clone.arrivals,
            "persona_hit_rate": self.persona.rate,
        }

    def __call__(self, model: Model | None) -> dict:
        """Competence of the clone playing ``model``; ``competence`` None without a model."""
        if model is None:
            return {
                "competence": None,
                "hit_rate": None,
                "arrivals": 0,
                "persona_hit_rate": self.persona.rate,
            }
        return self.of_driver(clone_driver(model, self.params))


# -- reading a competence curve ----------------------------------------------------------------

HELD_CHECKS = 3
"""A level counts as reached once it holds at this many consecutive checks (the first of them
gives the time). One lucky check does not count: at 100 arrivals a clone that returns 85% of
the balls a player returning all of them returns passes one check at 0.9 with probability 0.10,
three in a row 0.001.
Unlike "stays for the rest of the run", this does not depend on how long the run goes on, and a
crossing within the last two checks of a run is censored rather than counted."""


def _checked(curve: list[dict]) -> list[dict]:
    """The points of a curve where competence was checked (they carry the key)."""
    return [point for point in curve if "competence" in point]


def minutes_to_competence(
    curve: list[dict], level: float, held_checks: int = HELD_CHECKS
) -> float | None:
    """Minutes at the first of ``held_checks`` consecutive checks with competence >= level;
    None: never (censored). A check before the first model (None) is below every level."""
    points = _checked(curve)
    run = 0
    for index, point in enumerate(points):
        value = point["competence"]
        run = run + 1 if value is not None and value >= level else 0
        if run == held_checks:
            return points[index - held_checks + 1]["minutes"]
    return None


def mean_competence(curve: list[dict], minutes: float) -> float | None:
    """Area under the competence curve over the whole run, divided by its length: the average
    competence over the ``minutes`` of play, in [0, 1].

    The curve starts at 0 at minute 0 and goes linearly between checks (the trapezoid rule);
    no model yet counts as 0 (the player's mirror is not them yet); each check is clipped at 1,
    so a run is not credited for being steadier than the player, only for getting there
    sooner. After the last check the curve holds its last value. None with no check at all.
    """
    points = _checked(curve)
    if not points or minutes <= 0:
        return None
    times = [0.0] + [point["minutes"] for point in points]
    values = [0.0] + [min(1.0, point["competence"] or 0.0) for point in points]
    area = sum(
        (times[i + 1] - times[i]) * (values[i] + values[i + 1]) / 2 for i in range(len(points))
    )
    area += max(0.0, minutes - times[-1]) * values[-1]
    return area / minutes


def competence_figures(curve: list[dict], minutes: float, levels=(0.9, 0.95)) -> dict:
    """A run's competence figures: ``minutes_to_competence_L`` for each level (None:
    censored), ``mean_competence`` and ``final_competence`` (the last check's)."""
    checked = _checked(curve)
    return {
        **{
            f"minutes_to_competence_{level:g}": minutes_to_competence(curve, level)
            for level in levels
        },
        "mean_competence": mean_competence(curve, minutes),
        "final_competence": checked[-1]["competence"] if checked else None,
    }


# -- a headless run that checks its clone -------------------------------------------------------


def persona_check(spec: str, seed: int, params: Params = DEFAULT_PARAMS) -> CompetenceCheck:
    """The check for a run of persona ``spec`` with seed ``seed``: the same player's own
    rate (``load_persona(spec, seed)``: the traits it trained with), played from ``seed +
    COMPETENCE_SEED_OFFSET``. Paired runs (one seed, several samplers) share one."""
    from game.personas import load_persona

    check_seed = seed + COMPETENCE_SEED_OFFSET
    return CompetenceCheck(load_persona(spec, seed), check_seed, params=params)


def train_checked(
    spec: str,
    minutes: float,
    config,
    weights,
    seed: int,
    evaluate_every: float = 15.0,
    competence_every: float | None = None,
    check: CompetenceCheck | None = None,
    on_evaluation=None,
    loss_priority=None,
):
    """``learner.headless.simulate`` of persona ``spec`` (config: ``TrainerConfig``, weights:
    ``RelevanceWeights``) whose curve carries the clone's competence every
    ``competence_every`` simulated seconds (None: every evaluation; 0: no checks);
    ``check`` defaults to ``persona_check``; ``loss_priority``: a ``LossPriority`` for the
    sampler (None: fixed weights). One torch thread, as every headless bench runs."""
    import torch  # here: measuring a clone needs no torch, training one does

    from game.personas import load_persona
    from learner.headless import simulate

    torch.set_num_threads(1)
    return simulate(
        load_persona(spec, seed),
        minutes,
        config,
        weights,
        seed=seed,
        evaluate_every=evaluate_every,
        on_evaluation=on_evaluation,
        competence=None if competence_every == 0 else check or persona_check(spec, seed),
        competence_every=competence_every,
        loss_priority=loss_priority,
    )
