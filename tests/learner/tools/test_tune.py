"""Tuning as a user runs it: a small study writes a config that train accepts; one session
is split by time (older rallies train, the newest score); the player's own recordings are
the default."""

import json

import numpy as np

from game.profiles import Profile
from game.recording import read_recording
from game.replay import ticks
from learner.tools.tune import load_tuning_data
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


def test_one_session_splits_by_time_the_newest_rallies_score(tmp_path):
    record(tmp_path, 5, 60, persona="chaser")  # one match of about ten rallies
    (path,) = tmp_path.glob("*.mpr")
    recording = read_recording(path)
    events = [[(e.kind, e.side) for e in tick_events] for _, _, tick_events in ticks(recording)]
    rallies = sum(kind == "serve" for tick_events in events for kind, _ in tick_events)
    data = load_tuning_data([path])
    assert data.train_rallies + data.validation_rallies == rallies > 4
    assert data.validation_rallies >= rallies / 4
    # Every tick is on exactly one side, the older ones training, the newest scoring.
    trained, scored = len(data.train_ticks), len(data.validation.commands)
    assert trained + scored == len(recording.records) and scored >= 600
    commands = np.array([r.left_cmd for r in recording.records], dtype=np.float32)
    np.testing.assert_array_equal(data.validation.commands, commands[trained:])
    assert [tick[0].tick for tick in data.train_ticks] == list(range(trained))
    # The split falls where a rally starts: at a serve.
    assert any(kind == "serve" for kind, _ in events[trained])
    # Observation windows carry their history across the split (nothing starts blank).
    assert np.abs(data.validation.obs[0, 0] - data.validation.obs[0, -1]).sum() > 0


def test_tune_defaults_to_the_players_own_single_session(tmp_path):
    profile = Profile(tmp_path, "ann")
    args = ("tune", "--data-dir", tmp_path, "--player", "ann", "--trials", "1", "--steps", "20")
    args += ("--out", tmp_path / "best.json", "--report", tmp_path / "report")
    nothing = run_main(*args)
    assert nothing.returncode == 2 and nothing.stderr.count("\n") == 1, nothing.stderr
    assert str(profile.recordings) in nothing.stderr and "--from" in nothing.stderr
    record(profile.recordings, 6, 60, persona="chaser")
    result = run_main(*args)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "from 1 recording(s)" in result.stdout and "best trial 0 of 1" in result.stdout
    assert (tmp_path / "tuning" / "studies.db").exists()  # the study file under the data dir


def test_a_session_too_short_to_split_is_refused(tmp_path):
    record(tmp_path, 1, 12, persona="chaser")
    result = run_main(
        "tune", "--from", tmp_path, "--trials", "1", "--storage", f"sqlite:///{tmp_path / 's.db'}"
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "too little play to tune on" in result.stderr and "play longer" in result.stderr


def test_a_study_storage_that_cannot_be_reached_is_one_line(tmp_path):
    record(tmp_path, 2, 40, persona="chaser")
    result = run_main(
        "tune", "--from", tmp_path, "--trials", "1", "--storage", "postgresql://u:p@127.0.0.1:1/db"
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "cannot open the study storage" in result.stderr or "psycopg" in result.stderr
