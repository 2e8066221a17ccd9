"""``python main.py replay``: verify a recording, compare a model with the player on it, or
open the replay viewer.

``--verify`` needs only the game (no numpy, no onnxruntime); the comparison and the viewer
load ``replay_analysis`` when they run. ``play`` serves the viewer on the game's own site
(``add_replay_site``); ``replay`` without --verify or --json serves it alone.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from game.recording import Recording, RecordingError, read_recording
from game.replay import verify
from learner.tools.command import UsageError, player_profile, serve


def run(args: argparse.Namespace) -> int:
    if not args.verify and args.json is None:
        return view(args)
    if args.file is None:
        raise UsageError("--verify and --json need a recording FILE")
    recording = read_recording(args.file)
    # Verified before anything is printed: a recording with no ticks is one line of refusal.
    divergence = verify(recording) if args.verify else None
    if args.model is not None and not recording.records:
        raise RecordingError(f"{args.file.name} has no recorded ticks: there is nothing to compare")
    print(describe(recording))
    if args.model is not None:
        _compare(recording, args.model, args.json)
    if not args.verify:
        return 0
    if divergence is None:
        print(f"verified: all {len(recording.records)} recorded states reproduced exactly")
        return 0
    print(
        f"DIVERGED at record {divergence.index} (tick {divergence.tick}): {divergence.field} "
        f"recorded {divergence.recorded!r}, re-simulated {divergence.simulated!r}"
    )
    return 1


def describe(recording: Recording) -> str:
    """The recording's one-line summary (and a warning on stderr if its tail was cut off)."""
    records = recording.records
    name = recording.path.name
    if recording.truncated_bytes:
        print(
            f"warning: {name} ends in a partial record ({recording.truncated_bytes} "
            f"bytes dropped); replaying its {len(records)} whole records",
            file=sys.stderr,
        )
    last = records[-1].state if records else None
    score = f"{last.score_left}-{last.score_right}" if last else "0-0"
    seconds = len(records) / recording.params.tick_rate
    return (
        f"{name}: player {recording.header.get('player')!r} vs "
        f"{recording.header.get('opponent')}, {len(records)} ticks ({seconds:.1f} s), score {score}"
    )


def _compare(recording: Recording, model: Path, out: Path | None) -> None:
    from learner.tools.replay_analysis import compare_with_model, comparison_lines

    report = compare_with_model(recording, model)
    print("\n".join(comparison_lines(report)))
    if out is not None:
        out.write_text(json.dumps(report, indent=2))
        print(f"wrote {out}")


def add_replay_site(app, profile) -> None:
    """The replay viewer on the game's own app (``play``): ``/replay`` beside the game's
    ``/``, over the player's recordings, with the player's mirror and the imported ones."""
    from game.replay_view import ReplayLibrary
    from learner.tools.replay_analysis import add_viewer_routes, viewer_models

    add_viewer_routes(app, ReplayLibrary(profile.recordings), viewer_models(profile, None))


def view(args: argparse.Namespace) -> int:
    """The replay viewer alone, on FILE (focused) and the player's recordings; its Play link
    leads to a page saying how to start a game (``play`` serves the viewer too)."""
    from game.replay_view import ReplayLibrary
    from learner.tools.replay_analysis import viewer_app, viewer_models

    profile = player_profile(args)
    extra = []
    if args.file is not None:
        if not args.file.is_file():
            raise UsageError(f"no such recording: {args.file}")
        extra.append(args.file.resolve())
    library = ReplayLibrary(profile.recordings, extra)
    if args.file is not None:
        library.focus = next(n for n, p in library.table().items() if p == args.file.resolve())
    app = viewer_app(library, viewer_models(profile, args.model), host=args.host)
    path = "/replay" + (f"?file={library.focus}" if library.focus else "")
    return serve(app, args.host, args.port, path, "Replay viewer at", not args.no_browser)
