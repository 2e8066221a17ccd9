"""The pygame front end: off-screen rendering, screenshots, input handling, and a headless
run of the desktop window playing the real session loop."""

import os

os.environ["SDL_VIDEODRIVER"] = "dummy"  # before pygame loads: no window, no display needed
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import pygame  # noqa: E402
import pytest  # noqa: E402

from game import render  # noqa: E402
from game.desktop import WINDOW_SIZE, DesktopUI, KeyInput, run_desktop  # noqa: E402
from game.engine import Params, new_match  # noqa: E402
from game.opponent import ScriptedOpponent  # noqa: E402
from game.session import Session  # noqa: E402

PARAMS = Params()
SIZE = (640, 400)  # the court's own aspect ratio, so with no HUD it fills the surface exactly
SCALE = SIZE[0] / PARAMS.court_width  # pixels per court unit


def mid_rally():
    return new_match(1, PARAMS)._replace(
        tick=500,
        ball_x=0.5,
        ball_y=0.3,
        ball_vx=-0.9,
        ball_vy=0.2,
        left_y=0.6,
        right_y=0.4,
        score_left=3,
        score_right=7,
        serve_ticks=0,
        rally_hits=2,
    )


def brightness(color) -> int:
    return max(color[:3])


def px(x: float, y: float) -> tuple[int, int]:
    return int(x * SCALE), int(y * SCALE)


@pytest.fixture
def display():
    pygame.display.init()
    yield
    pygame.quit()


def test_render_shows_ball_and_paddles_on_a_dark_court():
    state = mid_rally()
    surface = render.render_state(state, PARAMS, size=SIZE)
    assert surface.get_size() == SIZE

    background = surface.get_at(px(1.2, 0.85))
    assert brightness(background) < 40
    ball = surface.get_at(px(state.ball_x, state.ball_y))
    assert brightness(ball) > 200
    assert ball != background

    # The left paddle stands just behind its face line, spanning left_y +- half height.
    face = PARAMS.paddle_inset
    for y in (state.left_y - 0.07, state.left_y, state.left_y + 0.07):
        assert brightness(surface.get_at(px(face - 0.004, y))) > 150
    # ... and not in front of it, nor beyond its ends.
    assert brightness(surface.get_at(px(face + 0.006, state.left_y))) < 40
    assert brightness(surface.get_at(px(face - 0.004, state.left_y + 0.12))) < 40
    # The right paddle is drawn at its own height.
    right_face = PARAMS.court_width - PARAMS.paddle_inset
    assert brightness(surface.get_at(px(right_face + 0.004, state.right_y))) > 150
    assert brightness(surface.get_at(px(right_face + 0.004, state.left_y + 0.05))) < 40


def test_overlays_dim_the_court():
    state = mid_rally()
    at_ball = px(state.ball_x, state.ball_y)
    playing = render.render_state(state, PARAMS, SIZE).get_at(at_ball)
    over = render.render_state(state._replace(winner=1), PARAMS, SIZE).get_at(at_ball)
    paused = render.render_state(state, PARAMS, SIZE, hud={"paused": True})
    assert brightness(over) < brightness(playing) - 80
    # With a HUD the court shrinks to make room for the text strip; the ball still shows.
    court = render.court_rect(SIZE, PARAMS, hud=True)
    scale = court.width / PARAMS.court_width
    ball = (int(court.left + state.ball_x * scale), int(court.top + state.ball_y * scale))
    assert brightness(paused.get_at(ball)) < brightness(playing) - 80


def test_render_survives_missing_fonts(monkeypatch):
    def no_font(*args, **kwargs):
        raise OSError("no font file")

    monkeypatch.setattr(render, "_fonts", {})
    monkeypatch.setattr(pygame.font, "Font", no_font)
    hud = {"opponent": "Opponent: x v1", "hint": "h", "error": "not recording", "paused": True}
    surface = render.render_state(mid_rally(), PARAMS, SIZE, hud=hud)
    assert surface.get_size() == SIZE


def test_hud_names_the_opponent():
    assert render.opponent_line("scripted", 0) == "Opponent: scripted"
    assert (
        render.opponent_line("scripted", 0, learning=True)
        == "Opponent: scripted, until your mirror is ready"
    )
    assert render.opponent_line("mirror", 4) == "Opponent: mirror v4"


@pytest.mark.parametrize(
    "stats, expected",
    [
        ({"state": "live", "learning": True}, "Opponent: scripted, until your mirror is ready"),
        ({"state": "paused", "learning": False}, "Opponent: scripted"),
        ({"state": "stopped", "learning": True}, "Opponent: scripted"),
    ],
)
def test_the_desktop_promises_a_mirror_only_while_one_is_learned(stats, expected):
    class Learner:
        def hud_stats(self):
            return stats

    ui = DesktopUI(Session(ScriptedOpponent(), seed=1), learning=Learner())
    assert ui.hud()["opponent"] == expected
    assert DesktopUI(Session(ScriptedOpponent(), seed=1)).hud()["opponent"] == (
        "Opponent: scripted"
    )


