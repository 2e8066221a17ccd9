"""The gate: hand-made bad ONNX models never reach the opponent; good ones swap between ticks."""

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper

from game.engine import RIGHT, new_match, view
from game.mirror_opponent import (
    CandidateRejected,
    GapPacer,
    MirrorOpponent,
    ModelGate,
    agreement,
    check_candidate,
    commands_from_logits,
)
from learner.exporter import export_onnx
from learner.features import ObservationBuilder
from models.contract import CONTRACT_VERSION, HISTORY, NUM_BINS, NUM_FEATURES, OPSET
from models.registry import build_model


def _graph_model(nodes, inputs, outputs, initializers=(), contract_version=str(CONTRACT_VERSION)):
    graph = helper.make_graph(nodes, "bad", inputs, outputs, initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    helper.set_model_props(model, {"contract_version": contract_version})
    return model.SerializeToString()


def _obs_input(shape=("batch", HISTORY, NUM_FEATURES), name="obs"):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))


def _logits_output(shape=("batch", NUM_BINS), name="logits"):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))


def nan_model() -> bytes:
    """Right shapes, but every score is NaN (0 * inf)."""
    w = helper.make_tensor(
        "w",
        TensorProto.FLOAT,
        [HISTORY * NUM_FEATURES, NUM_BINS],
        [float("inf")] * (HISTORY * NUM_FEATURES * NUM_BINS),
    )
    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [-1, HISTORY * NUM_FEATURES])
    nodes = [
        helper.make_node("Reshape", ["obs", "shape"], ["flat"]),
        helper.make_node("Mul", ["flat", "zero"], ["zeros"]),
        helper.make_node("MatMul", ["zeros", "w"], ["logits"]),
    ]
    zero = helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0])
    return _graph_model(nodes, [_obs_input()], [_logits_output()], [w, shape, zero])


def wrong_shape_model() -> bytes:
    """Outputs 5 scores instead of NUM_BINS."""
    w = helper.make_tensor(
        "w", TensorProto.FLOAT, [HISTORY * NUM_FEATURES, 5], [0.01] * (HISTORY * NUM_FEATURES * 5)
    )
    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [-1, HISTORY * NUM_FEATURES])
    nodes = [
        helper.make_node("Reshape", ["obs", "shape"], ["flat"]),
        helper.make_node("MatMul", ["flat", "w"], ["logits"]),
    ]
    return _graph_model(nodes, [_obs_input()], [_logits_output(("batch", 5))], [w, shape])


def wrong_input_model() -> bytes:
    nodes = [helper.make_node("Identity", ["x"], ["logits"])]
    return _graph_model(nodes, [_obs_input(("batch", NUM_BINS), name="x")], [_logits_output()])


def good_model(seed=0, version=1) -> bytes:
    torch.manual_seed(seed)
    return export_onnx(build_model("mlp"), version)


def _opponent():
    return MirrorOpponent(observe_factory=lambda: ObservationBuilder().push)


@pytest.mark.parametrize(
    "make, reason",
    [
        (nan_model, "non-finite"),
        (wrong_shape_model, "contract needs 21"),
        (wrong_input_model, "contract needs ['obs']"),
        (lambda: b"this is not onnx at all", "not a valid ONNX model"),
        (lambda: good_model()[:500], "not a valid ONNX model"),
        (lambda: _set_contract(good_model(), "99"), "contract version '99'"),
        # A mirror saved by the game before the contract changed: refused in words.
        (lambda: _set_contract(good_model(), "1"), "made for an older version of the game"),
    ],
)
def test_bad_models_are_never_swapped_in(make, reason):
    opponent = _opponent()
    gate = ModelGate(opponent)
    assert gate.consider(good_model(version=1), 1) is not None
    state = new_match(0)
    opponent.act(view(state, RIGHT))
    assert opponent.model_version == 1
    with pytest.raises(CandidateRejected, match=pytest_escape(reason)):
        check_candidate(make())
    assert gate.consider(make(), 2) is None
    opponent.act(view(state, RIGHT))
    assert opponent.model_version == 1 and opponent.label == "mirror"  # the last good one plays
    assert gate.stats.rejected == 1 and reason.split()[0] in gate.stats.last_rejection


