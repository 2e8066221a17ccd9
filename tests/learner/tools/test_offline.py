"""Offline training from recordings, as a user runs it."""

import asyncio

import numpy as np
import torch

from game.mirror_opponent import MirrorOpponent, ModelGate, check_candidate
from game.opponent import ScriptedOpponent
from game.personas import load_persona
from game.profiles import Profile
from game.recording import RecordingWriter, make_header
from game.session import Session, SimClock
from learner.exporter import export_onnx
from learner.features import ObservationBuilder
from learner.metrics import agreement_on, held_out_play
from models.contract import HISTORY, NUM_FEATURES
from models.registry import build_model
from tests.conftest import run_main


def record(folder, seed, seconds, persona="predictor"):
    """``seconds`` of ``persona`` playing the left side, recorded into ``folder`` (the
    predictor's rallies last about 25 s; the chaser's about 6)."""

    def factory(params, match_seed, opponent):
        path = folder / f"{match_seed}.mpr"
        return RecordingWriter(path, make_header(params, match_seed, "p", opponent))

    session = Session(
        ScriptedOpponent(),
        seed=seed,
        recorder_factory=factory,
        left_driver=load_persona(persona),
    )
    asyncio.run(session.run(SimClock(), ticks=int(seconds * 60)))
    session.close()


def train(*args):
    return run_main("train", *map(str, args))


def test_train_from_recordings_beats_an_untrained_model(tmp_path):
    folder = tmp_path / "recs"
    record(folder, 1, 75)  # 150 s: enough exchanges to find its temperature
    record(folder, 2, 75)
    (folder / "junk.mpr").write_bytes(b"not a recording")  # skipped with a message
    out = tmp_path / "mirror.onnx"
    result = train("--from", folder, "--out", out, "--seed", "1")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "wrote" in result.stdout and "skipped" in (result.stdout + result.stderr)
    data = out.read_bytes()
    _, metadata = check_candidate(data)  # loads in the opponent runtime's checks
    assert metadata["architecture"] == "mlp" and int(metadata["training_frames"]) > 0
    # It found its own temperature from the player's jitter in the recordings, and says so.
    assert f"draws at {metadata['temperature']} (its player's jitter)" in result.stdout

    opponent = MirrorOpponent(observe_factory=lambda: ObservationBuilder().push)
    trained = ModelGate(opponent).consider(data, 1)
    torch.manual_seed(0)
    untrained = ModelGate(opponent).consider(export_onnx(build_model("mlp"), 1), 1)
    heldout = held_out_play(load_persona("predictor"), 30, seed=99)
    assert agreement_on(trained, heldout)[0] > agreement_on(untrained, heldout)[0] + 0.2

    again = tmp_path / "again.onnx"
    assert train("--from", folder, "--out", again, "--seed", "1").returncode == 0
    from game.mirror_opponent import make_session

    probe = np.random.default_rng(0).normal(size=(8, HISTORY, NUM_FEATURES)).astype(np.float32)
    a = make_session(data).run(None, {"obs": probe})[0]
    b = make_session(again.read_bytes()).run(None, {"obs": probe})[0]
    np.testing.assert_array_equal(a, b)  # deterministic given the seed


def test_train_errors_are_clear(tmp_path):
    result = train("--from", tmp_path / "nothing", "--out", tmp_path / "m.onnx")
    assert result.returncode == 2 and "no such file or folder" in result.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    result = train("--from", empty, "--out", tmp_path / "m.onnx")
    assert result.returncode == 2 and "no .mpr recordings" in result.stderr
    config = tmp_path / "weights.json"
    config.write_text('{"recede": -1}')
    record(empty, 3, 5)
    result = train("--from", empty, "--out", tmp_path / "m.onnx", "--sampler-config", config)
    assert result.returncode == 2 and "recede" in result.stderr and "-1" in result.stderr
    assert not (tmp_path / "m.onnx").exists()


def test_train_reads_the_players_own_recordings_without_from(tmp_path):
    profile = Profile(tmp_path, "ann")
    out = tmp_path / "m.onnx"
    nothing = train("--data-dir", tmp_path, "--player", "ann", "--out", out)
    assert nothing.returncode == 2 and nothing.stderr.count("\n") == 1, nothing.stderr
    assert str(profile.recordings) in nothing.stderr and "play first" in nothing.stderr
    record(profile.recordings, 4, 30, persona="chaser")
    result = train("--data-dir", tmp_path, "--player", "ann", "--out", out, "--steps-per-second", 2)
    assert result.returncode == 0, result.stderr[-2000:]
    assert out.stat().st_size > 0
