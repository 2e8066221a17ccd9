"""Where a player's things live on disk.

    DATA_DIR/                         platformdirs user data dir, or --data-dir
      players/NAME/                   one profile per --player NAME
        recordings/                   one .mpr file per match, named by start time and seed
          20261123-142744-5f3a9c.mpr

The learner adds its own files to the profile (its model, metadata and sampler settings).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from game.recording import SUFFIX

APP_NAME = "mirror-pong"
_PLAYER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def check_player_name(name: str, what: str = "player name") -> str:
    """Profile (and shared mirror) names become file names, so they keep a safe alphabet."""
    if not _PLAYER_NAME.match(name) or name in {".", ".."}:
        raise ValueError(
            f"{what} must be 1-64 letters, digits, '_', '-' or '.', "
            f"starting with a letter or digit; got {name!r}"
        )
    return name


@dataclass(frozen=True)
class Profile:
    data_dir: Path
    player: str

    @property
    def folder(self) -> Path:
        return self.data_dir / "players" / check_player_name(self.player)

    @property
    def recordings(self) -> Path:
        return self.folder / "recordings"

    def new_recording_path(self, seed: int) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        return self.recordings / f"{stamp}-{seed & 0xFFFFFF:06x}{SUFFIX}"

    def list_recordings(self) -> list[Path]:
        return recordings_in(self.recordings)


def recordings_in(folder: Path) -> list[Path]:
    """The recordings in ``folder``, sorted by name, as resolved paths that lie inside it:
    a symlink pointing out of the folder (out of the profile) is left out, so nothing
    outside a player's data is ever read as one of their recordings."""
    try:
        root = folder.resolve(strict=True)
    except OSError:
        return []
    if not root.is_dir():
        return []
    found = []
    for path in sorted(root.glob(f"*{SUFFIX}")):
        try:
            resolved = path.resolve(strict=True)
        except (OSError, RuntimeError):  # dangling link, link loop
            continue
        if resolved.parent == root and resolved.is_file() and resolved not in found:
            found.append(resolved)  # a link to a recording beside it is that recording, once
    return found
