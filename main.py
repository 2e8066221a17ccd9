"""Mirror Pong's command line: ``play`` (the default), ``replay``, ``train``, ``bench``, ...

    python main.py                      play in the browser (http://127.0.0.1:8000)
    python main.py play --desktop       play in a pygame window
    python main.py replay FILE --verify re-simulate a recording and check it exactly
    python main.py bench loop           measure the session loop's tick lateness

Run any command with --help for its options. Building the parser imports nothing heavy
(no numpy, torch, onnxruntime or aiohttp): each command imports what it needs when it runs.
Here are the parser and play's wiring; the other commands' bodies are a ``run(args)`` each,
beside the code they drive (learner.tools.*, learner.mirror, learner.bench.*).
A mistake on the command line, or a refusal from the library (a bad recording, model or
persona), is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from learner.tools.command import (  # light: imports on use
    UsageError,
    add_playback_options,
    playback_from,
    player_profile,
    serve,
)
from models.contract import ARCHITECTURES  # torch-free: the parser may import it

ROOT = Path(__file__).resolve().parent
COMMANDS = ("play", "replay", "train", "tune", "mirror", "export-minari", "bench")


def _user_errors() -> tuple[type[Exception], ...]:
    """Errors that mean the user asked for something that cannot be done (imported only
    when something was raised: all are light)."""
    from game.personas import PersonaError
    from game.recording import RecordingError
    from learner.mirror import MirrorError
    from learner.recordings import TrainingError

    return (UsageError, PersonaError, RecordingError, MirrorError, TrainingError)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    verbose = getattr(args, "verbose", False)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not verbose:  # a quiet terminal: no line per request, no routine chatter
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
        for chatty in ("asyncio", "PIL", "matplotlib"):
            logging.getLogger(chatty).setLevel(logging.WARNING)
    try:
        return args.func(args)
    except Exception as exc:
        if not isinstance(exc, _user_errors()):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2


def parse_args(argv: list[str]) -> argparse.Namespace:
    # Play is the default command: a bare option list (``main.py --port 8001``) is play's.
    if not argv or (argv[0].startswith("-") and argv[0] not in {"-h", "--help", "--version"}):
        argv = ["play", *argv]
    return build_parser().parse_args(argv)


# -- the parser --------------------------------------------------------------------------------


def _lazy(module: str) -> Callable[[argparse.Namespace], int]:
    """A command's ``func``: import ``module`` when the command runs, not before (every
    ``--help`` builds the parser), and call its ``run(args)``."""

    def run(args: argparse.Namespace) -> int:
        return importlib.import_module(module).run(args)

    return run


class _Version(argparse.Action):
    """``--version``: the version in pyproject.toml, read only when asked."""

    def __init__(self, option_strings, dest, **kwargs) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        import tomllib

        with open(ROOT / "pyproject.toml", "rb") as file:
            version = tomllib.load(file)["project"]["version"]
        print(f"Mirror Pong {version}")
        parser.exit()


def _profile_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="where profiles and recordings live (default: the platform's user data folder)",
    )
    parser.add_argument("--player", default="player", help="profile name (default: %(default)s)")


def _sources(parser: argparse.ArgumentParser, help: str, required: bool = True) -> None:
    """``--from PATH...``; when not required, the player's own recordings are the default."""
    if not required:
        help += " (default: the recordings of --player's profile)"
    parser.add_argument(
        "--from",
        dest="sources",
        type=Path,
        nargs="+",
        required=required,
        default=None,
        metavar="PATH",
        help=help,
    )


def _model(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        choices=ARCHITECTURES,
        default="mlp",
        help="the mirror's architecture (default: %(default)s)",
    )


