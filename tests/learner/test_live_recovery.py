"""The learner never stops without saying so: a trainer that dies comes back primed with
the last minutes of play while the game goes on with the last good model; one that keeps
dying is reported stopped with the reason; swap timing cannot break the swap; the player
who quits starts the next session from their saved mirror."""

import asyncio
import logging
import os
import queue
import signal
import time

import pytest

from game.engine import DEFAULT_PARAMS, RIGHT, view
from game.mirror_opponent import ModelGate
from game.personas import load_persona
from game.session import Session, SimClock
from learner import live
from learner.live import LiveLearner
from learner.mirror import MirrorFiles, make_mirror
from learner.sampler import RelevanceWeights
from learner.trainer import TrainerConfig
from tests.conftest import wait_until


def _learner(folder):
    opponent, gate = make_mirror(save_path=MirrorFiles(folder).model)
    learner = LiveLearner(opponent, gate, MirrorFiles(folder), config=TrainerConfig())
    return opponent, gate, learner


def _restarted_once(learner):
    return learner.restarts == 1 and learner.hud_stats()["trainer_alive"]


def _play(session, seconds):
    asyncio.run(session.run(SimClock(), ticks=int(seconds * 60)))
    time.sleep(0.05)  # let the queue's feeder thread hand the frames over


def _session_view(session):
    return view(session.state, RIGHT)


def test_trainer_death_keeps_the_model_and_restarts_primed(tmp_path):
    opponent, gate, learner = _learner(tmp_path)
    session = Session(opponent, seed=1, left_driver=load_persona("chaser"))
    session.frame_sinks.append(learner)
    learner.start()
    try:
        for _ in range(60):
            _play(session, 2)
            if wait_until(lambda: opponent.model is not None or gate.stats.accepted, 1):
                break
        _play(session, 0.1)  # a tick to swap the model in
        assert opponent.model_version >= 1
        version = opponent.model_version
        first_pid = learner.trainer_pid
        played = session.ticks_run
        os.kill(first_pid, signal.SIGKILL)
        _play(session, 1)  # the game goes on meanwhile
        assert opponent.model_version == version and opponent.label == "mirror"
        assert wait_until(lambda: learner.hud_stats()["state"] == "restarting", 5)
        assert "exit code -9" in learner.hud_stats()["state_reason"]
        assert wait_until(
            lambda: learner.restarts == 1 and learner.hud_stats()["trainer_alive"], 15
        )
        assert learner.trainer_pid != first_pid
        restarted_at = time.time()

        def restarted_trainer_reported():
            stats = learner.latest
            return stats is not None and stats.made_at > restarted_at and stats.frames_seen > 0

        # Without any more play, the new trainer already holds the frames its predecessor had.
        assert wait_until(restarted_trainer_reported, 60)
        # All of it (the last quarter second may still sit in the game's buffer).
        assert learner.latest.frames_seen >= played - live.FRAMES_PER_BATCH
        assert learner.hud_stats()["state"] == "live"
    finally:
        learner.stop()
    saved_version = opponent.model_version
    assert MirrorFiles(tmp_path).checkpoint.exists()  # the restarted trainer saved on stop

    # A new session with the same profile starts from the saved mirror.
    opponent2, gate2, learner2 = _learner(tmp_path)
    learner2.start()
    try:
        opponent2.act(_session_view(session))  # first tick: the saved model swaps in
        assert opponent2.label == "mirror" and opponent2.model_version == saved_version
    finally:
        learner2.stop()


