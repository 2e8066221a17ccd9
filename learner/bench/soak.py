"""``python main.py bench soak``: the real game for minutes, with faults injected.

Runs ``main.py play`` as a player would (a persona on the left, the real clock, the trainer
process learning) with a WebSocket client reading every frame as a browser tab does. At
random moments it kills the trainer process (SIGKILL) and, once, the server itself; a
killed server is started again on the same profile, which begins a new session. It prints:

- sessions in which learning stopped (target 0): the panel never showed live learning
  again after a fault, or its figures went stale (no stats for QUIET_LIMIT seconds at the
  end of the session), or a trainer outlived its killed server;
- model versions accepted per minute, and the trainer restarts the panel reported;
- ticks later than one frame (the loop's own count, read from ``/api/loop``);
- recording ticks lost: for each session, ticks the game had played just before it was
  stopped that its recording lacks, and whether every recording re-simulates exactly.

A soak is a benchmark, not a test: it takes real minutes and prints figures.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from learner.bench import write_json

ROOT = Path(__file__).resolve().parents[2]
QUIET_LIMIT = 10.0  # seconds without fresh learning stats that count as learning stopped
RECOVERY_LIMIT = 45.0  # seconds after a trainer kill within which learning must be live again
PLAYER = "soak"


@dataclass
class SessionFigures:
    seconds: float = 0.0
    ended_by: str = "stop"  # "stop" (Ctrl-C) or "kill -9"
    trainer_kills: int = 0
    trainer_restarts_seen: int = 0
    recoveries: list[float] = field(default_factory=list)  # seconds from kill to live again
    unrecovered_kills: int = 0
    models_accepted: int = 0
    last_stats_age: float | None = None
    final_state: str | None = None
    ticks_run: int = 0
    late_ticks: int = 0
    last_tick_seen: int = 0
    recorded_ticks: int | None = None
    ticks_lost: int | None = None
    orphans: int = 0
    learning_stopped: bool = False
    reasons: list[str] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def trainer_pids(server_pid: int) -> list[int]:
    """Children of the server running multiprocessing's spawn entry point (the trainer)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            if parent == server_pid and b"spawn_main" in (stat.parent / "cmdline").read_bytes():
                pids.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return pids


def process_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class SoakServer:
    """``main.py play`` in its own process, on a free port."""

    def __init__(self, data_dir: Path, persona: str, log_path: Path) -> None:
        self.port = _free_port()
        self.log = open(log_path, "a")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "main.py"),
                "play",
                "--no-browser",
                "--port",
                str(self.port),
                "--data-dir",
                str(data_dir),
                "--player",
                PLAYER,
                "--persona",
                persona,
            ],
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the game exited at start (see {log_path})")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the game did not start in 60 s")

    def stop(self, sig: int) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


async def _loop_figures(port: int) -> dict | None:
    from aiohttp import ClientError, ClientSession

    try:
        async with ClientSession() as http, http.get(f"http://127.0.0.1:{port}/api/loop") as r:
            return await r.json()
    except (TimeoutError, ClientError, OSError):
        return None


