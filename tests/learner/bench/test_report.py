"""bench report lays out the JSON that the bench commands write."""

import json

from tests.conftest import run_main


def test_report_renders_every_section(tmp_path):
    (tmp_path / "loop.json").write_text(
        json.dumps(
            {"ticks": 3600, "median_ms": 0.003, "p99_ms": 0.2, "max_ms": 0.9, "client_frames": 3590}
        )
    )
    (tmp_path / "live-mlp.json").write_text(
        json.dumps(
            {
                "model": "mlp",
                "tick_lateness_while_training": {
                    "ticks": 10,
                    "median_ms": 0.1,
                    "p99_ms": 0.5,
                    "max_ms": 2.0,
                },
                "decision_latency": {"mirror": {"n": 5, "p50_us": 40.0, "p99_us": 90.0}},
                "hot_swap_ms": {"n": 3, "median": 12.0, "max": 19.0},
                "models_rejected": 0,
                "trainer_steps_per_second": 250.0,
                "agreement_by_minute": [
                    {
                        "minute": 1,
                        "agreement": 0.9,
                        "approach_agreement": 0.95,
                        "untrained_agreement": 0.4,
                        "model_version": 6,
                    }
                ],
            }
        )
    )
    figures = {
        name: {"rel_error": 0.1, "rel_error_ci": [0.05, 0.15], "distance": 0.4}
        for name in (
            "reaction_s",
            "meet_offset",
            "returned",
            "rally_length",
            "paddle_speed",
            "jitter",
            "wait_y",
        )
    }
    # The persona's reaction mean is known to +-50% (a player who turns at once), its
    # meeting to +-5%: only the meeting can be told within 10% or not.
    figures["reaction_s"] |= {"persona_mean": 0.02, "persona_mean_ci": [0.01, 0.03]}
    figures["meet_offset"] |= {"persona_mean": 0.4, "persona_mean_ci": [0.38, 0.42]}
    style = {
        "minutes": 20,
        "seeds": [2000, 2001, 2002],
        "clone": {
            "style_distance": 0.4,
            "style_distance_ci": [0.3, 0.5],
            "figures": figures,
        },
        "twin": {
            "style_distance": 0.02,
            "style_distance_ci": [0.0, 0.06],
            # The persona on other matches: its reaction mean off by 30%, its meeting by 5%.
            "figures": {
                **figures,
                "reaction_s": {"rel_error": 0.3, "rel_error_ci": [-0.1, 0.9]},
                "meet_offset": {"rel_error": -0.05, "rel_error_ci": [-0.1, 0.0]},
            },
        },
        "playbacks": [
            {
                "playback": name,
                "style_distance": distance,
                "style_distance_ci": [distance - 0.1, distance + 0.1],
                "distances": {key: distance for key in figures},
            }
            for name, distance in (("argmax", 0.4), ("sample T=1", 0.25))
        ],
    }
    (tmp_path / "fidelity-chaser.json").write_text(
        json.dumps(
            {
                "persona": "chaser",
                "model": "mlp",
                "minutes": 10.0,
                "seed": 0,
                "agreement": 0.97,
                "approach_agreement": 0.99,
                "minutes_to": {"0.8": 0.5, "0.9": 1.0, "0.95": None},
                "speed_vs_real_time": 50.0,
                "wall_seconds": 4.0,
                "style": style,
            }
        )
    )
    (tmp_path / "stylometry.json").write_text(
        json.dumps(
            {
                "personas": ["a", "b"],
                "minutes": 3,
                "sampler": "adaptive-uniform",
                # b's play is noisier: a's clone agrees best with its own player, b's clone
                # agrees better with a's steady play than with b's, yet is b's best copy.
                "matrix": [[0.9, 0.5], [0.85, 0.8]],
                "accuracy": 1.0,
                "style_minutes": 20,
                "style_matrix": [[0.3, 2.5], [1.9, 0.2]],
                "style_accuracy": 1.0,
            }
        )
    )
    # Another seed kept: b's play is nearest a's clone in style.
    (tmp_path / "stylometry-s1.json").write_text(
        json.dumps(
            {
                "personas": ["a", "b"],
                "minutes": 10,
                "seed": 1,
                "matrix": [[0.9, 0.5], [0.4, 0.8]],
                "style_matrix": [[0.3, 0.2], [1.9, 0.4]],
            }
        )
    )
    out = tmp_path / "results.md"
    result = run_main("bench", "report", "--from", tmp_path, "--out", out)
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    for expected in (
        "| 3600 | 0.0030 | 0.2000 | 0.9000 | 3590 |",
        "| mlp | 1 | 0.900 | 0.950",
        # A run from before fidelity JSON named its sampler used the fixed relevance weights:
        # the command given reproduces it, now that the default is the live sampler.
        "| chaser | mlp | relevance | 0 | 0.970 | 0.990 | 0.50 / 1.00 / — |",
        "--minutes 10 --seed S --sampler relevance [--model transformer]",
        "`python main.py bench stylometry --minutes 3 --json",
        "| a | **0.900** | 0.500 |",
        "| b | 0.850 | **0.800** |",
        "columns compare): 1.00",
        "a steadier look-alike): 0.50",
        "| 10 | 1 | 1.00 | 1.00 | 0.50 | b |",
        "| chaser | mlp | 0 | argmax | 0.40 [0.30, 0.50] | 0.02 [0.00, 0.06] | "
        "+0.10 [0.05, 0.15] |",
        "| a | **0.30** | 2.50 |",
        "persona's spreads, so columns compare): 1.00",
        "| chaser | 0 | 0.970 | 0.02 [0.00, 0.06] | 0.40 [0.30, 0.50] | **0.25 [0.15, 0.35]** |",
        "| sample T=1 | 0.250 | -0.150 [-0.150, -0.150] | 1 of 1 |",
        "| chaser | 0 | 0.020 [0.010, 0.030] | +0.10 [0.05, 0.15] | +0.30 [-0.10, 0.90] | "
        "0.400 [0.380, 0.420] | +0.10 [0.05, 0.15] | -0.05 [-0.10, 0.00] |",
        "Reaction delay within 10%: the clone in 1 of 1 runs (its 95% interval inside +-10% "
        "in 0, wholly outside in 0, across the line in 1), the persona on other matches in 0 "
        "of 1 (its 95% interval inside +-10% in 0, wholly outside in 0, across the line in 1)"
        "; an interval across the line is a run this much play cannot tell. It measures the "
        "persona's own mean to 10% in 0 of 1 runs.",
        "Meets the ball off centre within 10%: the clone in 1 of 1 runs (its 95% interval "
        "inside +-10% in 0, wholly outside in 0, across the line in 1), the persona on other "
        "matches in 1 of 1 (its 95% interval inside +-10% in 1, wholly outside in 0, across "
        "the line in 0); an interval across the line is a run this much play cannot tell. It "
        "measures the persona's own mean to 10% in 1 of 1 runs.",
    ):
        assert expected in text, expected