def test_a_trainer_that_keeps_dying_early_is_reported_stopped(tmp_path, monkeypatch):
    """A crash loop (each trainer dying soon after it starts) ends in a stopped learner
    that says why; a trainer that had lived a while is simply brought back (next test)."""
    monkeypatch.setattr(live, "MAX_EARLY_DEATHS", 2)
    monkeypatch.setattr(live, "RESTART_BACKOFF_FIRST", 0.2)
    opponent, gate, learner = _learner(tmp_path)
    learner.start()
    try:
        os.kill(learner.trainer_pid, signal.SIGKILL)
        assert wait_until(
            lambda: learner.restarts == 1 and learner.hud_stats()["trainer_alive"], 15
        )
        os.kill(learner.trainer_pid, signal.SIGKILL)
        assert wait_until(lambda: learner.hud_stats()["state"] == "stopped", 10)
        hud = learner.hud_stats()
        assert "stopped 2 times in a row within 20 s of starting" in hud["state_reason"]
        assert "keeps playing" in hud["state_reason"]
        time.sleep(1.5)
        assert learner.restarts == 1 and not hud["trainer_alive"]  # no endless crash loop
        # The game still runs its ticks and the controls do nothing harmful.
        learner.handle_control({"type": "learning", "action": "pause"})
    finally:
        learner.stop()


def test_figures_carry_their_age_and_a_silent_trainer_reads_quiet(tmp_path):
    opponent, gate, learner = _learner(tmp_path)
    learner.start()
    try:
        assert wait_until(lambda: learner.latest is not None, 60)
        hud = learner.hud_stats()
        assert hud["state"] == "live" and hud["stats_age"] < 5
        os.kill(learner.trainer_pid, signal.SIGSTOP)  # alive but silent
        try:
            assert wait_until(lambda: learner.hud_stats()["state"] == "quiet", live.QUIET_AFTER + 5)
            assert learner.hud_stats()["stats_age"] >= live.QUIET_AFTER
        finally:
            os.kill(learner.trainer_pid, signal.SIGCONT)
        learner.handle_control({"type": "learning", "action": "pause"})
        assert learner.hud_stats()["state"] == "paused"
    finally:
        learner.stop()


def test_play_waiting_for_a_busy_trainer_is_counted_and_then_learned(tmp_path):
    """On a busy machine the trainer falls behind; the panel says how much play waits for it
    (learned late, not lost) instead of a "learned from" figure that silently lags."""
    opponent, gate, learner = _learner(tmp_path)
    session = Session(opponent, seed=4, left_driver=load_persona("chaser"))
    session.frame_sinks.append(learner)
    learner.start()
    try:
        assert wait_until(lambda: learner.latest is not None, 60)
        _play(session, 1)
        assert wait_until(lambda: learner.hud_stats()["queued_seconds"] < 0.5, 10)
        os.kill(learner.trainer_pid, signal.SIGSTOP)  # busy: it takes nothing in
        try:
            _play(session, 20)
            assert 19 <= learner.hud_stats()["queued_seconds"] <= 21
        finally:
            os.kill(learner.trainer_pid, signal.SIGCONT)
        assert wait_until(lambda: learner.hud_stats()["queued_seconds"] < 1, 30)
        assert learner.latest.frames_seen >= 21 * 60
    finally:
        learner.stop()


def test_a_swap_that_lands_before_the_gate_returns_breaks_nothing(tmp_path):
    """The receiver once died with KeyError when the game's tick swapped a model in before
    the gate call had returned (the swap's timing was popped before it was stored)."""
    from learner.trainer import Candidate  # torch is fine in a test

    opponent, gate, learner = _learner(tmp_path)
    session = Session(opponent, seed=3)

    class SwapInsideGate(ModelGate):
        def consider(self, *args, **kwargs):
            model = super().consider(*args, **kwargs)
            opponent.act(_session_view(session))  # the next tick runs before we return
            return model

    learner.gate = SwapInsideGate(opponent)
    onnx_bytes = _exported_mlp()
    for version in (1, 2):
        learner._consider(Candidate(onnx_bytes, version, 0.5, 0.5, 100, time.time(), None, None))
    assert opponent.model_version == 2
    assert len(learner.swap_latencies) == 2 and len(learner.swap_stages) == 2
    assert all(latency >= 0 for latency in learner.swap_latencies)