def _seed(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--seed", type=int, default=0, help=f"seed of {what} (default: 0)")


def _server_options(
    parser: argparse.ArgumentParser, host: str, port: str, default: int, verbose: str
) -> None:
    parser.add_argument("--host", default="127.0.0.1", help=f"{host} (default: %(default)s)")
    parser.add_argument("--port", type=int, default=default, help=f"{port} (default: %(default)s)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser tab")
    parser.add_argument(
        "--verbose",
        action="store_true",
        help=f"log {verbose} (default: a quiet terminal)",
    )


def build_parser() -> argparse.ArgumentParser:
    from learner.bench.cli import add_bench_parser

    parser = argparse.ArgumentParser(
        prog="main.py",
        description="Mirror Pong: Pong against an opponent that learns to play like you.",
    )
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", metavar="{" + ",".join(COMMANDS) + "}")
    sub.required = True
    add_play_parser(sub)
    add_replay_parser(sub)
    add_train_parser(sub)
    add_tune_parser(sub)
    add_mirror_parser(sub)
    add_minari_parser(sub)
    add_bench_parser(sub)
    return parser


def add_play_parser(sub) -> None:
    play_ = sub.add_parser(
        "play", help="play (the default command)", description="Play Mirror Pong."
    )
    _server_options(
        play_,
        "address to serve on",
        "port to serve on",
        8000,
        "every request, every turned-down model and how the mirror's temperature was found",
    )
    play_.add_argument("--desktop", action="store_true", help="play in a pygame window instead")
    play_.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed of the first match (a new match: nothing is resumed)",
    )
    play_.add_argument(
        "--new-match",
        action="store_true",
        help="start a new match even if the last one was cut off unfinished (by default "
        "play resumes it from its last recorded state)",
    )
    play_.add_argument(
        "--points", type=int, default=11, help="points needed to win a match (default: %(default)s)"
    )
    play_.add_argument("--no-record", action="store_true", help="do not record matches")
    play_.add_argument(
        "--persona",
        default=None,
        metavar="SPEC",
        help="let a scripted player play your side while you watch the mirror learn it: a "
        "built-in name (chaser, predictor, lazy, nervous, angler, keyboard, pointer, "
        "misjudge), path/to/file.py:Class or "
        "package.module:Class",
    )
    play_.add_argument(
        "--no-learn",
        action="store_true",
        help="play the scripted opponent only (no mirror, no trainer process)",
    )
    play_.add_argument(
        "--model",
        choices=ARCHITECTURES,
        default=None,
        help="the mirror's architecture (default: the profile's last choice, else mlp)",
    )
    play_.add_argument(
        "--sampler-config",
        type=Path,
        default=None,
        metavar="FILE",
        help="sampling weights to learn with (JSON, e.g. written by tune); saved in the profile",
    )
    play_.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="cpu",
        help="where the trainer runs (default: %(default)s)",
    )
    play_.add_argument(
        "--ghost",
        default=None,
        metavar="MIRROR",
        help="play against a saved mirror with learning off: an imported mirror's name "
        "(see 'mirror list'), 'mine', or a path to an .onnx file",
    )
    play_.add_argument(
        "--left-mirror",
        default=None,
        metavar="MIRROR",
        help="a mirror plays your side (with --ghost: watch two mirrors play each other)",
    )
    add_playback_options(play_)
    _profile_options(play_)
    play_.set_defaults(func=play)


def add_replay_parser(sub) -> None:
    replay_ = sub.add_parser(
        "replay",
        help="watch, verify or re-run a recording",
        description="Without --verify or --json: open the replay viewer in the browser "
        "(on FILE, or on the list of the player's recordings). A running game serves the "
        "same viewer at /replay on its own address (its page links there and back); this "
        "command serves the viewer alone, for when no game runs: its Play link leads to a "
        "page saying how to start one. --verify re-simulates FILE "
        "headless and exits 0 only if every recorded state is reproduced exactly. --model "
        "with --json (or --verify) re-runs FILE with the player's side driven by that model "
        "and reports how its play differs from the player's.",
    )
    replay_.add_argument("file", type=Path, nargs="?", help="a .mpr recording")
    replay_.add_argument(
        "--verify",
        action="store_true",
        help="re-simulate headless; exit 0 only if every recorded state is reproduced exactly",
    )
    replay_.add_argument(
        "--model",
        type=Path,
        default=None,
        metavar="MODEL.onnx",
        help="a mirror to compare with the player (default in the viewer: the player's own)",
    )
    replay_.add_argument("--json", type=Path, default=None, help="write the comparison here")
    _server_options(replay_, "viewer address", "viewer port", 8001, "every request")
    _profile_options(replay_)
    replay_.set_defaults(func=_lazy("learner.tools.replay_command"))


