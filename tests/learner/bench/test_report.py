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
    style = {
        k: {"persona": 1.0, "clone": 1.1, "rel_error": 0.1}
        for k in (
            "hit_rate",
            "mean_rally_length",
            "mean_abs_hit_offset",
            "mean_abs_paddle_speed",
            "mean_reaction_delay",
        )
    }
    (tmp_path / "fidelity-chaser.json").write_text(
        json.dumps(
            {
                "persona": "chaser",
                "model": "mlp",
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
                "matrix": [[0.9, 0.5], [0.4, 0.8]],
                "accuracy": 1.0,
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
        "| chaser | mlp | 0.970 | 0.990 | 0.50 / 1.00 / — |",
        "**0.900**",
        "Accuracy (clones closest to their own persona): 1.00",
    ):
        assert expected in text, expected
