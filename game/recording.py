"""Recordings: one append-only file per match, readable up to a truncated tail.

Layout of a ``.mpr`` file (all integers little-endian):

    b"MPONGREC"                      8-byte magic
    u32 header_length, header JSON, u32 CRC-32 of the header JSON
    records, each RECORD.size bytes: tick, left command, right command, opponent model
    version, the full engine state after the tick, then a CRC-32 of the record's bytes

The header holds the format and engine versions, engine params, seed, player, opponent and
start time. Records have a fixed size, so tick N is found by arithmetic (fast seeking), and a
crash can only leave a partial last record, which the reader drops with a warning. A record
whose CRC does not match, a foreign file, or another format or engine version is refused
with a ``RecordingError`` whose message is one line.

Writing never blocks the session loop: ``RecordingWriter.append`` only queues; a writer
thread packs, writes and flushes at least every ``flush_interval`` seconds (0.25 s by default),
so a killed server loses at most that much play.

A match cut off by a killed server is picked up again where its recording ends
(``unfinished_match``): the writer cuts off a partial last record and appends the next ticks
to the same file, so the recording stays one match from one seed and re-simulating it still
reproduces every state (``replay FILE --verify``).
"""

from __future__ import annotations

import json
import logging
import math
import struct
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from game import safe_json
from game.engine import ENGINE_VERSION, Params, State

FORMAT_VERSION = 1
MAGIC = b"MPONGREC"
SUFFIX = ".mpr"
_MAX_HEADER_BYTES = 1 << 20
_MAX_HEADER_DEPTH = 8  # the header is a flat object with one nested object (params)
MAX_MODEL_VERSION = (1 << 31) - 1  # a record stores the model version as a signed 32-bit int

log = logging.getLogger(__name__)

# tick, left_cmd, right_cmd, model_version, then State's fields in order.
_STATE_FORMAT = "qddddddiiiiQii"
_BODY = struct.Struct("<qddi" + _STATE_FORMAT)
RECORD = struct.Struct(f"<{_BODY.size}sI")
_U32 = struct.Struct("<I")


class RecordingError(Exception):
    """A recording that cannot be read; the message is one line meant for the user."""


class Record(NamedTuple):
    """One tick: the two commands, the model version that drove the opponent, the state after."""

    tick: int
    left_cmd: float
    right_cmd: float
    model_version: int
    state: State


def pack_record(record: Record) -> bytes:
    body = _BODY.pack(
        record.tick, record.left_cmd, record.right_cmd, record.model_version, *record.state
    )
    return RECORD.pack(body, zlib.crc32(body))


def unpack_record(data: bytes, index: int) -> Record:
    body, crc = RECORD.unpack(data)
    if zlib.crc32(body) != crc:
        raise RecordingError(f"corrupt recording: record {index} fails its checksum")
    tick, left_cmd, right_cmd, model_version, *state = _BODY.unpack(body)
    return Record(tick, left_cmd, right_cmd, model_version, State(*state))


def make_header(
    params: Params, seed: int, player: str, opponent: str, started_at: float | None = None
) -> dict:
    return {
        "format": "mirror-pong-recording",
        "format_version": FORMAT_VERSION,
        "engine_version": ENGINE_VERSION,
        "params": params.to_dict(),
        "seed": seed,
        "player": player,
        "opponent": opponent,
        "started_at": started_at if started_at is not None else time.time(),
        "record_size": RECORD.size,
    }


def encode_header(header: dict) -> bytes:
    body = json.dumps(header, sort_keys=True).encode()
    return MAGIC + _U32.pack(len(body)) + body + _U32.pack(zlib.crc32(body))


@dataclass
class Recording:
    """A recording read from disk."""

    path: Path
    header: dict
    params: Params
    records: list[Record]
    truncated_bytes: int  # bytes of a partial last record that were dropped (0 if none)

    @property
    def seed(self) -> int:
        return int(self.header["seed"])


