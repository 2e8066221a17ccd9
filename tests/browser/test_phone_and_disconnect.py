"""End to end in real headless Chromium: the page on a phone (the HUD line whole, the how-to
about dragging), and a server that goes away (the court says so, and the page comes back)."""

import pytest

import tests.conftest as conftest

pytestmark = pytest.mark.browser

CUT = """() => ['#hud', '#you', '#opponent']
  .map((s) => document.querySelector(s))
  .filter((e) => e.scrollWidth > e.clientWidth)
  .map((e) => `${e.id}: ${e.textContent} (${e.scrollWidth} > ${e.clientWidth})`)"""


def test_on_a_phone_the_hud_is_whole_and_the_help_says_drag(server_factory, browser):
    server = server_factory("--no-learn", "--no-record", "--player", "maximilian")
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server.url)
    page.wait_for_function(
        "window.mirrorPong && window.mirrorPong.connected && window.mirrorPong.lastFrame",
        timeout=15000,
    )
    assert "scripted" in page.inner_text("#opponent")  # the longest opponent line
    assert page.evaluate(CUT) == []
    help_text = page.inner_text("#help")
    assert "drag" in help_text.lower() and "W/S" not in help_text
    court = page.eval_on_selector("#court", "c => c.getBoundingClientRect().right")
    assert court <= 390
    assert not errors


def test_a_server_that_goes_away_is_said_on_the_court_until_it_is_back(
    server_factory, browser, monkeypatch
):
    server = server_factory("--no-learn", "--no-record")
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(server.url)
    page.wait_for_function("window.mirrorPong && window.mirrorPong.connected", timeout=15000)
    assert page.is_hidden("#overlay")

    server.process.kill()
    page.wait_for_selector("#overlay.offline", state="visible", timeout=5000)
    overlay = page.inner_text("#overlay")
    assert "Connection lost" in overlay
    assert "reconnects by itself" in overlay

    # The same address again: the page finds it without being told.
    monkeypatch.setattr(conftest, "free_port", lambda: server.port)
    again = server_factory("--no-learn", "--no-record", data_dir=server.data_dir)
    assert again.port == server.port
    page.wait_for_function("window.mirrorPong.connected", timeout=15000)
    page.wait_for_selector("#overlay", state="hidden", timeout=2000)
