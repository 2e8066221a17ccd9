"""Mirror Pong's command line: ``play`` (the default), ``replay``, ``bench``.

    python main.py                      play in the browser (http://127.0.0.1:8000)
    python main.py play --desktop       play in a pygame window
    python main.py replay FILE --verify re-simulate a recording and check it exactly
    python main.py bench loop           measure the session loop's tick lateness

Run any command with --help for its options.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

COMMANDS = ("play", "replay", "bench", "train", "tune", "mirror", "export-minari")


def _add_profile_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="where profiles and recordings live (default: the platform's user data folder)",
    )
    parser.add_argument("--player", default="player", help="profile name (default: %(default)s)")


def _add_sources(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument(
        "--from", dest="sources", type=Path, nargs="+", required=True, metavar="PATH", help=help
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="main.py",
        description="Mirror Pong: Pong against an opponent that learns to play like you.",
    )
    sub = parser.add_subparsers(
        dest="command", metavar="{play,replay,train,tune,mirror,export-minari,bench}"
    )

    play = sub.add_parser(
        "play", help="play (the default command)", description="Play Mirror Pong."
    )
    play.add_argument(
        "--host", default="127.0.0.1", help="address to serve on (default: %(default)s)"
    )
    play.add_argument(
        "--port", type=int, default=8000, help="port to serve on (default: %(default)s)"
    )
    play.add_argument("--no-browser", action="store_true", help="do not open a browser tab")
    play.add_argument("--desktop", action="store_true", help="play in a pygame window instead")
    play.add_argument("--seed", type=int, default=None, help="seed of the first match")
    play.add_argument(
        "--points", type=int, default=11, help="points needed to win a match (default: %(default)s)"
    )
    play.add_argument("--no-record", action="store_true", help="do not record matches")
    play.add_argument(
        "--persona",
        default=None,
        metavar="SPEC",
        help="let a scripted player play your side while you watch the mirror learn it: a "
        "built-in name (chaser, predictor, lazy, nervous, angler), path/to/file.py:Class or "
        "package.module:Class",
    )
    play.add_argument(
        "--no-learn",
        action="store_true",
        help="play the scripted opponent only (no mirror, no trainer process)",
    )
    play.add_argument(
        "--model",
        choices=("mlp", "transformer"),
        default=None,
        help="the mirror's architecture (default: the profile's last choice, else mlp)",
    )
    play.add_argument(
        "--sampler-config",
        type=Path,
        default=None,
        metavar="FILE",
        help="sampling weights to learn with (JSON, e.g. written by tune); saved in the profile",
    )
    play.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="cpu",
        help="where the trainer runs (default: %(default)s)",
    )
    play.add_argument(
        "--ghost",
        default=None,
        metavar="MIRROR",
        help="play against a saved mirror with learning off: an imported mirror's name "
        "(see 'mirror list'), 'mine', or a path to an .onnx file",
    )
    play.add_argument(
        "--left-mirror",
        default=None,
        metavar="MIRROR",
        help="a mirror plays your side (with --ghost: watch two mirrors play each other)",
    )
    _add_profile_options(play)

    mirror = sub.add_parser(
        "mirror",
        help="share mirrors: export yours, import a friend's, list them",
        description="A mirror travels as one ONNX file carrying its metadata. Imported "
        "mirrors live in the profile's mirrors/ folder; play against one with "
        "'play --ghost NAME'.",
    )
    mirror_sub = mirror.add_subparsers(
        dest="mirror_command", required=True, metavar="{export,import,list}"
    )
    export = mirror_sub.add_parser("export", help="write your mirror to one file")
    export.add_argument("--out", type=Path, required=True, metavar="FILE.onnx")
    _add_profile_options(export)
    import_ = mirror_sub.add_parser("import", help="import a mirror file under a name")
    import_.add_argument("file", type=Path, metavar="FILE.onnx")
    import_.add_argument("--name", required=True, help="what to call it (letters, digits, -_.)")
    _add_profile_options(import_)
    listing = mirror_sub.add_parser("list", help="list your mirror and the imported ones")
    _add_profile_options(listing)

    minari = sub.add_parser(
        "export-minari",
        help="export recordings as a Minari dataset (optional extra)",
        description="One episode per recording, from the player's side, for Gymnasium-based "
        "imitation libraries. Datasets go to Minari's folder (MINARI_DATASETS_PATH, default "
        "~/.minari/datasets). Needs: pip install -r requirements-extras.txt",
    )
    _add_sources(minari, "recordings (.mpr files or folders)")
    minari.add_argument(
        "--dataset-id", required=True, help="e.g. mirrorpong/alice-v0 (namespace/name-vN)"
    )
    minari.add_argument("--author", default=None)

    replay = sub.add_parser(
        "replay",
        help="watch, verify or re-run a recording",
        description="Without --verify or --json: open the replay viewer in the browser "
        "(on FILE, or on the list of the player's recordings). --verify re-simulates FILE "
        "headless and exits 0 only if every recorded state is reproduced exactly. --model "
        "with --json (or --verify) re-runs FILE with the player's side driven by that model "
        "and reports how its play differs from the player's.",
    )
    replay.add_argument("file", type=Path, nargs="?", help="a .mpr recording")
    replay.add_argument(
        "--verify",
        action="store_true",
        help="re-simulate headless; exit 0 only if every recorded state is reproduced exactly",
    )
    replay.add_argument(
        "--model",
        type=Path,
        default=None,
        metavar="MODEL.onnx",
        help="a mirror to compare with the player (default in the viewer: the player's own)",
    )
    replay.add_argument("--json", type=Path, default=None, help="write the comparison here")
    replay.add_argument("--host", default="127.0.0.1", help="viewer address (default: %(default)s)")
    replay.add_argument("--port", type=int, default=8001, help="viewer port (default: %(default)s)")
    replay.add_argument("--no-browser", action="store_true", help="do not open a browser tab")
    _add_profile_options(replay)

    train = sub.add_parser(
        "train",
        help="train a mirror offline from recordings",
        description="Train a mirror from recorded matches and write it as ONNX (with the "
        "standard metadata) that play, replay and the benchmarks load. Ctrl-C stops early "
        "and keeps the best model so far.",
    )
    _add_sources(train, "recordings (.mpr files or folders holding them)")
    train.add_argument("--model", choices=("mlp", "transformer"), default="mlp")
    train.add_argument(
        "--sampler-config",
        type=Path,
        default=None,
        metavar="FILE",
        help="JSON of sampling weights (as written by the game's profile or by tune)",
    )
    train.add_argument("--seed", type=int, default=0)
    train.add_argument(
        "--steps-per-second",
        type=float,
        default=30.0,
        help="training steps per second of recorded play (default: %(default)s)",
    )
    train.add_argument("--out", type=Path, required=True, metavar="MODEL.onnx")

    tune = sub.add_parser(
        "tune",
        help="search the sampling weights with Optuna",
        description="Search the sampler's relevance weights: each trial trains a fresh mirror "
        "on some recordings and is scored by agreement while the ball approaches on others. "
        "Several machines can join one study with --storage postgresql://... and the same "
        "--study name (needs: pip install 'psycopg[binary]').",
    )
    _add_sources(tune, "recordings (.mpr files or folders); at least two")
    tune.add_argument("--trials", type=int, default=20, help="trials to run (default: 20)")
    tune.add_argument(
        "--storage",
        default=None,
        help="Optuna storage URL (default: an SQLite file under the data dir)",
    )
    tune.add_argument("--study", default="mirror-pong", help="study name (default: %(default)s)")
    tune.add_argument(
        "--steps", type=int, default=600, help="training steps per trial (default: 600)"
    )
    tune.add_argument("--model", choices=("mlp", "transformer"), default="mlp")
    tune.add_argument("--seed", type=int, default=0)
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
    tune.add_argument(
        "--data-dir", type=Path, default=None, help="data folder for the default study file"
    )

    bench = sub.add_parser("bench", help="benchmarks that print figures", description="Benchmarks.")
    bench_sub = bench.add_subparsers(
        dest="bench", metavar="{loop,live,fidelity,stylometry,relevance,perf,report}", required=True
    )
    loop = bench_sub.add_parser(
        "loop",
        help="session-loop tick lateness at 60 Hz with one connected client",
        description="Tick lateness of the real session loop while the server serves one "
        "WebSocket client (run in a separate process), on the real clock.",
    )
    loop.add_argument(
        "--seconds", type=float, default=60.0, help="how long to measure (default: 60)"
    )
    loop.add_argument("--json", type=Path, default=None, help="also write the figures here")
    live = bench_sub.add_parser(
        "live",
        help="live play with the trainer flat out: lateness, decision and hot-swap latency",
        description="A persona plays live (real clock, real server, one client) while its "
        "mirror trains flat out in the trainer process.",
    )
    live.add_argument("--persona", default="chaser", help="who plays (default: %(default)s)")
    live.add_argument("--model", choices=("mlp", "transformer"), default="mlp")
    live.add_argument("--minutes", type=float, default=3.0, help="real minutes (default: 3)")
    live.add_argument("--json", type=Path, default=None, help="also write the figures here")

    fidelity = bench_sub.add_parser(
        "fidelity",
        help="how well and how fast a mirror copies a persona (headless, seeded)",
        description="A persona plays against its own evolving mirror on a simulated clock; "
        "then the clone is scored on held-out play and its style compared.",
    )
    fidelity.add_argument("--persona", required=True, metavar="SPEC", help="who to copy")
    fidelity.add_argument("--model", choices=("mlp", "transformer"), default="mlp")
    fidelity.add_argument("--sampler", choices=("relevance", "uniform"), default="relevance")
    fidelity.add_argument("--minutes", type=float, default=3.0, help="simulated minutes of play")
    fidelity.add_argument("--seed", type=int, default=0)
    fidelity.add_argument("--json", type=Path, default=None, help="also write the results here")

    stylometry = bench_sub.add_parser(
        "stylometry",
        help="can each clone be told apart: clone x persona agreement matrix",
        description="Trains one clone per persona, then scores every clone on every "
        "persona's held-out play.",
    )
    stylometry.add_argument(
        "--persona", action="append", metavar="SPEC", help="repeat; default: all built-ins"
    )
    stylometry.add_argument("--minutes", type=float, default=3.0, help="simulated minutes each")
    stylometry.add_argument("--model", choices=("mlp", "transformer"), default="mlp")
    stylometry.add_argument("--seed", type=int, default=0)
    stylometry.add_argument("--json", type=Path, default=None, help="also write the results here")

    from learner.bench import perf as bench_perf
    from learner.bench import relevance, report

    relevance.add_parser(bench_sub)
    bench_perf.add_parser(bench_sub)
    report.add_parser(bench_sub)
    return parser


def parse_args(argv: list[str]) -> argparse.Namespace:
    if not argv or (argv[0] not in COMMANDS and argv[0] not in {"-h", "--help"}):
        argv = ["play", *argv]
    return build_parser().parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        return _dispatch(args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "play":
        return play(args)
    if args.command == "replay":
        return replay(args)
    if args.command == "train":
        return train_offline(args)
    if args.command == "tune":
        return tune_weights(args)
    if args.command == "mirror":
        return mirror_command(args)
    if args.command == "export-minari":
        return export_minari_command(args)
    if args.command == "bench" and args.bench == "loop":
        from learner.bench.loop import bench_loop

        return bench_loop(seconds=args.seconds, json_path=args.json)
    if args.command == "bench" and args.bench == "live":
        from learner.bench.live import bench_live

        return bench_live(args.persona, args.model, args.minutes, args.json)
    if args.command == "bench" and args.bench == "perf":
        from learner.bench import perf as bench_perf

        return bench_perf.run(args)
    if args.command == "bench" and args.bench == "report":
        from learner.bench import report

        return report.run(args)
    if args.command == "bench" and args.bench == "relevance":
        from learner.bench import relevance

        return relevance.run(args)
    if args.command == "bench":
        return _bench_learning(args)
    return 2


def _bench_learning(args: argparse.Namespace) -> int:
    from game.personas import PersonaError
    from learner.bench import learning as benches

    if args.minutes <= 0:
        print(f"error: --minutes must be positive, got {args.minutes}", file=sys.stderr)
        return 2
    try:
        if args.bench == "fidelity":
            result = benches.fidelity(
                args.persona, args.model, args.sampler, args.minutes, args.seed
            )
            benches.print_fidelity(result)
        else:
            specs = args.persona or benches.DEFAULT_PERSONAS
            result = benches.stylometry(specs, args.minutes, args.seed, args.model)
            benches.print_stylometry(result)
    except (PersonaError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    benches.write_json(result, args.json)
    return 0


class UsageError(Exception):
    """Bad input from the command line: printed as one line, exit code 2."""


def _profile(args: argparse.Namespace):
    from game.profiles import Profile, check_player_name, default_data_dir

    try:
        check_player_name(args.player)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return Profile(args.data_dir or default_data_dir(), args.player)


def _run_web_app(app, host: str, port: int, path: str, what: str, open_browser: bool) -> int:
    """Serve ``app`` until Ctrl-C, announcing its URL (and opening it) once it listens."""
    import webbrowser

    from aiohttp import web

    url = f"http://{f'[{host}]' if ':' in host else host}:{port}{path}"

    async def announce(app):
        print(f"{what} {url}  (Ctrl-C to quit)", flush=True)
        if open_browser:
            webbrowser.open(url)

    app.on_startup.append(announce)
    try:
        web.run_app(app, host=host, port=port, print=None)
    except OSError as exc:
        raise UsageError(f"cannot serve on {host}:{port}: {exc.strerror}") from None
    return 0


def play(args: argparse.Namespace) -> int:
    from game.engine import Params
    from game.opponent import ScriptedOpponent
    from game.recording import RecordingWriter, make_header
    from game.session import Session

    profile = _profile(args)
    if args.points < 1:
        print(f"error: --points must be at least 1, got {args.points}", file=sys.stderr)
        return 2
    params = Params(points_to_win=args.points)
    learner = None
    left_driver = None
    try:
        if args.left_mirror:
            left_driver = _fixed_mirror(profile, args.left_mirror, params)
        if args.ghost:
            opponent = _fixed_mirror(profile, args.ghost, params)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.ghost:
        pass  # a ghost never learns
    elif args.no_learn:
        opponent = ScriptedOpponent()
    else:
        try:
            opponent, learner = _mirror(profile, params, args.model, args.device)
            if args.sampler_config is not None:
                from learner.sampler import read_sampler_config

                learner.weights = read_sampler_config(args.sampler_config)
                learner.save_settings(wait=True)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2

    def recorder_factory(params: Params, seed: int, opponent_label: str) -> RecordingWriter:
        header = make_header(params, seed, args.player, opponent_label)
        return RecordingWriter(profile.new_recording_path(seed), header)

    if args.persona and left_driver is not None:
        print("error: --persona and --left-mirror both want your side", file=sys.stderr)
        return 2
    if args.persona:
        from game.personas import PersonaError, load_persona

        try:
            left_driver = load_persona(args.persona)
        except PersonaError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    session = Session(
        opponent,
        params=params,
        seed=args.seed,
        recorder_factory=None if args.no_record else recorder_factory,
        player=args.player,
        left_driver=left_driver,
    )
    if not args.no_record:
        print(f"Recording matches to {profile.recordings}")
    if learner is not None:
        learner.gate.between_ticks = session.wait_for_tick_gap
        session.frame_sinks.append(learner)
        learner.start()
        print(f"Your mirror learns in a background process; its files: {learner.files.folder}")
    try:
        if args.desktop:
            from game.desktop import run_desktop

            return run_desktop(session)
        return _serve(session, args, learner)
    finally:
        if learner is not None:
            learner.stop()


def _mirror_path(profile, spec: str) -> Path:
    from learner.live import MirrorFiles

    if spec == "mine":
        return MirrorFiles(profile.folder).model
    if spec.endswith(".onnx") or "/" in spec:
        return Path(spec)
    from game.profiles import check_player_name

    check_player_name(spec, "mirror name")  # the same safe alphabet as profile names
    return profile.folder / "mirrors" / f"{spec}.onnx"


def _fixed_mirror(profile, spec: str, params):
    """A mirror that plays with one model and never learns (a ghost)."""
    from game.mirror_opponent import MirrorOpponent, ModelGate
    from learner.features import ObservationBuilder

    path = _mirror_path(profile, spec)
    if not path.exists():
        raise ValueError(f"no mirror {spec!r} ({path} does not exist; see 'mirror list')")
    model = _load_model(path)
    name = f"ghost of {path.stem if spec != 'mine' else 'you'}"
    opponent = MirrorOpponent(observe_factory=lambda: ObservationBuilder(params).push, name=name)
    ModelGate(opponent).consider(model.onnx_bytes, model.version)
    return opponent


def mirror_command(args: argparse.Namespace) -> int:
    from game.files import atomic_write
    from learner.live import MirrorFiles

    profile = _profile(args)
    own = MirrorFiles(profile.folder).model
    shared = profile.folder / "mirrors"
    if args.mirror_command == "export":
        if not own.exists():
            print(f"error: {args.player!r} has no mirror yet: play a while first", file=sys.stderr)
            return 2
        try:
            model = _load_model(own)
            atomic_write(args.out, model.onnx_bytes)
        except (ValueError, OSError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(
            f"wrote {args.out}: {args.player}'s mirror v{model.version} "
            f"({model.metadata.get('architecture')})"
        )
        return 0
    if args.mirror_command == "import":
        try:
            from game.profiles import check_player_name

            check_player_name(args.name, "mirror name")  # it becomes a file name
            model = _load_model(args.file)
        except ValueError as exc:
            print(f"error: refused: {exc}", file=sys.stderr)
            return 2
        target = shared / f"{args.name}.onnx"
        if target.exists():
            print(
                f"error: a mirror named {args.name!r} exists; pick another --name", file=sys.stderr
            )
            return 2
        atomic_write(target, model.onnx_bytes)
        print(
            f"imported {args.file.name} as {args.name!r} (v{model.version}, "
            f"{model.metadata.get('architecture')}); play it: main.py play --ghost {args.name}"
        )
        return 0
    rows = [("mine", own)] + [(p.stem, p) for p in sorted(shared.glob("*.onnx"))]
    for name, path in rows:
        if not path.exists():
            print(f"{name:16s} (none yet)")
            continue
        try:
            model = _load_model(path)
            meta = model.metadata
            print(
                f"{name:16s} v{model.version:<5} {meta.get('architecture', '?'):12s} "
                f"agreement {meta.get('validation_agreement') or '?'}  "
                f"{meta.get('training_frames', '?')} frames"
            )
        except ValueError as exc:
            print(f"{name:16s} unusable: {exc}")
    return 0


def _mirror(profile, params, architecture: str | None, device: str):
    """The learned opponent and the learner that feeds it, plugged together."""
    from game.mirror_opponent import MirrorOpponent, ModelGate
    from learner.config import TrainerConfig
    from learner.features import ObservationBuilder
    from learner.live import LiveLearner, MirrorFiles

    files = MirrorFiles(profile.folder)
    config = None
    if architecture is not None or device != "cpu":
        if device != "cpu":
            from learner.trainer import pick_device  # needs torch to look for CUDA

            device = pick_device(device)
        config = TrainerConfig(device=device)
        if architecture is not None:
            config.architecture = architecture
        else:
            config.architecture = files.load_settings().get("architecture", "mlp")
    opponent = MirrorOpponent(observe_factory=lambda: ObservationBuilder(params).push)
    gate = ModelGate(opponent, save_path=files.model)
    return opponent, LiveLearner(opponent, gate, files, config=config, params=params)


def _serve(session, args: argparse.Namespace, learner=None) -> int:
    from game.server import EXTRA_FRAME_KEY, ServerConfig, create_app

    config = ServerConfig(host=args.host, port=args.port)
    if learner is not None:
        from learner.live import CONTROL_SCHEMAS

        config.extra_schemas = CONTROL_SCHEMAS
        config.extra_handlers = {
            "learning": learner.handle,
            "architecture": learner.handle,
            "sampler_weights": learner.handle,
        }
    app = create_app(config, session)
    if learner is not None:
        app[EXTRA_FRAME_KEY].append(_every(30, lambda: {"learning": learner.hud()}))
    return _run_web_app(
        app, args.host, args.port, "/", "Mirror Pong is running at", not args.no_browser
    )


def train_offline(args: argparse.Namespace) -> int:
    from learner.recordings import TrainingError
    from learner.tools.offline import load_sampler_config, train

    try:
        weights = load_sampler_config(args.sampler_config)
        result = train(
            args.sources, args.out, args.model, weights, args.seed, args.steps_per_second
        )
    except TrainingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    approach = result.approach_agreement
    print(
        f"wrote {args.out}: {args.model} v{result.version}, held-out agreement "
        f"{result.agreement:.3f}"
        + (f" ({approach:.3f} while the ball approaches)" if approach is not None else "")
        + f", {result.frames} frames, {result.steps} steps"
        + (" (interrupted)" if result.interrupted else "")
    )
    return 130 if result.interrupted else 0


def tune_weights(args: argparse.Namespace) -> int:
    from game.profiles import default_data_dir
    from learner.recordings import TrainingError
    from learner.tools.tune import default_storage, tune

    if args.trials < 1 or args.steps < 1:
        print("error: --trials and --steps must be at least 1", file=sys.stderr)
        return 2
    storage = args.storage or default_storage(args.data_dir or default_data_dir())
    try:
        result = tune(
            args.sources,
            args.trials,
            storage,
            args.study,
            args.out,
            args.report,
            args.steps,
            args.model,
            args.seed,
        )
    except TrainingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ImportError as exc:  # e.g. a PostgreSQL URL without its driver installed
        hint = " (PostgreSQL: pip install 'psycopg[binary]')" if "postgres" in storage else ""
        print(f"error: {exc}{hint}", file=sys.stderr)
        return 2
    print(
        f"best trial {result['best_trial']} of {result['trials']}: "
        f"{result['best_value']:.3f}; weights written to {args.out}; report in {args.report}"
    )
    return 0


def export_minari_command(args: argparse.Namespace) -> int:
    import warnings

    from learner.recordings import TrainingError
    from learner.tools.minari_export import export_minari

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Minari warns that no env spec is attached
            dataset = export_minari(args.sources, args.dataset_id, args.author)
    except TrainingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # Minari's own refusals (a taken or malformed id)
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"exported {dataset.total_episodes} episodes ({dataset.total_steps} steps) as "
        f"Minari dataset {args.dataset_id!r}; load it with minari.load_dataset({args.dataset_id!r})"
    )
    return 0


def _every(ticks: int, make_fields):
    """Fields added to one frame in ``ticks`` (learning stats go out twice a second)."""
    counter = iter(range(1 << 62))

    def add_fields() -> dict:
        return make_fields() if next(counter) % ticks == 0 else {}

    return add_fields


def replay(args: argparse.Namespace) -> int:
    from game.recording import RecordingError, read_recording
    from game.replay import verify

    if not args.verify and args.json is None:
        return _replay_viewer(args)
    if args.file is None:
        print("error: --verify and --json need a recording FILE", file=sys.stderr)
        return 2
    try:
        recording = read_recording(args.file)
    except RecordingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    records = recording.records
    if recording.truncated_bytes:
        print(
            f"warning: {args.file.name} ends in a partial record ({recording.truncated_bytes} "
            f"bytes dropped); replaying its {len(records)} whole records",
            file=sys.stderr,
        )
    last = records[-1].state if records else None
    score = f"{last.score_left}-{last.score_right}" if last else "0-0"
    seconds = len(records) / recording.params.tick_rate
    print(
        f"{args.file.name}: player {recording.header.get('player')!r} vs "
        f"{recording.header.get('opponent')}, {len(records)} ticks ({seconds:.1f} s), score {score}"
    )
    status = 0
    if args.model is not None:
        status = _compare_with_model(recording, args)
        if status == 2:
            return 2
    if not args.verify:
        return status
    divergence = verify(recording)
    if divergence is None:
        print(f"verified: all {len(records)} recorded states reproduced exactly")
        return status
    print(
        f"DIVERGED at record {divergence.index} (tick {divergence.tick}): {divergence.field} "
        f"recorded {divergence.recorded!r}, re-simulated {divergence.simulated!r}"
    )
    return 1


def _load_model(path: Path):
    """A model file checked as the game checks candidates; raises ValueError with why not."""
    from game.mirror_opponent import CandidateRejected, Model, check_candidate

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read model {path}: {exc.strerror or exc}") from None
    try:
        session, metadata = check_candidate(data)
    except CandidateRejected as exc:
        raise ValueError(f"model {path.name} cannot play: {exc}") from None
    return Model(session, int(metadata.get("model_version", "0") or 0), metadata, data)


def _compare_with_model(recording, args: argparse.Namespace) -> int:
    import json

    from learner.sampler import RelevanceWeights
    from learner.tools.replay_analysis import analyze, resimulate

    try:
        model = _load_model(args.model)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    analysis = analyze(recording, model, RelevanceWeights())
    report = {
        "recording": str(args.file),
        "model": str(args.model),
        "model_version": model.version,
        "architecture": model.metadata.get("architecture"),
        "ticks": len(recording.records),
        "agreement": analysis["agreement"],
        "approach_agreement": analysis["approach_agreement"],
        "style": resimulate(recording, model),
    }
    print(
        f"{args.model.name} (v{model.version}) on the player's side: agreement "
        f"{report['agreement']:.3f}, while the ball approaches {report['approach_agreement']}"
    )
    for name, figures in report["style"].items():
        print(f"  {name:24s} player {figures['persona']!s:>10}  model {figures['clone']!s:>10}")
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2))
        print(f"wrote {args.json}")
    return 0


def _replay_viewer(args: argparse.Namespace) -> int:
    from game.recording import read_recording
    from game.replay_view import ReplayLibrary, create_replay_app
    from learner.live import MirrorFiles
    from learner.sampler import RelevanceWeights
    from learner.tools.replay_analysis import analyze

    profile = _profile(args)
    extra = []
    if args.file is not None:
        if not args.file.is_file():
            print(f"error: no such recording: {args.file}", file=sys.stderr)
            return 2
        extra.append(args.file.resolve())
    library = ReplayLibrary(profile.recordings, extra)
    if args.file is not None:
        library.focus = next(n for n, p in library.table().items() if p == args.file.resolve())
    files = MirrorFiles(profile.folder)
    model_files = {"current": files.model}
    if args.model is not None:
        model_files = {"given": args.model, **model_files}
    shared = profile.folder / "mirrors"
    if shared.is_dir():
        model_files.update({f"shared/{p.name}": p for p in sorted(shared.glob("*.onnx"))})

    def list_models() -> list[dict]:
        listed = []
        for name, path in model_files.items():
            try:
                model = _load_model(path)
            except ValueError:
                continue
            listed.append(
                {
                    "name": name,
                    "version": model.version,
                    "architecture": model.metadata.get("architecture"),
                }
            )
        return listed

    def analyze_file(path: Path, model_name: str | None) -> dict:
        name = model_name or next(iter(model_files))
        if name not in model_files:
            raise LookupError(f"no model named {name!r}")
        try:
            model = _load_model(model_files[name]) if model_files[name].exists() else None
        except ValueError:
            model = None
        result = analyze(read_recording(path), model, RelevanceWeights())
        if result["model"] is not None:
            result["model"]["name"] = name
        return result

    app = create_replay_app(library, analyze_file, list_models)
    path = "/replay" + (f"?file={library.focus}" if library.focus else "")
    return _run_web_app(app, args.host, args.port, path, "Replay viewer at", not args.no_browser)


if __name__ == "__main__":
    sys.exit(main())