def _read_header(path: Path, data: bytes) -> tuple[dict, int]:
    name = path.name
    if len(data) < len(MAGIC) or data[: len(MAGIC)] != MAGIC:
        raise RecordingError(f"{name} is not a Mirror Pong recording")
    offset = len(MAGIC)
    if len(data) < offset + 4:
        raise RecordingError(f"{name} is cut off inside its header")
    (length,) = _U32.unpack_from(data, offset)
    offset += 4
    if length > _MAX_HEADER_BYTES:
        raise RecordingError(f"corrupt recording {name}: header length {length} is implausible")
    if len(data) < offset + length + 4:
        raise RecordingError(f"{name} is cut off inside its header")
    body = data[offset : offset + length]
    (crc,) = _U32.unpack_from(data, offset + length)
    if zlib.crc32(body) != crc:
        raise RecordingError(f"corrupt recording {name}: header fails its checksum")
    try:
        header = safe_json.loads(body, _MAX_HEADER_BYTES, _MAX_HEADER_DEPTH)
    except ValueError as exc:
        raise RecordingError(f"corrupt recording {name}: header is {exc}") from None
    if not isinstance(header, dict) or header.get("format") != "mirror-pong-recording":
        raise RecordingError(f"{name} is not a Mirror Pong recording")
    if header.get("format_version") != FORMAT_VERSION:
        raise RecordingError(
            f"{name} has recording format version {_shown(header.get('format_version'))}; "
            f"this version of Mirror Pong reads version {FORMAT_VERSION}"
        )
    if header.get("engine_version") != ENGINE_VERSION:
        raise RecordingError(
            f"{name} was recorded with engine version {_shown(header.get('engine_version'))}; "
            f"this version of Mirror Pong runs engine version {ENGINE_VERSION}"
        )
    if header.get("record_size") != RECORD.size:
        raise RecordingError(f"corrupt recording {name}: unexpected record size")
    for key, (kinds, valid, needs) in _HEADER_FIELDS.items():
        if key not in header:
            raise RecordingError(f"corrupt recording {name}: header has no {key}")
        value = header[key]
        if isinstance(value, bool) or not isinstance(value, kinds) or not valid(value):
            raise RecordingError(
                f"corrupt recording {name}: header {key} is {_shown(value)}, needs {needs}"
            )
    return header, offset + length + 4


def _shown(value: object) -> str:
    """A value from a header, short enough for a one-line message."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _finite(value: float) -> bool:
    return math.isfinite(value)


# Every header field a reader uses: (JSON types, check, what it needs). bool is never a number.
_HEADER_FIELDS: dict[str, tuple[tuple[type, ...], Callable[[object], bool], str]] = {
    "seed": ((int,), lambda v: -(1 << 63) <= v < (1 << 64), "a 64-bit integer"),
    "player": ((str,), lambda v: len(v) <= 200, "a name"),
    "opponent": ((str,), lambda v: len(v) <= 200, "a name"),
    "started_at": ((int, float), lambda v: _finite(v) and v >= 0, "a time"),
    "params": ((dict,), lambda v: True, "an object"),
}

# Engine params: (type, lowest, highest). Anything outside these is not a match Mirror Pong
# could have played (and a zero tick rate or a huge one would break re-simulation).
_PARAM_RANGES: dict[str, tuple[type, float, float]] = {
    "tick_rate": (int, 1, 10_000),
    "court_width": (float, 1e-3, 1e3),
    "court_height": (float, 1e-3, 1e3),
    "paddle_inset": (float, 0.0, 1e3),
    "paddle_half_height": (float, 1e-4, 1e3),
    "paddle_speed": (float, 0.0, 1e4),
    "ball_radius": (float, 1e-5, 1e3),
    "serve_speed": (float, 1e-4, 1e4),
    "speedup": (float, 1.0, 10.0),
    "max_speed": (float, 1e-4, 1e4),
    "max_bounce_angle": (float, 0.0, math.pi / 2),
    "max_serve_angle": (float, 0.0, math.pi / 2),
    "serve_delay_ticks": (int, 0, 1_000_000),
    "points_to_win": (int, 1, 1_000_000),
}


def _header_params(path: Path, header: dict) -> Params:
    """The engine params of a header whose fields ``_read_header`` checked: every one known,
    of its type, in its range (one place for all of them)."""
    params = header["params"]
    unknown = sorted(set(params) - set(_PARAM_RANGES))
    if unknown:
        raise RecordingError(
            f"corrupt recording {path.name}: unknown engine params {_shown(unknown)}"
        )
    for key, value in params.items():
        kind, low, high = _PARAM_RANGES[key]
        number = kind is float and isinstance(value, int | float) or isinstance(value, kind)
        if isinstance(value, bool) or not number or not low <= value <= high:
            raise RecordingError(
                f"corrupt recording {path.name}: engine param {key} is {_shown(value)}, "
                f"needs {'an integer' if kind is int else 'a number'} in [{low:g}, {high:g}]"
            )
    try:
        return Params.from_dict({key: _PARAM_RANGES[key][0](v) for key, v in params.items()})
    except (TypeError, ValueError) as exc:
        raise RecordingError(f"corrupt recording {path.name}: bad engine params ({exc})") from None


def read_recording(path: str | Path, limit: int | None = None) -> Recording:
    """Read a whole recording, or its first ``limit`` bytes (a recording still being
    written, as long as it was at some moment). A partial last record is dropped (see
    ``truncated_bytes``)."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            data = file.read() if limit is None else file.read(limit)
    except FileNotFoundError:
        raise RecordingError(f"no such recording: {path}") from None
    except IsADirectoryError:
        raise RecordingError(f"{path} is a folder, not a recording") from None
    except OSError as exc:
        raise RecordingError(f"cannot read {path}: {exc.strerror}") from None
    header, offset = _read_header(path, data)
    params = _header_params(path, header)
    body = memoryview(data)[offset:]
    whole = len(body) // RECORD.size
    records = [
        unpack_record(body[i * RECORD.size : (i + 1) * RECORD.size], i) for i in range(whole)
    ]
    return Recording(path, header, params, records, len(body) - whole * RECORD.size)


