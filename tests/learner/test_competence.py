"""Competence: a clone judged by whether it returns the ball as often as its player does."""

import math

import pytest
import torch

from game.mirror_opponent import Model, check_candidate
from game.personas import load_persona
from learner.competence import (
    CompetenceCheck,
    mean_competence,
    minutes_to_competence,
    return_rate,
)
from learner.config import TrainerConfig
from learner.exporter import export_onnx
from learner.headless import simulate
from models.contract import COMMAND_BINS
from models.registry import build_model

SEED = 5000


def still_model() -> Model:
    """An MLP whose every output says "command 0": a paddle that never moves."""
    net = build_model("mlp")
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.zero_()
        last = [m for m in net.modules() if isinstance(m, torch.nn.Linear)][-1]
        last.bias[COMMAND_BINS.index(0.0)] = 10.0
    data = export_onnx(net, 1)
    session, metadata = check_candidate(data)
    return Model(session, 1, metadata, data)


def test_return_rate_counts_the_players_hits_and_misses_until_enough_arrivals():
    rate = return_rate(load_persona("chaser", SEED), SEED, arrivals=50)
    assert rate.arrivals == 50 and 0 < rate.hits < 50
    assert rate.rate == rate.hits / 50 and rate.seconds > 50  # a ball takes > 1 s to cross
    again = return_rate(load_persona("chaser", SEED), SEED, arrivals=50)
    assert again == rate  # seeded: every driver checked from one seed meets the same serves


@pytest.mark.parametrize("persona", ["chaser", "lazy", "misjudge", "predictor"])
def test_a_persona_judged_against_itself_is_about_fully_competent(persona):
    check = CompetenceCheck(load_persona(persona, SEED), SEED)
    # Its first 100 arrivals against the rate over 400: only the binomial noise of 100.
    figures = check.of_driver(load_persona(persona, SEED))
    assert figures["arrivals"] == 100
    assert figures["competence"] == pytest.approx(1.0, abs=0.12)


def test_a_clone_that_never_moves_has_low_competence():
    check = CompetenceCheck(load_persona("predictor", SEED), SEED)
    assert check.persona.rate == 1.0  # the predictor returns every ball of the scripted one
    figures = check(still_model())
    assert figures["arrivals"] == 100
    assert figures["competence"] < 0.5  # it only meets balls that come to the middle
    assert check(None)["competence"] is None  # no clone yet


def test_competence_times_need_the_level_held_at_three_checks():
    def curve(values):
        return [{"minutes": (i + 1) / 4, "competence": v} for i, v in enumerate(values)]

    assert minutes_to_competence(curve([None, 0.92, 0.5, 0.91, 0.95, 0.93]), 0.9) == 1.0
    assert minutes_to_competence(curve([0.95, 0.96, 0.97]), 0.95) == 0.25
    assert minutes_to_competence(curve([0.5, 0.95, 0.96]), 0.9) is None  # censored: 2 checks
    # Points without the key were not checks and do not break a run of checks.
    mixed = [{"minutes": 0.1, "agreement": 0.5}, *curve([0.9, 0.9]), {"minutes": 0.6}]
    assert minutes_to_competence(mixed, 0.9, held_checks=2) == 0.25


def test_mean_competence_is_the_area_under_the_clipped_curve_over_the_run():
    curve = [{"minutes": 1.0, "competence": None}, {"minutes": 2.0, "competence": 1.4}]
    # 0 until minute 1 (no clone), up to 1 (clipped) at minute 2, held to minute 4.
    assert mean_competence(curve, 4.0) == pytest.approx((0 + 0.5 + 2.0) / 4)
    assert mean_competence([{"minutes": 1.0}], 4.0) is None


def test_a_run_checks_its_clone_without_changing_how_it_learns():
    checked = []

    def check(model):
        checked.append(model)
        return {"competence": None if model is None else 0.5, "arrivals": 7}

    torch.set_num_threads(1)
    config = TrainerConfig(seed=2, steps_per_second=4.0, batch_size=32)

    def run(**options):
        persona = load_persona("predictor", 2)
        return simulate(persona, 0.5, TrainerConfig(**vars(config)), seed=2, **options)

    plain = run(evaluate_every=5)
    with_checks = run(evaluate_every=5, competence=check, competence_every=10)
    assert len(checked) == 3  # at 10, 20 and 30 s
    points = [p for p in with_checks.curve if "competence" in p]
    assert [p["minutes"] for p in points] == [round(s / 60, 4) for s in (10, 20, 30)]
    assert points[-1]["competence"] == 0.5 and points[-1]["competence_arrivals"] == 7
    assert checked[-1] is with_checks.model is not None
    strip = [{k: v for k, v in p.items() if not k.startswith("competence")} for p in points]
    by_minute = {p["minutes"]: p for p in plain.curve}
    for point in strip:
        expected = by_minute[point["minutes"]]
        assert point["agreement"] == expected["agreement"]
        assert math.isclose(point["loss"], expected["loss"]) or math.isnan(expected["loss"])
    with pytest.raises(ValueError, match="multiple of evaluate_every"):
        run(evaluate_every=5, competence=check, competence_every=7)
