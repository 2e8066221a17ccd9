"""``bench relevance`` with a tiny budget: through its own parser, and as a user runs it."""

import argparse
import json

import pytest

from learner.bench import relevance
from learner.bench.cli import add_relevance_parser
from learner.config import TrainerConfig
from tests.conftest import ROOT, run_main

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
    ratios = entry["vs_uniform"]["relevance"]
    for ratio in (ratios["ratio_of_medians"], ratios["ratio_of_medians_sustained"]):
        assert (ratio["value"] is None) != (ratio["bound"] is None)
    assert isinstance(ratios["meets_target"], bool) and set(entry["vs_uniform"]) == {"relevance"}
    # Competence, checked every 15 s: a clone exists by then or the check says None.
    assert result["competence"]["every_seconds"] == 15 and result["competence"]["pooled"]
    assert result["code"]["commit"] is None or len(result["code"]["commit"]) == 40
    for run in result["runs"]:
        checks = [p for p in run["curve"] if "competence" in p]
        assert [p["minutes"] for p in checks] == [0.25, 0.5]
        for point in checks:
            assert point["competence"] is None or 0.0 <= point["competence"] <= 1.5
            assert point["competence_arrivals"] in (0, 100)
        assert 0.0 <= run["mean_competence"] <= 1.0 and run["persona_hit_rate"] == 1.0
        assert run["minutes_to_competence_0.9"] is None  # 3 checks held: not in 2 checks
    comparison = entry["competence"]["vs_uniform"]["relevance"]
    assert set(comparison) == {"0.9", "0.95", "mean_competence"}
    assert comparison["0.9"]["ties"] == 1 and comparison["0.9"]["sign_test_p"] is None
    assert png.stat().st_size > 1000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_run_through_its_parser_writes_json_table_and_plot(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    add_relevance_parser(parser.add_subparsers(dest="bench"))
    out, png, doc = tmp_path / "r.json", tmp_path / "r.png", tmp_path / "r.md"
    args = parser.parse_args(
        ["relevance", *ARGS, "--json", str(out), "--plot", str(png), "--write-docs", str(doc)]
    )
    assert relevance.run(args) == 0
    result = json.loads(out.read_text())
    check_result(result, png)
    assert result["trainer"]["steps_per_second"] > 0 and result["machine"]["description"]
    printed = capsys.readouterr().out
    assert "predictor" in printed and "ratio rel/uni" in printed
    text = doc.read_text()
    assert text.index(relevance.START_MARKER) < text.index("| predictor | relevance |")
    assert "--persona predictor --seeds 1 --minutes 0.5" in text  # rebuilt: argv is pytest's
    assert result["machine"]["description"] in text and "![learning curves](r.png)" in text


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


def test_paired_times_find_the_sooner_sampler():
    """Fabricated paired times: a sampler twice as fast on every seed, one censored pair."""
    uniform = [2.0, 1.5, 2.5, 1.0, None]
    halved = [0.9, 0.8, 1.2, 0.5, 1.5]
    figures = relevance.paired_times(halved, uniform, budget=3.0)
    assert (figures["sooner"], figures["later"], figures["ties"]) == (5, 0, 0)
    assert figures["sign_test_p"] == pytest.approx(2 / 2**5)  # two-sided, 5 of 5
    assert figures["geometric_mean_ratio"] < 0.55 and figures["censored_pairs"] == 1
    low, high = figures["interval"]
    assert low <= figures["geometric_mean_ratio"] <= high < 1.0
    slower = relevance.paired_times(uniform, halved, budget=3.0)
    assert (slower["sooner"], slower["later"]) == (0, 5)
    assert slower["geometric_mean_ratio"] == pytest.approx(1 / figures["geometric_mean_ratio"])
    assert slower["interval"][0] > 1.0
    # No direction: as often sooner as later, and the interval holds 1.
    mixed = relevance.paired_times([1.0, 2.0, 1.0, 2.0, None], [2.0, 1.0, 2.0, 1.0, None], 3.0)
    assert (mixed["sooner"], mixed["later"], mixed["ties"]) == (2, 2, 1)
    assert mixed["sign_test_p"] == 1.0 and mixed["interval"][0] < 1.0 < mixed["interval"][1]
    higher = relevance.paired_values([0.8, 0.7, 0.9, None], [0.6, 0.7, 0.5, 0.4])
    assert (higher["higher"], higher["lower"], higher["ties"]) == (2, 0, 1)
    assert higher["mean_difference"] == pytest.approx(0.2)


def test_competence_figures_are_summarised_and_rendered(tmp_path):
    """Runs carrying competence get its table and the paired comparisons, pooled too."""
    runs = []
    for persona in ("chaser", "lazy"):
        for seed in range(5):
            for sampler, reached in (("relevance", 1.0), ("uniform", 2.0 + seed / 10)):
                checks = [(m / 4, 0.5 if m / 4 < reached else 0.96) for m in range(1, 13)]
                curve = [{"minutes": m, "competence": c} for m, c in checks]
                runs.append(
                    {
                        "persona": persona,
                        "sampler": sampler,
                        "seed": seed,
                        "minutes_to_0.9": None,
                        "minutes_to_0.9_sustained": None,
                        "final_approach_agreement": 0.8,
                        "final_agreement": 0.8,
                        **relevance.run_competence(curve, 3.0),
                    }
                )
    assert runs[0]["minutes_to_competence_0.95"] == 1.0 and runs[0]["mean_competence"] > 0.6
    seeds = list(range(5))
    summary = relevance.summarise(runs, ["chaser", "lazy"], seeds, 3.0)
    vs_uniform = summary["chaser"]["competence"]["vs_uniform"]["relevance"]
    assert vs_uniform["0.9"]["sooner"] == 5 and vs_uniform["0.9"]["sign_test_p"] < 0.07
    assert vs_uniform["mean_competence"]["higher"] == 5
    pooled = relevance.pooled_competence(runs, ["chaser", "lazy"], seeds, 3.0, relevance.SAMPLERS)
    assert pooled["relevance"]["0.95"]["sooner"] == 10
    assert pooled["relevance"]["0.95"]["sign_test_p"] < 0.01
    result = {
        **tiny_result(),
        "seeds": seeds,
        "minutes": 3.0,
        "runs": runs,
        "summary": summary,
        "competence": {
            "every_seconds": 15,
            "min_arrivals": 100,
            "held_checks": 3,
            "levels": [0.9, 0.95],
            "pooled": pooled,
        },
    }
    text = relevance.render_section(result, tmp_path / "r.md", None, None)
    assert "## Competence" in text
    assert "| chaser | relevance | 1.00 [1.00–1.00] | 1.00 [1.00–1.00] |" in text
    assert "| all | relevance | time to 0.9 | 10 / 0 / 0 | 0.002 | 0.44 [0.42–0.46] |" in text


def _competence_result(reached: dict, mean_level: dict, pace: float) -> dict:
    """A result of chaser and lazy over 5 seeds where each sampler reaches competence at
    ``reached[(persona, sampler)]`` minutes and holds ``mean_level`` before that."""
    runs, seeds = [], list(range(5))
    samplers = ("adaptive", "relevance", "uniform")
    for persona in ("chaser", "lazy"):
        for seed in seeds:
            for sampler in samplers:
                at, low = reached[(persona, sampler)], mean_level[(persona, sampler)]
                curve = [
                    {"minutes": m / 4, "competence": low if m / 4 < at else 0.96}
                    for m in range(1, 13)
                ]
                run = {"persona": persona, "sampler": sampler, "seed": seed}
                run.update({"minutes_to_0.9": None, "minutes_to_0.9_sustained": None})
                run.update({"final_approach_agreement": 0.8, "final_agreement": 0.8})
                runs.append({**run, **relevance.run_competence(curve, 3.0)})
    result = {
        **tiny_result(),
        "samplers": list(samplers),
        "personas": ["chaser", "lazy"],
        "seeds": seeds,
        "minutes": 3.0,
        "runs": runs,
        "trainer": {"steps_per_second": pace},
        "competence": {"every_seconds": 15, "min_arrivals": 100, "held_checks": 3},
    }
    return relevance.resummarise(result)


def test_the_adaptive_samplers_targets_are_judged_and_printed(capsys):
    """Default pace: 1.5x sooner than uniform in the median over personas, and never more
    than 10% slower than the better of uniform and relevance; scarce compute: mean
    competence above uniform's on every persona."""
    reached = {
        ("chaser", "adaptive"): 1.0, ("chaser", "relevance"): 1.5, ("chaser", "uniform"): 2.0,
        ("lazy", "adaptive"): 1.0, ("lazy", "relevance"): 0.75, ("lazy", "uniform"): 2.0,
    }  # fmt: skip
    flat = dict.fromkeys(reached, 0.5)
    rows = relevance.adaptive_targets(_competence_result(reached, flat, 10))
    speedup, slower = rows[1][1:], rows[2][1:]
    assert rows[1][0] == rows[2][0] == "adaptive" and len(rows) == 3
    assert speedup[1].startswith("2.00×") and speedup[2] == "yes"
    assert "worst lazy: 1.33×" in slower[1] and slower[2] == "no"  # relevance was sooner

    scarce = {**flat, ("chaser", "adaptive"): 0.6, ("lazy", "adaptive"): 0.4}
    reached = dict.fromkeys(reached, 2.0)  # all at once: only the level before differs
    (header, (sampler, *row)) = relevance.adaptive_targets(_competence_result(reached, scarce, 2))
    assert "compute scarce (2 steps/s)" in row[0] and "not above: lazy" in row[1]
    assert row[2] == "no"
    relevance.print_competence(_competence_result(reached, scarce, 2))
    assert "the adaptive samplers' targets" in capsys.readouterr().out


def test_the_adaptive_sampler_runs_beside_uniform_and_is_compared_with_it(capsys):
    assert relevance.chosen_samplers(None) == ("relevance", "uniform")
    assert relevance.chosen_samplers(["adaptive", "uniform", "adaptive", "relevance"]) == (
        "adaptive",
        "relevance",
        "uniform",
    )
    weights, priority = relevance.sampler_setup("adaptive")
    assert weights == relevance.sampler_setup("relevance")[0] and priority is not None
    samplers = ("adaptive", "uniform")
    result = relevance.experiment(["predictor"], 1, 0.25, competence_every=0, samplers=samplers)
    assert [run["sampler"] for run in result["runs"]] == ["adaptive", "uniform"]
    assert result["samplers"] == ["adaptive", "uniform"] and result["loss_priority"]["alpha"] > 0
    assert result["competence"] is None and "mean_competence" not in result["runs"][0]
    entry = result["summary"]["predictor"]
    assert set(entry["vs_uniform"]) == {"adaptive"} and "competence" not in entry
    relevance.print_table(result)
    printed = capsys.readouterr().out
    assert "adaptive vs uniform sampling" in printed and "ratio ÷ uni" in printed


def test_the_training_pace_is_an_option_and_is_recorded(monkeypatch):
    """--steps-per-second (the scarce-compute case) trains every run at that pace and the
    JSON says so, so paces are never pooled by mistake."""
    paces = []
    real = relevance.train_checked

    def spy(persona, minutes, config, *args, **kwargs):
        paces.append(config.steps_per_second)
        return real(persona, minutes, config, *args, **kwargs)

    monkeypatch.setattr(relevance, "train_checked", spy)
    result = relevance.experiment(
        ["chaser"], 1, 0.1, competence_every=0, samplers=("uniform",), steps_per_second=2
    )
    assert paces == [2] and result["trainer"]["steps_per_second"] == 2
    default = relevance.experiment(["chaser"], 1, 0.1, competence_every=0, samplers=("uniform",))
    assert paces[-1] == default["trainer"]["steps_per_second"] == 10
    with pytest.raises(ValueError, match="trainer differs"):
        relevance.merge_results([result, default])


def test_bad_options_are_refused(capsys):
    parser = argparse.ArgumentParser()
    add_relevance_parser(parser.add_subparsers(dest="bench"))
    assert relevance.run(parser.parse_args(["relevance", "--minutes", "0"])) == 2
    assert relevance.run(parser.parse_args(["relevance", "--competence-every", "7"])) == 2
    assert "multiple of --evaluate-every" in capsys.readouterr().err
    assert relevance.run(parser.parse_args(["relevance", "--persona", "nobody"])) == 2
    assert "nobody" in capsys.readouterr().err
    assert relevance.run(parser.parse_args(["relevance", "--steps-per-second", "-1"])) == 2
    assert "--steps-per-second must be above 0" in capsys.readouterr().err


def test_main_py_bench_relevance(tmp_path):
    assert run_main("bench", "relevance", "--help").returncode == 0
    out, png = tmp_path / "r.json", tmp_path / "r.png"
    result = run_main("bench", "relevance", *ARGS, "--json", out, "--plot", png)
    assert result.returncode == 0, result.stderr[-2000:]
    check_result(json.loads(out.read_text()), png)


def tiny_result() -> dict:
    """A finished run's JSON in miniature: two personas, two seeds, one censored side."""

    def run(persona, sampler, seed, reached):
        curve = [
            {"minutes": 0.5, "agreement": 0.8, "approach_agreement": 0.7},
            {"minutes": 1.0, "agreement": 0.95, "approach_agreement": 0.92},
        ]
        return {
            "persona": persona,
            "sampler": sampler,
            "seed": seed,
            "minutes_to_0.9": reached,
            "minutes_to_0.9_sustained": reached,
            "final_approach_agreement": 0.92,
            "final_agreement": 0.95,
            "wall_seconds": 1.0,
            "curve": curve,
        }

    personas, seeds = ["chaser", "lazy"], [0, 1]
    times = {"relevance": [0.5, None], "uniform": [1.0, 1.0]}
    runs = [
        run(p, s, seed, times[s][i])
        for p in personas
        for i, seed in enumerate(seeds)
        for s in relevance.SAMPLERS
    ]
    return {
        "benchmark": "relevance",
        "personas": personas,
        "seeds": seeds,
        "minutes": 1.0,
        "model": "mlp",
        "evaluate_every_seconds": 30,
        "level": 0.9,
        "metric": "approach_agreement",
        "target_ratio": 0.5,
        "weights": {s: relevance.sampler_setup(s)[0].to_dict() for s in relevance.SAMPLERS},
        "summary": relevance.summarise(runs, personas, seeds, 1.0),
        "runs": runs,
        "wall_seconds": 12.5,
        "machine": {"cpus": 2, "python": "3.11.7", "platform": "elsewhere"},
        "argv": ["main.py", "bench", "relevance", "--seeds", "2", "--json", "r.json"],
    }


def test_from_json_writes_docs_between_markers_without_running(tmp_path, capsys, monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("--from-json must not train")

    monkeypatch.setattr(relevance, "train_checked", no_training)
    source = tmp_path / "r.json"
    source.write_text(json.dumps(tiny_result()))
    doc = tmp_path / "relevance.md"
    doc.write_text(
        f"# Title\n\nHand-written before.\n\n{relevance.START_MARKER}\nstale 9.99\n"
        f"{relevance.END_MARKER}\n\nHand-written after.\n"
    )
    parser = argparse.ArgumentParser()
    add_relevance_parser(parser.add_subparsers(dest="bench"))
    png = tmp_path / "r.png"
    args = ["relevance", "--from-json", str(source), "--plot", str(png), "--write-docs", str(doc)]
    assert relevance.run(parser.parse_args(args)) == 0
    assert "ratio rel/uni" in capsys.readouterr().out
    text = doc.read_text()
    assert text.startswith("# Title\n\nHand-written before.\n\n" + relevance.START_MARKER)
    assert text.endswith(relevance.END_MARKER + "\n\nHand-written after.\n")
    assert text.count(relevance.START_MARKER) == text.count(relevance.END_MARKER) == 1
    assert "stale 9.99" not in text
    assert "python main.py bench relevance --seeds 2 --json r.json" in text
    assert "total wall time 12.5 s on 2 cores, Python 3.11.7, elsewhere" in text
    assert "| persona | sampler | min to 0.9 appr. median [min–max] |" in text
    assert "| chaser | relevance | > 1 [0.50–>1] (1 cens.) | > 1.00 |" in text
    assert "| persona | seed 0 | seed 1 |" in text and "| lazy | 0.50 | > 1.00 |" in text
    assert "Personas meeting the target (first-crossing ratio of medians ≤ 0.5): none." in text
    assert "![learning curves](r.png)" in text and png.read_bytes()[:4] == b"\x89PNG"
    assert f"--from-json {source.resolve().as_posix()} --write-docs {doc.resolve()}" in text
    # Re-rendering changes nothing; a missing page is created with the markers.
    assert relevance.run(parser.parse_args(args)) == 0
    assert doc.read_text() == text
    fresh = tmp_path / "new" / "relevance.md"
    args = ["relevance", "--from-json", str(source), "--write-docs", str(fresh)]
    assert relevance.run(parser.parse_args(args)) == 0
    created = fresh.read_text()
    assert created.index(relevance.START_MARKER) < created.index("| chaser |")
    assert created.rstrip().endswith(relevance.END_MARKER)


def test_from_json_refuses_run_options_and_bad_files(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    add_relevance_parser(parser.add_subparsers(dest="bench"))
    source = tmp_path / "r.json"
    source.write_text(json.dumps(tiny_result()))
    args = parser.parse_args(["relevance", "--from-json", str(source), "--seeds", "5"])
    assert relevance.run(args) == 2
    assert "--seeds" in capsys.readouterr().err
    source.write_text(json.dumps({"benchmark": "perf"}))
    assert relevance.run(parser.parse_args(["relevance", "--from-json", str(source)])) == 2
    assert "not the JSON" in capsys.readouterr().err
    source.write_text(json.dumps(tiny_result()))
    doc = tmp_path / "d.md"
    doc.write_text(f"{relevance.END_MARKER}\n{relevance.START_MARKER}\n")
    args = ["relevance", "--from-json", str(source), "--write-docs", str(doc)]
    assert relevance.run(parser.parse_args(args)) == 2
    assert doc.read_text() == f"{relevance.END_MARKER}\n{relevance.START_MARKER}\n"


def test_each_training_pace_has_its_own_section_of_the_page(tmp_path):
    page = tmp_path / "relevance.md"
    default = tiny_result()
    trainer = {name: getattr(TrainerConfig(), name) for name in relevance.TRAINER_FIELDS}
    scarce = {**tiny_result(), "trainer": {**trainer, "steps_per_second": 2}}
    for result in (default, scarce):
        section = relevance.render_section(result, page, None, None)
        relevance.write_docs(page, section, relevance.markers(result))
    text = page.read_text()
    assert text.count("<!-- generated: start -->") == 1
    assert text.count("<!-- generated at 2 steps/s: start -->") == 1
    assert "## Results, at 2 training steps per second of play" in text
    relevance.write_docs(page, "again", relevance.markers(default))  # rewrites its own only
    assert "## Results, at 2 training steps per second of play" in page.read_text()
    assert "again" in page.read_text() and page.read_text().count("## Results") == 1


@pytest.mark.parametrize("name", ["relevance", "relevance-scarce"])
def test_committed_doc_renders_from_its_json_alone(tmp_path, name):
    """Each of the committed page's generated parts (one per training pace) is exactly what
    its JSON renders to."""
    source, page = ROOT / "docs" / f"{name}.json", ROOT / "docs" / "relevance.md"
    if not source.exists() or not page.exists():
        pytest.skip(f"no committed {name} run")
    copy = tmp_path / "relevance.md"
    copy.write_text(page.read_text())
    result = relevance.load_result(source)
    section = relevance.render_section(result, page, source, ROOT / "docs" / f"{name}.png")
    relevance.write_docs(copy, section, relevance.markers(result))
    assert copy.read_text() == page.read_text(), "re-run `bench relevance --write-docs`"


def test_the_command_line_names_every_built_in_persona():
    from game.personas import BUILT_IN
    from learner.bench.cli import PERSONAS

    assert tuple(BUILT_IN) == PERSONAS


def test_runs_split_over_several_commands_merge_into_one_result(tmp_path, capsys):
    whole = tiny_result()
    parts = []
    for persona in whole["personas"]:
        part = {
            **whole,
            "personas": [persona],
            "runs": [run for run in whole["runs"] if run["persona"] == persona],
        }
        path = tmp_path / f"{persona}.json"
        path.write_text(json.dumps(part))
        parts.append(path)
    parser = argparse.ArgumentParser()
    add_relevance_parser(parser.add_subparsers(dest="bench"))
    merged_path = tmp_path / "merged.json"
    args = ["relevance", "--from-json", str(parts[0]), "--from-json", str(parts[1])]
    assert relevance.run(parser.parse_args([*args, "--json", str(merged_path)])) == 0
    merged = json.loads(merged_path.read_text())
    assert merged["personas"] == ["chaser", "lazy"] and merged["wall_seconds"] == 25.0
    assert merged["summary"] == json.loads(json.dumps(whole["summary"]))
    assert [row[0] for row in relevance.table_rows(merged)[1::2]] == ["chaser", "lazy"]
    assert "wrote" in capsys.readouterr().out
    # Parts made with other settings, or leaving a hole, do not merge.
    other = json.loads(parts[1].read_text())
    parts[1].write_text(json.dumps({**other, "minutes": 2.0}))
    assert relevance.run(parser.parse_args(args)) == 2
    assert "minutes differs" in capsys.readouterr().err
    parts[1].write_text(json.dumps({**other, "code": {"commit": "abc", "modified": False}}))
    assert relevance.run(parser.parse_args(args)) == 2
    assert "runs of other code" in capsys.readouterr().err
    parts[1].write_text(json.dumps({**other, "runs": other["runs"][1:]}))
    assert relevance.run(parser.parse_args(args)) == 2
    assert "missing [('lazy', 'relevance', 0)]" in capsys.readouterr().err


def test_parts_that_compared_other_samplers_merge_over_one_baseline():
    """A second command that ran another sampler (and uniform again: seeded, so the same runs)
    joins the first: one result with every sampler against the one baseline."""
    whole = tiny_result()
    adaptive = json.loads(json.dumps(whole))
    adaptive["samplers"] = ["adaptive", "uniform"]
    adaptive["weights"] = {
        "adaptive": whole["weights"]["relevance"],
        "uniform": whole["weights"]["uniform"],
    }
    for run in adaptive["runs"]:
        if run["sampler"] == "relevance":
            run["sampler"] = "adaptive"
        else:
            run["wall_seconds"] = 9.0  # timings differ between two runs of the same seed
    merged = relevance.merge_results([whole, adaptive])
    assert merged["samplers"] == ["relevance", "adaptive", "uniform"]
    assert len(merged["runs"]) == 12 and set(merged["summary"]["chaser"]["vs_uniform"]) == {
        "relevance",
        "adaptive",
    }
    changed = json.loads(json.dumps(adaptive))
    changed["runs"][-1]["final_agreement"] = 0.5  # a uniform run that is not the same run
    with pytest.raises(ValueError, match="runs given twice, with other figures"):
        relevance.merge_results([whole, changed])
