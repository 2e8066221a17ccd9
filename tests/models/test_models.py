"""Both architectures export through one exporter to ONNX that matches torch."""

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from game.engine import LEFT, new_match, step, view
from learner.exporter import FastExporter, export_onnx
from learner.features import ObservationBuilder
from models.contract import COLUMN, HISTORY, METADATA_KEYS, NUM_BINS, NUM_FEATURES
from models.registry import build_model
from models.tiny_transformer import TinyTransformer, TransformerConfig


def _perturb(model, seed):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.3 * torch.randn(parameter.shape, generator=generator))


@pytest.mark.parametrize("architecture", ["mlp", "transformer"])
@pytest.mark.parametrize("fast", [False, True])
def test_onnx_matches_torch_within_1e_5(architecture, fast):
    torch.manual_seed(0)
    model = build_model(architecture)
    exporter = FastExporter(model) if fast else None
    _perturb(model, 1)  # weights that differ from the ones traced
    data = exporter.export(model, 3, 1000, 0.5) if fast else export_onnx(model, 3, 1000, 0.5)
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    obs = np.random.default_rng(0).normal(size=(64, HISTORY, NUM_FEATURES)).astype(np.float32)
    (onnx_logits,) = session.run(None, {"obs": obs})
    with torch.no_grad():
        torch_logits = model.eval()(torch.from_numpy(obs)).numpy()
    assert onnx_logits.shape == (64, NUM_BINS)
    scale = max(1.0, float(np.abs(torch_logits).max()))  # float32 sums of 384 products
    np.testing.assert_allclose(onnx_logits, torch_logits, atol=1e-5 * scale, rtol=0)
    metadata = session.get_modelmeta().custom_metadata_map
    assert set(METADATA_KEYS) <= set(metadata)
    assert metadata["architecture"] == architecture and metadata["model_version"] == "3"
    assert json.loads(metadata["config"]) and metadata["training_frames"] == "1000"
    onnx.checker.check_model(onnx.load_from_string(data))


def test_transformer_is_causal():
    torch.manual_seed(0)
    model = TinyTransformer(TransformerConfig()).eval()
    obs = torch.randn(2, HISTORY, NUM_FEATURES)
    changed = obs.clone()
    changed[:, 10:, :] += 5.0  # change only the later ticks
    with torch.no_grad():
        before = model.training_logits(obs)
        after = model.training_logits(changed)
    assert torch.allclose(before[:, :10], after[:, :10], atol=1e-6)
    assert not torch.allclose(before[:, 10:], after[:, 10:])


def test_bad_configs_are_refused_with_the_value():
    with pytest.raises(ValueError, match="architecture must be one of"):
        build_model("lstm")
    with pytest.raises(ValueError, match="n_embd=30, n_head=4"):
        build_model("transformer", {"n_embd": 30, "n_head": 4})
    with pytest.raises(ValueError, match=r"got \[99\]"):
        build_model("mlp", {"taps": [99]})
    with pytest.raises(ValueError, match=r"approaching 7, serving 8\), got \[4\]"):
        build_model("mlp", {"dense": [4]})
    with pytest.raises(ValueError, match="got 9"):
        build_model("mlp", {"periodic": 9})
    with pytest.raises(ValueError, match=r"each once, got \[4, 4\]"):
        build_model("mlp", {"periodic_columns": [4, 4]})
    with pytest.raises(ValueError, match=r"got \[12\]"):
        build_model("mlp", {"periodic_columns": [12]})
    with pytest.raises(ValueError, match="motion must be 0 \\(none\\) to 23 moves, got 24"):
        build_model("mlp", {"motion": 24})
    with pytest.raises(ValueError, match="max_move must be a positive number, got 0"):
        build_model("mlp", {"max_move": 0.0})


def test_the_mlp_sees_to_the_tick_when_the_ball_turned():
    """Two windows that differ only in whether the ball was coming 10 ticks back (a tick
    between the sparse taps) get different scores: the model can count a reaction time."""
    torch.manual_seed(0)
    model = build_model("mlp")
    assert 10 not in model.config.taps
    obs = torch.zeros(1, HISTORY, NUM_FEATURES)
    obs[0, -10:, COLUMN["approaching"]] = 1.0  # coming for the last 10 ticks
    earlier = obs.clone()
    earlier[0, -11, COLUMN["approaching"]] = 1.0  # coming for one tick more
    assert not torch.allclose(model(obs), model(earlier))
    blind = build_model("mlp", {"dense": []})
    assert torch.allclose(blind(obs), blind(earlier))


def test_the_mlp_reads_the_commands_the_paddle_just_followed():
    """A keyboard player's key held is memory: the MLP reads the paddle's last moves in
    commands (full speed up is -1), not as the small difference of two positions. Played
    through the real game, what it reads is the commands the player gave, tick by tick."""
    model = build_model("mlp")
    given = [1.0, 1.0, 0.0, -1.0, -0.5, 0.25, 1.0]
    state = new_match(0)._replace(left_y=0.5)
    builder = ObservationBuilder()
    builder.push(view(state, LEFT))
    for index, command in enumerate(given):
        state, _ = step(state, command, 0.0)
        window = torch.from_numpy(builder.push(view(state, LEFT)))[None]
        newest = given[max(0, index - 2) : index + 1]
        read = (window[0, -1 - model.config.motion :, COLUMN["paddle_y"]] @ model.moves).tolist()
        assert read[-len(newest) :] == pytest.approx(newest, abs=1e-4)
