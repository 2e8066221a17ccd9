"""A match survives a restart: a server killed mid-match comes back on the same profile with
the match where its recording ends, appends to the same recording (which still verifies
exactly from its seed), and ``--new-match`` starts afresh."""

import asyncio
import json
import signal
from pathlib import Path

from aiohttp import ClientSession

from game.engine import Params
from game.opponent import ScriptedOpponent
from game.recording import RECORD, RecordingWriter, make_header, read_recording, unfinished_match
from game.replay import verify
from game.session import Session, SimClock
from tests.conftest import run_main

PLAYER = ("--persona", "chaser", "--no-learn", "--player", "bob")


async def _frames_until(url: str, done, timeout: float) -> tuple[dict, list[dict]]:
    """The hello and the frames received until ``done(frames)`` holds."""
    frames: list[dict] = []
    async with ClientSession() as http, http.ws_connect(url) as ws:
        hello = json.loads((await ws.receive(timeout=5)).data)
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while loop.time() < end and not done(frames):
            message = json.loads((await ws.receive(timeout=5)).data)
            if message["type"] == "frame":
                frames.append(message)
    return hello, frames


def _score(frame: dict) -> tuple[int, int]:
    return tuple(frame["score"])


def test_a_killed_server_resumes_the_match_and_its_recording_verifies(server_factory, tmp_path):
    data = tmp_path / "data"
    server = server_factory(*PLAYER, data_dir=data)
    url = f"ws://127.0.0.1:{server.port}/ws"
    hello, frames = asyncio.run(
        _frames_until(url, lambda f: bool(f) and _score(f[-1]) != (0, 0), timeout=120)
    )
    assert hello["resumed"] is None and not frames[-1]["resumed"]
    assert _score(frames[-1]) != (0, 0), "no point scored in two minutes"
    # Half a second more, so the point is on disk (flushed every quarter second).
    _, more = asyncio.run(_frames_until(url, lambda f: len(f) >= 30, timeout=10))
    frames += more
    server.stop(signal.SIGKILL)
    killed_at = frames[-1]
    (path,) = (data / "players" / "bob" / "recordings").glob("*.mpr")
    size_before = path.stat().st_size

    again = server_factory(*PLAYER, data_dir=data)
    hello, (first, *_) = asyncio.run(  # half a second of play, so that some is on disk
        _frames_until(f"ws://127.0.0.1:{again.port}/ws", lambda f: len(f) >= 30, timeout=10)
    )
    resumed = hello["resumed"]
    assert resumed is not None and first["resumed"]
    # Picked up within the last quarter second of play (what a kill may lose), not at 0-0.
    last_quarter = [f for f in frames if f["tick"] >= killed_at["tick"] - 15]
    assert tuple(resumed["score"]) in {_score(f) for f in last_quarter}
    assert killed_at["tick"] - 15 <= resumed["tick"] <= killed_at["tick"]
    assert first["tick"] > resumed["tick"]
    assert first["score"][0] >= resumed["score"][0] and first["score"][1] >= resumed["score"][1]
    again.stop(signal.SIGKILL)

    # One recording, longer than before, every tick one record, verified from its seed.
    assert list(path.parent.glob("*.mpr")) == [path]
    assert path.stat().st_size > size_before
    recording = read_recording(path)
    assert [r.tick for r in recording.records] == list(range(1, len(recording.records) + 1))
    assert recording.records[-1].tick > resumed["tick"]
    result = run_main("replay", path, "--verify")
    assert result.returncode == 0, result.stdout + result.stderr

    # --new-match: a fresh match (and a second recording), the cut-off one left as it was.
    fresh = server_factory(*PLAYER, "--new-match", data_dir=data)
    hello, (first, *_) = asyncio.run(
        _frames_until(f"ws://127.0.0.1:{fresh.port}/ws", lambda f: bool(f), timeout=10)
    )
    fresh.stop(signal.SIGKILL)
    assert hello["resumed"] is None and not first["resumed"]
    assert _score(first) == (0, 0) and first["tick"] < resumed["tick"]
    assert len(list(path.parent.glob("*.mpr"))) == 2


