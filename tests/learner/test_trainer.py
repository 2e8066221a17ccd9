"""The trainer's learning-rate schedules (constant after warm-up live, cosine offline) and
the input range its mirrors play within."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from game.engine import LEFT, new_match, view
from game.mirror_opponent import Model, make_session
from game.playback import Playback
from learner.config import TrainerConfig
from learner.mirror import fixed_mirror
from learner.trainer import MirrorTrainer
from models.contract import COLUMN
from tests.learner.tools.test_offline import record

DATA = Path(__file__).parent / "data"


def _rates(config: TrainerConfig, steps: list[int]) -> list[float]:
    trainer = MirrorTrainer(config)
    rates = []
    for step in steps:
        trainer._arch_steps = step - 1
        rates.append(trainer._lr())
    return rates


def test_live_training_keeps_its_rate_after_warm_up():
    config = TrainerConfig(lr=1e-3, warmup_steps=100)
    assert _rates(config, [50, 100, 5_000, 1_000_000]) == pytest.approx([5e-4, 1e-3, 1e-3, 1e-3])


def test_a_run_that_knows_its_length_warms_up_then_decays_along_a_cosine_to_zero():
    config = TrainerConfig(lr=1e-3, warmup_steps=100, total_steps=1100)
    warm, peak, middle, end, after = _rates(config, [50, 100, 600, 1100, 1200])
    assert warm == pytest.approx(5e-4) and peak == pytest.approx(1e-3)
    assert middle == pytest.approx(5e-4)  # half way down the cosine
    assert end == pytest.approx(0.0, abs=1e-12) and after == pytest.approx(0.0, abs=1e-12)
    assert math.isfinite(after)


def test_offline_training_uses_the_cosine_schedule(monkeypatch, tmp_path):
    from learner.tools import offline

    seen = {}
    real = MirrorTrainer.train_step

    def spy(self):
        seen["total_steps"] = self.config.total_steps
        return real(self)

    monkeypatch.setattr(MirrorTrainer, "train_step", spy)
    record(tmp_path, 1, 40)
    offline.train([tmp_path], tmp_path / "m.onnx", steps_per_second=2.0, progress=False)
    assert seen["total_steps"] == 80  # 40 s of play at 2 steps a second


def _trained_on_a_slow_rally(
    config: TrainerConfig | None = None, command=lambda tick: 1.0 if tick % 3 else 0.0
) -> MirrorTrainer:
    """A trainer that has seen 60 ticks of one slow ball coming at the player."""
    trainer = MirrorTrainer(config or TrainerConfig(batch_size=8, seed=0))
    state = new_match(3)._replace(serve_ticks=0, ball_x=0.8, ball_vx=-0.6, ball_vy=0.1)
    for tick in range(1, 61):
        moved = state._replace(tick=tick, ball_x=0.8 - 0.01 * tick, ball_y=0.5 + 0.002 * tick)
        trainer.add_tick(moved, command(tick), [])
        trainer.train_step()
    return trainer


def _logits(onnx_bytes: bytes, obs: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    (logits,) = session.run(None, {"obs": obs.astype(np.float32)})
    return logits


def test_a_ball_faster_than_any_learned_from_is_played_as_the_fastest_it_knows():
    """Rallies speed up as the mirror improves, past any ball it has learned from: the
    exported mirror reads such a ball as the fastest in its play instead of extrapolating."""
    trainer = _trained_on_a_slow_rally()
    evaluation = {"agreement": 0.5}
    trainer.config.min_frames = 0
    candidate = trainer.candidate(evaluation)
    vx = COLUMN["ball_vx"]
    seen = trainer.storage.obs[: len(trainer.storage)]
    fastest = seen[np.argmin(seen[:, -1, vx])].copy()  # the ball came at -0.6 court/s
    faster = fastest.copy()
    faster[:, vx] = -2.2  # the game's top speed, never seen
    logits = _logits(candidate.onnx_bytes, np.stack([fastest, faster]))
    np.testing.assert_allclose(logits[0], logits[1], atol=1e-6)


def _resumed_from_before(
    option: str, value, buffers: tuple[str, ...] = ()
) -> tuple[MirrorTrainer, MirrorTrainer]:
    """(old, resumed): a mirror trained with model option ``option`` = ``value``, saved as a
    game from before that option existed would have saved it (no such key, and none of the
    model's ``buffers`` that came with the option), and resumed by today's trainer."""
    old = _trained_on_a_slow_rally(
        TrainerConfig(batch_size=8, seed=0, model_config={option: value})
    )
    state = torch.load(io.BytesIO(old.checkpoint()), weights_only=False)
    del state["model_config"][option]  # what such a checkpoint holds: no such key
    for name in buffers:
        del state["model"][name]
    buffer = io.BytesIO()
    torch.save(state, buffer)
    resumed = MirrorTrainer(TrainerConfig(batch_size=8, seed=0))
    resumed.load_checkpoint(buffer.getvalue())
    return old, resumed


def test_a_mirror_saved_before_input_normalisation_resumes_as_it_was_trained():
    old, resumed = _resumed_from_before("normalize", False)
    assert resumed.model.config.normalize is False
    obs = old.storage.obs[:16]
    np.testing.assert_array_equal(resumed.predict(obs), old.predict(obs))


def test_a_mirror_saved_before_it_read_when_the_ball_turned_resumes_as_it_was_trained():
    """The MLP now also reads "is the ball coming" at every tick; a mirror saved before that
    has no such weights and goes on without them, playing exactly as before."""
    old, resumed = _resumed_from_before("dense", [], ("columns", "flag_scale", "flag_offset"))
    assert resumed.model.config.dense == []
    obs = old.storage.obs[:16]
    np.testing.assert_array_equal(resumed.predict(obs), old.predict(obs))
    assert MirrorTrainer(TrainerConfig(batch_size=8, seed=0)).model.config.dense == [
        COLUMN["approaching"]
    ]


def test_a_mirror_saved_before_its_periodic_reading_resumes_as_it_was_trained():
    old, resumed = _resumed_from_before("periodic", 0, ("frequencies", "periodic_columns"))
    assert resumed.model.config.periodic == 0
    obs = old.storage.obs[:16]
    np.testing.assert_array_equal(resumed.predict(obs), old.predict(obs))


def test_a_mirror_saved_before_it_read_the_paddle_moves_resumes_as_it_was_trained():
    old, resumed = _resumed_from_before("motion", 0, ("moves",))
    assert resumed.model.config.motion == 0
    obs = old.storage.obs[:16]
    np.testing.assert_array_equal(resumed.predict(obs), old.predict(obs))


def test_a_mirror_saved_by_the_first_game_that_saw_400_ms_resumes_as_it_was_trained():
    """A checkpoint saved by the game at commit 435588f (``data/make_mirror_435588f.py``),
    the first of this contract: its MLP read the newest 24 ticks through a shared layer
    (``frames``, since replaced by ``taps``) and had none of the options added since. It
    resumes and scores every window as it did, instead of being dropped and retrained."""
    trainer = MirrorTrainer(TrainerConfig(batch_size=8, seed=0))
    trainer.load_checkpoint((DATA / "mirror-435588f.pt").read_bytes())
    assert trainer.model.config.taps == list(range(24))
    saved = np.load(DATA / "mirror-435588f.npz")
    with torch.no_grad():
        logits = trainer.model(torch.from_numpy(saved["obs"])).numpy()
    np.testing.assert_allclose(logits, saved["logits"], atol=1e-5)


def test_a_rally_that_lasts_minutes_is_split_between_training_and_held_out_play():
    """Two players as good as each other can rally for minutes: the mirror must keep
    learning from such a rally, and keep judging itself on fresh frames from it."""
    config = TrainerConfig(batch_size=8, seed=0)
    trainer = MirrorTrainer(config)
    state = new_match(3)._replace(serve_ticks=0, ball_vx=-0.9, ball_vy=0.3)
    block = int(config.rally_block_seconds * 60)
    trainer.add_tick(state._replace(tick=1), 0.0, [("serve", "left")])  # the held-out rally
    for tick in range(2, 60 * 60):  # then a minute without a serve
        trainer.add_tick(state._replace(tick=tick), 0.0, [])
    trainer._flush()
    heldout = len(trainer.heldout()[1])
    assert 0 < heldout <= 2 * block  # not the whole minute
    assert trainer.frames_trained >= 60 * 60 - 2 * block  # the rest of the minute trains


@pytest.mark.parametrize("two_hot, played", [(True, 0.33), (False, 0.3)])
def test_a_player_steering_between_two_bins_is_copied_finer_than_the_bins(two_hot, played):
    """The bins are 0.1 apart; a player who holds 0.33 is played at 0.33 by a mirror trained
    on two-hot targets, where one trained on the nearest bin plays 0.3."""
    config = TrainerConfig(batch_size=8, seed=0, two_hot=two_hot)
    trainer = _trained_on_a_slow_rally(config, command=lambda tick: 0.33)
    for _ in range(300):
        trainer.train_step()
    trainer.config.min_frames = 0
    onnx_bytes = trainer.candidate({"agreement": 0.5}).onnx_bytes
    mirror = fixed_mirror(Model(make_session(onnx_bytes), 1, {}, onnx_bytes), playback=Playback())
    state = new_match(3)._replace(serve_ticks=0, ball_x=0.5, ball_vx=-0.6, ball_vy=0.1)
    commands = [mirror.act(view(state._replace(tick=t), LEFT)) for t in range(1, 30)]
    assert commands[-1] == pytest.approx(played, abs=0.01)


def test_a_flipped_frame_is_the_same_play_upside_down():
    """Training upside down must be play the game could have shown: the features of the
    court turned over are the features turned over."""
    from game.engine import DEFAULT_PARAMS as P
    from learner.features import ObservationBuilder
    from learner.trainer import flip_vertically

    h, w = P.court_height, P.court_width
    state = new_match(3)._replace(
        serve_ticks=0, ball_x=0.3 * w, ball_y=0.2 * h, ball_vx=-0.5 * w, ball_vy=-0.7 * h,
        left_y=0.3 * h, right_y=0.6 * h,
    )  # fmt: skip
    turned = state._replace(
        ball_y=h - state.ball_y, ball_vy=-state.ball_vy, left_y=h - state.left_y,
        right_y=h - state.right_y,
    )  # fmt: skip
    seen = ObservationBuilder(P).push(view(state, LEFT))
    np.testing.assert_allclose(
        flip_vertically(seen), ObservationBuilder(P).push(view(turned, LEFT)), atol=1e-6
    )


def test_only_frames_of_the_ball_coming_train_upside_down(monkeypatch):
    """Where a player waits between rallies is a habit of theirs (a little above the middle,
    say) and must not be averaged with its mirror image; how they go for a ball is not."""
    from learner.sampler import PHASE_APPROACH
    from learner.trainer import flip_vertically

    trainer = _trained_on_a_slow_rally(TrainerConfig(batch_size=8, seed=0))
    state = new_match(3)._replace(serve_ticks=0, ball_x=0.2, ball_vx=0.6, ball_vy=0.1)
    for tick in range(61, 121):  # the ball going away
        trainer.add_tick(state._replace(tick=tick, ball_x=0.2 + 0.005 * (tick - 60)), -0.5, [])
    trainer._flush()
    trainer.config = TrainerConfig(batch_size=64, seed=0, flip=1.0)
    seen = {}
    real = trainer.model.training_logits

    def spy(obs):
        seen["obs"] = obs.clone().numpy()
        return real(obs)

    monkeypatch.setattr(trainer.model, "training_logits", spy)
    slots = []
    draw = trainer.sampler.sample

    def drawn(count):
        slots.append(draw(count))
        return slots[-1]

    monkeypatch.setattr(trainer.sampler, "sample", drawn)
    trainer.train_step()
    stored = trainer.storage.obs[slots[-1]]
    coming = trainer.storage.phase[slots[-1]] == PHASE_APPROACH
    assert coming.any() and (~coming).any()
    np.testing.assert_allclose(seen["obs"][coming], flip_vertically(stored[coming]), atol=1e-6)
    np.testing.assert_array_equal(seen["obs"][~coming], stored[~coming])


def _played_logits(trainer: MirrorTrainer, obs: np.ndarray) -> np.ndarray:
    trainer.config.min_frames = 0
    return _logits(trainer.candidate({"agreement": 1.0}).onnx_bytes, obs)


def test_the_mirror_plays_a_moving_average_of_its_weights_and_still_after_a_restart():
    """With ``average`` the exported mirror plays the averaged weights, not the last step's;
    a mirror saved and resumed plays exactly as before, and its average goes on from there."""
    config = TrainerConfig(batch_size=8, seed=0, average=0.9)
    trainer = _trained_on_a_slow_rally(config)
    obs = trainer.storage.obs[:16]
    played = _played_logits(trainer, obs)
    with torch.no_grad():
        last_step = trainer.model(torch.from_numpy(obs)).numpy()
    assert np.abs(played - last_step).max() > 1e-3  # it is not the last step's model
    resumed = MirrorTrainer(TrainerConfig(batch_size=8, seed=0, average=0.9))
    resumed.load_checkpoint(trainer.checkpoint())
    np.testing.assert_allclose(_played_logits(resumed, obs), played, atol=1e-5)


def test_a_mirror_saved_without_an_average_plays_its_weights_on_resume():
    old = _trained_on_a_slow_rally(TrainerConfig(batch_size=8, seed=0, average=0.0))
    obs = old.storage.obs[:16]
    resumed = MirrorTrainer(TrainerConfig(batch_size=8, seed=0, average=0.9))
    resumed.load_checkpoint(old.checkpoint())
    np.testing.assert_allclose(_played_logits(resumed, obs), _played_logits(old, obs), atol=1e-5)


@pytest.mark.parametrize("average", [-0.5, 1.0, math.nan])
def test_an_average_decay_outside_0_to_1_is_refused(average):
    with pytest.raises(ValueError, match="average="):
        TrainerConfig(average=average)


@pytest.mark.parametrize("flip", [-0.1, 1.5, math.nan])
def test_a_flip_share_outside_0_to_1_is_refused(flip):
    with pytest.raises(ValueError, match="flip="):
        TrainerConfig(flip=flip)
