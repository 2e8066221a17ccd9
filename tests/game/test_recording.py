"""Recordings: round trip, exact re-simulation, truncated tails, corrupt and foreign files."""

import json
import random
import struct
import zlib
from pathlib import Path

import pytest

from game.engine import Params, new_match, step
from game.recording import (
    MAGIC,
    RECORD,
    Record,
    RecordingError,
    RecordingWriter,
    make_header,
    read_recording,
)
from game.replay import verify
from tests.conftest import run_main


def record_match(path: Path, seed: int = 5, ticks: int = 1200, params: Params | None = None):
    params = params or Params()
    writer = RecordingWriter(path, make_header(params, seed, "tester", "scripted"))
    rng = random.Random(seed)
    state = new_match(seed, params)
    states = []
    for _ in range(ticks):
        left, right = rng.uniform(-1, 1), rng.uniform(-1, 1)
        state, _ = step(state, left, right, params)
        writer.append(Record(state.tick, left, right, 3, state))
        states.append(state)
    writer.close()
    assert writer.error is None
    return states


def run_replay(*args):
    return run_main("replay", *args)


def test_round_trip_reproduces_every_state(tmp_path):
    path = tmp_path / "match.mpr"
    states = record_match(path)
    recording = read_recording(path)
    assert [r.state for r in recording.records] == states
    assert recording.truncated_bytes == 0
    assert recording.header["player"] == "tester" and recording.seed == 5
    assert all(r.model_version == 3 for r in recording.records)
    assert verify(recording) is None
    result = run_replay(path, "--verify")
    assert result.returncode == 0, result.stderr
    assert "1200 recorded states reproduced exactly" in result.stdout


def test_writer_flushes_while_the_match_goes_on(tmp_path):
    import time

    path = tmp_path / "live.mpr"
    params = Params()
    writer = RecordingWriter(path, make_header(params, 1, "p", "scripted"), flush_interval=0.1)
    state = new_match(1, params)
    for _ in range(60):
        state, _ = step(state, 0, 0, params)
        writer.append(Record(state.tick, 0.0, 0.0, 0, state))
    time.sleep(0.5)  # no close: what a kill -9 would leave behind
    assert len(read_recording(path).records) == 60
    writer.close()


def test_tampered_state_is_reported_where_it_diverges(tmp_path):
    path = tmp_path / "tampered.mpr"
    record_match(path, ticks=300)
    recording = read_recording(path)
    bad = recording.records[150]
    tampered = Record(
        bad.tick,
        bad.left_cmd,
        bad.right_cmd,
        bad.model_version,
        bad.state._replace(left_y=bad.state.left_y + 1e-9),
    )
    data = bytearray(path.read_bytes())
    from game.recording import pack_record

    offset = len(data) - (300 - 150) * RECORD.size
    data[offset : offset + RECORD.size] = pack_record(tampered)
    path.write_bytes(bytes(data))
    result = run_replay(path, "--verify")
    assert result.returncode == 1
    assert "DIVERGED at record 150" in result.stdout and "left_y" in result.stdout


def test_truncated_tail_replays_up_to_last_whole_record(tmp_path):
    path = tmp_path / "cut.mpr"
    record_match(path, ticks=500)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - RECORD.size * 10 - 17])
    recording = read_recording(path)
    assert len(recording.records) == 489 and recording.truncated_bytes == RECORD.size - 17
    result = run_replay(path, "--verify")
    assert result.returncode == 0
    assert "warning" in result.stderr and "partial record" in result.stderr
    assert "489 recorded states reproduced exactly" in result.stdout


def _header_bytes(header: dict) -> bytes:
    body = json.dumps(header).encode()
    return MAGIC + struct.pack("<I", len(body)) + body + struct.pack("<I", zlib.crc32(body))


@pytest.mark.parametrize(
    "name, make, message",
    [
        (
            "foreign.mpr",
            lambda good: b"PK\x03\x04 just a zip file" * 10,
            "not a Mirror Pong recording",
        ),
        ("empty.mpr", lambda good: b"", "not a Mirror Pong recording"),
        (
            "flipped.mpr",
            lambda good: good[:-200] + bytes([good[-200] ^ 0xFF]) + good[-199:],
            "fails its checksum",
        ),
        ("header.mpr", lambda good: good[:20] + b"X" + good[21:], "header fails its checksum"),
        ("cut-header.mpr", lambda good: good[:15], "cut off inside its header"),
        (
            "format.mpr",
            lambda good: _header_bytes(make_header(Params(), 1, "p", "s") | {"format_version": 99}),
            "format version 99",
        ),
        (
            "engine.mpr",
            lambda good: _header_bytes(make_header(Params(), 1, "p", "s") | {"engine_version": 0}),
            "engine version 0",
        ),
    ],
)
def test_bad_files_get_one_line_and_exit_code_2(tmp_path, name, make, message):
    good_path = tmp_path / "good.mpr"
    record_match(good_path, ticks=100)
    path = tmp_path / name
    path.write_bytes(make(good_path.read_bytes()))
    with pytest.raises(RecordingError, match=message):
        read_recording(path)
    result = run_replay(path, "--verify")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr


def test_missing_file_is_a_clear_error(tmp_path):
    result = run_replay(tmp_path / "nope.mpr", "--verify")
    assert result.returncode == 2 and "no such recording" in result.stderr


def test_writer_never_overwrites(tmp_path):
    path = tmp_path / "once.mpr"
    record_match(path, ticks=10)
    with pytest.raises(FileExistsError):
        RecordingWriter(path, make_header(Params(), 1, "p", "s"))
    assert len(read_recording(path).records) == 10
