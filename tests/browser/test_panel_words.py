"""End to end in real headless Chromium: the learning panel and the after-match card speak a
player's words: no percentage before a mirror plays (decided from each frame's opponent), the
last session's figure marked as such after a restart until a mirror of this session plays,
mirrors numbered over all sessions, how much play it learned from in minutes and sessions, a
panel marked as out of date while the server is away, plain reasons for a turned-down mirror,
and the "you vs your mirror" card."""

import itertools
import re

import pytest

import tests.conftest as conftest

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
    "mirror_number": 0,
    "playing_agreement": None,
    "playing_agreement_saved": False,
    "frames": 600,
    "recorded_frames": 0,
    "earlier_sessions": 0,
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

# The page's own path for a frame (app.js handlers.frame), with a report (or none) and
# overrides; returns the texts of the given selectors at once (the server's next frame may
# change them), null for one that is hidden.
INJECT = """([report, overrides, selectors]) => {
  const m = window.mirrorPong;
  (m.pageFrame || m.handlers.frame)({...m.lastFrame, events: [], ...overrides, learning: report});
  return selectors.map((s) => {
    const node = document.querySelector(s);
    return node.closest('[hidden]') ? null : node.textContent;
  });
}"""

# The server's own frames stop reaching the page (injected ones still take the page's path),
# for checks that span several frames.
MUTE = """() => {
  const m = window.mirrorPong;
  if (!m.pageFrame) { m.pageFrame = m.handlers.frame; m.handlers.frame = () => {}; }
}"""

MIRROR = {"label": "mirror", "version": 7}
SCRIPTED = {"label": "scripted", "version": 0}


def inject(page, report, *selectors, **frame):
    report = None if report is None else {**REPORT, **report}
    return page.evaluate(INJECT, [report, frame, list(selectors)])


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

    # From the first frame on, "No mirror yet" shows exactly while the frame's opponent is the
    # scripted stand-in (a report's version may be older: it is not asked).
    page.add_init_script(NO_MIRROR_WATCH)
    second = server_factory(
        "--player", "x", "--persona", "chaser", "--no-record", data_dir=first.data_dir
    )
    page.goto(second.url)
    marked = page.wait_for_function(
        """() => {
          const m = window.mirrorPong, r = m.learning;
          if (!r || !r.playing_agreement_saved) return null;
          const note = document.querySelector('#figures-note');
          if (note.hidden) return null;
          return { note: note.textContent, figure: document.querySelector('#agreement').textContent,
                   saved: r.playing_agreement, number: r.mirror_number,
                   version: document.querySelector('#model-version').textContent };
        }""",
        timeout=30000,
    ).json_value()
    assert "from your last session" in marked["note"]
    assert marked["figure"] == f"{round(marked['saved'] * 100)}%"
    assert marked["number"] >= 1 and marked["version"] == f"v{marked['number']}"  # kept
    page.wait_for_timeout(3000)  # the first seconds after a restart, watched frame by frame
    watch = page.evaluate("window.noMirrorWatch")
    assert watch["frames"] > 100 and watch["wrong"] == [], watch
    assert not errors


# Checks every frame (after the page's own handler) that "No mirror yet" agrees with it.
NO_MIRROR_WATCH = """(() => {
  window.noMirrorWatch = { frames: 0, wrong: [] };
  const watch = () => {
    const m = window.mirrorPong;
    if (!m || !m.handlers.frame) return setTimeout(watch, 5);
    const pageFrame = m.handlers.frame;
    m.handlers.frame = (frame) => {
      pageFrame(frame);
      if (document.querySelector('#learn-live').hidden) return;
      const o = frame.opponent, plays = !!o && o.version > 0 && o.label !== 'scripted';
      const shown = !document.querySelector('#no-mirror-yet').hidden;
      window.noMirrorWatch.frames++;
      if (shown === plays) window.noMirrorWatch.wrong.push([frame.tick, o]);
    };
  };
  watch();
})();"""