def pytest_escape(text):
    import re

    return re.escape(text)


def _set_contract(data: bytes, version: str) -> bytes:
    model = onnx.load_from_string(data)
    for prop in model.metadata_props:
        if prop.key == "contract_version":
            prop.value = version
    return model.SerializeToString()


def test_worse_model_on_heldout_frames_is_rejected():
    opponent = _opponent()
    gate = ModelGate(opponent)
    obs = np.random.default_rng(0).normal(size=(200, HISTORY, NUM_FEATURES)).astype(np.float32)
    first = gate.consider(good_model(seed=1), 1)
    state = new_match(0)
    opponent.act(view(state, RIGHT))
    # Held-out "player" commands are exactly what model 1 plays: nothing can beat it.
    from game.mirror_opponent import commands_from_logits

    (logits,) = first.session.run(None, {"obs": obs})
    commands = commands_from_logits(logits)
    assert gate.consider(good_model(seed=2, version=2), 2, obs, commands) is None
    assert "worse than the current model" in gate.stats.last_rejection
    assert gate.consider(good_model(seed=1, version=3), 3, obs, commands) is not None


def test_swap_happens_between_ticks_and_plays_the_model(tmp_path):
    opponent = _opponent()
    gate = ModelGate(opponent, save_path=tmp_path / "mirror" / "model.onnx")
    state = new_match(0)
    assert opponent.label == "scripted"
    gate.consider(good_model(version=4), 4)
    assert opponent.model_version == 0  # offered, not yet playing
    command = opponent.act(view(state, RIGHT))
    assert opponent.model_version == 4 and -1.0 <= command <= 1.0
    assert (tmp_path / "mirror" / "model.onnx").read_bytes() == opponent.model.onnx_bytes
    assert not list((tmp_path / "mirror").glob("*.tmp"))


def test_a_paused_game_shows_the_mirror_that_will_play(tmp_path):
    """A match resumed after a restart waits for Space: the mirror restored meanwhile takes
    over between the paused ticks, so the frames name it (not the scripted opponent), and
    no tick is played."""
    from game.session import Session

    opponent = _opponent()
    gate = ModelGate(opponent, save_path=tmp_path / "mirror" / "model.onnx")
    session = Session(opponent, seed=0)
    session.set_paused(True)
    gate.consider(good_model(version=4), 4)
    assert opponent.label == "scripted"
    session.tick()
    assert (opponent.label, opponent.model_version, session.state.tick) == ("mirror", 4, 0)
    # A newer one waits for play: the mirrors a player meets are ones they play.
    gate.consider(good_model(seed=1, version=5), 5)
    session.tick()
    assert opponent.model_version == 4
    session.set_paused(False)
    session.tick()
    assert (opponent.model_version, session.state.tick) == (5, 1)