def _record(path: Path, ticks: int, params: Params, cut: int = 0) -> None:
    def factory(params, seed, opponent):
        return RecordingWriter(path, make_header(params, seed, "bob", opponent))

    session = Session(
        ScriptedOpponent(),
        params=params,
        seed=5,
        recorder_factory=factory,
        left_driver=ScriptedOpponent(),
    )
    asyncio.run(session.run(SimClock(), ticks=ticks))
    session.close()
    if cut:
        path.write_bytes(path.read_bytes()[:-cut])


def test_a_partial_last_record_is_cut_and_the_match_goes_on_exactly(tmp_path):
    params = Params(points_to_win=99)
    path = tmp_path / "match.mpr"
    _record(path, 600, params, cut=RECORD.size // 3)
    match = unfinished_match([path], params)
    assert match is not None and match.last.tick == 599 and match.seed == 5

    session = Session(
        ScriptedOpponent(),
        params=params,
        recorder_factory=lambda *a: None,  # recording on: the resumed match appends
        left_driver=ScriptedOpponent(),
        resume=match,
    )
    assert session.state == match.last.state and session.seed == 5
    asyncio.run(session.run(SimClock(), ticks=300))
    session.close()
    recording = read_recording(path)
    assert recording.truncated_bytes == 0 and len(recording.records) == 899
    assert verify(recording) is None


def test_what_is_never_resumed(tmp_path):
    params = Params(points_to_win=99)
    assert unfinished_match([], params) is None
    short = tmp_path / "short.mpr"
    _record(short, 10, params)
    assert unfinished_match([short], params) is None  # too short to be worth it
    other = tmp_path / "other.mpr"
    _record(other, 100, params)
    assert unfinished_match([other], Params(points_to_win=3)) is None  # other rules
    assert unfinished_match([short, other], params).path == other  # the newest one
    won = tmp_path / "won.mpr"
    _record(won, 20_000, Params(points_to_win=1))
    assert read_recording(won).records[-1].state.winner
    assert unfinished_match([won], Params(points_to_win=1)) is None
    broken = tmp_path / "broken.mpr"
    broken.write_bytes(b"not a recording")
    assert unfinished_match([broken], params) is None


def test_a_resumed_match_waits_for_the_players_space(tmp_path):
    """A tab reconnecting to a restarted server finds the match paused where it stopped
    (the hello says where); Space goes on, and a new match is a fresh one."""
    from aiohttp.test_utils import TestServer

    from game.server import ServerConfig, create_app

    params = Params(points_to_win=99)
    path = tmp_path / "match.mpr"
    _record(path, 120, params)
    match = unfinished_match([path], params)
    session = Session(
        ScriptedOpponent(), params=params, recorder_factory=lambda *a: None, resume=match
    )

    async def scenario():
        server = TestServer(create_app(ServerConfig(host="127.0.0.1"), session), host="127.0.0.1")
        await server.start_server()
        try:
            async with ClientSession() as http, http.ws_connect(server.make_url("/ws")) as ws:
                hello = json.loads((await ws.receive()).data)
                state = match.last.state
                assert hello["resumed"] == {
                    "tick": 120,
                    "score": [state.score_left, state.score_right],
                }
                frame = json.loads((await ws.receive()).data)
                await asyncio.sleep(0.2)
                assert frame["paused"] and frame["resumed"] and session.state.tick == 120
                await ws.send_str(json.dumps({"type": "pause", "paused": False}))
                await asyncio.sleep(0.2)
                assert session.state.tick > 130 and not session.paused
                await ws.send_str(json.dumps({"type": "new_match"}))
                await asyncio.sleep(0.1)
                assert session.resumed_at is None and session.state.tick < 60
        finally:
            await server.close()

    asyncio.run(scenario())
    session.close()
