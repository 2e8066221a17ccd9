"""Finding a player's recordings for the tools that learn from them (train, tune, Minari).

``find_recordings`` turns the paths a user names (files or folders) into recording files;
``TrainingError`` is the one error those tools raise for the user: printed as one line,
exit code 2.
"""

from __future__ import annotations

from pathlib import Path

from game.recording import SUFFIX


class TrainingError(Exception):
    """Training cannot start or finish; the message is for the user."""


def find_recordings(paths: list[Path]) -> list[Path]:
    """Every recording in ``paths`` (files as given, folders searched); raises if none."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(path.rglob(f"*{SUFFIX}"))
        elif path.is_file():
            found.append(path)
        else:
            raise TrainingError(f"no such file or folder: {path}")
    if not found:
        raise TrainingError(f"no {SUFFIX} recordings in {', '.join(map(str, paths))}")
    return found
