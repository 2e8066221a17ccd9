"""End to end: a scripted player drives the real server over WebSocket on the real clock;
the mirror's model version advances and its agreement beats an untrained model's."""

import asyncio
import json
import time

from aiohttp import ClientSession, WSMsgType

from game.recording import read_recording
from game.replay import verify


def follower_command(ball_y, ball_dx, paddle_y):
    """Chase the ball while it comes; drift home while it goes."""
    if ball_dx < 0:
        return max(-1.0, min(1.0, (ball_y - paddle_y) * 8))
    return max(-1.0, min(1.0, (0.5 - paddle_y) * 4))


async def play_until(url, done, timeout):
    learning_seen = []
    async with ClientSession() as http, http.ws_connect(url) as ws:
        last_x = None
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            message = await ws.receive(timeout=5)
            if message.type != WSMsgType.TEXT:
                raise AssertionError(f"server sent {message.type}: {message.data}")
            frame = json.loads(message.data)
            if frame["type"] != "frame":
                continue
            x, y = frame["ball"]
            dx = 0.0 if last_x is None else x - last_x
            last_x = x
            command = follower_command(y, dx, frame["left_y"])
            await ws.send_str(json.dumps({"type": "input", "command": command}))
            if frame["winner"]:
                await ws.send_str(json.dumps({"type": "new_match"}))
            if "learning" in frame:
                learning_seen.append(frame["learning"])
                if done(frame):
                    break
    return learning_seen


def test_mirror_learns_live_and_swaps_in(server_factory):
    server = server_factory("--player", "carol")

    def learned(frame):
        hud = frame["learning"]
        return (
            frame["opponent"]["version"] >= 2
            and hud["agreement"] is not None
            and hud["untrained_agreement"] is not None
            and hud["agreement"] > hud["untrained_agreement"] + 0.1
        )

    seen = asyncio.run(play_until(f"ws://127.0.0.1:{server.port}/ws", learned, timeout=150))
    last = seen[-1]
    assert last["version"] >= 2, (last, server.log()[-3000:])
    assert last["agreement"] > last["untrained_agreement"] + 0.1, last
    assert last["frames"] > 0 and last["trainer_alive"] and last["rejected"] >= 0
    assert server.stop() == 0
    mirror = server.data_dir / "players" / "carol" / "mirror"
    assert (mirror / "model.onnx").stat().st_size > 0
    (path,) = (server.data_dir / "players" / "carol" / "recordings").glob("*.mpr")
    recording = read_recording(path)
    versions = {record.model_version for record in recording.records}
    assert 0 in versions and max(versions) >= 2  # the recording notes which model drove
    assert verify(recording) is None


def test_each_finished_match_leaves_a_card_of_you_and_your_mirror():
    """The card's figures come from the same style code the benches use, one side each."""
    from game.engine import Params
    from game.personas import load_persona
    from game.session import Session, SimClock
    from learner.live import LiveLearner
    from learner.mirror import make_mirror

    params = Params(points_to_win=2)
    opponent, gate = make_mirror(params)
    learner = LiveLearner(opponent, gate, None, params=params)  # not started: no trainer
    session = Session(opponent, params=params, seed=5, left_driver=load_persona("predictor"))
    session.frame_sinks.append(learner)
    assert learner.hud_stats()["match_card"] is None
    while not session.state.winner:
        asyncio.run(session.run(SimClock(), ticks=600))
    card = learner.hud_stats()["match_card"]
    assert card["id"] == 1 and card["opponent"] == "scripted"
    you, mirror = card["you"], card["mirror"]
    assert 0 <= you["miss_rate"] <= 1 and 0 <= mirror["miss_rate"] <= 1
    assert you["miss_rate"] != mirror["miss_rate"] or you["meets"] != mirror["meets"]
    assert 0 < you["wait_y"] < 1 and all(-1 <= m <= 1 for m in you["meets"] + mirror["meets"])
    assert you["reaction_s"] is not None and you["reaction_s"] >= 0
    json.dumps(card)  # it travels in a frame