def _exported_mlp() -> bytes:
    from learner.exporter import export_onnx
    from models.registry import build_model

    return export_onnx(build_model("mlp"), model_version=1)


@pytest.mark.parametrize("name", ["learning", "adapt"])
@pytest.mark.parametrize("value", ["false", 0, "off", None])
def test_an_on_off_setting_that_is_not_a_boolean_is_ignored_with_a_warning(
    tmp_path, caplog, name, value
):
    files = MirrorFiles(tmp_path)
    files.folder.mkdir(parents=True)
    files.settings.write_text(f'{{"{name}": {__import__("json").dumps(value)}}}')
    learner = LiveLearner(*make_mirror(), files)
    assert getattr(learner, name) is True
    assert f"ignoring {name}=" in caplog.text


def test_the_adapt_switch_is_kept_with_the_profile_and_shown(tmp_path):
    """The panel's "adapt to my play" switch: on by default, off survives a restart, and the
    panel's figures say which it is."""
    files = MirrorFiles(tmp_path)
    opponent, gate, learner = _learner(tmp_path)
    assert learner.adapt is True and learner.hud_stats()["adapt"] is True
    assert learner.weights == RelevanceWeights.uniform()  # the sliders start even
    assert learner.hud_stats()["adapt_focus"] == {}  # no report from the trainer yet
    learner.handle_control({"type": "sampler_adapt", "on": False})
    learner.save_settings(wait=True)
    again = LiveLearner(*make_mirror(), files)
    assert again.adapt is False and again.hud_stats()["adapt"] is False


@pytest.mark.parametrize(
    "text", ['{"learning": ' + "[" * 5000 + "]" * 5000 + "}", "x" * 100_000, "[1, 2]"]
)
def test_a_hostile_settings_file_never_stops_the_game_from_starting(tmp_path, caplog, text):
    files = MirrorFiles(tmp_path)
    files.folder.mkdir(parents=True)
    files.settings.write_text(text)
    learner = LiveLearner(*make_mirror(), files)
    assert learner.learning is True and learner.config.architecture == "mlp"
    assert "ignoring" in caplog.text


def test_after_a_restart_the_panel_shows_the_last_figures_marked_as_saved(tmp_path):
    files = MirrorFiles(tmp_path)
    opponent, gate, learner = _learner(tmp_path)
    learner.latest = live.TrainerStats(
        made_at=time.time() - 30, learning=True, architecture="mlp", frames=5400,
        steps=900, frames_seen=6000, loss=0.5, agreement=0.83, approach_agreement=0.77,
        untrained_agreement=0.3, heldout_frames=900, play_minutes=1.6, steps_per_second=10,
        samples_per_second=2560, frames_per_second=60, trainer_version=4,
        recorded_frames=0, recordings_read=0, effective_sample_size=100.0, phase_split={},
        weights={},
    )  # fmt: skip
    learner.save_settings(wait=True)
    again = LiveLearner(*make_mirror(), files)
    hud = again.hud_stats()
    assert hud["figures_from"] == "saved" and hud["agreement"] == 0.83
    assert hud["approach_agreement"] == 0.77 and hud["frames"] == 5400
    assert hud["play_frames"] == 6000  # the held-out rallies are play it had too
    assert 29 <= hud["stats_age"] < 60
    # Figures that are not what they claim to be are not shown.
    files.settings.write_text('{"last_figures": {"agreement": 7, "frames": 1, "made_at": 0}}')
    assert LiveLearner(*make_mirror(), files).hud_stats()["figures_from"] is None
    files.settings.write_text(
        '{"last_figures": {"frames": 10, "play_frames": 3, "made_at": 0}}'  # fewer: a lie
    )
    assert LiveLearner(*make_mirror(), files).hud_stats()["figures_from"] is None
    # A session from before play_frames was saved: its training frames stand for it.
    files.settings.write_text('{"last_figures": {"frames": 10, "made_at": 0}}')
    assert LiveLearner(*make_mirror(), files).hud_stats()["play_frames"] == 10


