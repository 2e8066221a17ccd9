"""What the command bodies share: ``UsageError``, the player's profile from ``--data-dir`` and
``--player``, how a mirror plays (``--play-by``, ``--temperature``, ``--top-p``), and serving a
web app (the game, the replay viewer) until Ctrl-C.

Importing this module loads nothing heavy: ``main.py`` imports it to build its parser, and
each helper imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aiohttp import web

    from game.profiles import Profile


class UsageError(Exception):
    """Bad input from the command line: printed as one line, exit code 2."""


def player_profile(args: argparse.Namespace) -> Profile:
    """The profile ``--data-dir`` and ``--player`` name (a bad name is a ``UsageError``)."""
    from game.profiles import Profile, check_player_name, default_data_dir

    try:
        check_player_name(args.player)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return Profile(args.data_dir or default_data_dir(), args.player)


def add_playback_options(parser: argparse.ArgumentParser) -> None:
    """``--play-by``, ``--temperature`` and ``--top-p``: how a mirror turns its scores into
    commands."""
    from game.playback import DEFAULT_PLAYBACK, PLAY_BY  # light: no numpy

    parser.add_argument(
        "--play-by",
        choices=PLAY_BY,
        default=DEFAULT_PLAYBACK.by,
        help="how a mirror plays: its most likely command every tick (argmax), a draw "
        "from the commands it predicts every tick, seeded by the match (sample), or such draws "
        "with one chance held from one turn of the ball to the next, as a person draws one "
        "reaction per ball (held) (default: %(default)s)",
    )
    parser.add_argument(
        "--temperature",
        type=_temperature,
        default=DEFAULT_PLAYBACK.temperature,
        metavar="T",
        help="with --play-by sample or held: 1 draws from the predicted distribution as it is, "
        "below 1 sharpens it towards argmax, 0 is argmax; auto plays at the mirror's own, the "
        "one its trainer found makes it as jittery as its player (0.5 for a mirror without "
        "one) (default: auto)",
    )
    parser.add_argument(
        "--top-p",
        type=float,
        default=DEFAULT_PLAYBACK.top_p,
        metavar="P",
        help="with --play-by sample or held: draw only among the likeliest commands that "
        "together hold this share of the probability (nucleus sampling); 1 draws among all "
        "(default: %(default)g)",
    )


def _temperature(text: str) -> float | str | None:
    """``--temperature``'s value: 'auto' (None: the mirror's own) or a number; anything else
    is kept as typed, for ``playback_from`` to refuse in one line."""
    if text.strip().lower() == "auto":
        return None
    try:
        return float(text)
    except ValueError:
        return text


def playback_from(args: argparse.Namespace, seed: int = 0):
    """The ``game.playback.Playback`` the options name (a bad one is a ``UsageError``)."""
    from game.playback import Playback

    if isinstance(args.temperature, str):
        raise UsageError(f"--temperature: expected a number or 'auto', got {args.temperature!r}")
    try:
        return Playback(args.play_by, args.temperature, seed, top_p=args.top_p)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def serve(
    app: web.Application, host: str, port: int, path: str, what: str, open_browser: bool
) -> int:
    """Serve ``app`` until Ctrl-C, announcing its URL (and opening it) once it listens."""
    import asyncio
    import signal
    import webbrowser

    from aiohttp import web
    from aiohttp.web_runner import GracefulExit

    def _raise_graceful_exit() -> None:
        raise GracefulExit()

    url = f"http://{f'[{host}]' if ':' in host else host}:{port}{path}"

    async def announce(app: web.Application) -> None:
        # A closed terminal (SIGHUP) ends the game as Ctrl-C does: recordings flushed, the
        # trainer told to save and stop, the profile's lock released.
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, _raise_graceful_exit)
        print(f"{what} {url}  (Ctrl-C to quit)", flush=True)
        if open_browser:
            webbrowser.open(url)

    app.on_startup.append(announce)
    try:
        web.run_app(app, host=host, port=port, print=None)
    except OSError as exc:
        raise UsageError(f"cannot serve on {host}:{port}: {exc.strerror}") from None
    return 0
