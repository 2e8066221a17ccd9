"""Recordings against crafted files and bad values (issue 9, defects B, C, D): a header with
a valid checksum but bad fields is refused in one line, a recording with no ticks cannot be
"verified", the replay list survives a bad file, and a recorder never dies silently."""

import asyncio
import json
import zlib

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

import game.recording
from game.engine import Params
from game.opponent import ScriptedOpponent
from game.recording import (
    _U32,
    MAGIC,
    Record,
    RecordingError,
    RecordingWriter,
    make_header,
    read_recording,
)
from game.replay import verify
from game.replay_view import ReplayLibrary, create_replay_app
from game.session import Session
from tests.game.test_recording import record_match


def _write_with_header(path, body: bytes, records: bytes = b""):
    path.write_bytes(MAGIC + _U32.pack(len(body)) + body + _U32.pack(zlib.crc32(body)) + records)


def _header(**changes) -> dict:
    header = make_header(Params(), 5, "tester", "scripted", started_at=1.0)
    for key, value in changes.items():
        if value is ...:
            del header[key]
        else:
            header[key] = value
    return header


def _params(**changes) -> dict:
    return {**Params().to_dict(), **changes}


@pytest.mark.parametrize(
    "body, reason",
    [
        (json.dumps(_header(seed=...)).encode(), "header has no seed"),
        (json.dumps(_header(seed="abc")).encode(), "header seed is 'abc'"),
        (json.dumps(_header(seed=True)).encode(), "header seed is True"),
        (json.dumps(_header(params=_params(tick_rate=0))).encode(), "tick_rate is 0"),
        (json.dumps(_header(params=_params(court_width="wide"))).encode(), "court_width"),
        (json.dumps(_header(params=_params(tick_rate=60.5))).encode(), "needs an integer"),
        (json.dumps(_header(params=[1, 2])).encode(), "header params"),
        (json.dumps(_header(started_at="yesterday")).encode(), "started_at"),
        (b"[" * 100_000 + b"]" * 100_000, "nested 100000 levels deep"),
        (json.dumps(_header(seed=10**400)).encode(), "integer of 401 digits"),
        (
            json.dumps(_header(started_at=12345.5)).replace("12345.5", "1e400").encode(),
            "does not fit",
        ),
    ],
)
def test_bad_header_fields_are_refused_in_one_line(tmp_path, body, reason):
    path = tmp_path / "crafted.mpr"
    _write_with_header(path, body)
    with pytest.raises(RecordingError, match=reason) as refused:
        read_recording(path)
    assert "\n" not in str(refused.value) and len(str(refused.value)) < 300


def test_a_recording_with_no_ticks_is_not_verified(tmp_path):
    path = tmp_path / "empty.mpr"
    record_match(path, ticks=0)
    with pytest.raises(RecordingError, match="no recorded ticks: there is nothing to verify"):
        verify(read_recording(path))


def test_one_bad_recording_does_not_take_the_list_down(tmp_path):
    folder = tmp_path / "recordings"
    record_match(folder / "good.mpr", ticks=30)
    _write_with_header(folder / "crafted.mpr", json.dumps(_header(seed="abc")).encode())
    _write_with_header(folder / "deep.mpr", b"[" * 100_000 + b"]" * 100_000)

    async def scenario():
        server = TestServer(create_replay_app(ReplayLibrary(folder)), host="127.0.0.1")
        await server.start_server()
        try:
            async with (
                ClientSession() as http,
                http.get(server.make_url("/api/recordings")) as response,
            ):
                return response.status, await response.json()
        finally:
            await server.close()

    status, body = asyncio.run(scenario())
    assert status == 200
    listed = {entry["name"]: entry for entry in body["recordings"]}
    assert listed["good.mpr"]["error"] is None and listed["good.mpr"]["ticks"] == 30
    assert "seed" in listed["crafted.mpr"]["error"]
    assert "nested" in listed["deep.mpr"]["error"]


def test_a_version_beyond_int32_is_recorded_clamped_not_a_dead_writer(tmp_path):
    path = tmp_path / "big-version.mpr"
    session = Session(ScriptedOpponent(), seed=1)
    writer = RecordingWriter(path, make_header(Params(), 1, "tester", "scripted"))
    state = session.state
    for version in (1, 2**31, 2**40, -3):
        writer.append(Record(state.tick, 0.0, 0.0, version, state))
    writer.close()
    assert writer.error is None
    versions = [r.model_version for r in read_recording(path).records]
    assert versions == [1, 2**31 - 1, 2**31 - 1, 0]


def test_a_failing_recorder_surfaces_as_the_sessions_recording_error(tmp_path, monkeypatch):
    def broken_pack(record):
        raise ValueError("cannot pack")

    monkeypatch.setattr(game.recording, "pack_record", broken_pack)
    writers = []

    def recorder(params, seed, opponent):
        writers.append(
            RecordingWriter(
                tmp_path / f"{seed}.mpr", make_header(params, seed, "p", opponent), 0.01
            )
        )
        return writers[-1]

    session = Session(ScriptedOpponent(), seed=2, recorder_factory=recorder)
    for _ in range(5):
        session.tick()
    writers[0]._thread.join(2.0)  # the writer thread ends on its error, it does not hang
    assert not writers[0]._thread.is_alive()
    session.tick()
    assert session.recording_error is not None
    assert (
        "recording stopped" in session.recording_error and "cannot pack" in session.recording_error
    )
    session.close()