async def _watch_session(
    server: SoakServer, seconds: float, kill_server: bool, rng: random.Random, kill_every: float
) -> SessionFigures:
    from aiohttp import ClientSession, WSMsgType

    figures = SessionFigures(ended_by="kill -9" if kill_server else "stop")
    start = time.monotonic()
    next_kill = start + rng.uniform(0.5, 1.5) * kill_every
    pending_kill: float | None = None  # when a trainer was killed and learning not yet back
    restarts_at_kill = 0
    last_stats_at: float | None = None
    async with ClientSession() as http, http.ws_connect(f"ws://127.0.0.1:{server.port}/ws") as ws:
        while time.monotonic() - start < seconds:
            try:
                message = await ws.receive(timeout=2)
            except TimeoutError:
                continue
            if message.type != WSMsgType.TEXT:
                break
            frame = json.loads(message.data)
            if frame.get("type") != "frame":
                continue
            figures.last_tick_seen = frame["tick"]
            if frame.get("winner"):
                await ws.send_str(json.dumps({"type": "new_match"}))
            hud = frame.get("learning")
            now = time.monotonic()
            if hud is not None:
                figures.final_state = hud.get("state")
                figures.last_stats_age = hud.get("stats_age")
                figures.models_accepted = hud.get("accepted", 0)
                figures.trainer_restarts_seen = hud.get("trainer_restarts", 0)
                if hud.get("stats_age") is not None and hud["stats_age"] < QUIET_LIMIT:
                    last_stats_at = now
                back = hud.get("state") == "live" and hud.get("trainer_restarts", 0) > (
                    restarts_at_kill
                )
                if pending_kill is not None and back:
                    figures.recoveries.append(round(now - pending_kill, 1))
                    pending_kill = None
            if pending_kill is not None and now - pending_kill > RECOVERY_LIMIT:
                figures.unrecovered_kills += 1
                figures.reasons.append(f"learning not back {RECOVERY_LIMIT:.0f} s after a kill")
                pending_kill = None
            if now >= next_kill and pending_kill is None and now - start < seconds - 20:
                pids = trainer_pids(server.process.pid)
                if pids:
                    os.kill(pids[0], signal.SIGKILL)
                    figures.trainer_kills += 1
                    restarts_at_kill = figures.trainer_restarts_seen
                    pending_kill = now
                next_kill = now + rng.uniform(0.5, 1.5) * kill_every
    loop = await _loop_figures(server.port)
    if loop is not None:
        figures.ticks_run, figures.late_ticks = loop["ticks"], loop["late_ticks"]
        figures.last_tick_seen = loop["tick"]  # the game's tick just before it is stopped
    figures.seconds = round(time.monotonic() - start, 1)
    if last_stats_at is None or time.monotonic() - last_stats_at > QUIET_LIMIT:
        figures.reasons.append("no fresh learning figures at the end of the session")
    if figures.final_state in {"stopped", "quiet"}:
        figures.reasons.append(f"the panel said {figures.final_state!r} at the end")
    return figures


def _check_recordings(data_dir: Path, figures: SessionFigures, known: dict[Path, int]) -> int:
    """Ticks lost by the recording this session wrote last; returns recordings that failed
    to re-simulate exactly. Every recording the session wrote is verified: new ones, and
    one it grew by resuming a match cut off in the session before (``known``: sizes seen)."""
    from game.recording import RecordingError, read_recording
    from game.replay import verify

    folder = data_dir / "players" / PLAYER / "recordings"
    sizes = {path: path.stat().st_size for path in folder.glob("*.mpr")}
    written = sorted(
        (path for path, size in sizes.items() if known.get(path) != size),
        key=lambda path: path.stat().st_mtime_ns,
    )
    known.update(sizes)
    failures = 0
    for path in written:
        try:
            recording = read_recording(path)
            if recording.records and verify(recording) is not None:
                failures += 1
        except RecordingError:
            failures += 1
    if written:
        try:
            records = read_recording(written[-1]).records
        except RecordingError:
            records = []
        figures.recorded_ticks = records[-1].tick if records else 0
        figures.ticks_lost = max(0, figures.last_tick_seen - figures.recorded_ticks)
    return failures


def soak(minutes: float, persona: str, seed: int, kill_every: float, data_dir: Path | None):
    rng = random.Random(seed)
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="mirror-pong-soak-"))
    log_path = data_dir / "soak-server.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    total = minutes * 60
    server_kill_at = rng.uniform(0.35, 0.65) * total
    sessions: list[SessionFigures] = []
    failed_verifications = 0
    known: dict[Path, int] = {}  # recordings and their sizes after the last session
    started = time.monotonic()
    while (left := total - (time.monotonic() - started)) > 20:
        elapsed = time.monotonic() - started
        kill_server = not any(s.ended_by == "kill -9" for s in sessions) and elapsed < (
            server_kill_at
        )
        seconds = (server_kill_at - elapsed) if kill_server else left
        server = SoakServer(data_dir, persona, log_path)
        print(
            f"session {len(sessions) + 1}: {seconds:.0f} s, ends with "
            f"{'kill -9' if kill_server else 'Ctrl-C'}",
            flush=True,
        )
        figures = asyncio.run(_watch_session(server, seconds, kill_server, rng, kill_every))
        trainers = trainer_pids(server.process.pid)
        server.stop(signal.SIGKILL if kill_server else signal.SIGINT)
        time.sleep(2.0)
        figures.orphans = sum(process_alive(pid) for pid in trainers)
        if figures.orphans:
            figures.reasons.append(f"{figures.orphans} trainer(s) outlived the game")
        failed_verifications += _check_recordings(data_dir, figures, known)
        figures.learning_stopped = bool(figures.reasons)
        sessions.append(figures)
        print(f"  {_session_line(figures)}", flush=True)
    return {
        "minutes": minutes,
        "persona": persona,
        "seed": seed,
        "kill_every_s": kill_every,
        "data_dir": str(data_dir),
        "sessions": [asdict(s) for s in sessions],
        "summary": _summary(sessions, failed_verifications),
    }


