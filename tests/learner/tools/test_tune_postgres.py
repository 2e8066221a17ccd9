"""Distributed tuning against a real PostgreSQL server: two ``tune`` processes started at
once join one study and finish it. ``.ci/run`` starts the server and names it in
``MIRROR_PONG_TEST_POSTGRES``; in CI (``CI`` set) a missing server fails the test, elsewhere
it skips."""

import os
import subprocess
import sys
import uuid

import optuna
import pytest

from tests.conftest import ROOT
from tests.learner.tools.test_offline import record

URL_VARIABLE = "MIRROR_PONG_TEST_POSTGRES"


def postgres_url() -> str:
    """The test server's URL, once it answers; a fail in CI, a skip elsewhere, when not."""
    url = os.environ.get(URL_VARIABLE)
    problem = None
    if not url:
        problem = f"{URL_VARIABLE} is not set (.ci/run starts a server and sets it)"
    else:
        try:
            import psycopg
        except ImportError:
            problem = "psycopg is not installed: pip install -r requirements-extras.txt"
        else:
            try:
                psycopg.connect(url, connect_timeout=5).close()
            except psycopg.OperationalError as exc:
                problem = f"no PostgreSQL server answers at {URL_VARIABLE}: {exc}"
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    return url


def test_two_tune_processes_join_one_postgres_study_and_finish_it(tmp_path):
    url = postgres_url()
    folder = tmp_path / "recs"
    record(folder, 7, 40, persona="chaser")
    study = f"test-{uuid.uuid4().hex[:12]}"  # a study of its own on a shared server
    trials = 2
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "main.py"),
                "tune",
                "--from",
                str(folder),
                "--storage",
                url,
                "--study",
                study,
                "--trials",
                str(trials),
                "--steps",
                "20",
                "--out",
                str(tmp_path / f"best-{i}.json"),
                "--report",
                str(tmp_path / f"report-{i}"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )  # fmt: skip
        for i in range(2)
    ]
    try:
        outputs = [process.communicate(timeout=300) for process in processes]
        for process, (_, stderr) in zip(processes, outputs, strict=True):
            assert process.returncode == 0, stderr[-3000:]
            assert "best trial" in outputs[0][0] + outputs[1][0]
        finished = optuna.load_study(study_name=study, storage=url).trials
        assert len(finished) == 2 * trials, [trial.state for trial in finished]
        assert all(trial.state.is_finished() for trial in finished)
        for i in range(2):
            assert (tmp_path / f"best-{i}.json").stat().st_size > 0
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        if study in optuna.get_all_study_names(storage=url):
            optuna.delete_study(study_name=study, storage=url)
