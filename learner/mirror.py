"""Mirrors: the one place a mirror is made, read from a file, named in a profile and shared.

A mirror is the game's opponent runtime (``game.mirror_opponent.MirrorOpponent``) fed by
this package's feature builder, with a ``ModelGate`` in front of it. ``make_mirror`` builds
one that learns (the gate admits the trainer's candidates); ``fixed_mirror`` one that plays a
single model forever (a ghost, a clone in a benchmark, a Gymnasium opponent).

A model file is data from anywhere, so ``load_model`` runs the gate's own checks on it and
refuses with a one-line reason (``MirrorError``). In a profile (``players/NAME/``), the
player's own mirror lives in ``mirror/`` (``MirrorFiles``) and imported ones in
``mirrors/NAME.onnx``; ``resolve`` turns what a user types ('mine', a name, a path) into a file.
``run`` is ``main.py mirror`` (export, import, list).

Importing this module loads neither onnxruntime nor onnx (``main.py`` imports it for its
error type); they load when a mirror is made or a model read.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from game import safe_json
from game.engine import DEFAULT_PARAMS, Params, View
from game.files import atomic_write
from game.playback import DEFAULT_PLAYBACK, Playback

if TYPE_CHECKING:
    import numpy as np

    from game.mirror_opponent import MirrorOpponent, Model, ModelGate
    from game.profiles import Profile

log = logging.getLogger(__name__)

ObserveFactory = Callable[[], Callable[[View], "np.ndarray"]]


SETTINGS_MAX_BYTES = 64 * 1024


class MirrorError(ValueError):
    """A mirror that cannot be used or shared; the message says why in one line."""

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or message  # the bare reason, without the file's name


class MirrorFiles:
    """The learner's files in a player's profile folder (``players/NAME/mirror/``)."""

    def __init__(self, profile_folder: Path) -> None:
        self.folder = profile_folder / "mirror"
        self.model = self.folder / "model.onnx"  # the latest model the gate accepted
        self.checkpoint = self.folder / "checkpoint.pt"  # the trainer's weights and optimizer
        self.settings = self.folder / "settings.json"  # architecture, sampler weights, on/off

    def load_settings(self) -> dict:
        """The saved settings, bounded (a settings file is outside input like any other):
        an unreadable, huge or deeply nested file is ignored with a warning, never fatal."""
        try:
            settings = safe_json.load_file(self.settings, SETTINGS_MAX_BYTES, max_depth=4)
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable %s (%s); using defaults", self.settings, exc)
            return {}
        if not isinstance(settings, dict):
            log.warning("ignoring %s: not a JSON object; using defaults", self.settings)
            return {}
        return settings

    def save_settings(self, settings: dict) -> None:
        try:
            atomic_write(self.settings, json.dumps(settings, indent=2).encode())
        except OSError as exc:
            log.error("could not save learner settings: %s", exc.strerror or exc)


# -- making mirrors ---------------------------------------------------------------------------


def _features(params: Params) -> ObserveFactory:
    from learner.features import ObservationBuilder

    return lambda: ObservationBuilder(params).push


def make_mirror(
    params: Params = DEFAULT_PARAMS,
    name: str = "mirror",
    save_path: Path | None = None,
    observe_factory: ObserveFactory | None = None,
    playback: Playback = DEFAULT_PLAYBACK,
    watched: bool = True,
) -> tuple[MirrorOpponent, ModelGate]:
    """An opponent that plays scripted until its gate accepts a model (saved to ``save_path``);
    ``playback``: how its model's scores become commands (``game.playback``); ``watched``:
    each inference has a deadline (off only for a model this process made, off the tick path)."""
    from game.mirror_opponent import INFERENCE_DEADLINE, MirrorOpponent, ModelGate

    opponent = MirrorOpponent(
        observe_factory=observe_factory or _features(params),
        name=name,
        playback=playback,
        deadline=INFERENCE_DEADLINE if watched else None,
    )
    return opponent, ModelGate(opponent, save_path=save_path)


def fixed_mirror(
    model: Model,
    params: Params = DEFAULT_PARAMS,
    name: str = "mirror",
    observe_factory: ObserveFactory | None = None,
    playback: Playback = DEFAULT_PLAYBACK,
    watched: bool = True,
) -> MirrorOpponent:
    """An opponent that plays ``model`` (already checked) from its first ``act`` and never
    learns: a ghost, a clone in a benchmark, an environment's opponent."""
    opponent, _ = make_mirror(
        params, name, observe_factory=observe_factory, playback=playback, watched=watched
    )
    opponent.offer(model)
    return opponent


# -- model files ------------------------------------------------------------------------------


def load_model(path: Path) -> Model:
    """A model file read within the game's size limit and checked as the game checks every
    candidate (``game.mirror_opponent``); ``MirrorError`` says why not in one line."""
    from game.mirror_opponent import CandidateRejected, read_model_file

    path = Path(path)
    try:
        return checked_model(read_model_file(path))
    except CandidateRejected as exc:
        raise MirrorError(f"model {path.name} cannot play: {exc}", str(exc)) from None


def checked_model(data: bytes) -> Model:
    """A model file's bytes checked as the game checks every candidate, ready to play
    (``game.mirror_opponent.CandidateRejected`` says why not)."""
    from game.mirror_opponent import Model, check_candidate

    session, metadata = check_candidate(data)
    # check_candidate range-checked model_version when present.
    return Model(session, int(metadata.get("model_version") or 0), metadata, data)


# -- mirrors in a profile ---------------------------------------------------------------------


def shared_folder(profile: Profile) -> Path:
    """Where imported mirrors live: ``players/NAME/mirrors/``."""
    return profile.folder / "mirrors"