def test_play_starts_from_all_of_the_players_earlier_play(tmp_path, caplog):
    """Memory across sessions: the trainer learns from the profile's recordings (newest
    first, up to a cap), an unreadable one is skipped with a log line, and the panel says
    how much earlier play, over how many sessions, it has learned from."""
    from tests.game.test_recording import record_match

    recordings = tmp_path / "recordings"
    recordings.mkdir()
    record_match(recordings / "20261120-100000-000001.mpr", seed=1, ticks=1200)
    record_match(recordings / "20261120-100500-000002.mpr", seed=2, ticks=900)
    record_match(recordings / "20261122-180000-000003.mpr", seed=3, ticks=600)  # days later
    (recordings / "20261122-190000-000004.mpr").write_bytes(b"not a recording" * 100)
    for path in recordings.iterdir():  # each file was last written when its match ended
        started = time.mktime(time.strptime(path.name[:15], "%Y%m%d-%H%M%S"))
        os.utime(path, (started + 60, started + 60))
    paths, sessions, sizes = live.earlier_play(tmp_path)
    assert sizes == [path.stat().st_size for path in paths]
    assert [p.name[:15] for p in paths] == [
        "20261120-100000", "20261120-100500", "20261122-180000", "20261122-190000",
    ]  # fmt: skip
    assert sessions[:3] == [0, 0, 1]
    opponent, gate, learner = _learner(tmp_path)
    learner.start()
    try:
        assert wait_until(
            lambda: learner.latest is not None and learner.latest.recordings_read == 3, 60
        )
        hud = learner.hud_stats()
        assert hud["recorded_frames"] == 1200 + 900 + 600 == learner.latest.frames_seen
        assert hud["play_frames"] == learner.latest.frames_seen > hud["frames"]  # held out
        assert hud["earlier_sessions"] == 2
        assert wait_until(lambda: "skipped a recording that cannot be read" in caplog.text, 10)
    finally:
        learner.stop()


def test_a_restored_mirror_keeps_its_number_and_its_saved_figure(tmp_path, caplog):
    files = MirrorFiles(tmp_path)
    files.folder.mkdir(parents=True)
    files.model.write_bytes(_exported_mlp())  # version 1
    files.settings.write_text(
        '{"mirrors_met": 6, "mirror_met_version": 1, "last_figures": {"agreement": 0.8, '
        '"playing_agreement": 0.86, "frames": 100, "made_at": 1, "version": 1}}'
    )
    opponent, gate, learner = _learner(tmp_path)
    caplog.set_level(logging.INFO, logger="learner.live")
    learner._load_saved_model()
    assert "your mirror v6 is back" in caplog.text  # the number the panel shows
    opponent.act(_session_view(Session(opponent, seed=1)))  # the first tick swaps it in
    hud = learner.hud_stats()
    assert hud["mirror_number"] == 6 and hud["version"] == 1
    assert hud["playing_agreement"] == 0.86 and hud["playing_agreement_saved"]


def test_this_sessions_own_recording_is_not_earlier_play(tmp_path):
    from tests.game.test_recording import record_match

    recordings = tmp_path / "recordings"
    recordings.mkdir()
    record_match(recordings / "20261120-100000-000001.mpr", seed=1, ticks=600)
    now = time.strftime("%Y%m%d-%H%M%S")
    record_match(recordings / f"{now}-000002.mpr", seed=2, ticks=60)  # begun just now
    paths, sessions, _ = live.earlier_play(tmp_path, before=time.time())
    assert [p.name for p in paths] == ["20261120-100000-000001.mpr"] and sessions == [0]


