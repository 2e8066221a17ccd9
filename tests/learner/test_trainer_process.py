"""The trainer process as a player meets it: it never outlives the game (kill -9, a closed
terminal), Ctrl-C stops everything without a traceback, and its loop answers the typed
controls in order."""

import contextlib
import io
import queue
import signal
import time

import pytest
import torch

from game.engine import DEFAULT_PARAMS, new_match
from learner.bench.soak import process_alive, trainer_pids
from learner.config import TrainerConfig
from learner.sampler import RelevanceWeights
from learner.trainer_process import (
    Pause,
    Resume,
    SetAdapt,
    SetArchitecture,
    SetWeights,
    StatsReport,
    Stop,
    TrainerLog,
    TrainerLoop,
    TrainerSetup,
)
from tests.conftest import wait_until


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGHUP])
def test_a_hard_stopped_game_takes_its_trainer_with_it(server_factory, sig):
    server = server_factory("--player", "dora", "--persona", "chaser")
    assert wait_until(lambda: trainer_pids(server.process.pid), 30), server.log()
    (trainer,) = trainer_pids(server.process.pid)
    server.stop(sig)
    gone = wait_until(lambda: not process_alive(trainer), 2.0)
    assert gone, f"trainer {trainer} outlived the game"


def test_ctrl_c_stops_game_and_trainer_quietly(server_factory):
    server = server_factory("--player", "erin", "--persona", "chaser")
    assert wait_until(lambda: trainer_pids(server.process.pid), 30), server.log()
    (trainer,) = trainer_pids(server.process.pid)
    time.sleep(3)  # the trainer is up and learning
    import urllib.request

    with urllib.request.urlopen(server.url) as page:  # a request: no access-log line for it
        assert page.status == 200
    assert server.stop(signal.SIGINT) == 0
    assert '"GET / HTTP' not in server.log() and "pygame" not in server.log()
    assert not process_alive(trainer)
    assert "Traceback" not in server.log(), server.log()[-3000:]
    checkpoint = server.data_dir / "players" / "erin" / "mirror" / "checkpoint.pt"
    assert checkpoint.exists(), server.log()[-3000:]


def _loop(tmp_path, **setup) -> tuple[TrainerLoop, queue.Queue, queue.Queue, queue.Queue]:
    frames, controls, out = queue.Queue(), queue.Queue(), queue.Queue()
    config = {"architecture": "mlp", "seed": 0}
    loop = TrainerLoop(
        frames,
        controls,
        out,
        TrainerSetup(
            config=config,
            weights=RelevanceWeights().to_dict(),
            params=DEFAULT_PARAMS.to_dict(),
            checkpoint_path=str(tmp_path / "checkpoint.pt"),
            **setup,
        ),
    )
    return loop, frames, controls, out


def _ticks(count: int) -> list:
    state = new_match(7)
    return [(tuple(state._replace(tick=i)), 0.5, []) for i in range(count)]


def test_the_loop_answers_controls_in_order_and_saves_on_stop(tmp_path):
    loop, frames, controls, out = _loop(tmp_path)
    for control in (Pause(), Resume(), SetArchitecture("transformer"), SetWeights({"recede": 0.5})):
        controls.put(control)
    assert loop.apply_controls()
    assert loop.learning and loop.trainer.config.architecture == "transformer"
    assert loop.trainer.sampler.weights.recede == 0.5
    controls.put(Stop())
    assert not loop.apply_controls()
    assert (tmp_path / "checkpoint.pt").exists()


@pytest.mark.parametrize(
    "sliders", [{"recede": 0.0, "serve": 0.0}, {"approach": 5.0, "serve": 0.0, "pre_event": 0.0}]
)
def test_sliders_that_zero_everything_played_so_far_do_not_stall_learning(tmp_path, sliders):
    """The panel lets two phase weights reach 0; before the ball has come at the player every
    frame then weighs 0, and the trainer must keep learning from them."""
    loop, frames, controls, out = _loop(tmp_path)
    controls.put(SetWeights({**RelevanceWeights().to_dict(), **sliders}))
    assert loop.apply_controls()
    frames.put(_ticks(15) * 8)  # two seconds of the ball waiting to be served
    loop.train_paced(loop.drain_frames())
    assert loop.trainer.steps == 20 and loop.trainer.last_loss > 0


