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
