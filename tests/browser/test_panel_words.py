"""End to end in real headless Chromium: the learning panel and the after-match card speak a
player's words: no percentage before a mirror plays, the last session's figures marked as such
after a restart, plain reasons for a turned-down mirror, and the "you vs your mirror" card."""

import re

import pytest

pytestmark = pytest.mark.browser

PERCENT = re.compile(r"\d+\s*%")

# A learner report as the server sends it (learner/live.py hud_stats), trimmed to what the
# panel reads; the tests change what they need.
REPORT = {
    "state": "live",
    "state_reason": None,
    "stats_age": 0.5,
    "figures_from": "live",
    "learning": True,
    "architecture": "mlp",
    "version": 0,
    "playing_agreement": None,
    "frames": 600,
    "agreement": 0.4,
    "approach_agreement": 0.5,
    "untrained_agreement": 0.2,
    "weights": None,
    "accepted": 0,
    "rejected": 0,
    "last_rejection": None,
    "trainer_restarts": 0,
    "trainer_alive": True,
    "match_card": None,
}

CARD = {
    "id": 1,
    "opponent": "mirror",
    "you": {
        "reaction_s": 0.31,
        "meet_offset": 0.12,
        "miss_rate": 0.1,
        "wait_y": 0.5,
        "meets": [-0.1, 0.0, 0.05, 0.1, 0.2, -0.3],
    },
    "mirror": {
        "reaction_s": 0.45,
        "meet_offset": 0.8,
        "miss_rate": 0.25,
        "wait_y": 0.1,
        "meets": [0.9, -0.85, 0.7],
    },
}

# The page's own path for a frame (app.js handlers.frame), with a report and overrides;
# returns the texts of the given selectors at once (the server's next frame may change them).
INJECT = """([report, overrides, selectors]) => {
  const m = window.mirrorPong;
  m.handlers.frame({...m.lastFrame, events: [], ...overrides, learning: report});
  return selectors.map((s) => document.querySelector(s).textContent);
}"""


def inject(page, report, *selectors, **frame):
    return page.evaluate(INJECT, [{**REPORT, **report}, frame, list(selectors)])


def open_page(browser, url, **context):
    page = browser.new_context(viewport={"width": 1280, "height": 800}, **context).new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.wait_for_function(
        "window.mirrorPong && window.mirrorPong.connected && window.mirrorPong.lastFrame",
        timeout=30000,
    )
    return page, errors


def test_no_percentage_before_a_mirror_and_the_last_sessions_figures_after_a_restart(
    server_factory, browser
):
    first = server_factory("--player", "x", "--persona", "chaser", "--no-record")
    page, errors = open_page(browser, first.url)
    # The learner measures its first tries before any passes: the panel shows no figure.
    seen = page.wait_for_function(
        """() => {
          const m = window.mirrorPong, r = m.learning;
          if (!r || typeof r.agreement !== "number") return null;
          return { scripted: m.lastFrame.opponent.version === 0,
                   text: document.querySelector('#learning').innerText };
        }""",
        timeout=60000,
    ).json_value()
    if seen["scripted"]:  # (a mirror may already have passed on a fast machine)
        assert not PERCENT.search(seen["text"]), seen["text"]
        assert "No mirror yet" in seen["text"]
        assert "brand-new" not in seen["text"]

    page.wait_for_function(
        "window.mirrorPong.lastFrame.opponent.version > 0 && "
        "/^\\d{1,3}%$/.test(document.querySelector('#agreement').textContent)",
        timeout=90000,
    )
    assert re.fullmatch(r"v[1-9]\d*", page.inner_text("#model-version"))
    assert page.is_hidden("#figures-note")
    assert first.stop() == 0

    second = server_factory(
        "--player", "x", "--persona", "chaser", "--no-record", data_dir=first.data_dir
    )
    page.goto(second.url)
    marked = page.wait_for_function(
        """() => {
          const m = window.mirrorPong, r = m.learning;
          if (!r || r.figures_from !== 'saved') return null;
          const note = document.querySelector('#figures-note');
          if (note.hidden) return null;
          return { note: note.textContent, figure: document.querySelector('#agreement').textContent,
                   saved: r.agreement };
        }""",
        timeout=30000,
    ).json_value()
    assert "from your last session" in marked["note"]
    assert marked["figure"] == f"{round(marked['saved'] * 100)}%"
    assert page.inner_text("#model-version") == "v1"  # the saved mirror is the first one met
    assert not errors


