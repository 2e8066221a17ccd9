"""End to end in real headless Chromium: the learning panel shows the live learner and drives it."""

import re
import time

import pytest

pytestmark = pytest.mark.browser

PERCENT = re.compile(r"^\d{1,3}%$")


def play_until(page, condition: str, timeout_s: float) -> None:
    """Alternate ArrowUp / ArrowDown (the mirror learns only from the player's paddle) until
    ``condition`` (a JS expression) holds."""
    deadline = time.monotonic() + timeout_s
    key = "ArrowUp"
    while not page.evaluate(condition):
        assert time.monotonic() < deadline, f"timed out waiting for {condition}"
        if page.evaluate("Boolean(window.mirrorPong.lastFrame.winner)"):
            page.keyboard.press("Space")  # a match ended: start the next one
        page.keyboard.down(key)
        page.wait_for_timeout(300)
        page.keyboard.up(key)
        key = "ArrowDown" if key == "ArrowUp" else "ArrowUp"


def test_learning_panel_shows_progress_and_controls_the_learner(server_factory, browser, tmp_path):
    server = server_factory("--player", "dana")
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server.url)
    page.wait_for_function(
        "window.mirrorPong && window.mirrorPong.connected && window.mirrorPong.learning",
        timeout=30000,
    )
    assert page.is_visible("#learning")
    assert "scripted" in page.inner_text("#opponent").lower()
    assert "not ready" in page.inner_text("#model-version")

    # Play until the first model passes the gate and the agreement is measured.
    play_until(
        page,
        "/^v[1-9]\\d*$/.test(document.querySelector('#model-version').textContent) && "
        "/^\\d{1,3}%$/.test(document.querySelector('#agreement').textContent)",
        timeout_s=120,
    )
    assert PERCENT.match(page.inner_text("#agreement"))
    assert int(page.inner_text("#model-version").lstrip("v")) >= 1
    assert page.inner_text("#learning-state") == "on"
    assert re.fullmatch(  # a first session: nothing from before
        r"Learned from (less than a minute|\d+ min) of your play \(this session\)",
        page.inner_text("#frames-learned"),
    )
    assert "Opponent: mirror v" in page.inner_text("#opponent")
    # uPlot drew the chart into a canvas (and has points to draw).
    assert page.locator("#learning-chart .uplot canvas").count() >= 1
    page.wait_for_function(
        "document.querySelector('#learning-chart .uplot canvas').width > 100", timeout=5000
    )

    # The sampler adapts by default and says what it favours; the switch turns it off.
    assert page.is_checked("#adapt-sampler")
    page.wait_for_function(
        "document.querySelector('#adapt-focus').textContent.includes('ball coming at you ×')",
        timeout=20000,
    )
    page.click("#adapt-sampler")
    page.wait_for_function("document.activeElement === document.body", timeout=2000)  # keys
    assert "Off:" in page.inner_text("#adapt-focus")
    page.wait_for_function("window.mirrorPong.learning.adapt === false", timeout=5000)
    page.wait_for_function(
        "Object.keys(window.mirrorPong.learning.adapt_focus).length === 0", timeout=5000
    )
    assert not page.is_checked("#adapt-sampler")

    # Pause: the panel says so at once, and the server's next report agrees.
    page.click("#toggle-learning")
    # The button gave focus back, so the game's keys work again.
    assert page.evaluate("document.activeElement === document.body")
    page.wait_for_function(
        "document.querySelector('#learning-state').textContent === 'off'", timeout=2000
    )
    page.wait_for_function("window.mirrorPong.learning.learning === false", timeout=5000)
    assert page.inner_text("#toggle-learning") == "Resume learning"

    # A slider sends just its field; the server's weights come back with the new value.
    assert page.evaluate("window.mirrorPong.learning.weights.recede") == 1  # all start even
    page.fill("#weight-recede", "0.5")
    page.wait_for_function("window.mirrorPong.learning.weights.recede === 0.5", timeout=5000)
    assert page.input_value("#weight-recede") == "0.5"
    assert "0.50" in page.inner_text("output[for=weight-recede]")
    assert page.evaluate("window.mirrorPong.learning.weights.approach") == 1  # untouched

    # Reset (confirmed): back to the scripted opponent; paused, so no new model comes.
    dialogs = []

    def accept(dialog):
        dialogs.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.click("#reset-mirror")
    page.wait_for_function("window.mirrorPong.lastFrame.opponent.version === 0", timeout=5000)
    page.wait_for_function(
        "document.querySelector('#model-version').textContent.includes('not ready')",
        timeout=2000,
    )
    page.wait_for_function("window.mirrorPong.learning.frames === 0", timeout=5000)
    assert dialogs and "Reset the mirror" in dialogs[0]
    assert "scripted" in page.inner_text("#opponent").lower()

    # Arrow keys still move the paddle after all that clicking.
    start = page.evaluate("window.mirrorPong.lastFrame.left_y")
    key, sign = ("ArrowDown", 1) if start < 0.5 else ("ArrowUp", -1)
    page.keyboard.down(key)
    page.wait_for_timeout(600)
    moved = page.evaluate("window.mirrorPong.lastFrame.left_y")
    page.keyboard.up(key)
    assert sign * (moved - start) > 0.1

    page.screenshot(path=str(tmp_path / "panel.png"))
    assert not errors
    page.close()
    assert server.stop() == 0
    settings = (server.data_dir / "players" / "dana" / "mirror" / "settings.json").read_text()
    assert '"recede": 0.5' in settings and '"adapt": false' in settings


def test_without_a_learner_the_panel_says_learning_is_off(server_factory, browser):
    server = server_factory("--no-learn", "--no-record", "--player", "erin")
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server.url)
    page.wait_for_selector("#learning-off", state="visible", timeout=15000)
    assert "started with --no-learn" in page.inner_text("#learning")
    assert not page.is_visible("#learn-controls")
    assert "scripted" in page.inner_text("#opponent").lower()
    assert not errors
    page.close()


def test_the_panel_says_when_the_trainer_died_and_when_it_is_back(server_factory, browser):
    """A dead trainer is never hidden behind the last figures: the panel says it stopped,
    then that it came back, while the mirror keeps playing."""
    import os
    import signal

    from learner.bench.soak import trainer_pids

    server = server_factory("--player", "fay", "--persona", "chaser")
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(server.url)
    page.wait_for_function(
        "window.mirrorPong && window.mirrorPong.learning && "
        "window.mirrorPong.learning.state === 'live'",
        timeout=60000,
    )
    (trainer,) = trainer_pids(server.process.pid)
    os.kill(trainer, signal.SIGKILL)
    page.wait_for_function(
        "/stopped and is coming back/.test(document.querySelector('#trainer-health').textContent)",
        timeout=10000,
    )
    assert "exit code -9" in page.inner_text("#trainer-health")
    assert page.get_attribute("#trainer-health", "class") == "warn"
    page.wait_for_function(
        "/restarted 1×/.test(document.querySelector('#trainer-health').textContent)",
        timeout=60000,
    )
    assert page.evaluate("window.mirrorPong.learning.state") == "live"