def test_a_turned_down_mirror_is_said_plainly(server_factory, browser):
    server = server_factory("--no-learn", "--no-record")
    page, errors = open_page(browser, server.url)
    mirror = {"label": "mirror", "version": 9}
    text, figure, version, hud = inject(
        page,
        {
            "rejected": 2,
            "version": 9,
            "mirror_number": 1,
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
    # A newer mirror was taken: the refusal is no longer news.
    (text,) = inject(
        page,
        {"rejected": 3, "version": 10, "mirror_number": 2},
        "#rejections",
        opponent={"label": "mirror", "version": 10},
    )
    assert text is None
    assert not errors


def test_how_much_play_it_learned_from_adds_up_over_sessions(server_factory, browser):
    server = server_factory("--no-learn", "--no-record")
    page, errors = open_page(browser, server.url)
    minute = 3600  # frames
    (text,) = inject(
        page,
        {"frames": 23 * minute, "recorded_frames": 20 * minute, "earlier_sessions": 3},
        "#frames-learned",
        opponent=MIRROR,
    )
    assert text == "Learned from 23 min of your play (this session and 3 before)"
    title = page.get_attribute("#frames-learned", "title")
    assert "82,800 frames" in title and "72,000 of them from your recordings of 3 earlier" in title
    # Five minutes played over two sessions read five minutes: the rallies kept aside to
    # judge each new mirror (a fifth) count as play it has.
    (text,) = inject(
        page,
        {
            "frames": 4 * minute,
            "play_frames": 5 * minute,
            "recorded_frames": 3 * minute,
            "earlier_sessions": 1,
        },
        "#frames-learned",
        opponent=MIRROR,
    )
    assert text == "Learned from 5 min of your play (this session and 1 before)"
    title = page.get_attribute("#frames-learned", "title")
    assert title.startswith(
        "18,000 frames at 60 a second (14,400 to learn from, 3,600 kept aside to judge each "
        "new mirror); 10,800 of them from your recordings of 1 earlier session"
    ), title

    said = [
        inject(page, report, "#frames-learned", opponent=MIRROR)[0]
        for report in (
            {"frames": 100},
            {"frames": 0},
            {"frames": 90 * minute + 20, "recorded_frames": 20 * minute, "earlier_sessions": 1},
            {"frames": 15 * minute, "figures_from": "saved"},
        )
    ]
    assert said == [
        "Learned from less than a minute of your play (this session)",
        "Nothing of your play learned yet",
        "Learned from 1 h 30 min of your play (this session and 1 before)",
        "Learned from 15 min of your play by the end of your last session",
    ]
    assert not any("≈" in text or " 0 min" in text for text in said)
    assert not errors


def test_the_last_sessions_figure_is_marked_until_a_mirror_of_this_session_plays(
    server_factory, browser
):
    server = server_factory("--no-learn", "--no-record")
    page, errors = open_page(browser, server.url)
    page.evaluate(
        MUTE
    )  # the scripted stand-in of the server's frames would end the restored mirror
    shown = ["#agreement", "#figures-note", "#training-agreement"]
    restored = {"version": 7, "mirror_number": 12, "playing_agreement": 0.71}
    # Just after the restart: nothing of this session yet; the saved figure, two hours old.
    saved = {**restored, "playing_agreement_saved": True, "figures_from": "saved"}
    figure, note, training = inject(page, {**saved, "stats_age": 7200}, *shown, opponent=MIRROR)
    assert (figure, note, training) == ("71%", "(from your last session, 2 h ago)", None)
    # The next one practises with this session's figures: the mirror playing is still the
    # restored one, so its figure stays marked.
    live = {"figures_from": "live", "stats_age": 0.4, "agreement": 0.55}
    assert inject(page, {**saved, **live}, *shown, opponent=MIRROR) == [
        "71%",
        "(from your last session, 2 h ago)",
        "55%",
    ]
    # A mirror measured in this session takes over: unmarked at once.
    newer = {"version": 8, "mirror_number": 13, "playing_agreement": 0.69}
    assert inject(page, {**newer, **live}, *shown, opponent={"label": "mirror", "version": 8}) == [
        "69%",
        None,
        "55%",
    ]
    # Saved figures from the learner say nothing of the mirror playing: not marked.
    assert inject(page, {**restored, "figures_from": "saved"}, *shown, opponent=MIRROR)[1] is None
    assert not errors


def test_no_mirror_yet_is_decided_by_the_frames_opponent(server_factory, browser):
    server = server_factory("--no-learn", "--no-record")
    page, errors = open_page(browser, server.url)
    page.evaluate(MUTE)
    shown = ["#no-mirror-yet", "#agreement", "#model-version"]
    # A report made before the mirror took over (version 0) while the frame says a mirror
    # plays: the mirror plays.
    stale = {"version": 0, "mirror_number": 0, "playing_agreement": None}
    no_mirror, figure, version = inject(page, stale, *shown, opponent=MIRROR)
    assert no_mirror is None and figure == "—" and version == "—"
    # The other way round: a report still naming a mirror, a frame of the scripted stand-in.
    mirror = {"version": 7, "mirror_number": 3, "playing_agreement": 0.6}
    no_mirror, figure, version = inject(page, mirror, *shown, opponent=SCRIPTED)
    assert no_mirror.startswith("No mirror yet") and figure is None
    assert version.startswith("not ready yet")
    # A frame with no report at all is enough either way.
    assert inject(page, None, *shown, opponent=MIRROR)[0] is None
    assert inject(page, None, *shown, opponent=SCRIPTED)[0].startswith("No mirror yet")
    assert not errors


def test_mirrors_keep_their_numbers_across_reconnects_and_the_chart_labels_never_overlap(
    server_factory, browser
):
    server = server_factory("--no-learn", "--no-record")
    page, errors = open_page(browser, server.url)
    page.evaluate(MUTE)
    shown = ["#model-version", "#opponent"]
    before = {"label": "mirror", "version": 40}
    report = {"version": 40, "mirror_number": 18, "playing_agreement": 0.6}
    assert inject(page, report, *shown, opponent=before) == ["v18", "Opponent: mirror v18"]

    # The server restarts: its learner numbers from 1 again, the restored mirror keeps its 18.
    page.evaluate("window.mirrorPong.handlers.hello(window.mirrorPong.hello)")
    after = {"label": "mirror", "version": 3}
    assert inject(page, None, *shown, opponent=after) == ["—", "Opponent: mirror"]
    report = {"version": 3, "mirror_number": 18, "playing_agreement": 0.6}
    assert inject(page, report, *shown, opponent=after) == ["v18", "Opponent: mirror v18"]
    # A new mirror between two reports is the next one met; the report agrees.
    newer = {"label": "mirror", "version": 5}
    assert inject(page, None, *shown, opponent=newer) == ["v19", "Opponent: mirror v19"]
    report = {"version": 5, "mirror_number": 19, "playing_agreement": 0.6}
    assert inject(page, report, *shown, opponent=newer) == ["v19", "Opponent: mirror v19"]

    # Thirty mirrors in quick succession: the chart labels each with its number, newest first,
    # and skips a label rather than draw it closer than its width to the one drawn before.
    for number in range(20, 50):
        version = 100 + number
        inject(
            page,
            {"version": version, "mirror_number": number, "playing_agreement": 0.6},
            opponent={"label": "mirror", "version": version},
        )
        page.wait_for_timeout(40)
    labels = page.wait_for_function(
        """() => {
          const drawn = window.mirrorPong.chartLabels();
          return drawn.length && drawn[drawn.length - 1].label === 'v49' && drawn;
        }""",
        timeout=5000,
    ).json_value()
    assert 1 < len(labels) < 29, labels
    assert all(re.fullmatch(r"v(19|[2-4]\d)", mark["label"]) for mark in labels), labels
    for left, right in itertools.pairwise(labels):
        assert right["left"] >= left["right"] + 2.9, labels  # the gap is 3 css px
    assert not errors


def test_while_the_server_is_away_the_panel_says_its_figures_are_from_before(
    server_factory, browser, monkeypatch
):
    server = server_factory("--no-learn", "--no-record")
    page, errors = open_page(browser, server.url)
    report = {
        "version": 7,
        "mirror_number": 2,
        "playing_agreement": 0.6,
        "samples_per_second": 2527,
    }
    (rate,) = inject(page, report, "#samples-rate", opponent=MIRROR)
    assert rate == "Practising on 2,527 samples/s"
    assert page.is_hidden("#learn-offline")

    server.process.kill()
    page.wait_for_selector("#learn-offline", state="visible", timeout=5000)
    assert "from before" in page.inner_text("#learn-offline")
    assert "stale" in page.get_attribute("#learning", "class")
    assert float(page.eval_on_selector("#learn-live", "e => getComputedStyle(e).opacity")) < 0.6
    assert page.is_disabled("#toggle-learning")

    monkeypatch.setattr(conftest, "free_port", lambda: server.port)
    server_factory("--no-learn", "--no-record", data_dir=server.data_dir)
    page.wait_for_function("window.mirrorPong.connected", timeout=15000)
    page.wait_for_selector("#learn-offline", state="hidden", timeout=2000)
    assert "stale" not in (page.get_attribute("#learning", "class") or "")
    assert not errors


def test_the_match_card_shows_you_and_your_mirror_side_by_side(server_factory, browser):
    server = server_factory("--no-learn", "--no-record")
    page, errors = open_page(browser, server.url)
    page.evaluate(MUTE)  # the frames are the ones injected here
    over = {"winner": 1, "score": [4, 11]}  # the "match over" screen
    inject(page, {})  # the first report of a connection: its card (none) is an earlier match's
    # A card that reaches the page once the next match is under way would cover its court.
    inject(page, {"match_card": {**CARD, "id": 0}}, winner=None, score=[1, 0])
    assert page.is_hidden("#match-card")
    inject(page, {"match_card": CARD}, **over)
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
    inject(page, {"match_card": CARD}, **over)  # the same card again: already seen
    assert page.is_hidden("#match-card")

    # The next match's card, shown on the "match over" screen; the next match puts it away.
    (title,) = inject(
        page, {"match_card": {**CARD, "id": 2}}, "#match-card:not([hidden]) .card-title", **over
    )
    assert title.lower() == "you vs your mirror"
    inject(page, None, winner=None, score=[0, 0], tick=1)
    assert page.is_hidden("#match-card")
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


def test_the_scripted_opponent_is_named_as_a_stand_in_only_while_a_mirror_is_learned(
    server_factory, browser
):
    server = server_factory("--no-learn", "--no-record")
    page, errors = open_page(browser, server.url)
    page.evaluate(MUTE)
    said = [
        inject(page, report, "#opponent", opponent=SCRIPTED)[0]
        for report in ({"learning": True}, {"learning": False}, {"state": "stopped"})
    ]
    assert said == [
        "Opponent: scripted, until your mirror is ready",
        "Opponent: scripted",
        "Opponent: scripted",
    ]
    assert not errors


def test_the_panel_says_how_the_mirror_draws_its_moves(server_factory, browser):
    """The mirror's temperature in words: matched to the player's jitter once found, the
    default until then, the player's own choice, and nothing while no mirror plays, or
    while the last report is from before the mirror the frames show took over."""
    server = server_factory("--no-learn", "--no-record")
    page, errors = open_page(browser, server.url)
    playing = {"version": MIRROR["version"]}
    own = {"mirror_temperature": 1.4, "temperature_source": "own", "player_jitter": 0.274}
    said = [
        inject(page, {**REPORT, **playing, **report}, "#mirror-moves", opponent=opponent)[0]
        for report, opponent in (
            (own, MIRROR),
            ({"mirror_temperature": 0.5, "temperature_source": "default"}, MIRROR),
            ({"mirror_temperature": 0.7, "temperature_source": "set"}, MIRROR),
            ({"mirror_temperature": None, "temperature_source": None}, MIRROR),
            (own, SCRIPTED),
            ({"version": 0, "mirror_temperature": None, "temperature_source": None}, MIRROR),
        )
    ]
    assert said == [
        "as jittery as you: draws at 1.4 (your jitter 0.27 a tick)",
        "draws at 0.5 until it has seen more of your play",
        "draws at 0.7, as you set it",
        "its likeliest move each time",
        "—",
        "—",
    ]
    assert not errors
