"""The replay viewer end to end in real headless Chromium: `main.py replay FILE` serves the
page; it loads a recording made by the engine, plays, seeks, steps, shows the mirror's ghost,
warns about a truncated recording, explains a broken one, and refuses paths in names."""

import asyncio
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from game.engine import Params
from game.opponent import ScriptedOpponent
from game.personas import load_persona
from game.recording import RECORD, RecordingWriter, make_header
from game.session import Session, SimClock
from tests.conftest import ServerProcess

pytestmark = pytest.mark.browser

TICKS = 3000
NAME = "20260101-120000-00000b.mpr"
TRUNCATED = "20260102-120000-00000c.mpr"
BROKEN = "20260103-120000-00000d.mpr"


def start_replay_server(data_dir: Path, file: Path) -> ServerProcess:
    """`main.py replay FILE` on a free port."""
    return ServerProcess(data_dir, command=("replay", str(file)))


def _record(folder: Path, name: str, seed: int, ticks: int) -> Path:
    """A match of the chaser persona against the scripted opponent, recorded by the engine."""

    def factory(params, seed, opponent):
        return RecordingWriter(folder / name, make_header(params, seed, "player", opponent))

    session = Session(
        ScriptedOpponent(),
        params=Params(points_to_win=99),
        seed=seed,
        left_driver=load_persona("chaser"),
        recorder_factory=factory,
    )
    asyncio.run(session.run(SimClock(), ticks=ticks))
    session.close()
    return folder / name


@pytest.fixture(scope="module")
def replay_server(tmp_path_factory):
    data = tmp_path_factory.mktemp("replay-data")
    recordings = data / "players" / "player" / "recordings"
    recordings.mkdir(parents=True)
    path = _record(recordings, NAME, seed=11, ticks=TICKS)
    assert path.stat().st_size > TICKS * RECORD.size
    # A recording cut off inside a record (a killed game), and a file that is no recording.
    whole = _record(recordings, TRUNCATED, seed=12, ticks=400).read_bytes()
    (recordings / TRUNCATED).write_bytes(whole[: len(whole) - RECORD.size // 2])
    (recordings / BROKEN).write_bytes(b"this is not a Mirror Pong recording at all")
    # An (untrained) mirror, so that the analysis has a model and the ghost exists.
    from learner.exporter import export_onnx
    from models.registry import build_model

    mirror = data / "players" / "player" / "mirror"
    mirror.mkdir(parents=True)
    (mirror / "model.onnx").write_bytes(export_onnx(build_model("mlp"), 1))

    server = start_replay_server(data, path)
    yield server
    server.stop()


def _open(browser, url):
    page = browser.new_page(viewport={"width": 1280, "height": 760}, locale="en-US")
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    return page, errors


def test_plays_seeks_steps_and_shows_the_ghost(replay_server, browser, tmp_path):
    page, errors = _open(browser, f"{replay_server.url}replay?file={NAME}")
    page.wait_for_function(
        f"window.replayView && window.replayView.loaded === {NAME!r}", timeout=15000
    )
    view = page.evaluate("window.replayView")
    assert view["ticks"] == TICKS and view["index"] == 0 and not view["playing"]
    assert view["error"] is None
    # Only the first chunk was fetched, not the whole recording.
    assert view["chunksFetched"] == 1
    # The list holds all three files, this one marked as the current one.
    current = page.locator('.rec-item[aria-current="true"]')
    assert current.get_attribute("data-name") == NAME
    assert page.locator(".rec-item").count() == 3
    assert "truncated" in page.locator(f'.rec-item[data-name="{TRUNCATED}"]').inner_text().lower()
    assert "not a mirror pong recording" in (
        page.locator(f'.rec-item[data-name="{BROKEN}"]').inner_text().lower()
    )

    # Play: the index advances; Space again pauses.
    page.keyboard.press("Space")
    page.wait_for_function(
        "window.replayView.playing && window.replayView.index > 30", timeout=5000
    )
    page.keyboard.press("Space")
    page.wait_for_function("!window.replayView.playing", timeout=2000)

    # Seek to 80% with the scrub bar: the index is there at once, and the records follow fast.
    target = int(TICKS * 0.8)
    started = time.monotonic()
    page.fill("#scrub", str(target))
    page.wait_for_function(
        f"window.replayView.index === {target} && "
        f"document.getElementById('tick').textContent.includes('#{target + 1:,}/')",
        timeout=2000,
    )
    assert time.monotonic() - started < 2

    # Step back one tick (button), then with the keys.
    page.click("#step-back")
    assert page.evaluate("window.replayView.index") == target - 1
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("window.replayView.index") == target - 2
    page.keyboard.press(".")
    assert page.evaluate("window.replayView.index") == target - 1
    assert page.inner_text("#time").startswith("0:39.9")  # 2399 / 60 s

    # The ghost paddle appears once the analysis (with the mirror) is in; the switch hides it.
    assert page.is_checked("#overlay-ghost")
    page.wait_for_function(
        "window.replayView.analysis === 'ready' && window.replayView.ghostVisible",
        timeout=30000,
    )
    assert "plays like you" in page.inner_text("#analysis-status")
    page.uncheck("#overlay-ghost")
    page.wait_for_function("!window.replayView.ghostVisible", timeout=2000)
    page.check("#overlay-ghost")
    page.wait_for_function("window.replayView.ghostVisible", timeout=2000)

    page.screenshot(path=str(tmp_path / "replay.png"))
    assert not errors
    page.close()


def test_truncated_and_broken_recordings_are_explained(replay_server, browser):
    page, errors = _open(browser, f"{replay_server.url}replay?file={TRUNCATED}")
    page.wait_for_function(
        f"window.replayView && window.replayView.loaded === {TRUNCATED!r}", timeout=15000
    )
    assert page.is_visible("#warning")
    assert "partial record" in page.inner_text("#warning")
    assert page.evaluate("window.replayView.ticks") == 399

    # Clicking the broken file in the list shows why, in the page and over the court.
    page.click(f'.rec-item[data-name="{BROKEN}"]')
    page.wait_for_function("window.replayView.error !== null", timeout=10000)
    assert page.evaluate("window.replayView.loaded") is None
    assert BROKEN in page.url
    assert page.is_visible("#error") and "not a Mirror Pong recording" in page.inner_text("#error")
    assert page.is_visible("#court-message")
    assert page.is_disabled("#play-btn")

    # An unknown name, too.
    page.goto(f"{replay_server.url}replay?file=no-such-file.mpr")
    page.wait_for_function("window.replayView && window.replayView.error !== null", timeout=10000)
    assert "no-such-file.mpr" in page.inner_text("#error")
    assert not errors
    page.close()


@pytest.mark.parametrize(
    "path",
    [
        "api/recordings/..%2F..%2Fetc%2Fpasswd/ticks",
        "api/recordings/%2Fetc%2Fpasswd/header",
        "api/recordings/..%2F..%2F..%2F..%2Fetc%2Fpasswd/analysis",
    ],
)
def test_names_that_are_paths_are_refused(replay_server, path):
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(replay_server.url + path, timeout=10)
    assert 400 <= caught.value.code < 500
    assert b"root:" not in caught.value.read()
