"""main.py's command line: its commands, its errors, and a --help that imports nothing heavy."""

import subprocess
import sys

from tests.conftest import ROOT, run_main

HEAVY = {"torch", "onnx", "onnxruntime", "aiohttp", "numpy"}


def test_help_lists_the_commands_and_imports_nothing_heavy():
    result = subprocess.run(
        [sys.executable, "-X", "importtime", str(ROOT / "main.py"), "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0
    for command in ("play", "replay", "train", "tune", "mirror", "export-minari", "bench"):
        assert command in result.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()}
    assert not HEAVY & imported, HEAVY & imported


def test_bench_help_lists_every_bench_without_loading_them():
    result = run_main("bench", "--help")
    assert result.returncode == 0
    for bench in ("loop", "live", "fidelity", "stylometry", "relevance", "perf", "report"):
        assert bench in result.stdout


def test_a_mistyped_command_is_an_invalid_choice():
    result = run_main("plya")
    assert result.returncode == 2
    assert "invalid choice: 'plya'" in result.stderr and "replay" in result.stderr


def test_bare_options_mean_play():
    result = run_main("--points", "0", "--no-browser")
    assert result.returncode == 2
    assert result.stderr == "error: --points must be at least 1, got 0\n"


def test_version():
    result = run_main("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("Mirror Pong ") and result.stdout.strip()[-1].isdigit()


def test_a_command_line_mistake_is_one_line_and_exit_2(tmp_path):
    for args, message in [
        (("tune", "--from", tmp_path, "--trials", "0"), "--trials and --steps must be"),
        (("replay", "--verify"), "--verify and --json need a recording FILE"),
        (("replay", tmp_path / "missing.mpr", "--verify"), "missing.mpr"),
        (("play", "--player", "../x", "--data-dir", tmp_path), "player name must be"),
        (("play", "--persona", "chaser", "--left-mirror", "mine"), "both want your side"),
        (
            ("play", "--play-by", "sample", "--temperature", "-1", "--data-dir", tmp_path),
            "temperature must be",
        ),
        (("play", "--top-p", "0", "--data-dir", tmp_path), "top_p must be"),
        (("play", "--temperature", "warm", "--data-dir", tmp_path), "a number or 'auto'"),
        (("mirror", "list", "--player", "a/b"), "player name must be"),
    ]:
        result = run_main(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.startswith("error: ") and message in result.stderr, result.stderr
        assert result.stderr.count("\n") == 1, result.stderr


def test_a_second_game_on_the_same_profile_is_refused_until_the_first_is_gone(server_factory):
    """One writer per profile: a second session would fight the first over its recordings,
    mirror and checkpoint. A killed owner's lock goes with it."""
    import signal

    from tests.conftest import free_port

    first = server_factory("--player", "gil", "--persona", "chaser")
    second = run_main(
        "play", "--no-browser", "--port", free_port(), "--data-dir", first.data_dir,
        "--player", "gil",
    )  # fmt: skip
    assert second.returncode == 2, second.stderr
    (line,) = second.stderr.strip().splitlines()
    assert "'gil' is in use by another Mirror Pong session" in line
    assert f"pid {first.process.pid}" in line and "--player" in line
    first.stop(signal.SIGKILL)
    again = server_factory("--player", "gil", "--persona", "chaser", data_dir=first.data_dir)
    assert again.stop() == 0


def test_verifying_a_recording_with_no_ticks_is_one_line_and_exit_2(tmp_path):
    from game.engine import Params
    from game.recording import RecordingWriter, make_header

    empty = tmp_path / "empty.mpr"
    RecordingWriter(empty, make_header(Params(), 1, "bob", "scripted")).close()
    result = run_main("replay", empty, "--verify")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == "error: empty.mpr has no recorded ticks: there is nothing to verify\n"


def test_the_replay_viewer_answers_the_host_it_was_given(tmp_path, monkeypatch):
    """``replay --host NAME`` serves requests that name NAME, and still refuses other names."""
    import asyncio

    from aiohttp import ClientSession
    from aiohttp.test_utils import TestServer

    import main
    from learner.tools import replay_command

    served = {}

    def capture(app, host, port, path, what, open_browser):
        served.update(app=app, host=host)
        return 0

    monkeypatch.setattr(replay_command, "serve", capture)
    assert main.main(["replay", "--host", "pong.example", "--data-dir", str(tmp_path)]) == 0
    assert served["host"] == "pong.example"

    async def statuses(*host_headers: str) -> list[int]:
        server = TestServer(served["app"], host="127.0.0.1")
        await server.start_server()
        try:
            async with ClientSession() as http:
                url = server.make_url("/api/recordings")
                found = []
                for host in host_headers:
                    async with http.get(url, headers={"Host": host}) as response:
                        found.append(response.status)
                return found
        finally:
            await server.close()

    named, foreign = asyncio.run(statuses("pong.example:8001", "evil.example:8001"))
    assert named == 200 and foreign != 200


def test_every_option_of_every_command_has_help():
    import argparse

    import main

    missing = []

    def walk(parser: argparse.ArgumentParser, path: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, f"{path} {name}")
            elif not action.help and not isinstance(action, argparse._HelpAction):
                missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")

    walk(main.build_parser(), "main.py")
    assert not missing, missing
