"""``python main.py export-minari``: recordings as a Minari dataset (optional extra).

One episode per recording, from the player's side, in the terms of the ``MirrorPong-v0``
Gymnasium environment: observations are the player's view (ball x, y, vx, vy, own paddle,
opponent paddle), actions the player's commands, rewards +1 for a point won and -1 for a
point lost; an episode terminates when the match ended, and is truncated when the recording
stops before that. Imitation libraries built on Gymnasium can then train on the data.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np

from game.engine import LEFT, new_match, view
from game.recording import Recording, RecordingError, read_recording
from learner.recordings import TrainingError, find_recordings

VIEW_FIELDS = ("ball_x", "ball_y", "ball_vx", "ball_vy", "paddle_y", "opponent_y")


def episode(recording: Recording) -> dict:
    """One recording as arrays: observations (T+1, 6), actions (T, 1), rewards, ends (T,)."""
    params = recording.params
    states = [new_match(recording.seed, params)] + [r.state for r in recording.records]
    observations = np.array(
        [[getattr(view(s, LEFT, params), f) for f in VIEW_FIELDS] for s in states],
        dtype=np.float32,
    )
    actions = np.array([[r.left_cmd] for r in recording.records], dtype=np.float32)
    rewards = np.array(
        [
            (after.score_left - before.score_left) - (after.score_right - before.score_right)
            for before, after in zip(states, states[1:], strict=False)
        ],
        dtype=np.float32,
    )
    ended = bool(states[-1].winner)
    terminations = np.zeros(len(actions), dtype=bool)
    truncations = np.zeros(len(actions), dtype=bool)
    if len(actions):
        terminations[-1] = ended
        truncations[-1] = not ended
    return {
        "observations": observations,
        "actions": actions,
        "rewards": rewards,
        "terminations": terminations,
        "truncations": truncations,
    }


def run(args: argparse.Namespace) -> int:
    """``main.py export-minari``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Minari warns that no env spec is attached
            dataset = export_minari(args.sources, args.dataset_id, args.author)
    except ValueError as exc:  # Minari's own refusals (a taken or malformed id)
        raise TrainingError(str(exc)) from None
    print(summary(dataset, args.dataset_id))
    return 0


def summary(dataset, dataset_id: str) -> str:
    """The line ``main.py export-minari`` prints."""
    return (
        f"exported {dataset.total_episodes} episodes ({dataset.total_steps} steps) as "
        f"Minari dataset {dataset_id!r}; load it with minari.load_dataset({dataset_id!r})"
    )


def export_minari(sources: list[Path], dataset_id: str, author: str | None = None):
    try:
        import gymnasium
        import minari
        from minari.data_collector import EpisodeBuffer
    except ImportError as exc:
        raise TrainingError(
            f"Minari export needs the optional extra ({exc.name} is missing): "
            "pip install -r requirements-extras.txt"
        ) from None
    buffers = []
    for path in find_recordings(sources):
        try:
            recording = read_recording(path)
        except RecordingError as exc:
            print(f"skipped: {exc}")
            continue
        if recording.records:
            buffers.append(
                EpisodeBuffer(id=len(buffers), seed=recording.seed, **episode(recording))
            )
    if not buffers:
        raise TrainingError("no recording with play in it")
    high = np.array([1.0, 1.0, 10.0, 10.0, 1.0, 1.0], dtype=np.float32)
    low = np.array([0.0, 0.0, -10.0, -10.0, 0.0, 0.0], dtype=np.float32)
    return minari.create_dataset_from_buffers(
        dataset_id=dataset_id,
        buffer=buffers,
        env=None,
        observation_space=gymnasium.spaces.Box(low, high, dtype=np.float32),
        action_space=gymnasium.spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32),
        algorithm_name="human play (Mirror Pong recordings)",
        author=author,
        description="Mirror Pong recordings from the player's side: view -> command.",
    )
