"""A three-trial tuning study on small recordings writes a config that train accepts."""

import json

from tests.conftest import run_main
from tests.learner.tools.test_offline import record


def test_three_trial_study_writes_a_config_train_accepts(tmp_path):
    folder = tmp_path / "recs"
    for seed in (1, 2, 3):
        record(folder, seed, 20)
    best = tmp_path / "best.json"
    report = tmp_path / "report"
    result = run_main(
        "tune",
        "--from",
        folder,
        "--trials",
        "3",
        "--steps",
        "60",
        "--storage",
        f"sqlite:///{tmp_path / 'study.db'}",
        "--out",
        best,
        "--report",
        report,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    config = json.loads(best.read_text())
    assert set(config["weights"]) >= {"approach", "recede", "serve", "urgency"}
    assert 0.0 <= config["value"] <= 1.0
    assert (report / "learning-curves.png").stat().st_size > 1000
    assert (report / "importances.png").stat().st_size > 1000
    # A second run joins the same study (as another machine would).
    again = run_main(
        "tune",
        "--from",
        folder,
        "--trials",
        "1",
        "--steps",
        "60",
        "--storage",
        f"sqlite:///{tmp_path / 'study.db'}",
        "--out",
        best,
        "--report",
        report,
    )
    assert again.returncode == 0 and "of 4" in again.stdout
    out = tmp_path / "tuned.onnx"
    trained = run_main(
        "train", "--from", folder, "--out", out, "--sampler-config", best, "--steps-per-second", "5"
    )
    assert trained.returncode == 0, trained.stderr[-2000:]
    assert out.stat().st_size > 0


def test_tune_needs_two_recordings(tmp_path):
    folder = tmp_path / "one"
    record(folder, 1, 5)
    result = run_main(
        "tune", "--from", folder, "--trials", "1", "--storage", f"sqlite:///{tmp_path / 's.db'}"
    )
    assert result.returncode == 2 and "at least two recordings" in result.stderr
