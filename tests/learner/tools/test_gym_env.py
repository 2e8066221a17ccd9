"""MirrorPong-v0: Gymnasium's own checker, seeded determinism, rewards, ONNX opponents."""

import os
import subprocess
import sys
import warnings

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # before pygame loads: no display needed

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from learner.tools.gym_env import ENV_ID, MAX_EPISODE_STEPS, MirrorPongEnv
from tests.conftest import ROOT


def tracker(obs: np.ndarray) -> np.ndarray:
    """A simple agent: follow the ball's height (beats chaser and lazy, loses to predictor)."""
    return np.clip([(obs[1] - obs[4]) * 10.0], -1.0, 1.0).astype(np.float32)


def rollout(env, seed: int, steps: int, action_seed: int = 0) -> tuple[np.ndarray, list[float]]:
    actions = np.random.default_rng(action_seed).uniform(-1, 1, size=(steps, 1)).astype(np.float32)
    obs, _ = env.reset(seed=seed)
    seen, rewards = [obs], []
    for action in actions:
        obs, reward, terminated, truncated, _ = env.step(action)
        seen.append(obs)
        rewards.append(reward)
        if terminated or truncated:
            obs, _ = env.reset()
    return np.stack(seen), rewards


def test_gymnasium_checker_passes_without_warnings():
    env = gymnasium.make(ENV_ID, render_mode="rgb_array")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env.unwrapped)
    assert [str(w.message) for w in caught] == []
    env.close()


def test_make_gives_the_registered_env_with_a_time_limit():
    env = gymnasium.make(ENV_ID, opponent="predictor", points=3)
    assert isinstance(env.unwrapped, MirrorPongEnv)
    assert env.spec.max_episode_steps == MAX_EPISODE_STEPS
    assert env.unwrapped.params.points_to_win == 3
    obs, info = env.reset(seed=0)
    assert obs.dtype == np.float32 and obs.shape == (6,)
    assert env.observation_space.contains(obs)
    assert info == {"score": 0, "opponent_score": 0, "tick": 0}


def test_a_short_time_limit_truncates():
    env = gymnasium.make(ENV_ID, max_episode_steps=10)
    env.reset(seed=0)
    for _ in range(9):
        assert env.step(np.zeros(1, np.float32))[3] is False
    _, _, terminated, truncated, _ = env.step(np.zeros(1, np.float32))
    assert truncated and not terminated


def test_importing_twice_does_not_register_twice():
    code = (
        "import importlib, gymnasium, learner.tools.gym_env as g\n"
        "importlib.reload(g)\n"
        "assert g.ENV_ID in gymnasium.registry\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_module_imports_neither_torch_nor_pygame_until_needed():
    code = (
        "import sys, learner.tools.gym_env\n"
        "env = learner.tools.gym_env.MirrorPongEnv('chaser'); env.reset(seed=1); env.step([0.0])\n"
        "bad = [m for m in sys.modules if m.startswith(('learner.features', 'pygame', 'torch'))]\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("opponent", ["chaser", "nervous"])  # nervous uses its seeded RNG
def test_equal_seeds_give_equal_rollouts(opponent):
    first, first_rewards = rollout(MirrorPongEnv(opponent), seed=7, steps=3000)
    second, second_rewards = rollout(MirrorPongEnv(opponent), seed=7, steps=3000)
    assert np.array_equal(first, second)
    assert first_rewards == second_rewards
    other, _ = rollout(MirrorPongEnv(opponent), seed=8, steps=3000)
    assert not np.array_equal(first, other)


def test_every_observation_lies_in_the_space():
    env = MirrorPongEnv("nervous")
    observations, _ = rollout(env, seed=3, steps=5000)
    assert all(env.observation_space.contains(obs) for obs in observations)


@pytest.mark.parametrize("side", ["left", "right"])
def test_reward_follows_the_score_and_the_match_ends_at_points(side):
    env = MirrorPongEnv("chaser", side=side, points=3)
    obs, info = env.reset(seed=2)
    rewards, terminated, previous = [], False, info
    while not terminated:
        obs, reward, terminated, truncated, info = env.step(tracker(obs))
        scored = info["score"] - previous["score"]
        conceded = info["opponent_score"] - previous["opponent_score"]
        assert reward == scored - conceded
        if reward:
            rewards.append(reward)
        previous = info
    assert rewards == [1.0, 1.0, 1.0]  # the tracker beats the chaser from either side
    assert info["score"] == 3


def test_conceding_gives_minus_one():
    env = MirrorPongEnv("predictor", points=1)
    env.reset(seed=0)
    total, terminated = 0.0, False
    while not terminated:
        _, reward, terminated, _, info = env.step(np.array([1.0], np.float32))  # hug the bottom
        total += reward
    assert total == -1.0 and info["opponent_score"] == 1


def test_render_returns_an_rgb_frame_of_the_court():
    env = MirrorPongEnv(render_mode="rgb_array", render_size=(320, 220))
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (220, 320, 3) and frame.dtype == np.uint8
    assert len(np.unique(frame.reshape(-1, 3), axis=0)) > 3  # court, lines, paddles, ball
    assert MirrorPongEnv().render() is None  # no render mode: nothing to draw


def test_bad_arguments_are_refused_with_the_value():
    with pytest.raises(ValueError, match="side="):
        MirrorPongEnv(side="top")
    with pytest.raises(ValueError, match="points=0"):
        MirrorPongEnv(points=0)
    with pytest.raises(ValueError, match="render_mode='human'"):
        MirrorPongEnv(render_mode="human")
    with pytest.raises(TypeError, match="opponent"):
        MirrorPongEnv(opponent=42)


@pytest.fixture
def mlp_onnx(tmp_path):
    import torch

    from learner.exporter import export_onnx
    from models.registry import build_model

    torch.manual_seed(0)
    path = tmp_path / "mirror.onnx"
    path.write_bytes(export_onnx(build_model("mlp"), 1))
    return path


def test_an_onnx_mirror_plays_the_other_side(mlp_onnx):
    env = gymnasium.make(ENV_ID, opponent=str(mlp_onnx))
    assert env.unwrapped.opponent.model_version == 0  # offered, swapped in at the first act
    first, first_rewards = rollout(env, seed=4, steps=1500)
    assert env.unwrapped.opponent.label == "mirror"
    assert env.unwrapped.opponent.model_version == 1
    second, second_rewards = rollout(gymnasium.make(ENV_ID, opponent=mlp_onnx), seed=4, steps=1500)
    assert np.array_equal(first, second) and first_rewards == second_rewards


def test_a_refused_onnx_model_says_why(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="refused: not a valid ONNX model"):
        MirrorPongEnv(opponent=str(bad))
    with pytest.raises(FileNotFoundError, match="missing.onnx"):
        MirrorPongEnv(opponent=str(tmp_path / "missing.onnx"))