def _played_ticks(seconds: int) -> list:
    """Ticks of a chaser against the scripted opponent, as the game sends them."""
    import asyncio

    from game.opponent import ScriptedOpponent
    from game.personas import load_persona
    from game.session import Session, SimClock

    ticks = []

    class Collect:
        def on_tick(self, before, left_cmd, right_cmd, after, events):
            ticks.append((tuple(before), left_cmd, [(e.kind, e.side) for e in events]))

    session = Session(ScriptedOpponent(), seed=3, left_driver=load_persona("chaser"))
    session.frame_sinks.append(Collect())
    asyncio.run(session.run(SimClock(), ticks=seconds * 60))
    session.close()
    return ticks


def test_the_sampler_adapts_by_default_and_reports_what_it_favours(tmp_path):
    """Live play studies more of what the mirror gets wrong (loss-aware priorities within the
    sliders' weights); the report says per phase how far that moves the draws, and the
    player's switch turns it off (and wins over a checkpoint saved while it was on)."""
    loop, frames, controls, out = _loop(tmp_path)
    assert loop.trainer.sampler.loss_priority is not None
    frames.put(_played_ticks(40))
    loop.drain_frames()
    for _ in range(60):
        loop.trainer.train_step()
    focus = loop.stats(1.0).adapt_focus
    assert set(focus) == {"approach", "recede", "serve"}
    assert focus["approach"] is not None and focus["recede"] is not None
    assert any(abs(value - 1) > 0.01 for value in focus.values() if value is not None)
    loop.save_checkpoint()

    controls.put(SetAdapt(False))
    assert loop.apply_controls()
    assert loop.trainer.sampler.loss_priority is None and loop.stats(1.0).adapt_focus == {}
    restarted, *_ = _loop(tmp_path, adapt=False)  # the checkpoint was saved adapting
    assert restarted.trainer.sampler.loss_priority is None


def test_a_primed_trainer_starts_with_the_frames_it_is_given(tmp_path):
    loop, frames, controls, out = _loop(tmp_path, primer=[_ticks(15), _ticks(15)])
    assert loop.trainer.frames_seen == 30
    loop.maybe_report(time.monotonic() + 1)
    report = out.get_nowait()
    if not isinstance(report, StatsReport):  # the priming log line comes first
        report = out.get_nowait()
    assert report.stats.frames_seen == 30 and report.stats.made_at <= time.time()


def test_paced_training_takes_ten_steps_per_second_of_play(tmp_path):
    loop, frames, controls, out = _loop(tmp_path)
    assert TrainerConfig().steps_per_second == 10
    for _ in range(4):
        frames.put(_ticks(15) * 4)  # 60 ticks: one second of play
    ticks = loop.drain_frames()
    loop.train_paced(ticks)
    assert ticks == 240 and loop.trainer.steps == 20  # 4 s of play, capped at 2 s' worth


def test_rates_do_not_count_the_checkpoints_steps(tmp_path):
    """After a restart the panel once read 'Practising on 4,253,722 samples/s': the first
    report divided the checkpoint's steps by half a second."""
    loop, frames, controls, out = _loop(tmp_path)
    loop.trainer.steps = 9000
    loop.save_checkpoint()
    again, frames, controls, out = _loop(tmp_path)
    assert again.trainer.steps == 9000
    again.maybe_report(time.monotonic() + 1)
    report = out.get_nowait()
    assert report.stats.steps_per_second == 0 and report.stats.samples_per_second == 0


def test_a_checkpoint_from_an_older_contract_is_refused_in_words_and_learning_starts_fresh(
    tmp_path,
):
    loop, frames, controls, out = _loop(tmp_path)
    loop.trainer.steps = 500
    state = torch.load(io.BytesIO(loop.trainer.checkpoint()), weights_only=False)
    state["contract_version"] = 1  # what the game wrote before the mirror saw 400 ms
    (tmp_path / "checkpoint.pt").write_bytes(_saved(state))
    again, frames, controls, out = _loop(tmp_path)
    assert again.trainer.steps == 0
    logged = out.get_nowait()
    assert isinstance(logged, TrainerLog)
    assert "older game" in logged.text and "retrained from your recordings" in logged.text


def _saved(state: dict) -> bytes:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def _pointer_ticks(seconds: int) -> list:
    """Ticks of the pointer persona against the scripted opponent, matches following."""
    from game.opponent import ScriptedOpponent
    from game.personas import load_persona
    from game.session import Session
    from learner.metrics import play_headless

    ticks = []

    class Collect:
        def on_tick(self, before, left_cmd, right_cmd, after, events):
            ticks.append((tuple(before), left_cmd, [(e.kind, e.side) for e in events]))

    session = Session(ScriptedOpponent(), seed=4, left_driver=load_persona("pointer", 4))
    session.frame_sinks.append(Collect())
    play_headless(session, seconds, 4)
    session.close()
    return ticks


