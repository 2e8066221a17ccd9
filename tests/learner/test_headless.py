"""Headless simulation: a persona against its learning mirror on the simulated clock,
reproducible from its seed, paced like live training, and faster than real time."""

import math

import pytest
import torch

from game.personas import PersonaError, load_persona
from learner.config import TrainerConfig
from learner.headless import simulate

MINUTES = 0.5  # 30 simulated seconds: enough for the first clone to train and be judged


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """One intra-op thread, as the benches run it: on a busy two-core machine a second
    thread makes each small training step many times slower, not faster."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _comparable(curve: list[dict]) -> list[dict]:
    """The curve with NaN (no loss yet) as None, so equal curves compare equal."""
    return [
        {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in point.items()}
        for point in curve
    ]


def _run(seed: int, **options):
    return simulate(load_persona("predictor", seed), MINUTES, seed=seed, **options)


@pytest.fixture(scope="module")
def predictor_run():
    points = []
    run = _run(0, evaluate_every=5, on_evaluation=points.append)
    return run, points


def test_a_run_is_reproducible_from_its_seed(predictor_run):
    first, _ = predictor_run
    second = _run(0, evaluate_every=5)
    assert _comparable(second.curve) == _comparable(first.curve)
    assert second.trainer.steps == first.trainer.steps > 0
    assert first.curve[-1]["agreement"] is not None  # the clone was judged, not skipped
    other_seed = _run(1, evaluate_every=5)
    assert _comparable(other_seed.curve) != _comparable(first.curve)


def test_evaluations_come_every_evaluate_every_simulated_seconds(predictor_run):
    run, points = predictor_run
    assert [p["minutes"] for p in run.curve] == [round(s / 60, 4) for s in (5, 10, 15, 20, 25, 30)]
    assert points == run.curve  # on_evaluation saw each point as it came
    for point in run.curve:
        assert set(point) >= {"agreement", "approach_agreement", "loss", "model_version"}


def test_a_run_is_faster_than_real_time(predictor_run):
    run, _ = predictor_run
    assert 0 < run.wall_seconds < MINUTES * 60


def test_training_keeps_the_configured_pace_once_there_is_data(predictor_run):
    run, _ = predictor_run
    steps_per_second = run.trainer.config.steps_per_second
    steps = [evaluation["steps"] for evaluation in run.trainer.history]
    assert steps[-1] == run.trainer.steps
    # Once the trainer has frames to learn from, each 5 s of play brings 5 s of steps.
    training = [b - a for a, b in zip(steps, steps[1:], strict=False) if a > 0]
    assert training and all(gained == 5 * steps_per_second for gained in training)


def test_trains_at_the_configured_steps_per_second():
    # A batch small enough to be drawn from the first second's frames: every step owed
    # is taken, so the count is exactly play seconds times steps per second.
    config = TrainerConfig(seed=0, steps_per_second=4.0, batch_size=32)
    run = _run(0, config=config, evaluate_every=20)
    assert run.trainer.steps == MINUTES * 60 * config.steps_per_second == 120
    assert [p["minutes"] for p in run.curve] == [round(20 / 60, 4), 0.5]  # and at the end
    assert [e["steps"] for e in run.trainer.history] == [80, 120]


class _GivesUp:
    label = "gives-up"
    model_version = 0

    def act(self, view):
        if view.tick >= 90:
            raise RuntimeError("the persona gave up")
        return 0.0


def test_a_persona_that_raises_stops_the_run_with_its_error():
    with pytest.raises(RuntimeError, match="the persona gave up"):
        simulate(_GivesUp(), MINUTES)


def test_a_loaded_persona_that_raises_is_named_in_the_error(tmp_path):
    (tmp_path / "quitter.py").write_text(
        "class Quitter:\n"
        "    def act(self, view):\n"
        "        if view.tick >= 90:\n"
        "            raise RuntimeError('the persona gave up')\n"
        "        return 0.0\n"
    )
    spec = f"{tmp_path / 'quitter.py'}:Quitter"
    with pytest.raises(PersonaError) as error:
        simulate(load_persona(spec), MINUTES)
    assert repr(spec) in str(error.value)
    assert "tick 90" in str(error.value)
    assert "the persona gave up" in str(error.value)


def test_twin_agreement_is_one_for_a_deterministic_persona_and_less_with_noise():
    """The reference a clone of a noisy player is judged against: the player's twin (the
    same persona under another noise seed) on the very same views."""
    from game.personas import load_persona
    from learner.metrics import held_out_play, twin_agreement

    for spec, expect_one in (("predictor", True), ("misjudge", False)):
        heldout = held_out_play(
            load_persona(spec, 3), 30, seed=3, twin=load_persona(spec, 3)
        )  # fmt: skip
        assert len(heldout.twin_commands) == len(heldout.commands) == 30 * 60
        overall, approach = twin_agreement(heldout)
        assert (overall == 1.0 and approach == 1.0) if expect_one else approach < 0.9
