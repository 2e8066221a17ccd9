"""The trainer process dies: the game goes on with the last good model and the trainer comes
back. The player quits: the next session starts from their saved mirror."""

import asyncio
import os
import signal
import time

from game.mirror_opponent import MirrorOpponent, ModelGate
from game.personas import load_persona
from game.session import Session, SimClock
from learner.features import ObservationBuilder
from learner.live import LiveLearner, MirrorFiles
from learner.trainer import TrainerConfig


def _learner(folder):
    opponent = MirrorOpponent(observe_factory=lambda: ObservationBuilder().push)
    gate = ModelGate(opponent, save_path=MirrorFiles(folder).model)
    learner = LiveLearner(opponent, gate, MirrorFiles(folder), config=TrainerConfig())
    return opponent, gate, learner


def _wait(condition, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.1)
    return False


def _play(session, seconds):
    asyncio.run(session.run(SimClock(), ticks=int(seconds * 60)))
    time.sleep(0.05)  # let the queue's feeder thread hand the frames over


def test_trainer_death_keeps_the_model_and_restarts(tmp_path):
    opponent, gate, learner = _learner(tmp_path)
    session = Session(opponent, seed=1, left_driver=load_persona("chaser"))
    session.frame_sinks.append(learner)
    learner.start()
    try:
        for _ in range(60):
            _play(session, 2)
            if _wait(lambda: opponent.model is not None or gate.stats.accepted, 1):
                break
        _play(session, 0.1)  # a tick to swap the model in
        assert opponent.model_version >= 1
        version = opponent.model_version
        first_pid = learner.trainer_pid
        os.kill(first_pid, signal.SIGKILL)
        _play(session, 1)  # the game goes on meanwhile
        assert opponent.model_version == version and opponent.label == "mirror"
        assert _wait(lambda: learner.restarts == 1 and learner.hud()["trainer_alive"], 15)
        assert learner.trainer_pid != first_pid
        accepted = gate.stats.accepted
        for _ in range(60):  # the restarted trainer learns and exports again
            _play(session, 2)
            if _wait(lambda: gate.stats.accepted > accepted or learner.stats.get("steps"), 1):
                break
        assert learner.stats.get("frames", 0) > 0
    finally:
        learner.stop()
    saved_version = opponent.model_version

    # A new session with the same profile starts from the saved mirror.
    opponent2, gate2, learner2 = _learner(tmp_path)
    learner2.start()
    try:
        opponent2.act(session_view(session))  # first tick: the saved model swaps in
        assert opponent2.label == "mirror" and opponent2.model_version == saved_version
    finally:
        learner2.stop()
    assert MirrorFiles(tmp_path).checkpoint.exists()


def session_view(session):
    from game.engine import RIGHT, view

    return view(session.state, RIGHT)
