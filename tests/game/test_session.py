"""The session loop on the simulated clock: the same code as play, recorded exactly."""

import asyncio
import errno
import time

from game.engine import Params
from game.opponent import ScriptedOpponent
from game.recording import RecordingWriter, make_header, read_recording
from game.replay import verify
from game.session import RealClock, Session, SimClock


class Follower:
    """Chases the ball: a stand-in for a player."""

    label = "follower"
    model_version = 0

    def act(self, view):
        return (view.ball_y - view.paddle_y) * 20


class Broken:
    label = "broken"
    model_version = 0

    def act(self, view):
        raise RuntimeError("boom")


def _recorder(folder):
    def factory(params, seed, opponent):
        return RecordingWriter(folder / f"{seed}.mpr", make_header(params, seed, "p", opponent))

    return factory


def test_simulated_session_records_a_match_that_verifies(tmp_path):
    session = Session(
        ScriptedOpponent(), seed=9, recorder_factory=_recorder(tmp_path), left_driver=Follower()
    )
    asyncio.run(session.run(SimClock(), ticks=3000))
    session.close()
    assert session.state.tick == 3000
    recording = read_recording(tmp_path / "9.mpr")
    assert len(recording.records) == 3000
    assert verify(recording) is None
    assert session.state.rally_hits > 0 or session.state.score_left + session.state.score_right > 0


def test_match_over_closes_the_recording_and_new_match_starts_another(tmp_path):
    session = Session(
        ScriptedOpponent(),
        params=Params(points_to_win=2),
        seed=4,
        recorder_factory=_recorder(tmp_path),
    )
    asyncio.run(session.run(SimClock(), ticks=5000))  # nobody defends the left
    assert session.state.winner == 1
    ticks_at_end = session.state.tick
    asyncio.run(session.run(SimClock(), ticks=100))
    assert session.state.tick == ticks_at_end  # a finished match stays finished
    session.new_match(seed=5)
    asyncio.run(session.run(SimClock(), ticks=100))
    session.close()
    assert session.state.tick == 100
    assert verify(read_recording(tmp_path / "4.mpr")) is None
    assert len(read_recording(tmp_path / "5.mpr").records) == 100


def test_a_failing_opponent_never_stops_the_game():
    session = Session(Broken(), seed=1)
    asyncio.run(session.run(SimClock(), ticks=200))
    assert session.state.tick == 200


def test_full_disk_stops_recording_not_the_game(tmp_path):
    class FullDisk:
        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

        def flush(self):
            pass

        def close(self):
            pass

    session = Session(ScriptedOpponent(), seed=2, recorder_factory=_recorder(tmp_path))
    session.recorder._file = FullDisk()
    asyncio.run(session.run(SimClock(), ticks=120))
    time.sleep(0.5)  # the writer thread tries, and fails, to write
    asyncio.run(session.run(SimClock(), ticks=120))
    assert session.state.tick == 240
    assert session.recording_error and "No space left" in session.recording_error
    session.close()


def test_real_clock_keeps_60_hz():
    session = Session(ScriptedOpponent(), seed=3)
    clock = RealClock()
    start = clock.now()
    asyncio.run(session.run(clock, ticks=30))
    elapsed = clock.now() - start
    assert session.state.tick == 30 and 0.45 < elapsed < 1.5


def test_a_failing_listener_never_stops_the_game(caplog):
    """A learner or publisher that raises is logged once with its traceback; ticks go on."""
    from game.opponent import ScriptedOpponent
    from game.session import Session, SimClock

    class BrokenSink:
        def on_tick(self, *args):
            raise KeyError(7)

    session = Session(ScriptedOpponent(), seed=4)
    session.frame_sinks.append(BrokenSink())
    session.subscribers.append(lambda session, events: 1 / 0)
    asyncio.run(session.run(SimClock(), ticks=120))
    assert session.state.tick == 120 and session.ticks_run == 120
    assert session.listener_errors == 240
    failures = [r for r in caplog.records if "failed during a tick" in r.getMessage()]
    assert len(failures) == 2 and all(r.exc_info for r in failures)


def test_a_step_between_ticks_starts_only_in_a_gap_with_room_for_it():
    """``wait_for_tick_gap(need)``: at once while the gap before the next tick has ``need``
    left; mid-tick, or when the gap is too short, it waits (here, until its timeout, as no
    tick comes); a loop that is not ticking does not hold anyone up."""
    session = Session(ScriptedOpponent(), seed=5)

    def waited(need, tick_began_ago, tick_took, timeout=0.03):
        now = time.perf_counter()
        session.last_tick_start = now - tick_began_ago
        session.last_tick_end = session.last_tick_start + tick_took
        session.wait_for_tick_gap(need, timeout=timeout)
        return time.perf_counter() - now

    # At 60 Hz a tick that began 3 ms ago leaves ~12 ms (less the loop's 1.5 ms spin).
    assert waited(0.005, tick_began_ago=0.003, tick_took=0.001) < 0.025
    assert waited(0.013, tick_began_ago=0.003, tick_took=0.001) >= 0.03
    assert waited(0.002, tick_began_ago=0.003, tick_took=-0.01) >= 0.03  # mid-tick
    assert waited(0.011, tick_began_ago=1.0, tick_took=0.001, timeout=5.0) < 1.0  # idle
