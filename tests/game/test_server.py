"""The server as a client sees it: frames advance, input moves the paddle, garbage and
oversized messages are dropped without disturbing the game, foreign Origins are refused."""

import asyncio
import json
import logging

from aiohttp import ClientSession, WSMsgType, WSServerHandshakeError
from aiohttp.test_utils import TestServer

from game.opponent import ScriptedOpponent
from game.server import ServerConfig, create_app
from game.session import Session


async def _serve(seed=1):
    session = Session(ScriptedOpponent(), seed=seed)
    server = TestServer(create_app(ServerConfig(host="127.0.0.1"), session), host="127.0.0.1")
    await server.start_server()
    return session, server


async def _next_frame(ws, timeout=2.0):
    while True:
        message = await asyncio.wait_for(ws.receive(), timeout)
        assert message.type == WSMsgType.TEXT, message
        data = json.loads(message.data)
        if data["type"] == "frame":
            return data


async def _frames_for(ws, seconds):
    frames = []
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while loop.time() < end:
        frames.append(await _next_frame(ws))
    return frames


def test_input_moves_the_paddle_and_frames_advance():
    async def scenario():
        session, server = await _serve()
        try:
            async with ClientSession() as http, http.ws_connect(server.make_url("/ws")) as ws:
                hello = json.loads((await ws.receive()).data)
                assert hello["type"] == "hello" and hello["court"]["height"] == 1.0
                first = await _next_frame(ws)
                await ws.send_str(json.dumps({"type": "input", "command": -1}))
                frames = await _frames_for(ws, 0.5)
                assert frames[-1]["tick"] > first["tick"] + 10
                assert frames[-1]["left_y"] < first["left_y"] - 0.2  # moved up, toward y = 0
                assert frames[-1]["opponent"]["label"] == "scripted"
                # Pointer: the paddle heads for the pointer and stops there.
                await ws.send_str(json.dumps({"type": "pointer", "y": 0.7}))
                frames = await _frames_for(ws, 0.8)
                assert abs(frames[-1]["left_y"] - 0.7) < 0.02
                # Space pauses: ticks stop.
                await ws.send_str(json.dumps({"type": "pause", "paused": True}))
                await asyncio.sleep(0.1)
                paused = await _frames_for(ws, 0.3)
                assert paused[-1]["paused"] and paused[0]["tick"] == paused[-1]["tick"]
                await ws.send_str(json.dumps({"type": "pause", "paused": False}))
                resumed = await _frames_for(ws, 0.3)
                assert resumed[-1]["tick"] > paused[-1]["tick"]
        finally:
            await server.close()

    asyncio.run(scenario())


def test_garbage_and_oversized_messages_are_dropped_and_the_game_goes_on(caplog):
    garbage = [
        "not json",
        "{",
        "[]",
        "42",
        json.dumps({"type": "input"}),
        json.dumps({"type": "input", "command": 7}),
        json.dumps({"type": "input", "command": "up"}),
        '{"type": "input", "command": NaN}',
        json.dumps({"type": "teleport", "y": 0.1}),
        json.dumps({"type": "pointer", "y": 0.5, "extra": 1}),
        json.dumps({"type": "input", "command": 0, "pad": "x" * 5000}),  # oversized
    ]

    async def scenario():
        session, server = await _serve()
        try:
            async with ClientSession() as http, http.ws_connect(server.make_url("/ws")) as ws:
                await ws.receive()  # hello
                await ws.send_str(json.dumps({"type": "input", "command": 1}))
                before = await _next_frame(ws)
                for message in garbage:
                    await ws.send_str(message)
                await ws.send_bytes(b"\x00\x01binary")
                frames = await _frames_for(ws, 0.5)
                # Still connected, still ticking, and the last valid input still holds.
                assert not ws.closed
                assert frames[-1]["tick"] > before["tick"] + 10
                assert frames[-1]["left_y"] > before["left_y"]
                assert session._key_command == 1.0
        finally:
            await server.close()

    with caplog.at_level(logging.WARNING, logger="game.server"):
        asyncio.run(scenario())
    dropped = [r for r in caplog.records if "dropped a client message" in r.getMessage()]
    assert len(dropped) >= 10  # each dropped message left a log line (up to the flood limit)
    assert any("over the 1024-byte limit" in r.getMessage() for r in dropped)


def test_foreign_origin_is_refused_and_own_origin_accepted():
    async def scenario():
        session, server = await _serve()
        try:
            async with ClientSession() as http:
                url = server.make_url("/ws")
                for origin in (
                    "http://evil.example",
                    f"http://evil.example:{server.port}",
                    "null",
                    "file://",
                ):
                    try:
                        await http.ws_connect(url, headers={"Origin": origin})
                    except WSServerHandshakeError as exc:
                        assert exc.status == 403
                    else:
                        raise AssertionError(f"origin {origin} was let in")
                own = f"http://127.0.0.1:{server.port}"
                async with http.ws_connect(url, headers={"Origin": own}) as ws:
                    assert json.loads((await ws.receive()).data)["type"] == "hello"
                page = await http.get(server.make_url("/"))
                assert page.status == 200 and "<canvas" in await page.text()
        finally:
            await server.close()

    asyncio.run(scenario())
