"""A shared mirror is inert data: hostile ONNX files are refused at import with the reason,
and a model that runs too long while playing is dropped while the game keeps getting
commands (issue 9, defects A and B)."""

import logging
import time

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper

from game.engine import RIGHT, new_match, view
from game.mirror_opponent import (
    MAX_MODEL_BYTES,
    CandidateRejected,
    MirrorOpponent,
    Model,
    ModelGate,
    check_candidate,
    make_session,
    read_model_file,
)
from learner.exporter import export_onnx
from learner.features import ObservationBuilder
from models.contract import CONTRACT_VERSION, HISTORY, NUM_BINS, NUM_FEATURES, OPSET
from models.registry import build_model


def good_model(version=1) -> bytes:
    torch.manual_seed(0)
    return export_onnx(build_model("mlp"), version)


def _with_metadata(data: bytes, **props: str) -> bytes:
    model = onnx.load_from_string(data)
    for prop in model.metadata_props:
        if prop.key in props:
            prop.value = props.pop(prop.key)
    for key, value in props.items():
        model.metadata_props.add(key=key, value=value)
    return model.SerializeToString()


def loop_model(trip_count: int) -> bytes:
    """Scores of zero, after a Loop that adds 1 to a counter ``trip_count`` times."""
    body = helper.make_graph(
        [
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
            helper.make_node("Add", ["x_in", "one"], ["x_out"]),
        ],
        "body",
        [
            helper.make_tensor_value_info("i", TensorProto.INT64, []),
            helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
            helper.make_tensor_value_info("x_in", TensorProto.FLOAT, []),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("x_out", TensorProto.FLOAT, []),
        ],
        initializer=[helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])],
    )
    w = np.zeros((HISTORY * NUM_FEATURES, NUM_BINS), np.float32)
    nodes = [
        helper.make_node("Loop", ["trips", "yes", "start"], ["counted"], body=body),
        helper.make_node("Reshape", ["obs", "shape"], ["flat"]),
        helper.make_node("MatMul", ["flat", "w"], ["scores"]),
        helper.make_node("Mul", ["counted", "zero"], ["nothing"]),
        helper.make_node("Add", ["scores", "nothing"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes,
        "loop",
        [helper.make_tensor_value_info("obs", TensorProto.FLOAT, ["batch", HISTORY, NUM_FEATURES])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", NUM_BINS])],
        initializer=[
            helper.make_tensor("trips", TensorProto.INT64, [], [trip_count]),
            helper.make_tensor("yes", TensorProto.BOOL, [], [True]),
            helper.make_tensor("start", TensorProto.FLOAT, [], [0.0]),
            helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0]),
            helper.make_tensor("shape", TensorProto.INT64, [2], [-1, HISTORY * NUM_FEATURES]),
            onnx.numpy_helper.from_array(w, "w"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    helper.set_model_props(model, {"contract_version": str(CONTRACT_VERSION), "model_version": "7"})
    return model.SerializeToString()


def range_from_obs_model() -> bytes:
    """Allowed operators only, but a Range whose length comes from the ball's position."""
    nodes = [
        helper.make_node("Gather", ["obs", "zero_i"], ["first"], axis=2),
        helper.make_node("ReduceSum", ["first"], ["total"], keepdims=0),
        helper.make_node("Range", ["zero_f", "total", "one_f"], ["lots"]),
        helper.make_node("Reshape", ["obs", "shape"], ["flat"]),
        helper.make_node("MatMul", ["flat", "w"], ["logits"]),
    ]
    w = np.zeros((HISTORY * NUM_FEATURES, NUM_BINS), np.float32)
    graph = helper.make_graph(
        nodes,
        "range",
        [helper.make_tensor_value_info("obs", TensorProto.FLOAT, ["batch", HISTORY, NUM_FEATURES])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", NUM_BINS])],
        initializer=[
            helper.make_tensor("zero_i", TensorProto.INT64, [], [0]),
            helper.make_tensor("zero_f", TensorProto.FLOAT, [], [0.0]),
            helper.make_tensor("one_f", TensorProto.FLOAT, [], [1.0]),
            helper.make_tensor("shape", TensorProto.INT64, [2], [-1, HISTORY * NUM_FEATURES]),
            onnx.numpy_helper.from_array(w, "w"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    helper.set_model_props(model, {"contract_version": str(CONTRACT_VERSION)})
    return model.SerializeToString()


def test_a_loop_is_refused_at_import_naming_the_operator():
    started = time.perf_counter()
    with pytest.raises(CandidateRejected, match="operator Loop"):
        check_candidate(loop_model(10**15))  # would never finish if it ran
    assert time.perf_counter() - started < 5


def test_a_size_taken_from_the_observation_is_refused():
    # ReduceSum is not among the allowed operators either; both reasons are refusals.
    with pytest.raises(CandidateRejected, match="operator ReduceSum"):
        check_candidate(range_from_obs_model())
    model = onnx.load_from_string(range_from_obs_model())
    model.graph.node[1].op_type = "Identity"  # obs[..., 0] itself sets the Range's length
    del model.graph.node[1].attribute[:]
    with pytest.raises(CandidateRejected, match="Range takes a size from the observation"):
        check_candidate(model.SerializeToString())


@pytest.mark.parametrize(
    "props, reason",
    [
        ({"model_version": str(2**31)}, "model_version is '2147483648'"),
        ({"model_version": "-1"}, "model_version"),
        ({"model_version": "v3"}, "model_version"),
        ({"training_frames": "-5"}, "training_frames"),
        ({"validation_agreement": "1.5"}, "validation_agreement"),
        ({"validation_agreement": "nan"}, "validation_agreement"),
    ],
)
def test_out_of_range_metadata_is_refused_with_the_field(props, reason):
    with pytest.raises(CandidateRejected, match=reason):
        check_candidate(_with_metadata(good_model(), **props))


def test_the_real_models_pass_and_a_huge_version_never_reaches_the_gate():
    session, metadata = check_candidate(good_model(version=5))
    assert metadata["model_version"] == "5"
    torch.manual_seed(0)
    check_candidate(export_onnx(build_model("transformer"), 2, 100, 0.5))
    gate = ModelGate(_opponent())
    assert gate.consider(good_model(), 2**31) is None
    assert "outside" in gate.stats.last_rejection


def test_model_files_are_size_checked_before_reading(tmp_path):
    big = tmp_path / "big.onnx"
    with open(big, "wb") as file:
        file.truncate(MAX_MODEL_BYTES + 1)  # sparse: no disk used
    with pytest.raises(CandidateRejected, match="over the 8388608-byte limit"):
        read_model_file(big)
    with pytest.raises(CandidateRejected, match="over the 8388608-byte limit"):
        check_candidate(b"\0" * (MAX_MODEL_BYTES + 1))
    with pytest.raises(CandidateRejected, match="not a regular file"):
        read_model_file(tmp_path)
    small = tmp_path / "small.onnx"
    small.write_bytes(good_model())
    assert read_model_file(small) == good_model()


def _opponent():
    return MirrorOpponent(observe_factory=lambda: ObservationBuilder().push)


def test_a_model_past_its_deadline_is_dropped_and_commands_keep_coming(caplog):
    opponent = _opponent()
    gate = ModelGate(opponent)
    assert gate.consider(good_model(version=3), 3) is not None
    state = new_match(0)
    opponent.act(view(state, RIGHT))
    assert opponent.model_version == 3
    # Forced past the checks, as if a hostile file had slipped through: it never ends.
    slow = loop_model(10**15)
    opponent.offer(Model(make_session(slow), 9, {}, slow))
    commands = []
    with caplog.at_level(logging.ERROR, logger="game.mirror_opponent"):
        for _ in range(5):
            started = time.perf_counter()
            commands.append(opponent.act(view(state, RIGHT)))
            assert time.perf_counter() - started < 1.0  # the loop is never held long
    assert all(-1.0 <= c <= 1.0 for c in commands)
    assert opponent.model_version == 3 and opponent.label == "mirror"  # the last good one
    assert opponent.dropped == 1
    dropped = [
        r.getMessage() for r in caplog.records if "dropped the mirror model" in r.getMessage()
    ]
    assert len(dropped) == 1 and "v9" in dropped[0] and "longer than 20 ms" in dropped[0]


def test_a_failing_first_model_falls_back_to_scripted():
    opponent = _opponent()
    slow = loop_model(10**15)
    opponent.offer(Model(make_session(slow), 4, {}, slow))
    command = opponent.act(view(new_match(0), RIGHT))
    assert -1.0 <= command <= 1.0 and opponent.label == "scripted"
    assert "v4" in opponent.last_drop