def _session_line(s: SessionFigures) -> str:
    recovered = f"recovered in {s.recoveries} s" if s.recoveries else "no recoveries"
    return (
        f"{s.seconds:.0f} s, {s.trainer_kills} trainer kills ({recovered}), "
        f"{s.models_accepted} models accepted, {s.late_ticks} late ticks of {s.ticks_run}, "
        f"ticks lost {s.ticks_lost}, final state {s.final_state!r}"
        + (f"; LEARNING STOPPED: {'; '.join(s.reasons)}" if s.learning_stopped else "")
    )


def _summary(sessions: list[SessionFigures], failed_verifications: int) -> dict:
    minutes = sum(s.seconds for s in sessions) / 60
    recoveries = sorted(r for s in sessions for r in s.recoveries)
    ticks = sum(s.ticks_run for s in sessions)
    return {
        "sessions": len(sessions),
        "sessions_learning_stopped": sum(s.learning_stopped for s in sessions),
        "played_minutes": round(minutes, 2),
        "trainer_kills": sum(s.trainer_kills for s in sessions),
        "server_kills": sum(s.ended_by == "kill -9" for s in sessions),
        "recovery_median_s": recoveries[len(recoveries) // 2] if recoveries else None,
        "recovery_max_s": recoveries[-1] if recoveries else None,
        "models_accepted_per_minute": round(sum(s.models_accepted for s in sessions) / minutes, 2)
        if minutes
        else None,
        "ticks_run": ticks,
        "late_ticks": sum(s.late_ticks for s in sessions),
        "late_tick_fraction": round(sum(s.late_ticks for s in sessions) / ticks, 6)
        if ticks
        else None,
        "recording_ticks_lost": [s.ticks_lost for s in sessions],
        "recordings_failing_verify": failed_verifications,
        "orphan_trainers": sum(s.orphans for s in sessions),
    }


def print_summary(result: dict) -> None:
    summary = result["summary"]
    print(
        f"\nsoak: {summary['played_minutes']} min of {result['persona']} in "
        f"{summary['sessions']} sessions (seed {result['seed']})\n"
        f"  sessions in which learning stopped: {summary['sessions_learning_stopped']}\n"
        f"  trainer kills: {summary['trainer_kills']}, back to live in median "
        f"{summary['recovery_median_s']} s (max {summary['recovery_max_s']} s); "
        f"server kills: {summary['server_kills']}; trainers that outlived their game: "
        f"{summary['orphan_trainers']}\n"
        f"  model versions accepted per minute: {summary['models_accepted_per_minute']}\n"
        f"  ticks later than one frame: {summary['late_ticks']} of {summary['ticks_run']}\n"
        f"  recording ticks lost per session: {summary['recording_ticks_lost']}; "
        f"recordings failing --verify: {summary['recordings_failing_verify']}"
    )


def run(args) -> int:
    if args.minutes <= 0:
        print(f"error: --minutes must be positive, got {args.minutes}", file=sys.stderr)
        return 2
    result = soak(args.minutes, args.persona, args.seed, args.kill_every, args.data_dir)
    print_summary(result)
    write_json(result, args.json)
    return 0 if result["summary"]["sessions_learning_stopped"] == 0 else 1
