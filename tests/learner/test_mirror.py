"""learner.mirror: resolving, loading and sharing mirrors (export, import refusing what does
not fit, list), ghost play and mirror vs mirror through main.py."""

import asyncio
import json
from pathlib import Path

import pytest
import torch
from aiohttp import ClientSession

from game.profiles import Profile
from learner.exporter import export_onnx
from learner.mirror import MirrorError, import_mirror, list_mirrors, load_model, resolve
from models.registry import build_model
from tests.conftest import run_main


def test_resolve_mine_a_name_and_a_path(tmp_path):
    profile = Profile(tmp_path, "alice")
    folder = tmp_path / "players" / "alice"
    assert resolve(profile, "mine") == folder / "mirror" / "model.onnx"
    assert resolve(profile, "bob") == folder / "mirrors" / "bob.onnx"
    assert resolve(profile, "elsewhere/bob.onnx") == Path("elsewhere/bob.onnx")
    assert resolve(profile, "bob.onnx") == Path("bob.onnx")
    with pytest.raises(MirrorError, match="mirror name must be"):
        resolve(profile, "..")


def test_a_bad_file_is_refused_with_the_reason(tmp_path):
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"junk")
    with pytest.raises(MirrorError, match="junk.onnx cannot play: not a valid ONNX model"):
        load_model(junk)
    with pytest.raises(MirrorError, match="cannot read"):
        load_model(tmp_path / "missing.onnx")
    good = tmp_path / "good.onnx"
    torch.manual_seed(0)
    good.write_bytes(export_onnx(build_model("mlp"), 3))
    assert load_model(good).version == 3
    profile = Profile(tmp_path, "player")
    for name in ("a/b", "../evil", ""):
        with pytest.raises(MirrorError, match="refused: mirror name must be"):
            import_mirror(profile, good, name)
    with pytest.raises(MirrorError, match="refused: model junk.onnx cannot play"):
        import_mirror(profile, junk, "junk")
    assert [(row.name, row.model, row.problem) for row in list_mirrors(profile)] == [
        ("mine", None, None)
    ]


def test_export_import_and_ghost_play(tmp_path, server_factory):
    alice, bob = tmp_path / "alice", tmp_path / "bob"
    own = alice / "players" / "player" / "mirror" / "model.onnx"
    own.parent.mkdir(parents=True)
    torch.manual_seed(0)
    own.write_bytes(
        export_onnx(
            build_model("mlp"),
            5,
            training_frames=3 * 3600 + 100,
            validation_agreement=0.790039,
            temperature=1.4,
        )
    )
    shared = tmp_path / "alice-mirror.onnx"
    assert run_main("mirror", "export", "--out", shared, "--data-dir", alice).returncode == 0

    result = run_main("mirror", "import", shared, "--name", "alice", "--data-dir", bob)
    assert result.returncode == 0, result.stderr
    listing = run_main("mirror", "list", "--data-dir", bob).stdout
    assert "alice" in listing and "v5" in listing
    assert "79% like its player  trained on 3 min of play" in listing
    # The player's own mirror: the learner's try no. 5, the game's number for it beside it.
    # and how like the player the panel last showed it (judged on play as it took over).
    (alice / "players" / "player" / "mirror" / "settings.json").write_text(
        '{"mirrors_met": 22, "mirror_met_version": 5, "last_figures": '
        '{"version": 5, "playing_agreement": 0.756, "frames": 1, "made_at": 0}}'
    )
    mine = run_main("mirror", "list", "--data-dir", alice).stdout.splitlines()[0]
    assert mine.startswith("mine             v5 ") and mine.endswith(
        "(the 22nd mirror you met: the game's v22)"
    ), mine
    assert "76% like its player" in mine
    assert "draws at 1.4 (its player's jitter)" in listing  # its player's temperature travels

    # Refused: not a model, a bad name, a name taken; nothing in the profile changes.
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"junk")
    for args, message in [
        ((junk, "--name", "junk"), "cannot play"),
        ((shared, "--name", "../evil"), "mirror name must be"),
        ((shared, "--name", "alice"), "exists"),
    ]:
        result = run_main("mirror", "import", *args, "--data-dir", bob)
        assert result.returncode == 2 and message in result.stderr, result.stderr
    mirrors = bob / "players" / "player" / "mirrors"
    assert sorted(p.name for p in mirrors.iterdir()) == ["alice.onnx"]
    assert not (bob / "players" / "player" / "mirror" / "model.onnx").exists()

    # Two mirrors play each other; nothing learns.
    server = server_factory(
        "--ghost", "alice", "--left-mirror", "alice", "--no-record", data_dir=bob
    )

    async def watch():
        async with (
            ClientSession() as http,
            http.ws_connect(f"ws://127.0.0.1:{server.port}/ws") as ws,
        ):
            frames = []
            while len(frames) < 90:
                data = json.loads((await ws.receive(timeout=5)).data)
                if data["type"] == "frame":
                    frames.append(data)
            return frames

    frames = asyncio.run(watch())
    assert frames[-1]["opponent"] == {"label": "ghost of alice", "version": 5}
    assert frames[-1]["tick"] > frames[0]["tick"] and "learning" not in frames[-1]
    assert server.stop() == 0
