"""Recordings exported as a Minari dataset load back with Minari."""

import os

import numpy as np

from tests.conftest import run_main
from tests.learner.tools.test_offline import record


def test_minari_round_trip(tmp_path):
    import minari

    record(tmp_path / "recs", 1, 10)
    record(tmp_path / "recs", 2, 12)
    env = {**os.environ, "MINARI_DATASETS_PATH": str(tmp_path / "minari")}
    result = run_main(
        "export-minari",
        "--from",
        str(tmp_path / "recs"),
        "--dataset-id",
        "mirrorpong/test-v0",
        env=env,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    os.environ["MINARI_DATASETS_PATH"] = str(tmp_path / "minari")
    try:
        dataset = minari.load_dataset("mirrorpong/test-v0")
        episodes = list(dataset.iterate_episodes())
    finally:
        del os.environ["MINARI_DATASETS_PATH"]
    assert dataset.total_episodes == 2 and dataset.total_steps == 600 + 720
    first = min(episodes, key=lambda e: len(e.actions))
    assert first.observations.shape == (601, 6) and first.actions.shape == (600, 1)
    assert np.all(np.abs(first.actions) <= 1.0) and first.truncations[-1]