def test_a_turned_down_mirror_is_said_plainly(server_factory, browser):
    server = server_factory("--no-learn", "--no-record")
    page, errors = open_page(browser, server.url)
    mirror = {"label": "mirror", "version": 9}
    text, figure, version, hud = inject(
        page,
        {
            "rejected": 2,
            "version": 9,
            "playing_agreement": 0.787,
            "last_rejection": "worse than the current model on held-out frames (0.785 < 0.787)",
        },
        "#rejections",
        "#agreement",
        "#model-version",
        "#opponent",
        opponent=mirror,
    )
    assert text.startswith("Kept the mirror you have: the new one was not more like you")
    assert "0.78" not in text and "held-out" not in text
    assert figure == "79%"
    assert version == "v1" and hud == "Opponent: mirror v1"  # the learner's no. 9, met first
    (text,) = inject(
        page,
        {"rejected": 3, "last_rejection": "model version 99999 is outside [0, 4096]"},
        "#rejections",
        opponent=mirror,
    )
    assert text.startswith("Kept the mirror you have: the new one failed a safety check")
    assert not errors


def test_the_match_card_shows_you_and_your_mirror_side_by_side(server_factory, browser):
    server = server_factory("--no-learn", "--no-record")
    page, errors = open_page(browser, server.url)
    inject(page, {})  # the first report of a connection: its card (none) is an earlier match's
    inject(page, {"match_card": CARD})
    page.wait_for_selector("#match-card", state="visible", timeout=2000)
    assert page.inner_text("#match-card .card-title").lower() == "you vs your mirror"
    rows = page.eval_on_selector_all(
        "#match-card tbody tr",
        "rows => rows.map(r => [...r.children].map(c => c.textContent))",
    )
    assert rows == [
        ["How soon you move when the ball turns", "0.31 s", "0.45 s"],
        ["Where you meet the ball", "right in the centre", "near the end"],
        ["How often you miss", "10%", "25%"],
        ["Where you wait", "in the middle", "near the top"],
    ]
    painted = page.evaluate(
        """() => {
          const c = document.querySelector('#match-card canvas');
          const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 3; i < px.length; i += 4) if (px[i] > 0) n++;
          return n;
        }"""
    )
    assert painted > 100  # the two paddles and their bars

    page.click("#match-card .card-close")
    assert page.is_hidden("#match-card")
    inject(page, {"match_card": CARD})  # the same card again: already seen
    assert page.is_hidden("#match-card")

    # The next match's card, shown on the "match over" screen; the next match puts it away.
    (title,) = inject(
        page,
        {"match_card": {**CARD, "id": 2}},
        "#match-card:not([hidden]) .card-title",
        winner=1,
        score=[4, 11],
    )
    assert title.lower() == "you vs your mirror"
    page.wait_for_selector("#match-card", state="hidden", timeout=2000)  # the real frames
    assert not errors


def test_a_real_match_ends_with_its_card(server_factory, browser):
    """No injection: the server's own card after a one-point match between a persona and
    the mirror (scripted until it is ready) reaches the page."""
    server = server_factory("--player", "ivy", "--persona", "predictor", "--points", "1")
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(server.url)
    page.wait_for_selector("#match-card:not([hidden])", timeout=90000)
    text = page.inner_text("#match-card")
    for row in ("How soon you move", "Where you meet the ball", "How often you miss"):
        assert row in text, text
