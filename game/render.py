"""Drawing a match with pygame: court, paddles, ball, scores, the HUD line and overlays.

Everything here draws onto a plain ``pygame.Surface``, so it works off-screen (screenshots,
tests with ``SDL_VIDEODRIVER=dummy``) and the desktop window reuses it unchanged. Only this
module and ``game.desktop`` may import pygame; the engine and the session never do.

The court keeps its aspect ratio at any surface size: it is scaled to fit and letterboxed,
with an optional text strip under it for the HUD.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # no banner in the terminal
import pygame  # noqa: E402

from game.engine import Params, State

BACKGROUND = (6, 8, 12)
COURT = (16, 20, 30)
CENTRE_LINE = (64, 72, 92)
PLAYER = (90, 200, 255)
OPPONENT = (255, 150, 90)
BALL = (245, 245, 245)
SCORE = (150, 158, 178)
TEXT = (205, 210, 222)
DIM_TEXT = (120, 128, 148)
ERROR = (255, 96, 96)

HUD_BAND = 0.1
"""Height of the HUD text strip under the court, as a fraction of the court's height."""

DEFAULT_SIZE = (960, 660)

_fonts: dict[int, pygame.font.Font | None] = {}


def court_rect(size: tuple[int, int], params: Params, hud: bool = False) -> pygame.Rect:
    """Where the court lies on a surface of ``size`` (pixels), centred and aspect-true."""
    width, height = size
    band = HUD_BAND if hud else 0.0
    scale = min(width / params.court_width, height / (params.court_height * (1.0 + band)))
    court_w = round(params.court_width * scale)
    court_h = round(params.court_height * scale)
    total_h = round(params.court_height * (1.0 + band) * scale)
    return pygame.Rect((width - court_w) // 2, (height - total_h) // 2, court_w, court_h)


def opponent_line(label: str, model_version: int, learning: bool = False) -> str:
    """The HUD's description of who plays the right paddle (``learning``: a mirror is being
    learned, which takes over from the scripted opponent once it plays like the player)."""
    if label == "scripted":
        return (
            "Opponent: scripted, until your mirror is ready" if learning else "Opponent: scripted"
        )
    return f"Opponent: {label} v{model_version}"


def likeness_line(stats: dict | None) -> str:
    """The learning panel's headline in the browser's words: how much the mirror playing now
    is like the player, or what the learner is doing when that is the news."""
    if not stats:
        return ""
    state = stats.get("state")
    if state == "stopped":
        return "Learning has stopped (your mirror keeps playing)"
    if state == "restarting":
        return "The learner stopped and is coming back"
    agreement = stats.get("playing_agreement")
    if agreement is None or not stats.get("version"):
        return "Your mirror is learning your moves"
    return f"How much like you: {agreement:.0%}"


def _font(pixels: int) -> pygame.font.Font | None:
    """A font of roughly this pixel height, or None where pygame has no usable font."""
    pixels = max(8, int(pixels))
    # pygame.quit() (end of a desktop session) invalidates every Font object made before it.
    if not _font_ready():
        return None
    if pixels not in _fonts:
        try:
            _fonts[pixels] = pygame.font.Font(None, pixels)
        except Exception:  # a missing or broken font file must cost the text, never the game
            _fonts[pixels] = None
    return _fonts[pixels]


def _font_ready() -> bool:
    try:
        if not pygame.font.get_init():
            _fonts.clear()
            pygame.font.init()
        return True
    except Exception:  # pygame built without SDL_ttf raises on any use of pygame.font
        return False


def _text(
    surface: pygame.Surface,
    text: str,
    pixels: int,
    color: tuple[int, int, int],
    **anchor: tuple[int, int] | int,
) -> None:
    font = _font(pixels)
    if font is None or not text:
        return
    image = font.render(text, True, color)
    surface.blit(image, image.get_rect(**anchor))


def draw_state(
    surface: pygame.Surface, state: State, params: Params, hud: dict | None = None
) -> pygame.Rect:
    """Draw the match onto ``surface``; returns the court's rectangle on it.

    ``hud`` (optional) adds the text strip under the court and the overlays. Keys, all
    optional: ``opponent`` (str), ``likeness`` (str, the learning headline), ``hint`` (str),
    ``error`` (str or None, shown in red),
    ``paused`` (bool). The match-over overlay depends only on ``state.winner``.
    """
    surface.fill(BACKGROUND)
    rect = court_rect(surface.get_size(), params, hud is not None)
    surface.fill(COURT, rect)
    scale = rect.width / params.court_width

    def to_px(x: float, y: float) -> tuple[float, float]:
        return rect.left + x * scale, rect.top + y * scale

    dash = max(2, rect.height // 40)
    line_w = max(1, round(rect.width / 320))
    for y in range(rect.top + dash // 2, rect.bottom, 2 * dash):
        surface.fill(CENTRE_LINE, (rect.centerx - line_w // 2, y, line_w, dash))

    # Scores go down before the ball and paddles so play is never hidden behind them.
    score_px = max(10, rect.height // 7)
    score_y = rect.top + rect.height // 30
    for score, quarter in ((state.score_left, 1), (state.score_right, 3)):
        centre_x = rect.left + quarter * rect.width // 4
        _text(surface, str(score), score_px, SCORE, midtop=(centre_x, score_y))

    # Paddles sit behind their face lines, so what the player sees touching is what collides.
    thickness = max(2, round(params.paddle_inset * 0.4 * scale))
    half = params.paddle_half_height * scale
    left_face, _ = to_px(params.paddle_inset, 0.0)
    right_face, _ = to_px(params.court_width - params.paddle_inset, 0.0)
    for face_x, centre_y, color, offset in (
        (left_face, state.left_y, PLAYER, -thickness),
        (right_face, state.right_y, OPPONENT, 0),
    ):
        _, top = to_px(0.0, centre_y - params.paddle_half_height)
        surface.fill(color, (round(face_x) + offset, round(top), thickness, round(2 * half)))

    ball_x, ball_y = to_px(state.ball_x, state.ball_y)
    radius = max(2, round(params.ball_radius * scale))
    pygame.draw.circle(surface, BALL, (round(ball_x), round(ball_y)), radius)

    if hud is not None:
        _draw_hud(surface, rect, hud)
    if state.winner:
        title = "You win!" if state.winner < 0 else "The opponent wins"
        score = f"{state.score_left} - {state.score_right}"
        _overlay(surface, rect, title, f"{score}    Space: new match    Esc: quit")
    elif hud is not None and hud.get("paused"):
        _overlay(surface, rect, "Paused", "Space: resume    Esc: quit")
    if hud is not None and hud.get("error"):
        # Inside the court's bottom edge and over any overlay: the strip is already full, and
        # a player must notice that matches are no longer being recorded.
        band_h, pixels = _hud_metrics(rect)
        bottom = rect.bottom - band_h // 4
        _text(surface, hud["error"], pixels, ERROR, midbottom=(rect.centerx, bottom))
    return rect


def _hud_metrics(rect: pygame.Rect) -> tuple[int, int]:
    """The HUD strip's height and its text size, in pixels."""
    band_h = max(1, round(rect.height * HUD_BAND))
    return band_h, max(8, band_h * 2 // 5)


def _draw_hud(surface: pygame.Surface, rect: pygame.Rect, hud: dict) -> None:
    band_h, pixels = _hud_metrics(rect)
    row = rect.bottom + band_h // 4
    margin = rect.width // 60
    who = "    ".join(part for part in (hud.get("opponent", ""), hud.get("likeness", "")) if part)
    _text(surface, who, pixels, TEXT, topleft=(rect.left + margin, row))
    _text(surface, hud.get("hint", ""), pixels, DIM_TEXT, topright=(rect.right - margin, row))


def _overlay(surface: pygame.Surface, rect: pygame.Rect, title: str, detail: str) -> None:
    shade = pygame.Surface(rect.size, pygame.SRCALPHA)
    shade.fill((0, 0, 0, 150))
    surface.blit(shade, rect.topleft)
    _text(surface, title, max(12, rect.height // 8), TEXT, midbottom=(rect.centerx, rect.centery))
    _text(
        surface,
        detail,
        max(8, rect.height // 22),
        DIM_TEXT,
        midtop=(rect.centerx, rect.centery + rect.height // 40),
    )


def render_state(
    state: State,
    params: Params,
    size: tuple[int, int] = DEFAULT_SIZE,
    hud: dict | None = None,
) -> pygame.Surface:
    """The match drawn on a new off-screen surface of ``size`` pixels (no window needed)."""
    surface = pygame.Surface(size)
    draw_state(surface, state, params, hud)
    return surface


def save_png(
    state: State,
    params: Params,
    path: str | Path,
    size: tuple[int, int] = DEFAULT_SIZE,
    hud: dict | None = None,
) -> Path:
    """Write a screenshot of the match to ``path`` as PNG; returns the path."""
    path = Path(path)
    pygame.image.save(render_state(state, params, size, hud), str(path))
    return path
