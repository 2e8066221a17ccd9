"""The learning benchmarks, run as a user runs them, with tiny budgets."""

import json

from game.playback import DEFAULT_PLAYBACK
from tests.conftest import run_main

KEYS = {
    "persona",
    "model",
    "sampler",
    "minutes",
    "seed",
    "wall_seconds",
    "agreement",
    "approach_agreement",
    "curve",
    "minutes_to",
    "style",
}
FIGURES = {
    "reaction_s",
    "meet_offset",
    "returned",
    "rally_length",
    "paddle_speed",
    "jitter",
    "wait_y",
}


def fidelity_json(tmp_path, name, *extra):
    out = tmp_path / name
    result = run_main(
        "bench",
        "fidelity",
        "--persona",
        "predictor",
        "--minutes",
        "0.75",
        "--seed",
        "3",
        "--style-minutes",
        "2",
        "--style-seeds",
        "2",
        "--compare-temperatures",
        "1",
        "--json",
        out,
        *extra,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(out.read_text())


def test_short_fidelity_run_has_every_key_in_range_and_is_reproducible(tmp_path):
    first = fidelity_json(tmp_path, "a.json")
    assert set(first) >= KEYS
    assert first["persona"] == "predictor" and first["model"] == "mlp"
    assert 0.0 <= first["agreement"] <= 1.0 and 0.0 <= first["approach_agreement"] <= 1.0
    assert first["agreement"] > 0.5  # 45 s of play already copies a lot
    assert [p["minutes"] for p in first["curve"]] == [0.25, 0.5, 0.75]
    assert set(first["minutes_to"]) == {"0.8", "0.9", "0.95"}
    style = first["style"]
    assert style["minutes"] == 2 and len(style["seeds"]) == 2
    for compared in (style["clone"], style["twin"]):
        assert set(compared["figures"]) == FIGURES
        assert compared["persona_minutes"] == compared["clone_minutes"] == 2
        low, high = compared["style_distance_ci"]
        assert 0 <= low <= high
    # The persona against itself on other matches is nearer than its 45-second clone.
    assert style["twin"]["style_distance"] < style["clone"]["style_distance"]
    assert style["playback"] == DEFAULT_PLAYBACK.describe()  # the clone plays as in play
    sweep = {entry["playback"]: entry for entry in style["playbacks"]}
    assert set(sweep) == {"argmax", "sample T=1"}
    assert set(sweep["sample T=1"]["distances"]) == FIGURES
    assert sweep["argmax"]["style_distance"] != sweep["sample T=1"]["style_distance"]
    reaction = style["clone"]["figures"]["reaction_s"]
    low, high = reaction["persona_mean_ci"]
    assert low <= reaction["persona_mean"] <= high and reaction["persona_n"] > 50
    second = fidelity_json(tmp_path, "b.json")
    for result in (first, second):
        result.pop("wall_seconds")
        result.pop("speed_vs_real_time")
    assert first == second  # same seed, same JSON


def test_stylometry_tells_two_different_personas_apart(tmp_path):
    out = tmp_path / "s.json"
    result = run_main(
        "bench",
        "stylometry",
        "--persona",
        "chaser",
        "--persona",
        "lazy",
        "--minutes",
        "2",
        "--style-minutes",
        "2",
        "--json",
        out,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    data = json.loads(out.read_text())
    assert data["personas"] == ["chaser", "lazy"]
    matrix = data["matrix"]
    assert matrix[0][0] > matrix[0][1] and matrix[1][1] > matrix[1][0]
    assert data["accuracy"] == 1.0
    styles = data["style_matrix"]  # [clone][persona], in the persona's spreads
    # Both styles are learned in 2 minutes: each clone is nearest its own persona.
    assert styles[0][0] < styles[0][1] and styles[1][1] < styles[1][0], styles
    assert data["style_accuracy"] == 1.0
    assert [entry["persona"] for entry in data["style"]] == ["chaser", "lazy"]


def test_persona_errors_are_clear(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("class Broken:\n    def act(self, view):\n        return float('nan')\n")
    result = run_main("bench", "fidelity", "--persona", f"{bad}:Broken", "--minutes", "0.25")
    assert result.returncode == 2
    assert "returned NaN" in result.stderr and "Broken" in result.stderr
    assert "Traceback" not in result.stderr
    result = run_main("bench", "fidelity", "--persona", "nobody", "--minutes", "0.25")
    assert result.returncode == 2 and "expected a built-in name" in result.stderr


def test_a_bad_playback_is_one_line_before_any_training():
    for extra, message in [
        (("--play-by", "sample", "--temperature", "-1"), "temperature=-1.0"),
        (("--compare-temperatures", "0.5", "nan"), "--compare-temperatures: temperature"),
    ]:
        result = run_main("bench", "fidelity", "--persona", "chaser", "--minutes", "5", *extra)
        assert result.returncode == 2 and message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and "agreement" not in result.stderr


def test_a_bad_model_config_is_one_line():
    for config, message in [
        ("[1]", "must be a JSON object"),
        ("{", "not JSON"),
        ('{"taps": [99]}', "taps must be one or more of 0..23"),
        ('{"nope": 1}', "nope"),
    ]:
        result = run_main(
            "bench", "fidelity", "--persona", "chaser", "--minutes", "0.1", "--model-config", config
        )
        assert result.returncode == 2 and message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def test_every_sampler_a_bench_offers_is_what_its_help_says():
    """adaptive is what live play does (loss-aware priorities on the relevance weights)."""
    import pytest

    from learner.bench.cli import SAMPLERS
    from learner.bench.learning import sampler_setup
    from learner.sampler import RelevanceWeights

    setups = {name: sampler_setup(name) for name in SAMPLERS}
    assert setups["relevance"] == (RelevanceWeights(), None)
    assert setups["uniform"] == (RelevanceWeights.uniform(), None)
    assert setups["adaptive"][0] == RelevanceWeights() and setups["adaptive"][1] is not None
    assert setups["adaptive-uniform"][0] == RelevanceWeights.uniform()
    with pytest.raises(ValueError, match="sampler must be one of relevance, uniform"):
        sampler_setup("fancy")
