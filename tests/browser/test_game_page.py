"""End to end in real headless Chromium: the page plays, and the match is recorded exactly."""

import pytest

from tests.conftest import run_main

pytestmark = pytest.mark.browser


def _open(browser, url, size, ready, timeout):
    """The game's page at ``size``, once ``ready`` (a JS expression) holds; with the list
    its page errors go to."""
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.wait_for_function(ready, timeout=timeout)
    return page, errors


def test_hold_up_moves_the_paddle_and_the_recording_verifies(server_factory, browser, tmp_path):
    server = server_factory("--no-learn", "--player", "alice")
    page, errors = _open(
        browser,
        server.url,
        (1280, 720),
        "window.mirrorPong && window.mirrorPong.connected && "
        "window.mirrorPong.lastFrame && !window.mirrorPong.lastFrame.paused",
        10000,
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


def test_coming_back_to_a_cut_off_match_shows_the_mirror_that_will_play(
    server_factory, browser, tmp_path
):
    """A match cut off in the last session resumes paused, waiting for Space: the screen
    says so on one line, and names the player's mirror, restored, as the opponent (not the
    scripted stand-in it was before the mirror took over)."""
    import torch

    from game.engine import Params
    from game.opponent import ScriptedOpponent
    from game.recording import RecordingWriter, make_header
    from game.session import Session
    from learner.exporter import export_onnx
    from models.registry import build_model

    data = tmp_path / "data"
    profile = data / "players" / "bob"
    (profile / "mirror").mkdir(parents=True)
    torch.manual_seed(0)
    (profile / "mirror" / "model.onnx").write_bytes(export_onnx(build_model("mlp"), 3))
    (profile / "recordings").mkdir()
    path = profile / "recordings" / "20261120-100000-000001.mpr"
    session = Session(
        ScriptedOpponent(),
        params=Params(),
        seed=5,
        recorder_factory=lambda params, seed, opponent: RecordingWriter(
            path, make_header(params, seed, "bob", opponent)
        ),
        left_driver=ScriptedOpponent(),
    )
    for _ in range(900):  # the match cut off after 15 s (ticked by hand: Playwright's loop runs)
        session.tick()
    session.close()

    server = server_factory("--player", "bob", data_dir=data)
    page, errors = _open(
        browser,
        server.url,
        (1280, 800),
        "window.mirrorPong && window.mirrorPong.lastFrame && window.mirrorPong.lastFrame.paused "
        "&& window.mirrorPong.lastFrame.opponent.label === 'mirror'",
        30000,
    )
    frame = page.evaluate("window.mirrorPong.lastFrame")
    assert frame["tick"] == 900 and frame["resumed"]  # nothing played while it waits
    score = f"{frame['score'][0]} – {frame['score'][1]}"
    assert page.inner_text("#overlay-title") == f"Match resumed at {score}"
    assert page.inner_text("#overlay-sub") == "Press Space or tap the court to play on"
    page.wait_for_function(  # its number, over all sessions, comes with the next report
        "document.querySelector('#opponent').textContent === 'Opponent: mirror v1'",
        timeout=5000,
    )
    assert page.inner_text("#model-version") == "v1"
    lines = (
        "e => { const r = document.createRange(); r.selectNodeContents(e); "
        "return r.getClientRects().length; }"
    )
    assert page.locator("#overlay-title").evaluate(lines) == 1  # one line
    tick = page.locator("#tick")
    pause = page.locator("#pause-btn")
    assert abs(tick.bounding_box()["y"] - pause.bounding_box()["y"]) < 10  # the bar's line
    page.wait_for_function(
        "!document.querySelector('#mirror-moves').closest('[hidden]') && "
        "document.querySelector('#mirror-moves').textContent.startsWith('draws at 0.5')",
        timeout=10000,
    )
    assert not errors
    page.close()
    assert server.stop() == 0