def test_save_png_writes_a_loadable_png(tmp_path):
    path = render.save_png(mid_rally(), PARAMS, tmp_path / "shot.png", size=(320, 220))
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    loaded = pygame.image.load(str(path))
    assert loaded.get_size() == (320, 220)


def test_most_recent_key_wins_and_release_falls_back():
    keys = KeyInput()
    assert keys.command == 0
    keys.press(pygame.K_UP)
    assert keys.command == -1
    keys.press(pygame.K_s)
    assert keys.command == 1
    keys.release(pygame.K_s)
    assert keys.command == -1
    keys.release(pygame.K_UP)
    assert keys.command == 0
    assert not keys.press(pygame.K_a)


def key(kind, code):
    return pygame.event.Event(kind, key=code, mod=0)


def test_ui_keys_pause_and_new_match(display):
    session = Session(ScriptedOpponent(), seed=1)
    ui = DesktopUI(session)
    ui.handle(key(pygame.KEYDOWN, pygame.K_w))
    assert session.left_command() == -1
    ui.handle(key(pygame.KEYUP, pygame.K_w))
    assert session.left_command() == 0

    ui.handle(key(pygame.KEYDOWN, pygame.K_SPACE))
    assert session.paused
    ui.handle(key(pygame.KEYDOWN, pygame.K_SPACE))
    assert not session.paused

    session.state = session.state._replace(winner=1, score_right=11, tick=900)
    ui.handle(key(pygame.KEYDOWN, pygame.K_SPACE))
    assert session.state.winner == 0 and session.state.tick == 0

    ui.handle(key(pygame.KEYDOWN, pygame.K_ESCAPE))
    assert not ui.running


def test_ui_mouse_drag_steers_the_paddle(display):
    session = Session(ScriptedOpponent(), seed=1)
    ui = DesktopUI(session)
    # No window was opened, so the UI maps the pointer onto a window of the default size.
    court = render.court_rect(WINDOW_SIZE, session.params, hud=True)
    ui.handle(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=(50, court.top + 2)))
    assert session.left_command() == -1  # pointer near the top: the paddle heads up
    ui.handle(pygame.event.Event(pygame.MOUSEMOTION, pos=(50, court.bottom - 2), buttons=(1, 0, 0)))
    assert session.left_command() == 1
    ui.handle(pygame.event.Event(pygame.MOUSEBUTTONUP, button=1, pos=(50, court.bottom - 2)))
    assert session.left_command() == 0


def test_run_desktop_plays_the_session_headless():
    session = Session(ScriptedOpponent(), seed=1)
    start_y = session.state.left_y
    seen = {"ticks": 0, "safety": False}

    def driver(session, events):
        seen["ticks"] += 1
        if seen["ticks"] == 1:
            pygame.event.post(key(pygame.KEYDOWN, pygame.K_UP))
        elif seen["ticks"] == 60:
            pygame.event.post(pygame.event.Event(pygame.QUIT))
        elif seen["ticks"] >= 600:  # the window never handled QUIT: end rather than hang
            seen["safety"] = True
            session.stop()

    session.subscribers.append(driver)
    assert run_desktop(session) == 0
    assert not seen["safety"]
    assert 60 <= seen["ticks"] < 120
    assert session.state.tick == seen["ticks"]
    assert session.state.left_y < start_y - 0.2  # Up was held: the paddle climbed
    assert not pygame.display.get_init()  # the window was closed


def test_importing_the_renderer_prints_no_banner():
    import subprocess
    import sys

    from tests.conftest import ROOT

    result = subprocess.run(
        [sys.executable, "-c", "import game.desktop, game.render"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0 and result.stdout == "", result.stdout


def test_the_window_says_how_much_like_you_the_mirror_is(display):
    """The desktop window shows what the browser's panel leads with, in the same words."""

    class Learner:
        stats = {"state": "live", "version": 3, "playing_agreement": 0.834}

        def hud_stats(self):
            return self.stats

    learner = Learner()
    ui = DesktopUI(Session(ScriptedOpponent(), seed=1), learner)
    assert ui.hud()["likeness"] == "How much like you: 83%"
    learner.stats = {"state": "stopped", "version": 3, "playing_agreement": 0.834}
    ui._likeness_at = -1.0  # the window refreshes it twice a second
    assert "Learning has stopped" in ui.hud()["likeness"]
    assert DesktopUI(Session(ScriptedOpponent(), seed=1)).hud()["likeness"] == ""
    surface = render.render_state(mid_rally(), PARAMS, SIZE, ui.hud())
    assert surface.get_size() == SIZE