class RecordingWriter:
    """Appends records to a file from a background thread; ``append`` never touches the disk.

    A write error (a full disk, a vanished folder) or any failure of the writer thread stops
    recording, keeps what was written, and is reported through ``error`` (the session shows
    it as its ``recording_error``); the game goes on. ``append`` fits what enters a record to
    its field (a model version beyond int32 is clamped, with one log line).
    """

    def __init__(
        self,
        path: Path,
        header: dict | None,
        flush_interval: float = 0.25,
        append_at: int | None = None,
    ) -> None:
        """A new recording at ``path`` starting with ``header``; or, with ``append_at`` (the
        offset where its whole records end, ``UnfinishedMatch.end``), the existing recording
        at ``path`` continued: anything after that offset (a partial record) is cut off."""
        self.path = path
        self.flush_interval = flush_interval
        self.error: str | None = None
        self.records_written = 0
        self._pending: deque[Record] = deque()
        self._wake = threading.Event()
        self._closing = False
        self._warned_version = False
        if append_at is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(path, "xb")  # noqa: SIM115 (closed by the writer thread); "x": never overwrite
            self._file.write(encode_header(header))
        else:
            self._file = open(path, "r+b")  # noqa: SIM115 (closed by the writer thread)
            self._file.truncate(append_at)
            self._file.seek(append_at)
        self._file.flush()
        self._thread = threading.Thread(target=self._run, name=f"recorder-{path.name}", daemon=True)
        self._thread.start()

    def append(self, record: Record) -> None:
        if self.error is not None:
            return
        if not 0 <= record.model_version <= MAX_MODEL_VERSION:  # it must fit its int32 field
            record = record._replace(model_version=self._fit_version(record.model_version))
        self._pending.append(record)  # deque.append is atomic; no lock needed

    def _fit_version(self, version: int) -> int:
        if not self._warned_version:
            self._warned_version = True
            log.error(
                "model version %s does not fit a recording; recorded as %d",
                version,
                MAX_MODEL_VERSION,
            )
        return min(max(int(version), 0), MAX_MODEL_VERSION)

    def close(self, wait: bool = True) -> None:
        """Write everything still queued and close the file; ``wait=False`` returns at once
        and lets the writer thread finish on its own."""
        self._closing = True
        self._wake.set()
        if wait:
            self._thread.join()

    def _run(self) -> None:
        try:
            while True:
                closing = self._closing
                self._write_pending()
                if closing:
                    break
                self._wake.wait(self.flush_interval)
                self._wake.clear()
        except Exception as exc:  # a bug, never a silent dead recorder: say it, stop cleanly
            log.exception("the recorder of %s failed", self.path)
            self.error = f"recording stopped: internal error ({type(exc).__name__}: {exc})"[:300]
            self._pending.clear()
        try:
            self._file.close()
        except OSError as exc:
            self._fail(exc)

    def _write_pending(self) -> None:
        if self.error is not None or not self._pending:
            return
        chunk = bytearray()
        count = 0
        while self._pending:
            chunk += pack_record(self._pending.popleft())
            count += 1
        try:
            self._file.write(chunk)
            self._file.flush()
        except OSError as exc:
            self._fail(exc)
            return
        self.records_written += count

    def _fail(self, exc: OSError) -> None:
        self.error = f"recording stopped: {exc.strerror or exc}"
        log.error("%s (%s); the game goes on unrecorded", self.error, self.path)
        self._pending.clear()