def add_train_parser(sub) -> None:
    train = sub.add_parser(
        "train",
        help="train a mirror offline from recordings",
        description="Train a mirror from recorded matches (the player's own, unless --from "
        "names others) and write it as ONNX (with the standard metadata) that play, replay "
        "and the benchmarks load. Ctrl-C stops early and keeps the best model so far.",
    )
    _sources(train, "recordings (.mpr files or folders holding them)", required=False)
    _profile_options(train)
    _model(train)
    train.add_argument(
        "--sampler-config",
        type=Path,
        default=None,
        metavar="FILE",
        help="JSON of sampling weights (as written by the game's profile or by tune)",
    )
    _seed(train, "the model's initial weights and the sampling")
    train.add_argument(
        "--steps-per-second",
        type=float,
        default=30.0,
        help="training steps per second of recorded play (default: %(default)s)",
    )
    train.add_argument(
        "--out", type=Path, required=True, metavar="MODEL.onnx", help="where the model goes"
    )
    train.set_defaults(func=_lazy("learner.tools.offline"))


def add_tune_parser(sub) -> None:
    tune = sub.add_parser(
        "tune",
        help="search the sampling weights with Optuna",
        description="Search the sampler's relevance weights on the player's recordings (or "
        "--from's). The play is split by time, so one long session is enough: each trial "
        "trains a fresh mirror on the older rallies and is scored by agreement while the ball "
        "approaches in the newest quarter of them (at least 10 s), which no trial trains on. "
        "Several machines can join one study with --storage postgresql://... and the same "
        "--study name (needs: pip install -r requirements-extras.txt).",
    )
    _sources(tune, "recordings (.mpr files or folders holding them)", required=False)
    tune.add_argument("--trials", type=int, default=20, help="trials to run (default: 20)")
    tune.add_argument(
        "--storage",
        default=None,
        metavar="URL",
        help="Optuna storage URL, e.g. postgresql://USER:PASS@HOST/DB to share a study "
        "between machines (default: an SQLite file under the data dir, tuning/studies.db)",
    )
    tune.add_argument("--study", default="mirror-pong", help="study name (default: %(default)s)")
    tune.add_argument(
        "--steps", type=int, default=600, help="training steps per trial (default: 600)"
    )
    _model(tune)
    _seed(tune, "every trial's mirror")
    tune.add_argument(
        "--out",
        type=Path,
        default=Path("sampler-best.json"),
        help="where the best weights go (default: %(default)s)",
    )
    tune.add_argument(
        "--report",
        type=Path,
        default=Path("tuning-report"),
        help="folder for the PNG report (default: %(default)s)",
    )
    _profile_options(tune)  # the data dir also holds the default study file
    tune.set_defaults(func=_lazy("learner.tools.tune"))


def add_mirror_parser(sub) -> None:
    mirror = sub.add_parser(
        "mirror",
        help="share mirrors: export yours, import a friend's, list them",
        description="A mirror travels as one ONNX file carrying its metadata. Imported "
        "mirrors live in the profile's mirrors/ folder; play against one with "
        "'play --ghost NAME'.",
    )
    mirror.set_defaults(func=_lazy("learner.mirror"))
    mirror_sub = mirror.add_subparsers(
        dest="mirror_command", required=True, metavar="{export,import,list}"
    )
    export = mirror_sub.add_parser("export", help="write your mirror to one file")
    export.add_argument(
        "--out", type=Path, required=True, metavar="FILE.onnx", help="the file to write"
    )
    _profile_options(export)
    import_ = mirror_sub.add_parser("import", help="import a mirror file under a name")
    import_.add_argument(
        "file", type=Path, metavar="FILE.onnx", help="a mirror exported with 'mirror export'"
    )
    import_.add_argument("--name", required=True, help="what to call it (letters, digits, -_.)")
    _profile_options(import_)
    listing = mirror_sub.add_parser("list", help="list your mirror and the imported ones")
    _profile_options(listing)


def add_minari_parser(sub) -> None:
    minari = sub.add_parser(
        "export-minari",
        help="export recordings as a Minari dataset (optional extra)",
        description="One episode per recording, from the player's side, for Gymnasium-based "
        "imitation libraries. Datasets go to Minari's folder (MINARI_DATASETS_PATH, default "
        "~/.minari/datasets). Needs: pip install -r requirements-extras.txt",
    )
    _sources(minari, "recordings (.mpr files or folders)")
    minari.add_argument(
        "--dataset-id", required=True, help="e.g. mirrorpong/alice-v0 (namespace/name-vN)"
    )
    minari.add_argument("--author", default=None, help="the dataset's author (optional)")
    minari.set_defaults(func=_lazy("learner.tools.minari_export"))