def test_a_mirror_without_a_temperature_draws_at_the_one_its_trainer_found(tmp_path):
    """A restored mirror from before the trainer found the player's temperature (or one the
    gate kept since) draws at the one found, from the next tick; one whose file carries a
    temperature keeps its own, and a temperature the player set wins over both."""
    from game.playback import FALLBACK_TEMPERATURE, SAMPLE, Playback
    from learner.calibration import with_temperature

    state = new_match(0)
    opponent = _opponent()
    gate = ModelGate(opponent)
    gate.consider(good_model(version=4), 4)
    opponent.act(view(state, RIGHT))
    assert (opponent.temperature, opponent.temperature_source) == (
        FALLBACK_TEMPERATURE,
        "default",
    )
    for hostile in (-1.0, 0.0, 9.0, float("nan"), float("inf")):
        opponent.found_temperature = hostile
        assert opponent.found_temperature is None  # not a temperature a model may carry
    opponent.found_temperature = 1.4
    assert opponent._picker.temperature == FALLBACK_TEMPERATURE  # taken up by the next tick
    opponent.act(view(state, RIGHT))
    assert (opponent.temperature, opponent.temperature_source) == (1.4, "own")
    assert opponent._picker.temperature == 1.4
    gate.consider(with_temperature(good_model(seed=1, version=5), 0.25), 5)
    opponent.act(view(state, RIGHT))
    assert (opponent.model_version, opponent.temperature) == (5, 0.25)
    assert opponent._picker.temperature == 0.25
    chosen = MirrorOpponent(
        observe_factory=lambda: ObservationBuilder().push, playback=Playback(SAMPLE, 0.7)
    )
    ModelGate(chosen).consider(good_model(version=4), 4)
    chosen.found_temperature = 1.4
    chosen.act(view(state, RIGHT))
    assert (chosen.temperature, chosen.temperature_source) == (0.7, "set")
    assert chosen._picker.temperature == 0.7


def test_a_mirror_is_judged_on_the_command_the_player_most_likely_gives_within_tolerance():
    """A player with noise in every tick spreads over neighbouring bins: the judged command
    is the middle of that spread, not its single highest bin; a steady player's is its bin."""
    from models.contract import bin_from_command

    def scores(probabilities: dict[float, float]) -> np.ndarray:
        p = np.full(NUM_BINS, 1e-6)
        for command, share in probabilities.items():
            p[bin_from_command(command)] = share
        return np.log(p)

    spread = {-0.2: 0.15, -0.1: 0.15, 0.0: 0.15, 0.1: 0.15, 0.2: 0.15, 1.0: 0.25}
    steady = {0.5: 0.9, 0.4: 0.05, 0.6: 0.05}
    judged = commands_from_logits(np.stack([scores(spread), scores(steady)]))
    assert judged.tolist() == pytest.approx([0.0, 0.5])
    noisy_player = np.random.default_rng(0).choice(
        [-0.2, -0.1, 0.0, 0.1, 0.2, 1.0], size=2000, p=[0.15] * 5 + [0.25]
    )
    assert agreement(np.full(2000, judged[0]), noisy_player) > 0.7
    assert agreement(np.full(2000, 1.0), noisy_player) < 0.3  # the highest single bin


def test_the_gate_paces_each_heavy_step_by_what_it_took_last_time():
    """Before each GIL-holding step the gate asks for a gap between ticks with room for it:
    the most a gap offers the first time, then about what the step took (so the steps of
    a swap share a gap instead of waiting a tick each)."""
    asked: list[float] = []
    pacer = GapPacer(asked.append)
    opponent = _opponent()
    gate = ModelGate(opponent, pacer=pacer)
    rng = np.random.default_rng(0)
    obs = rng.normal(size=(64, HISTORY, NUM_FEATURES)).astype(np.float32)
    commands = rng.uniform(-1, 1, 64).astype(np.float32)
    assert gate.consider(good_model(seed=0, version=1), 1, obs, commands) is not None
    opponent.act(view(new_match(0), RIGHT))  # the first model now plays
    first = list(asked)
    asked.clear()
    gate.consider(good_model(seed=1, version=2), 2, obs, commands)
    steps = {"parse", "session", "probe", "play speed", "held-out"}
    assert set(pacer.took) == steps
    assert len(first) == 5 and set(first) == {0.011}  # held-out: one model to score
    assert len(asked) == 6  # now the playing model is scored too
    assert all(0.001 < need < 0.011 for need in asked)


def test_a_match_against_a_mirror_is_recorded_as_one_from_its_first_tick():
    """The scripted stand-in plays until the first mirror is ready, but the recording (and
    the replay viewer, and replay analysis, which re-simulates a scripted opponent) says the
    match is against the mirror."""
    from game.session import Session

    named = []
    Session(_opponent(), seed=0, recorder_factory=lambda p, s, opponent: named.append(opponent))
    assert named == ["mirror"]
