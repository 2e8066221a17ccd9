"""The mirror's own temperature (``learner.calibration``): it keeps the player's jitter as the
style figure defines it, finds the temperature at which its clone is as jittery, and that
temperature travels in the model file to the game, which refuses one out of range."""

import numpy as np
import pytest

from game import engine
from game.mirror_opponent import CandidateRejected, Model, check_candidate
from game.opponent import ScriptedOpponent
from game.personas import load_persona
from game.playback import model_temperature
from game.session import Session
from learner import calibration
from learner.calibration import Calibration, PlayerJitter, calibrated, nearest, with_temperature
from learner.headless import simulate
from learner.metrics import play_headless
from learner.style import StyleSamples


def _play(spec: str, seconds: int, seed: int = 3):
    """A persona's play against the scripted opponent, as the trainer gets it, and the style
    samples of the same play."""
    jitter, style = PlayerJitter(), StyleSamples()

    class Feed:
        def on_tick(self, before, left_cmd, right_cmd, after, events):
            jitter.add_tick(before, left_cmd, [(e.kind, e.side) for e in events])

    session = Session(ScriptedOpponent(), seed=seed, left_driver=load_persona(spec, seed))
    session.frame_sinks += [Feed(), style]
    play_headless(session, seconds, seed)  # matches follow each other, as in play
    session.close()
    return jitter, style


def test_the_players_jitter_is_the_style_figures_and_waits_for_enough_play():
    jitter, style = _play("pointer", 150)
    assert jitter.exchanges >= calibration.MIN_EXCHANGES
    assert jitter.value() == pytest.approx(np.mean(style.values["jitter"]))
    steady, _ = _play("angler", 240)
    assert jitter.value() > 5 * steady.value()  # a trembling hand against a steady intercept
    short, _ = _play("pointer", 10)
    assert short.value() is None  # a few exchanges say too little to match


def test_the_nearest_temperature_is_picked_by_ratio():
    clone = {0.25: 0.010, 0.5: 0.012, 1.0: 0.020, 1.4: 0.030}
    assert nearest(0.029, clone) == 1.4
    assert nearest(0.009, clone) == 0.25
    assert nearest(0.02, {0.25: 0.01, 0.5: 0.04}) == 0.25  # twice or half: the steadier
    assert nearest(0.02, {0.25: 0.0, 0.5: 0.018}) == 0.5  # a clone that never moves is far


@pytest.fixture(scope="module")
def pointer_clone():
    """A clone of the pointer after two minutes of play, and the pointer's jitter in it."""
    run = simulate(load_persona("pointer", 1), 2.0, seed=1, calibrate=False)
    assert run.model is not None
    return run.model, run.trainer.player_jitter.value()


def test_calibration_finds_the_temperature_whose_jitter_matches_and_the_file_carries_it(
    pointer_clone,
):
    model, player = pointer_clone
    found = Calibration(model, player, temperatures=(0.25, 1.4), minutes=0.5)
    steps = 0
    while not found.advance():
        steps += 1
    assert steps > 2  # in steps: the trainer's loop is never held for the whole of it
    assert found.clone[1.4] > found.clone[0.25]  # hotter draws change the command more
    # A player as jittery as the clone at one temperature gets that temperature.
    for temperature in (0.25, 1.4):
        again = Calibration(model, found.clone[temperature], temperatures=(0.25, 1.4), minutes=0.5)
        assert again.run() == temperature
    assert again.clone == found.clone  # the same matches and draws each time
    assert "plays at temperature 1.4" in again.describe()

    data = with_temperature(model.onnx_bytes, 1.4)
    _, metadata = check_candidate(data)
    assert model_temperature(metadata) == 1.4
    assert metadata["model_version"] == model.metadata["model_version"]


def test_a_headless_clone_comes_back_with_its_own_temperature(monkeypatch, pointer_clone):
    monkeypatch.setattr(calibration, "MINUTES", 0.25)
    model, player = pointer_clone
    again, found = calibrated(model, player)
    assert model_temperature(again.metadata) == found.temperature
    assert set(found.clone) == set(calibration.TEMPERATURES)
    assert again.version == model.version and again.onnx_bytes != model.onnx_bytes


@pytest.mark.parametrize("text", ["9", "0", "nan", "-1", "warm", "1" * 50])
def test_a_model_whose_temperature_is_out_of_range_is_refused_in_words(pointer_clone, text):
    model, _ = pointer_clone
    import onnx

    proto = onnx.load_from_string(model.onnx_bytes)
    onnx.helper.set_model_props(
        proto, {"contract_version": model.metadata["contract_version"], "temperature": text}
    )
    with pytest.raises(CandidateRejected, match="metadata temperature is .*needs a number in"):
        check_candidate(proto.SerializeToString())


def test_a_model_plays_at_its_own_temperature_unless_told_otherwise(pointer_clone):
    from game.playback import AUTO, SAMPLE, Playback
    from learner.mirror import fixed_mirror

    model, _ = pointer_clone
    data = with_temperature(model.onnx_bytes, 1.4)
    session, metadata = check_candidate(data)
    hot = Model(session, model.version, metadata, data)
    view = engine.view(engine.new_match(0), engine.LEFT)

    def playing(model, playback):
        mirror = fixed_mirror(model, playback=playback)
        mirror.act(view)  # the model starts on its first tick
        return mirror._picker.temperature

    assert playing(hot, Playback(SAMPLE, AUTO)) == 1.4
    assert playing(model, Playback(SAMPLE, AUTO)) == 0.5  # none of its own: the fallback
    assert playing(hot, Playback(SAMPLE, 0.7)) == 0.7  # the player's choice wins


def test_a_dip_in_the_clones_jitter_is_noise_and_a_flat_one_picks_the_steadiest():
    from learner.calibration import monotone

    assert monotone([0.0177, 0.018, 0.0252, 0.0213, 0.0221, 0.0179]) == pytest.approx(
        [0.0177, 0.018, 0.021625, 0.021625, 0.021625, 0.021625]
    )
    temperatures = (0.25, 0.35, 0.5, 0.7, 1.0, 1.4)
    # The temperature barely moves this clone's jitter: the steadiest of the near ones.
    flat = dict(
        zip(temperatures, [0.02755, 0.02755, 0.02755, 0.02755, 0.02754, 0.02783], strict=True)
    )
    assert nearest(0.0265, flat) == 0.25
    trembling = dict(zip(temperatures, [0.219, 0.228, 0.236, 0.249, 0.264, 0.284], strict=True))
    assert nearest(0.2806, trembling) == 1.4
    assert nearest(0.25, trembling) == 0.7


def test_a_corrupt_command_never_makes_the_players_jitter_nan():
    jitter, _ = _play("pointer", 150)
    before = jitter.value()
    state = engine.new_match(0)._replace(tick=5)
    for _ in range(10):
        jitter.add_tick(state, float("nan"), [])
    assert jitter.value() is not None and np.isfinite(jitter.value())
    assert jitter.value() == pytest.approx(before, rel=0.2)
