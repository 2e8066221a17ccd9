"""Play and replay are one site, in real headless Chromium: the game's page links to the
replay viewer on the same server, a recording (the match being played) opens there, and the
viewer's Play link leads back to the game. The viewer alone (``main.py replay``) says how to
start a game instead of looping back to itself."""

import urllib.error
import urllib.request

import pytest

from tests.conftest import ServerProcess

pytestmark = pytest.mark.browser


def test_the_game_and_its_replays_link_both_ways(server_factory, browser):
    server = server_factory("--persona", "chaser", "--no-learn", "--player", "bob")
    page = browser.new_page(viewport={"width": 1280, "height": 760}, locale="en-US")
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server.url)
    page.wait_for_function("window.mirrorPong && window.mirrorPong.lastFrame", timeout=15000)

    page.click("#replays-link")
    page.wait_for_url(f"{server.url}replay**", timeout=10000)
    page.wait_for_selector(".rec-item", timeout=15000)
    assert page.url.startswith(server.url)  # the same origin: no second server
    (name,) = [item.get_attribute("data-name") for item in page.locator(".rec-item").all()]
    page.click(f'.rec-item[data-name="{name}"]')
    page.wait_for_function(
        f"window.replayView && window.replayView.loaded === {name!r} && "
        "window.replayView.ticks > 0",
        timeout=15000,
    )

    page.click("#play-link")
    page.wait_for_url(server.url, timeout=10000)
    page.wait_for_function(
        "window.mirrorPong && window.mirrorPong.lastFrame && window.mirrorPong.connected",
        timeout=15000,
    )
    assert page.evaluate("window.mirrorPong.hello.player") == "bob"
    assert not errors
    page.close()

    # Every route of the one site keeps the Host guard, the viewer's API included.
    request = urllib.request.Request(
        f"{server.url}api/recordings", headers={"Host": "rebound.example"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403


def test_the_viewer_alone_says_how_to_play(tmp_path, browser):
    server = ServerProcess(tmp_path / "data", command=("replay",))
    try:
        page = browser.new_page()
        page.goto(f"{server.url}replay")
        page.click("#play-link")
        page.wait_for_selector("#no-game", timeout=10000)
        assert "main.py play" in page.inner_text("#no-game")
        page.click("#replays-link")
        page.wait_for_url(f"{server.url}replay", timeout=10000)
        page.close()
    finally:
        server.stop()
