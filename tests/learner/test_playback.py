"""A mirror that plays by sampling replays exactly from its seed, and argmax at temperature 0."""

import asyncio

import pytest
import torch

from game.engine import Params
from game.mirror_opponent import Model, check_candidate
from game.personas import load_persona
from game.playback import ARGMAX, SAMPLE, Playback
from game.session import Session, SimClock
from learner.exporter import export_onnx
from learner.mirror import fixed_mirror
from models.registry import build_model


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)  # untrained: its scores are spread, so draws differ from argmax
    data = export_onnx(build_model("mlp"), 1)
    session, metadata = check_candidate(data)
    return Model(session, 1, metadata, data)


class Commands:
    """Frame sink keeping the right side's (the mirror's) commands."""

    def __init__(self) -> None:
        self.right: list[float] = []

    def on_tick(self, before, left_cmd, right_cmd, after, events) -> None:
        self.right.append(right_cmd)


def mirror_commands(model, playback, seed=4, seconds=10):
    session = Session(
        fixed_mirror(model, playback=playback),
        params=Params(),
        seed=seed,
        left_driver=load_persona("predictor"),
        strict=True,
    )
    commands = Commands()
    session.frame_sinks.append(commands)
    asyncio.run(session.run(SimClock(), ticks=seconds * 60))
    return commands.right


def test_sampling_playback_is_reproducible_from_its_seed(model):
    first = mirror_commands(model, Playback(SAMPLE, 1.0, seed=1))
    assert first == mirror_commands(model, Playback(SAMPLE, 1.0, seed=1))
    assert first != mirror_commands(model, Playback(SAMPLE, 1.0, seed=2))
    assert first != mirror_commands(model, Playback(SAMPLE, 1.0, seed=1), seed=5)  # other match


def test_sampling_near_temperature_zero_plays_like_argmax(model):
    best = mirror_commands(model, Playback(ARGMAX))
    assert mirror_commands(model, Playback(SAMPLE, 1e-6, seed=1)) == best
    assert mirror_commands(model, Playback(SAMPLE, 1.0, seed=1)) != best
