"""The servers against hostile requests (issue 9, defects E, F, G): deep JSON messages are
dropped while ticks keep coming, foreign Host headers get 403 on every route of both apps,
symlinks out of the recordings folder are not served, long paths answer 414/404 without a
traceback, and reconnecting does not reset the log-flood limit."""

import asyncio
import json
import logging

from aiohttp import ClientSession, WSMsgType
from aiohttp.test_utils import TestServer

import game.server
from game.opponent import ScriptedOpponent
from game.replay_view import ReplayLibrary, create_replay_app
from game.server import ServerConfig, create_app
from game.session import Session
from tests.game.test_recording import record_match


async def _game_server():
    session = Session(ScriptedOpponent(), seed=1)
    server = TestServer(create_app(ServerConfig(host="127.0.0.1"), session), host="127.0.0.1")
    await server.start_server()
    return server


async def _next_frame(ws):
    while True:
        message = await asyncio.wait_for(ws.receive(), 2.0)
        assert message.type == WSMsgType.TEXT
        data = json.loads(message.data)
        if data["type"] == "frame":
            return data


def test_deeply_nested_messages_are_dropped_and_ticks_keep_coming(caplog, monkeypatch):
    monkeypatch.setattr(game.server, "_DROP_LOG", game.server._DropLog())

    async def scenario():
        server = await _game_server()
        try:
            async with ClientSession() as http, http.ws_connect(server.make_url("/ws")) as ws:
                await ws.receive()  # hello
                first = await _next_frame(ws)
                for text in ("[" * 1000, '{"type": "input", "command": 1e400}', "[" * 5 + "]" * 5):
                    await ws.send_str(text)
                await ws.send_str(json.dumps({"type": "input", "command": 1}))
                later = first
                for _ in range(30):
                    later = await _next_frame(ws)
                assert later["tick"] > first["tick"] + 20
                assert later["left_y"] > first["left_y"]  # a good message still works
        finally:
            await server.close()

    with caplog.at_level(logging.WARNING):
        asyncio.run(scenario())
    text = caplog.text
    assert "RecursionError" not in text and "Traceback" not in text
    assert "nested 1000 levels deep" in text and "does not fit a float" in text


def test_reconnecting_does_not_reset_the_log_flood_limit(caplog, monkeypatch):
    monkeypatch.setattr(game.server, "_DROP_LOG", game.server._DropLog())

    async def scenario():
        server = await _game_server()
        try:
            async with ClientSession() as http:
                for _ in range(10):
                    async with http.ws_connect(server.make_url("/ws")) as ws:
                        for _ in range(30):
                            await ws.send_str("not json")
                        await ws.send_str(json.dumps({"type": "pause", "paused": False}))
                        await ws.receive()
        finally:
            await server.close()

    with caplog.at_level(logging.WARNING, logger="game.server"):
        asyncio.run(scenario())
    lines = [r for r in caplog.records if "dropped a client message" in r.getMessage()]
    assert 0 < len(lines) <= game.server._DropLog().per_window  # 300 drops, a few lines


def _get(app_factory, requests):
    async def scenario():
        server = TestServer(app_factory(), host="127.0.0.1")
        await server.start_server()
        answers = []
        try:
            async with ClientSession() as http:
                for path, host in requests:
                    headers = {"Host": host} if host else {}
                    async with http.get(server.make_url(path), headers=headers) as response:
                        answers.append((response.status, await response.text()))
        finally:
            await server.close()
        return answers

    return asyncio.run(scenario())


def test_a_foreign_host_is_refused_on_every_route_of_both_apps(tmp_path):
    folder = tmp_path / "recordings"
    record_match(folder / "a.mpr", ticks=10)

    def replay_app():
        return create_replay_app(ReplayLibrary(folder))

    requests = [
        ("/api/recordings", "rebind.attacker.example:8000"),
        ("/api/recordings/a.mpr/ticks", "rebind.attacker.example"),
        ("/replay", "rebind.attacker.example"),
        ("/static/common.css", "rebind.attacker.example"),
        ("/api/recordings", None),
        ("/api/recordings", "localhost:8000"),
    ]
    answers = _get(replay_app, requests)
    assert [status for status, _ in answers] == [403, 403, 403, 403, 200, 200]

    def game_app():
        return create_app(ServerConfig(host="127.0.0.1"), Session(ScriptedOpponent(), seed=1))

    answers = _get(game_app, [("/", "rebind.attacker.example"), ("/", None)])
    assert [status for status, _ in answers] == [403, 200]


def test_a_symlink_out_of_the_recordings_folder_is_not_served(tmp_path):
    folder = tmp_path / "players" / "p" / "recordings"
    record_match(folder / "mine.mpr", ticks=10)
    secret = tmp_path / "elsewhere" / "secret.mpr"
    record_match(secret, ticks=10)
    (folder / "link.mpr").symlink_to(secret)
    answers = _get(
        lambda: create_replay_app(ReplayLibrary(folder)),
        [("/api/recordings", None), ("/api/recordings/link.mpr/ticks", None)],
    )
    listed = [entry["name"] for entry in json.loads(answers[0][1])["recordings"]]
    assert listed == ["mine.mpr"]
    assert answers[1][0] == 404


def test_long_static_paths_answer_cleanly(caplog):
    def game_app():
        return create_app(ServerConfig(host="127.0.0.1"), Session(ScriptedOpponent(), seed=1))

    paths = ["/static/" + "a" * n for n in (300, 1000, 8000)] + ["/static/" + "a/" * 400]
    with caplog.at_level(logging.ERROR):
        answers = _get(game_app, [(path, None) for path in paths])
    assert [status for status, _ in answers] == [404, 404, 414, 404]
    assert "Traceback" not in caplog.text and "Error handling request" not in caplog.text
