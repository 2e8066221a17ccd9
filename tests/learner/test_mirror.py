"""Sharing mirrors: export, import (refusing what does not fit), ghost play, mirror vs mirror."""

import asyncio
import json

import torch
from aiohttp import ClientSession

from learner.exporter import export_onnx
from models.registry import build_model
from tests.conftest import run_main


def test_export_import_and_ghost_play(tmp_path, server_factory):
    alice, bob = tmp_path / "alice", tmp_path / "bob"
    own = alice / "players" / "player" / "mirror" / "model.onnx"
    own.parent.mkdir(parents=True)
    torch.manual_seed(0)
    own.write_bytes(export_onnx(build_model("mlp"), 5))
    shared = tmp_path / "alice-mirror.onnx"
    assert run_main("mirror", "export", "--out", shared, "--data-dir", alice).returncode == 0

    result = run_main("mirror", "import", shared, "--name", "alice", "--data-dir", bob)
    assert result.returncode == 0, result.stderr
    listing = run_main("mirror", "list", "--data-dir", bob).stdout
    assert "alice" in listing and "v5" in listing

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
