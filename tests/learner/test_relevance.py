"""``bench relevance`` with a tiny budget: through its own parser, and as a user runs it."""

import argparse
import json
import subprocess
import sys

import pytest

from learner import relevance
from tests.conftest import ROOT

ARGS = ["--persona", "predictor", "--seeds", "1", "--minutes", "0.5"]
SPREAD = {"median", "min", "max", "values"}


def check_result(result: dict, png) -> None:
    assert result["personas"] == ["predictor"] and result["seeds"] == [0]
    assert result["minutes"] == 0.5 and result["model"] == "mlp" and result["level"] == 0.9
    assert set(result["weights"]) == {"relevance", "uniform"}
    assert result["weights"]["uniform"]["recede"] == 1.0
    assert result["weights"]["relevance"]["recede"] < 1.0
    assert [(r["persona"], r["sampler"], r["seed"]) for r in result["runs"]] == [
        ("predictor", "relevance", 0),
        ("predictor", "uniform", 0),
    ]
    step = result["evaluate_every_seconds"] / 60
    for run in result["runs"]:
        minutes = [p["minutes"] for p in run["curve"]]
        assert minutes == pytest.approx([step * (i + 1) for i in range(len(minutes))], abs=1e-3)
        assert minutes[-1] == pytest.approx(0.5)
        for point in run["curve"]:
            for key in ("agreement", "approach_agreement"):
                assert point[key] is None or 0.0 <= point[key] <= 1.0
        assert 0.5 < run["final_agreement"] <= 1.0  # 30 s of play already copies a lot
        assert 0.0 <= run["final_approach_agreement"] <= 1.0
        reached = run["minutes_to_0.9"]
        assert reached is None or 0.0 < reached <= 0.5
        if reached is not None:  # the first curve point at or above 0.9
            assert (
                next(p for p in run["curve"] if p["minutes"] == reached)["approach_agreement"]
                >= 0.9
            )
        assert run["wall_seconds"] > 0
    entry = result["summary"]["predictor"]
    for sampler in ("relevance", "uniform"):
        figures = entry[sampler]
        assert set(figures["minutes_to_0.9"]) == SPREAD | {"censored"}
        assert figures["minutes_to_0.9"]["censored"] in (0, 1)
        for key in ("final_approach_agreement", "final_agreement"):
            assert set(figures[key]) == SPREAD
            assert 0.0 <= figures[key]["median"] <= 1.0
    for ratio in (entry["ratio_of_medians"], entry["ratio_of_medians_sustained"]):
        assert (ratio["value"] is None) != (ratio["bound"] is None)
    assert isinstance(entry["meets_target"], bool)
    assert png.stat().st_size > 1000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_run_through_its_parser_writes_json_table_and_plot(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    relevance.add_parser(parser.add_subparsers(dest="bench"))
    out, png = tmp_path / "r.json", tmp_path / "r.png"
    args = parser.parse_args(["relevance", *ARGS, "--json", str(out), "--plot", str(png)])
    assert relevance.run(args) == 0
    check_result(json.loads(out.read_text()), png)
    printed = capsys.readouterr().out
    assert "predictor" in printed and "ratio rel/uni" in printed


def test_censored_medians_and_ratio_bounds():
    assert relevance._median_censored([1.0, None, 2.0]) == 2.0
    assert relevance._median_censored([1.0, None, None]) is None
    assert relevance._ratio(1.0, 2.0, 3.0) == {"value": 0.5, "bound": None}
    assert relevance._ratio(1.5, None, 3.0)["bound"] == "< 0.50"
    assert relevance._ratio(None, 1.5, 3.0)["bound"] == "> 2.00"
    curve = [
        {"minutes": m, "approach_agreement": a}
        for m, a in [(0.25, None), (0.5, 0.91), (0.75, 0.88), (1.0, 0.92), (1.25, 0.95)]
    ]
    assert relevance.minutes_to_level(curve) == 0.5
    assert relevance.minutes_to_level_sustained(curve) == 1.0


def test_bad_options_are_refused(capsys):
    parser = argparse.ArgumentParser()
    relevance.add_parser(parser.add_subparsers(dest="bench"))
    assert relevance.run(parser.parse_args(["relevance", "--minutes", "0"])) == 2
    assert relevance.run(parser.parse_args(["relevance", "--persona", "nobody"])) == 2
    assert "nobody" in capsys.readouterr().err


def main_py(*args):
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def test_main_py_bench_relevance(tmp_path):
    if main_py("bench", "relevance", "--help").returncode != 0:
        pytest.skip("main.py does not offer `bench relevance` yet")
    out, png = tmp_path / "r.json", tmp_path / "r.png"
    result = main_py("bench", "relevance", *ARGS, "--json", out, "--plot", png)
    assert result.returncode == 0, result.stderr[-2000:]
    check_result(json.loads(out.read_text()), png)
