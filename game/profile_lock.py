"""One writer per profile: the session that plays holds a lock file in the profile folder.

The lock is an ``flock`` on ``players/NAME/session.lock``, which also holds the owner's pid
for the message a second session gets. The kernel releases it when its owner dies, however
it dies, so a new session takes over from a killed one without anyone cleaning up.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

LOCK_NAME = "session.lock"


class ProfileInUse(Exception):
    """Another live session writes this profile; the message says which and what to do."""


class ProfileLock:
    """Held from ``acquire`` until ``release`` (or the process's end)."""

    def __init__(self, folder: Path, player: str) -> None:
        self.path = folder / LOCK_NAME
        self.player = player
        self._fd: int | None = None

    def acquire(self) -> ProfileLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise ProfileInUse(
                f"profile {self.player!r} is in use by another Mirror Pong session "
                f"(pid {owner}); close that one first, or play as another --player"
            ) from None
        previous = os.read(fd, 64).decode(errors="replace").strip()
        if previous:
            log.info(
                "took over profile %r from a session that ended unclean (pid %s)",
                self.player,
                previous,
            )
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)  # an empty file: the owner left cleanly
        os.close(self._fd)  # closing drops the flock
        self._fd = None

    def __enter__(self) -> ProfileLock:
        return self.acquire()

    def __exit__(self, *exc_info) -> None:
        self.release()