# -- play --------------------------------------------------------------------------------------


def play(args: argparse.Namespace) -> int:
    from game.engine import Params
    from game.opponent import ScriptedOpponent
    from game.recording import RecordingWriter, make_header
    from game.session import Session
    from learner.mirror import ghost

    profile = player_profile(args)
    if args.points < 1:
        raise UsageError(f"--points must be at least 1, got {args.points}")
    if args.persona and args.left_mirror:
        raise UsageError("--persona and --left-mirror both want your side")
    params = Params(points_to_win=args.points)
    playback = playback_from(args)
    learner = None
    lock = None
    if not (args.no_record and (args.ghost or args.no_learn)):  # this session writes the profile
        from game.profile_lock import ProfileInUse, ProfileLock

        try:
            lock = ProfileLock(profile.folder, args.player).acquire()
        except ProfileInUse as exc:
            raise UsageError(str(exc)) from None
    left_driver = ghost(profile, args.left_mirror, params, playback) if args.left_mirror else None
    if args.persona:
        from game.personas import load_persona

        left_driver = load_persona(args.persona)
    if args.ghost:
        opponent = ghost(profile, args.ghost, params, playback)  # a ghost never learns
    elif args.no_learn:
        opponent = ScriptedOpponent()
    else:
        opponent, learner = _live_mirror(profile, params, args, playback)

    def recorder_factory(params: Params, seed: int, opponent_label: str) -> RecordingWriter:
        header = make_header(params, seed, args.player, opponent_label)
        return RecordingWriter(profile.new_recording_path(seed), header)

    resume = None  # a match cut off by a killed server goes on where its recording ends
    if not (args.no_record or args.new_match or args.seed is not None):
        from game.recording import unfinished_match

        resume = unfinished_match(profile.list_recordings(), params)
    session = Session(
        opponent,
        params=params,
        seed=args.seed,
        recorder_factory=None if args.no_record else recorder_factory,
        player=args.player,
        left_driver=left_driver,
        resume=resume,
    )
    if not args.no_record:
        print(f"Recording matches to {profile.recordings}")
    if resume is not None:
        state = resume.last.state
        print(
            f"Resuming the unfinished match of {resume.path.name} at "
            f"{state.score_left}-{state.score_right} (--new-match starts a new one)"
        )
    if learner is not None:
        from game.ports import plug_learning

        plug_learning(session, learner)
        print(f"Your mirror learns in a background process; its files: {learner.files.folder}")
    from game.session import tune_process_for_real_time

    tune_process_for_real_time()
    try:
        if args.desktop:
            from game.desktop import run_desktop

            return run_desktop(session, learner)
        from game.server import ServerConfig, create_app
        from learner.tools.replay_command import add_replay_site

        app = create_app(ServerConfig(host=args.host, port=args.port), session, learning=learner)
        add_replay_site(app, profile)  # one site: the game at /, its replays at /replay
        return serve(
            app, args.host, args.port, "/", "Mirror Pong is running at", not args.no_browser
        )
    finally:
        if learner is not None:
            learner.stop()
        if lock is not None:
            lock.release()


def _live_mirror(profile, params, args: argparse.Namespace, playback):
    """The learned opponent and the learner that feeds it, plugged together."""
    from learner.config import TrainerConfig
    from learner.live import LiveLearner
    from learner.mirror import MirrorFiles, make_mirror

    files = MirrorFiles(profile.folder)
    config = None
    try:
        if args.model is not None or args.device != "cpu":
            device = args.device
            if device != "cpu":
                from learner.trainer import pick_device  # needs torch to look for CUDA

                device = pick_device(device)
            config = TrainerConfig(device=device)
            config.architecture = args.model or files.load_settings().get("architecture", "mlp")
        opponent, gate = make_mirror(params, save_path=files.model, playback=playback)
        learner = LiveLearner(opponent, gate, files, config=config, params=params)
        if args.sampler_config is not None:
            from learner.sampler import read_sampler_config

            learner.weights = read_sampler_config(args.sampler_config)
            learner.save_settings(wait=True)
    except ValueError as exc:  # a device that is not there, a bad sampler config
        raise UsageError(str(exc)) from None
    return opponent, learner


if __name__ == "__main__":
    sys.exit(main())
