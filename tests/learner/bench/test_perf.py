"""``bench perf`` with tiny budgets: every part runs and reports positive figures.

No timing thresholds: a benchmark prints figures, it does not fail on a slow machine.
"""

import argparse
import json
import sys
from pathlib import Path

import pytest

from learner.bench import perf as bench_perf
from learner.bench.cli import add_perf_parser
from learner.bench.perf import Budget

TINY = Budget(
    seconds=2.0,
    tight_calls=50,
    paced_seconds=0.2,
    swaps=3,
    heldout_frames=64,
    engine_seconds=0.2,
    capacity=5000,
    batch=32,
    adds=50,
    rounds=20,
)


def positive(value) -> bool:
    return isinstance(value, (int, float)) and value > 0


@pytest.fixture(scope="module")
def tiny_result():
    return bench_perf.run_all(TINY, command="python main.py bench perf --seconds 2")


def test_every_part_reports_positive_figures(tiny_result):
    result = json.loads(json.dumps(tiny_result))  # what --json writes
    assert {
        "machine",
        "date",
        "command",
        "budget",
        "versions",
        "tick_lateness",
        "decision_latency",
        "hot_swap",
        "engine",
        "sampler",
        "wall_seconds",
    } <= set(result)

    for condition in ("idle", "trainer_flat_out"):
        lateness = result["tick_lateness"][condition]
        assert lateness["ticks"] > 0
        assert all(positive(lateness[key]) for key in ("median_ms", "p99_ms", "max_ms"))

    for architecture in ("mlp", "transformer"):
        for call in ("mirror_act", "onnxruntime_run"):
            for mode, count in (("tight", TINY.tight_calls), ("paced", 12)):
                stats = result["decision_latency"][architecture][call][mode]
                assert stats["n"] == count
                assert all(positive(stats[key]) for key in ("p50_us", "p99_us", "max_us"))
        swap = result["hot_swap"][architecture]
        assert swap["n"] == TINY.swaps and swap["rejected"] == 0
        assert positive(swap["median_ms"]) and positive(swap["max_ms"])
        assert all(positive(swap[part]["median_ms"]) for part in ("export", "check", "first_act"))

    assert positive(result["engine"]["ticks_per_second"])

    sampler = result["sampler"]
    assert sampler["capacity"] == TINY.capacity and sampler["batch"] == TINY.batch
    for part in ("add_one", "sample_update"):
        assert positive(sampler["ours"][part]["us_per_op"])
        assert positive(sampler["ours"][part]["ops_per_second"])
    cpprb = sampler["cpprb"]  # an optional extra: either figures or the reason why not
    if cpprb["available"]:
        assert positive(cpprb["ratio"]["add_one"]) and positive(cpprb["ratio"]["sample_update"])
    else:
        assert "requirements-bench.txt" in cpprb["note"]
    assert sampler["torchrl"] == {
        "available": False,
        "note": "not run: pass --with-torchrl (builds .venv-torchrl, ~5.5 GB, on first use)",
    }


def test_the_docs_page_carries_machine_date_command_and_every_section(tiny_result):
    page = bench_perf.render_markdown(tiny_result)
    assert page.startswith("# Benchmarks\n")
    assert tiny_result["machine"] in page and tiny_result["date"] in page
    assert "`python main.py bench perf --seconds 2`" in page
    for heading in ("## (a)", "## (b)", "## (c)", "## (d)", "## (e)"):
        assert heading in page
    assert "torchrl: not run: pass --with-torchrl" in page


def test_cpprb_missing_is_reported_not_raised(monkeypatch):
    monkeypatch.setitem(sys.modules, "cpprb", None)  # makes `import cpprb` fail
    result = bench_perf.measure_cpprb(100, 8, 5, 5)
    assert result["available"] is False and "requirements-bench.txt" in result["note"]


def test_torchrl_without_room_for_its_environment_is_reported(monkeypatch, tmp_path):
    monkeypatch.setattr(bench_perf, "TORCHRL_VENV_GB", 1e12)  # never enough: installs nothing
    result = bench_perf.measure_torchrl(100, 8, 5, 5, tmp_path / "venv")
    assert result["available"] is False
    assert "needs ~1e+12 GB of disk" in result["note"]
    assert not (tmp_path / "venv").exists()


def parse(*argv):
    parser = argparse.ArgumentParser()
    add_perf_parser(parser.add_subparsers(dest="bench"))
    return parser.parse_args(["perf", *argv])


def test_the_command_line_and_its_echo():
    args = parse()
    assert args.seconds == 60.0 and args.json is None and args.write_docs is None
    assert not args.with_torchrl
    assert bench_perf.command_line(args) == "python main.py bench perf"
    args = parse("--seconds", "5", "--with-torchrl", "--json", "out.json", "--write-docs")
    assert args.write_docs == bench_perf.DEFAULT_DOCS
    assert bench_perf.command_line(args) == (
        "python main.py bench perf --seconds 5 --with-torchrl --json out.json --write-docs"
    )
    assert parse("--write-docs", "elsewhere.md").write_docs == Path("elsewhere.md")


def test_non_positive_seconds_are_refused(capsys):
    assert bench_perf.run(parse("--seconds", "0")) == 2
    assert "--seconds must be positive" in capsys.readouterr().err
