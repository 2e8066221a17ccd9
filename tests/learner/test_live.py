"""End to end: a scripted player drives the real server over WebSocket on the real clock;
the mirror's model version advances and its agreement beats an untrained model's."""

import asyncio
import json
import time

from aiohttp import ClientSession, WSMsgType

from game.recording import read_recording
from game.replay import verify


def follower_command(ball_y, ball_dx, paddle_y):
    """Chase the ball while it comes; drift home while it goes."""
    if ball_dx < 0:
        return max(-1.0, min(1.0, (ball_y - paddle_y) * 8))
    return max(-1.0, min(1.0, (0.5 - paddle_y) * 4))


async def play_until(url, done, timeout):
    learning_seen = []
    async with ClientSession() as http, http.ws_connect(url) as ws:
        last_x = None
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            message = await ws.receive(timeout=5)
            if message.type != WSMsgType.TEXT:
                raise AssertionError(f"server sent {message.type}: {message.data}")
            frame = json.loads(message.data)
            if frame["type"] != "frame":
                continue
            x, y = frame["ball"]
            dx = 0.0 if last_x is None else x - last_x
            last_x = x
            command = follower_command(y, dx, frame["left_y"])
            await ws.send_str(json.dumps({"type": "input", "command": command}))
            if frame["winner"]:
                await ws.send_str(json.dumps({"type": "new_match"}))
            if "learning" in frame:
                learning_seen.append(frame["learning"])
                if done(frame):
                    break
    return learning_seen


def test_mirror_learns_live_and_swaps_in(server_factory):
    server = server_factory("--player", "carol")

    def learned(frame):
        hud = frame["learning"]
        return (
            frame["opponent"]["version"] >= 2
            and hud["agreement"] is not None
            and hud["untrained_agreement"] is not None
            and hud["agreement"] > hud["untrained_agreement"] + 0.1
        )

    seen = asyncio.run(play_until(f"ws://127.0.0.1:{server.port}/ws", learned, timeout=150))
    last = seen[-1]
    assert last["version"] >= 2, (last, server.log()[-3000:])
    assert last["agreement"] > last["untrained_agreement"] + 0.1, last
    assert last["frames"] > 0 and last["trainer_alive"] and last["rejected"] >= 0
    assert server.stop() == 0
    mirror = server.data_dir / "players" / "carol" / "mirror"
    assert (mirror / "model.onnx").stat().st_size > 0
    (path,) = (server.data_dir / "players" / "carol" / "recordings").glob("*.mpr")
    recording = read_recording(path)
    versions = {record.model_version for record in recording.records}
    assert 0 in versions and max(versions) >= 2  # the recording notes which model drove
    assert verify(recording) is None