def _check_name(name: str) -> str:
    from game.profiles import check_player_name

    try:
        return check_player_name(name, "mirror name")  # it becomes a file name
    except ValueError as exc:
        raise MirrorError(str(exc)) from None


def resolve(profile: Profile, spec: str) -> Path:
    """The file ``spec`` names: 'mine' (the player's own), an imported mirror's name, or a
    path to an .onnx file (anything ending in .onnx or holding a '/')."""
    if spec == "mine":
        return MirrorFiles(profile.folder).model
    if spec.endswith(".onnx") or "/" in spec:
        return Path(spec)
    return shared_folder(profile) / f"{_check_name(spec)}.onnx"


def ghost(
    profile: Profile,
    spec: str,
    params: Params = DEFAULT_PARAMS,
    playback: Playback = DEFAULT_PLAYBACK,
) -> MirrorOpponent:
    """A saved mirror that plays with learning off (``play --ghost`` / ``--left-mirror``)."""
    path = resolve(profile, spec)
    if not path.exists():
        raise MirrorError(f"no mirror {spec!r} ({path} does not exist; see 'mirror list')")
    name = f"ghost of {path.stem if spec != 'mine' else 'you'}"
    return fixed_mirror(load_model(path), params, name, playback=playback)


def export_mirror(profile: Profile, out: Path) -> Model:
    """Write the player's own mirror to ``out`` (one ONNX file carrying its metadata)."""
    own = MirrorFiles(profile.folder).model
    if not own.exists():
        raise MirrorError(f"{profile.player!r} has no mirror yet: play a while first")
    model = load_model(own)
    try:
        atomic_write(out, model.onnx_bytes)
    except OSError as exc:
        raise MirrorError(str(exc)) from None
    return model


def import_mirror(profile: Profile, file: Path, name: str) -> Model:
    """Check ``file`` as the game would and keep it as ``mirrors/NAME.onnx``."""
    try:
        _check_name(name)
        model = load_model(file)
    except MirrorError as exc:
        raise MirrorError(f"refused: {exc}", exc.reason) from None
    target = shared_folder(profile) / f"{name}.onnx"
    if target.exists():
        raise MirrorError(f"a mirror named {name!r} exists; pick another --name")
    atomic_write(target, model.onnx_bytes)
    return model


@dataclass
class MirrorRow:
    """One line of ``mirror list``: a mirror's name and file, its model or why it is unusable."""

    name: str
    path: Path
    model: Model | None = None
    problem: str | None = None  # None with no model: the file does not exist (yet)
    met: int = 0  # the player's own: which mirror they met it as (the game's number), or 0
    like: float | None = None  # the player's own: how like them the panel last showed it


def list_mirrors(profile: Profile) -> list[MirrorRow]:
    """The player's own mirror ('mine'), then the imported ones by name."""
    shared = sorted(shared_folder(profile).glob("*.onnx"))
    rows = [MirrorRow("mine", MirrorFiles(profile.folder).model)]
    rows += [MirrorRow(path.stem, path) for path in shared]
    for row in rows:
        if row.path.exists():
            try:
                row.model = load_model(row.path)
            except MirrorError as exc:
                row.problem = str(exc)
    mine = rows[0]
    if mine.model is not None:
        from learner.live import saved_figures, settings_count  # live imports this module

        settings = MirrorFiles(profile.folder).load_settings()
        version = mine.model.version
        if settings_count(settings.get("mirror_met_version")) == version:
            mine.met = settings_count(settings.get("mirrors_met"))
        figures = saved_figures(settings.get("last_figures")) or {}
        if figures.get("version") == version:
            mine.like = figures.get("playing_agreement")  # the panel's: judged on play
    return rows


def _ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 11th, 21st (``learning_panel.js ordinal``)."""
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def format_row(row: MirrorRow) -> str:
    if row.problem is not None:
        return f"{row.name:16s} unusable: {row.problem}"
    if row.model is None:
        return f"{row.name:16s} (none yet)"
    meta = row.model.metadata  # checked by load_model: the numbers parse and are in range
    own = meta.get("temperature")
    agreement = row.like if row.like is not None else meta.get("validation_agreement")
    like = f"{float(agreement):.0%} like its player" if agreement else "likeness unknown"
    frames = meta.get("training_frames")
    trained = f"trained on {_play_time(int(frames))} of play" if frames else "play unknown"
    return (
        f"{row.name:16s} v{row.model.version:<5} {meta.get('architecture', '?'):12s} "
        f"{like:>20s}  {trained}  "
        + (f"draws at {own} (its player's jitter)" if own else "no temperature of its own")
        # The game numbers the mirrors the player met; the learner numbers every try.
        + (f"  (the {_ordinal(row.met)} mirror you met: the game's v{row.met})" if row.met else "")
    )


def _play_time(frames: int) -> str:
    """Frames at 60 a second as the panel says it (``learning_panel.js formatPlayTime``)."""
    minutes = int(frames / 3600 + 0.5)  # halves up, as Math.round
    if frames < 3600 or minutes < 1:
        return "less than a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def run(args: argparse.Namespace) -> int:
    """``main.py mirror export|import|list``."""
    from learner.tools.command import player_profile  # the command line's shared helper

    profile = player_profile(args)
    if args.mirror_command == "export":
        model = export_mirror(profile, args.out)
        print(
            f"wrote {args.out}: {args.player}'s mirror v{model.version} "
            f"({model.metadata.get('architecture')})"
        )
    elif args.mirror_command == "import":
        model = import_mirror(profile, args.file, args.name)
        print(
            f"imported {args.file.name} as {args.name!r} (v{model.version}, "
            f"{model.metadata.get('architecture')}); play it: main.py play --ghost {args.name}"
        )
    else:
        for row in list_mirrors(profile):
            print(format_row(row))
    return 0
