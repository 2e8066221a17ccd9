"""Re-running a recording with a chosen model, as `replay FILE --model M --json` does."""

import json

import torch

from learner.exporter import export_onnx
from models.registry import build_model
from tests.conftest import run_main
from tests.learner.tools.test_offline import record


def test_replay_with_a_model_reports_how_it_differs(tmp_path):
    record(tmp_path / "recs", 1, 20)
    (recording,) = (tmp_path / "recs").glob("*.mpr")
    torch.manual_seed(0)
    model = tmp_path / "m.onnx"
    model.write_bytes(export_onnx(build_model("mlp"), 7))
    out = tmp_path / "cmp.json"
    result = run_main("replay", recording, "--model", model, "--json", out, "--verify")
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["model_version"] == 7 and report["ticks"] == 1200
    assert 0.0 <= report["agreement"] <= 1.0
    assert set(report["style"]) == {
        "hit_rate",
        "mean_rally_length",
        "mean_abs_hit_offset",
        "mean_abs_paddle_speed",
        "mean_reaction_delay",
    }
    assert "reproduced exactly" in result.stdout

    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"nope")
    result = run_main("replay", recording, "--model", bad, "--json", out)
    assert result.returncode == 2 and "cannot play" in result.stderr


def test_the_scripted_opponent_plays_again_on_the_ticks_it_played(tmp_path, monkeypatch):
    """Re-simulating a match against the mirror: its first rallies went to the scripted
    stand-in (model version 0), which answers the new game again; the mirrors' ticks replay
    their recorded commands."""
    import random

    from game.engine import Params, new_match, step
    from game.recording import Record, RecordingWriter, make_header, read_recording
    from learner.mirror import checked_model
    from learner.tools import replay_analysis

    params = Params()
    path = tmp_path / "match.mpr"
    writer = RecordingWriter(path, make_header(params, 3, "player", "mirror"))
    rng, state = random.Random(3), new_match(3, params)
    for tick in range(600):
        left, right = rng.uniform(-1, 1), rng.uniform(-1, 1)
        state, _ = step(state, left, right, params)
        writer.append(Record(state.tick, left, right, 0 if tick < 300 else 4, state))
    writer.close()
    recording = read_recording(path)

    class StandIn:
        def act(self, view):
            return 0.123

    played = []

    def spy(state, left, right, params):
        played.append(right)
        return step(state, left, right, params)

    monkeypatch.setattr(replay_analysis, "ScriptedOpponent", StandIn)
    monkeypatch.setattr(replay_analysis, "step", spy)
    torch.manual_seed(0)
    replay_analysis.resimulate(recording, checked_model(export_onnx(build_model("mlp"), 7)))
    assert played[:300] == [0.123] * 300
    assert played[300:] == [r.right_cmd for r in recording.records[300 : len(played)]]
    assert len(played) > 300