def _trained_loop(tmp_path, monkeypatch):
    """A loop that has learned from 150 s of a jittery player and exported a candidate."""
    from learner import calibration

    monkeypatch.setattr(calibration, "MINUTES", 0.1)  # a short calibration: the test's time
    loop, frames, controls, out = _loop(tmp_path)
    ticks = _pointer_ticks(160)
    frames.put(ticks[:9000])
    loop.drain_frames()
    for _ in range(300):
        loop.trainer.train_step()
    loop.maybe_export(time.monotonic() + 10)
    assert loop.exported is not None
    return loop, frames, out, ticks[9000:]


def _drain(out) -> list:
    reports = []
    with contextlib.suppress(queue.Empty):
        while True:
            reports.append(out.get_nowait())
    return reports


def test_the_loop_finds_the_mirrors_temperature_a_step_at_a_time_and_exports_it(
    tmp_path, monkeypatch
):
    """The trainer matches the mirror's jitter to the player's (``learner.calibration``) in
    steps between its other work, says so once, reports it, and its next export carries it."""
    from game.mirror_opponent import check_candidate
    from game.playback import model_temperature

    loop, frames, out, more = _trained_loop(tmp_path, monkeypatch)
    later = time.monotonic() + 120
    passes = 0
    while loop.trainer.temperature is None and passes < 200:
        loop.maybe_calibrate(later)
        passes += 1
    assert loop.trainer.temperature is not None and passes > 3
    logs = [r.text for r in _drain(out) if isinstance(r, TrainerLog)]
    assert any("plays at temperature" in text for text in logs)
    stats = loop.stats(1.0)
    assert stats.temperature == loop.trainer.temperature and stats.player_jitter > 0.05
    loop.maybe_calibrate(later)  # the next waits a minute after this one
    assert loop.calibration is None

    frames.put(more)  # more play: the next candidate
    loop.drain_frames()
    loop.trainer._exported_at = -1e9  # due, improved or not
    loop.maybe_export(time.monotonic() + 20)
    candidate = next(r.candidate for r in _drain(out) if hasattr(r, "candidate"))
    _, metadata = check_candidate(candidate.onnx_bytes)
    assert model_temperature(metadata) == loop.trainer.temperature


def test_a_temperature_from_the_last_session_is_reported_with_the_players_jitter_now(
    tmp_path, monkeypatch
):
    """A trainer restarted on its checkpoint plays its mirror at the temperature found last
    session, and the panel can say it matches the player's jitter at once, not after the
    next calibration a few minutes in."""
    loop, *_ = _trained_loop(tmp_path, monkeypatch)
    later = time.monotonic() + 120
    while loop.trainer.temperature is None:
        loop.maybe_calibrate(later)
    loop.save_checkpoint()
    again, frames, _, _ = _loop(tmp_path)
    assert again.trainer.temperature == loop.trainer.temperature
    assert again.stats(1.0).player_jitter is None  # nothing of the player's seen yet
    frames.put(_pointer_ticks(160))  # this session's play, or its earlier recordings read
    again.drain_frames()
    stats = again.stats(1.0)
    assert stats.temperature == loop.trainer.temperature
    assert stats.player_jitter == again.trainer.player_jitter.value() > 0.05


def test_a_failing_calibration_is_logged_once_and_the_trainer_goes_on(tmp_path, monkeypatch):
    from learner.calibration import Calibration

    loop, frames, out, more = _trained_loop(tmp_path, monkeypatch)

    def broken(self):
        raise RuntimeError("no session")

    monkeypatch.setattr(Calibration, "advance", broken)
    for minutes in (2, 4, 6):
        loop.maybe_calibrate(time.monotonic() + minutes * 60)
    logs = [r.text for r in _drain(out) if isinstance(r, TrainerLog)]
    assert len([t for t in logs if "could not find the mirror's temperature" in t]) == 1
    assert loop.trainer.temperature is None and loop.calibration is None
    frames.put(more)
    loop.train_paced(loop.drain_frames())
    assert loop.trainer.steps > 300  # still learning


def test_a_new_architecture_drops_the_calibration_of_the_old_model(tmp_path, monkeypatch):
    loop, frames, out, more = _trained_loop(tmp_path, monkeypatch)
    loop.maybe_calibrate(time.monotonic() + 120)  # one started on the MLP
    assert loop.calibration is not None
    loop.control_q.put(SetArchitecture("transformer"))
    assert loop.apply_controls()
    assert loop.calibration is None and loop.exported is None