def test_a_match_resumed_into_an_earlier_recording_is_not_learned_from_twice(tmp_path):
    """A match resumed from the last session goes on in its recording: the trainer reads
    that recording as long as it was when play started; what this session appends comes as
    live frames."""
    from game.recording import RECORD, read_recording
    from learner.trainer_process import TrainerLoop, TrainerSetup
    from tests.game.test_recording import record_match

    whole = tmp_path / "whole.mpr"
    record_match(whole, seed=1, ticks=1200)
    data = whole.read_bytes()
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    resumed = recordings / "20200101-100000-000001.mpr"
    resumed.write_bytes(data[: len(data) - 300 * RECORD.size])  # 900 ticks when play starts
    paths, _, sizes = live.earlier_play(tmp_path, before=time.time())
    resumed.write_bytes(data + bytes(RECORD.size // 2))  # this session plays on: 300 more
    assert len(read_recording(resumed).records) == 1200
    loop = TrainerLoop(
        queue.Queue(),
        queue.Queue(),
        queue.Queue(),
        TrainerSetup(
            config={"architecture": "mlp", "seed": 0},
            weights=RelevanceWeights().to_dict(),
            params=DEFAULT_PARAMS.to_dict(),
            checkpoint_path=str(tmp_path / "checkpoint.pt"),
            recordings=[(str(path), size) for path, size in zip(paths, sizes, strict=True)],
        ),
    )
    assert loop.read_a_recording() == 900
    assert (loop.recorded_frames, loop.trainer.frames_seen) == (900, 900)


def test_a_trainer_that_had_lived_a_while_always_comes_back_at_once(tmp_path, monkeypatch):
    monkeypatch.setattr(live, "MAX_EARLY_DEATHS", 1)
    monkeypatch.setattr(live, "HEALTHY_AFTER", 0.0)  # every trainer counts as having lived
    opponent, gate, learner = _learner(tmp_path)
    learner.start()
    try:
        for kills in (1, 2, 3):
            os.kill(learner.trainer_pid, signal.SIGKILL)
            assert wait_until(lambda: learner.hud_stats()["state"] == "restarting", 5)
            assert "back in 1 s" in learner.hud_stats()["state_reason"]  # no growing backoff
            assert wait_until(
                lambda k=kills: learner.restarts == k and learner.hud_stats()["state"] == "live",
                10,
            )
    finally:
        learner.stop()


def test_a_profile_from_the_older_game_is_refused_in_words_and_relearned(tmp_path, caplog):
    """The contract changed (the mirror sees 24 ticks, not 16): a saved mirror and a trainer
    checkpoint from the older game are refused with a message, never crash, and the mirror
    is trained again from the player's recordings."""
    import io

    import onnx
    import torch

    from tests.game.test_recording import record_match

    files = MirrorFiles(tmp_path)
    files.folder.mkdir(parents=True)
    old = onnx.load_from_string(_exported_mlp())
    for prop in old.metadata_props:
        if prop.key == "contract_version":
            prop.value = "1"
    files.model.write_bytes(old.SerializeToString())
    buffer = io.BytesIO()
    torch.save({"architecture": "mlp", "model_config": {"frames": 4}, "model": {}}, buffer)
    files.checkpoint.write_bytes(buffer.getvalue())  # what the older game saved: no version
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    record_match(recordings / "20261120-100000-000001.mpr", seed=1, ticks=1200)
    opponent, gate, learner = _learner(tmp_path)
    learner._load_saved_model()
    assert opponent.model is None  # the scripted opponent plays until a new mirror is made
    assert "made for an older version of the game" in caplog.text
    learner.start()
    try:
        assert wait_until(
            lambda: learner.latest is not None and learner.latest.recordings_read == 1, 60
        )
        assert wait_until(lambda: "saved by an older game" in caplog.text, 10)
        assert learner.latest.frames_seen == 1200 and learner.hud_stats()["trainer_alive"]
    finally:
        learner.stop()
