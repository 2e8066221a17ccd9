"""The trainer's learning-rate schedules: constant after warm-up live, cosine offline."""

from __future__ import annotations

import math

import pytest

from learner.config import TrainerConfig
from learner.trainer import MirrorTrainer
from tests.learner.tools.test_offline import record


def _rates(config: TrainerConfig, steps: list[int]) -> list[float]:
    trainer = MirrorTrainer(config)
    rates = []
    for step in steps:
        trainer._arch_steps = step - 1
        rates.append(trainer._lr())
    return rates


def test_live_training_keeps_its_rate_after_warm_up():
    config = TrainerConfig(lr=1e-3, warmup_steps=100)
    assert _rates(config, [50, 100, 5_000, 1_000_000]) == pytest.approx([5e-4, 1e-3, 1e-3, 1e-3])


def test_a_run_that_knows_its_length_warms_up_then_decays_along_a_cosine_to_zero():
    config = TrainerConfig(lr=1e-3, warmup_steps=100, total_steps=1100)
    warm, peak, middle, end, after = _rates(config, [50, 100, 600, 1100, 1200])
    assert warm == pytest.approx(5e-4) and peak == pytest.approx(1e-3)
    assert middle == pytest.approx(5e-4)  # half way down the cosine
    assert end == pytest.approx(0.0, abs=1e-12) and after == pytest.approx(0.0, abs=1e-12)
    assert math.isfinite(after)


def test_offline_training_uses_the_cosine_schedule(monkeypatch, tmp_path):
    from learner.tools import offline

    seen = {}
    real = MirrorTrainer.train_step

    def spy(self):
        seen["total_steps"] = self.config.total_steps
        return real(self)

    monkeypatch.setattr(MirrorTrainer, "train_step", spy)
    record(tmp_path, 1, 40)
    offline.train([tmp_path], tmp_path / "m.onnx", steps_per_second=2.0, progress=False)
    assert seen["total_steps"] == 80  # 40 s of play at 2 steps a second
