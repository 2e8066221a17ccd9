"""The replay viewer's API: listing, fast slices, warnings, and no way out of the data dir."""

import asyncio

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from game.replay_view import ReplayLibrary, create_replay_app
from tests.game.test_recording import record_match


def _get_all(library, paths):
    async def scenario():
        server = TestServer(create_replay_app(library), host="127.0.0.1")
        await server.start_server()
        results = {}
        try:
            async with ClientSession() as http:
                for path in paths:
                    async with http.get(server.make_url(path)) as response:
                        body = await response.json(content_type=None)
                        results[path] = (response.status, body)
        finally:
            await server.close()
        return results

    return asyncio.run(scenario())


def test_listing_slices_and_refusals(tmp_path):
    folder = tmp_path / "players" / "p" / "recordings"
    states = record_match(folder / "a.mpr", seed=3, ticks=2000)
    record_match(folder / "b.mpr", seed=4, ticks=50)
    cut = folder / "c.mpr"
    record_match(cut, seed=5, ticks=100)
    cut.write_bytes(cut.read_bytes()[:-30])
    (folder / "d.mpr").write_bytes(b"garbage")
    outside = tmp_path / "secret.mpr"
    record_match(outside, seed=6, ticks=10)
    library = ReplayLibrary(folder)
    results = _get_all(
        library,
        [
            "/api/recordings",
            "/api/recordings/a.mpr/ticks?start=1500&count=3",
            "/api/recordings/a.mpr/header",
            "/api/recordings/c.mpr/header",
            "/api/recordings/d.mpr/header",
            "/api/recordings/..%2Fsecret.mpr/header",
            "/api/recordings/%2Fetc%2Fpasswd/ticks",
            "/api/recordings/secret.mpr/ticks",
            "/api/recordings/a.mpr/ticks?start=-5",
        ],
    )
    status, listing = results["/api/recordings"]
    names = {r["name"]: r for r in listing["recordings"]}
    assert set(names) == {"a.mpr", "b.mpr", "c.mpr", "d.mpr"}
    assert names["a.mpr"]["ticks"] == 2000 and names["c.mpr"]["truncated"]
    assert "not a Mirror Pong recording" in names["d.mpr"]["error"]
    status, ticks = results["/api/recordings/a.mpr/ticks?start=1500&count=3"]
    assert status == 200 and ticks["tick"] == [s.tick for s in states[1500:1503]]
    assert ticks["left_y"][0] == round(states[1500].left_y, 5)
    assert results["/api/recordings/a.mpr/header"][1]["ticks"] == 2000
    assert "partial record" in results["/api/recordings/c.mpr/header"][1]["warning"]
    assert results["/api/recordings/d.mpr/header"][0] == 422
    for path in (
        "/api/recordings/..%2Fsecret.mpr/header",
        "/api/recordings/%2Fetc%2Fpasswd/ticks",
        "/api/recordings/secret.mpr/ticks",
    ):
        assert results[path][0] == 404, path
    assert results["/api/recordings/a.mpr/ticks?start=-5"][0] == 400
