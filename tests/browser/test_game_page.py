"""End to end in real headless Chromium: the page plays, and the match is recorded exactly."""

import pytest

from tests.conftest import run_main

pytestmark = pytest.mark.browser


def test_hold_up_moves_the_paddle_and_the_recording_verifies(server_factory, browser, tmp_path):
    server = server_factory("--no-learn", "--player", "alice")
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server.url)
    page.wait_for_function(
        "window.mirrorPong && window.mirrorPong.connected && "
        "window.mirrorPong.lastFrame && !window.mirrorPong.lastFrame.paused",
        timeout=10000,
    )
    start = page.evaluate("window.mirrorPong.lastFrame")
    page.keyboard.down("ArrowUp")
    page.wait_for_timeout(800)
    moved = page.evaluate("window.mirrorPong.lastFrame")
    page.keyboard.up("ArrowUp")
    assert moved["tick"] > start["tick"] + 20
    assert moved["left_y"] < start["left_y"] - 0.3  # the player's paddle went up
    assert "connected" in page.inner_text("#status").lower()
    assert int(page.inner_text("#tick").split()[-1].replace(",", "")) >= moved["tick"] - 5
    assert "scripted" in page.inner_text("body").lower()
    page.screenshot(path=str(tmp_path / "page.png"))
    assert not errors
    page.close()
    assert server.stop() == 0

    recordings = list((server.data_dir / "players" / "alice" / "recordings").glob("*.mpr"))
    assert len(recordings) == 1
    result = run_main("replay", recordings[0], "--verify")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "reproduced exactly" in result.stdout
