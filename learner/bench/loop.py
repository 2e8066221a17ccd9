"""``python main.py bench loop``: how punctual the session loop is while it serves a client.

The real server runs the real session loop on the real clock; a WebSocket client in a
separate process (as a browser tab would be) receives every frame and sends input ten
times a second. Tick lateness is how long after its deadline each tick started.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from aiohttp import web

from game.opponent import ScriptedOpponent
from game.server import ServerConfig, create_app
from game.session import Session, tune_process_for_real_time
from learner.bench import write_json


def lateness_summary(lateness_seconds: list[float]) -> dict:
    """Median, p99 and max in milliseconds."""
    ms = sorted(x * 1000 for x in lateness_seconds)
    if not ms:
        return {"ticks": 0, "median_ms": None, "p99_ms": None, "max_ms": None}
    return {
        "ticks": len(ms),
        "median_ms": round(statistics.median(ms), 4),
        "p99_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.99))], 4),
        "max_ms": round(ms[-1], 4),
    }


def machine_description() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


async def serve_with_client(app: web.Application, seconds: float):
    """Start ``app`` on a free loopback port and a WebSocket client process reading frames
    for ``seconds``. Returns the runner and the client process."""
    tune_process_for_real_time()  # as play does: the benches measure what players get
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    client = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "learner.bench.loop",
        "--client",
        f"ws://127.0.0.1:{port}/ws",
        str(seconds),
        stdout=subprocess.PIPE,
    )
    return runner, client


async def measure_lateness(seconds: float) -> dict:
    """Tick lateness over ``seconds`` of the loop serving one client (scripted opponent)."""
    session = Session(ScriptedOpponent(), seed=1)
    runner, client = await serve_with_client(create_app(ServerConfig(), session), seconds + 2.0)
    await asyncio.sleep(1.0)  # let the client connect and settle before measuring
    session.lateness.clear()
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        await asyncio.sleep(min(1.0, seconds))
        done = time.perf_counter() - started
        print(f"\r  measuring… {done:4.0f} / {seconds:.0f} s", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    lateness = list(session.lateness)
    await runner.cleanup()
    stdout, _ = await client.communicate()
    received = json.loads(stdout or b"{}").get("frames", 0)
    return {"seconds": seconds, "client_frames": received, **lateness_summary(lateness)}


def run(args) -> int:
    """``main.py bench loop``."""
    return bench_loop(args.seconds, args.json)


def bench_loop(seconds: float = 60.0, json_path: Path | None = None) -> int:
    print(
        f"Session loop at 60 Hz serving one WebSocket client for {seconds:.0f} s "
        f"({machine_description()})"
    )
    result = asyncio.run(measure_lateness(seconds))
    result["machine"] = machine_description()
    print(
        f"tick lateness over {result['ticks']} ticks: median {result['median_ms']:.3f} ms, "
        f"p99 {result['p99_ms']:.3f} ms, max {result['max_ms']:.3f} ms "
        f"(client received {result['client_frames']} frames)"
    )
    write_json(result, json_path)
    return 0


async def _client(url: str, seconds: float) -> int:
    from aiohttp import ClientSession

    frames = 0
    command = 1
    async with ClientSession() as http, http.ws_connect(url) as ws:
        end = time.perf_counter() + seconds
        next_input = 0.0
        while time.perf_counter() < end:
            try:
                message = await asyncio.wait_for(ws.receive(), 1.0)
            except TimeoutError:
                continue
            if message.type != web.WSMsgType.TEXT:
                break
            frames += 1
            if time.perf_counter() > next_input:
                command = -command
                await ws.send_str(json.dumps({"type": "input", "command": command}))
                next_input = time.perf_counter() + 0.1
    return frames


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "--client":
    print(json.dumps({"frames": asyncio.run(_client(sys.argv[2], float(sys.argv[3])))}))