@dataclass
class RecordingFile:
    """A recording opened for random access: the header now, records on demand.

    Records have a fixed size, so record ``i`` is read by seeking straight to it: a scrub
    through a 30-minute recording reads only the records it shows."""

    path: Path
    header: dict
    params: Params
    data_offset: int
    count: int  # whole records
    truncated_bytes: int

    @classmethod
    def open(cls, path: str | Path) -> RecordingFile:
        path = Path(path)
        try:
            size = path.stat().st_size
            with open(path, "rb") as file:
                head = file.read(len(MAGIC) + 4 + _MAX_HEADER_BYTES + 4)
        except FileNotFoundError:
            raise RecordingError(f"no such recording: {path}") from None
        except OSError as exc:
            raise RecordingError(f"cannot read {path}: {exc.strerror}") from None
        header, offset = _read_header(path, head)
        params = _header_params(path, header)
        body = size - offset
        return cls(path, header, params, offset, body // RECORD.size, body % RECORD.size)

    def read_bytes(self, start: int, count: int, verify: bool = True) -> bytes:
        """The raw bytes of records ``start`` .. ``start + count - 1`` (clipped to what
        exists); ``verify`` checks each record's checksum (RecordingError if one fails)."""
        start = max(0, min(start, self.count))
        count = max(0, min(count, self.count - start))
        with open(self.path, "rb") as file:
            file.seek(self.data_offset + start * RECORD.size)
            data = file.read(count * RECORD.size)
        if verify:
            for i in range(len(data) // RECORD.size):
                body, crc = RECORD.unpack_from(data, i * RECORD.size)
                if zlib.crc32(body) != crc:
                    raise RecordingError(
                        f"corrupt recording: record {start + i} fails its checksum"
                    )
        return data


# A recording shorter than this (half a second of play) is not worth resuming.
RESUME_MIN_TICKS = 30


@dataclass
class UnfinishedMatch:
    """A recorded match with no winner yet: where to pick it up again."""

    path: Path
    seed: int
    last: Record  # the last whole record: the state play goes on from
    end: int  # the file offset where its whole records end (the writer appends there)


def unfinished_match(recordings: list[Path], params: Params) -> UnfinishedMatch | None:
    """The match to resume: the newest (last written) of ``recordings``, if it has no winner,
    at least ``RESUME_MIN_TICKS`` ticks, records for every tick since the serve, and was
    played with ``params``; else None. A recording that cannot be read is never resumed
    (logged), and play starts a new match."""
    try:
        newest = max(recordings, key=lambda path: path.stat().st_mtime_ns, default=None)
    except OSError:  # a file vanished while we looked: nothing reliable to resume
        return None
    if newest is None:
        return None
    try:
        recording = RecordingFile.open(newest)
        recording.read_bytes(0, recording.count)  # every record's checksum, not just the last
    except RecordingError as exc:
        log.warning("not resuming %s: %s", newest.name, exc)
        return None
    if recording.count < RESUME_MIN_TICKS or recording.params != params:
        return None
    last = unpack_record(recording.read_bytes(recording.count - 1, 1), recording.count - 1)
    if last.state.winner or last.tick != recording.count or last.state.tick != last.tick:
        return None
    end = recording.data_offset + recording.count * RECORD.size
    return UnfinishedMatch(newest, int(recording.header["seed"]), last, end)
