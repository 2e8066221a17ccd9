"""The desktop front end: a resizable pygame window playing the same session loop as the browser.

Two asyncio tasks share one event loop: ``Session.run`` ticks on the real clock, and the
window task pumps pygame events into the session's input and draws the latest state about 60
times a second with ``game.render``. Drawing never happens inside a tick, so a slow frame
delays the picture, not the game. Only this module and ``game.render`` may import pygame.

Controls: W/S or Up/Down move the left paddle, holding the left mouse button steers it to the
pointer's height, Space pauses (or starts a new match once one is over), Escape quits.
"""

from __future__ import annotations

import asyncio
import os
import time

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # no banner in the terminal
import pygame  # noqa: E402

from game import render
from game.ports import LearningPort
from game.session import RealClock, Session

FRAME_SECONDS = 1.0 / 60.0
WINDOW_SIZE = render.DEFAULT_SIZE
HINT = "W/S or arrows / drag the mouse    Space: pause    Esc: quit"

_KEY_DIRECTIONS = {pygame.K_w: -1, pygame.K_UP: -1, pygame.K_s: 1, pygame.K_DOWN: 1}


class KeyInput:
    """The up/down keys held. The most recently pressed key still held decides the command,
    so pressing Down while holding Up goes down, and releasing Down goes back to up."""

    def __init__(self) -> None:
        self._held: list[int] = []

    def press(self, key: int) -> bool:
        """Note a key going down; True if it is one of ours."""
        if key not in _KEY_DIRECTIONS:
            return False
        if key in self._held:
            self._held.remove(key)
        self._held.append(key)
        return True

    def release(self, key: int) -> bool:
        if key not in _KEY_DIRECTIONS:
            return False
        if key in self._held:
            self._held.remove(key)
        return True

    def clear(self) -> None:
        self._held.clear()

    @property
    def command(self) -> int:
        return _KEY_DIRECTIONS[self._held[-1]] if self._held else 0


class DesktopUI:
    """Turns pygame events into session input and draws the session's latest state."""

    def __init__(self, session: Session, learning: LearningPort | None = None) -> None:
        self.session = session
        self.learning = learning  # the learner plugged into the session, if any
        self._likeness = ""
        self._likeness_at = -1.0
        self._learning_on = False  # as of the last refresh of the learner's headline
        self.keys = KeyInput()
        self.dragging = False
        self.running = True

    def hud(self) -> dict:
        opponent = self.session.opponent
        likeness = self._learning_line()  # refreshes whether learning is on, too
        return {
            "opponent": render.opponent_line(
                opponent.label, opponent.model_version, self._learning_on
            ),
            "likeness": likeness,
            "hint": HINT,
            "paused": self.session.paused,
            "error": self.session.recording_error,
        }

    def _learning_line(self) -> str:
        """The learner's headline, refreshed twice a second as the browser's panel is."""
        now = time.monotonic()
        if self.learning is not None and now - self._likeness_at >= 0.5:
            self._likeness_at = now
            stats = self.learning.hud_stats()
            self._likeness = render.likeness_line(stats)
            # A mirror is on its way only while learning is on and the learner not stopped.
            self._learning_on = bool(stats.get("learning")) and stats.get("state") != "stopped"
        return self._likeness

    def _court(self) -> pygame.Rect:
        surface = pygame.display.get_surface()
        size = surface.get_size() if surface is not None else WINDOW_SIZE
        return render.court_rect(size, self.session.params, hud=True)

    def _point_at(self, y: int) -> None:
        court = self._court()
        self.session.set_pointer((y - court.top) / max(1, court.height))

    def handle(self, event: pygame.event.Event) -> None:
        session = self.session
        if event.type == pygame.QUIT:
            self.running = False
        elif event.type == pygame.KEYDOWN:
            if event.key == pygame.K_ESCAPE:
                self.running = False
            elif event.key == pygame.K_SPACE:
                if session.state.winner != 0:
                    session.new_match()
                else:
                    session.set_paused(not session.paused)
            elif self.keys.press(event.key):
                session.set_key_command(self.keys.command)
        elif event.type == pygame.KEYUP:
            if self.keys.release(event.key):
                if self.dragging and self.keys.command == 0:
                    # The mouse button is still down: steering goes back to the pointer.
                    self._point_at(pygame.mouse.get_pos()[1])
                else:
                    session.set_key_command(self.keys.command)
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            self.dragging = True
            self._point_at(event.pos[1])
        elif event.type == pygame.MOUSEMOTION and self.dragging:
            self._point_at(event.pos[1])
        elif event.type == pygame.MOUSEBUTTONUP and event.button == 1:
            self.dragging = False
            session.set_pointer(None)
            session.set_key_command(self.keys.command)
        elif event.type == pygame.WINDOWFOCUSLOST:
            # Key-up and button-up events go to whichever window has focus now, so anything
            # held would otherwise stay held until the player comes back.
            self.keys.clear()
            self.dragging = False
            session.set_pointer(None)
            session.set_key_command(0)

    def draw(self) -> None:
        surface = pygame.display.get_surface()
        if surface is None:
            return
        render.draw_state(surface, self.session.state, self.session.params, self.hud())
        pygame.display.flip()


async def _window_task(ui: DesktopUI) -> None:
    next_frame = time.perf_counter()
    while ui.running:
        for event in pygame.event.get():
            ui.handle(event)
        if not ui.running:
            return
        ui.draw()
        next_frame += FRAME_SECONDS
        delay = next_frame - time.perf_counter()
        if delay < 0:
            # Behind (a stalled machine): skip the missed frames rather than draw a burst.
            next_frame = time.perf_counter()
            delay = 0.0
        await asyncio.sleep(delay)


async def _play(session: Session, ui: DesktopUI) -> None:
    loop_task = asyncio.create_task(session.run(RealClock()), name="session-loop")
    window_task = asyncio.create_task(_window_task(ui), name="desktop-window")
    await asyncio.wait({loop_task, window_task}, return_when=asyncio.FIRST_COMPLETED)
    # Whichever ended first, the other must not outlive it; the loop ends cleanly between
    # ticks after stop(), so a tick is never cut in half.
    session.stop()
    window_task.cancel()
    await asyncio.wait({loop_task, window_task})
    for task in (loop_task, window_task):
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()


def run_desktop(session: Session, learning: LearningPort | None = None) -> int:
    """Play ``session`` in a pygame window until the player quits; returns the exit status.
    ``learning``, when plugged in, adds how much like the player the mirror is."""
    try:
        # Only the display: initialising audio too would stall or warn on machines without it.
        pygame.display.init()
        pygame.display.set_caption("Mirror Pong")
        pygame.display.set_mode(WINDOW_SIZE, pygame.RESIZABLE)
        asyncio.run(_play(session, DesktopUI(session, learning)))
    except KeyboardInterrupt:
        return 130
    finally:
        session.close()
        pygame.quit()
    return 0
