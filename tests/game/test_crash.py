"""A server killed with SIGKILL mid-match loses at most the last second of its recording."""

import asyncio
import json
import signal

from aiohttp import ClientSession

from game.recording import read_recording
from tests.conftest import run_main


async def _play(url: str, seconds: float) -> int:
    last_tick = 0
    async with ClientSession() as http, http.ws_connect(url) as ws:
        await ws.send_str(json.dumps({"type": "input", "command": 1}))
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while loop.time() < end:
            message = json.loads((await ws.receive(timeout=2)).data)
            if message["type"] == "frame":
                last_tick = message["tick"]
    return last_tick


def test_kill_9_loses_at_most_a_second(server_factory):
    server = server_factory("--no-learn", "--player", "bob")
    last_tick = asyncio.run(_play(f"ws://127.0.0.1:{server.port}/ws", 3.0))
    server.stop(signal.SIGKILL)
    (path,) = (server.data_dir / "players" / "bob" / "recordings").glob("*.mpr")
    recording = read_recording(path)
    assert last_tick > 120
    assert len(recording.records) >= last_tick - 60  # at most one second lost
    result = run_main("replay", path, "--verify")
    assert result.returncode == 0, result.stdout + result.stderr
