"""What the replay viewer overlays on a recording, and ``replay --model``'s comparison.

For every recorded tick: the mirror's ghost (the paddle path a model would have played
from the player's side: it sees the recorded ball and its own ghost paddle), whether the
model, given exactly the player's view and history, disagrees with the player's command,
and the relevance weight the sampler would give the frame.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from game.engine import LEFT, RIGHT, move_paddle, new_match, step, view
from game.mirror_opponent import Model, commands_from_logits
from game.opponent import ScriptedOpponent
from game.recording import Recording, read_recording
from game.replay import ticks
from learner.features import ObservationBuilder
from learner.metrics import StyleRecorder, Watcher, agreeing, agreement, model_commands
from learner.mirror import MirrorError, MirrorFiles, load_model, shared_folder
from learner.sampler import (
    APPROACHING_COLUMN,
    RelevanceWeights,
    frame_phase_and_time,
    relevance_weight,
)
from models.contract import HISTORY, INPUT_NAME, NUM_FEATURES, OUTPUT_NAME

if TYPE_CHECKING:
    from game.profiles import Profile
    from game.replay_view import ReplayLibrary


def player_windows(recording: Recording) -> tuple[np.ndarray, list, list]:
    """The player's observation window before every tick, the 'before' states, and each
    tick's events."""
    watcher = Watcher(recording.params)
    befores, events_per_tick = [], []
    for before, record, events in ticks(recording):
        watcher.on_tick(before, record.left_cmd, record.right_cmd, record.state, events)
        befores.append(before)
        events_per_tick.append(events)
    windows = (
        np.stack(watcher.obs) if watcher.obs else np.zeros((0, HISTORY, NUM_FEATURES), np.float32)
    )
    return windows, befores, events_per_tick


def ghost_path(recording: Recording, befores: list, model: Model) -> np.ndarray:
    """The model's own paddle path (court y per tick), closed loop on the recorded ball."""
    params = recording.params
    builder = ObservationBuilder(params)
    path = np.empty(len(befores), dtype=np.float64)
    ghost_y = params.court_height / 2
    for i, before in enumerate(befores):
        if before.tick == 0:
            builder.reset()
            ghost_y = before.left_y
        obs = builder.push(view(before._replace(left_y=ghost_y), LEFT, params))
        (logits,) = model.session.run([OUTPUT_NAME], {INPUT_NAME: obs[None]})
        ghost_y = move_paddle(ghost_y, float(commands_from_logits(logits)[0]), params)
        path[i] = ghost_y
    return path


def relevance_strip(
    recording: Recording, windows: np.ndarray, events_per_tick: list, weights: RelevanceWeights
) -> np.ndarray:
    phase, time_to_reach = frame_phase_and_time(windows)
    near_event = np.zeros(len(windows), dtype=bool)
    window = int(weights.event_window * recording.params.tick_rate)
    for i, events in enumerate(events_per_tick):
        if window > 0 and any(e.kind in {"hit", "miss"} and e.side == LEFT for e in events):
            near_event[max(0, i - window + 1) : i + 1] = True
    return relevance_weight(phase, time_to_reach, near_event, 0.0, 0.0, weights)


def analyze(recording: Recording, model: Model | None, weights: RelevanceWeights) -> dict:
    windows, befores, events_per_tick = player_windows(recording)
    commands = np.array([r.left_cmd for r in recording.records], dtype=np.float32)
    approach = windows[:, -1, APPROACHING_COLUMN] > 0.5 if len(windows) else np.zeros(0, bool)
    result = {
        "model": None,
        "ghost_y": None,
        "disagree": None,
        "agreement": None,
        "approach_agreement": None,
        "relevance": [
            round(float(w), 4)
            for w in relevance_strip(recording, windows, events_per_tick, weights)
        ]
        if len(windows)
        else [],
    }
    if model is None or not len(windows):
        return result
    model_cmds = model_commands(model, windows)
    result.update(
        model={
            "version": model.version,
            "architecture": model.metadata.get("architecture"),
        },
        ghost_y=[round(float(y), 5) for y in ghost_path(recording, befores, model)],
        disagree=[0 if a else 1 for a in agreeing(model_cmds, commands)],
        agreement=agreement(model_cmds, commands),
        approach_agreement=agreement(model_cmds[approach], commands[approach])
        if approach.any()
        else None,
    )
    return result


def resimulate(recording: Recording, model: Model) -> dict:
    """The model plays the player's side from the recorded seed; its style is compared with
    the player's own. The right side is the scripted opponent again on the ticks it played
    (model version 0 in the record: the stand-in before the first mirror, or a whole match
    against it; it reacts to the new game as it did to the old); on the mirrors' ticks the
    recorded right commands are replayed, which no longer answer the ball once play
    diverges."""
    from learner.metrics import compare_styles
    from learner.mirror import fixed_mirror

    params = recording.params
    player, clone = StyleRecorder(), StyleRecorder()
    for before, record, events in ticks(recording):
        player.on_tick(before, record.left_cmd, record.right_cmd, record.state, events)
    driver = fixed_mirror(model, params)
    driver.reset(recording.seed)
    scripted = ScriptedOpponent()  # sees every tick, so its reactions stay its own
    state = new_match(recording.seed, params)
    for record in recording.records:
        if state.winner:
            break
        command = driver.act(view(state, LEFT, params))
        right = scripted.act(view(state, RIGHT, params))
        if record.model_version != 0:
            right = record.right_cmd
        after, events = step(state, command, right, params)
        clone.on_tick(state, command, right, after, events)
        state = after
    return compare_styles(player.figures(), clone.figures())


# -- what main.py replay runs (learner.tools.replay_command) --------------------------------------


def compare_with_model(recording: Recording, model_path: Path) -> dict:
    """``replay FILE --model M``: the model on the player's side, agreement and style
    (``MirrorError`` if the model cannot play)."""
    model = load_model(model_path)
    analysis = analyze(recording, model, RelevanceWeights())
    return {
        "recording": str(recording.path),
        "model": str(model_path),
        "model_version": model.version,
        "architecture": model.metadata.get("architecture"),
        "ticks": len(recording.records),
        "agreement": analysis["agreement"],
        "approach_agreement": analysis["approach_agreement"],
        "style": resimulate(recording, model),
    }


def comparison_lines(report: dict) -> list[str]:
    lines = [
        f"{Path(report['model']).name} (v{report['model_version']}) on the player's side: "
        f"agreement {report['agreement']:.3f}, while the ball approaches "
        f"{report['approach_agreement']}"
    ]
    for name, figures in report["style"].items():
        lines.append(
            f"  {name:24s} player {figures['persona']!s:>10}  model {figures['clone']!s:>10}"
        )
    return lines


def viewer_models(profile: Profile, given: Path | None) -> dict[str, Path]:
    """The models the replay viewer offers, by the name it shows: the one given on the
    command line, the player's own ('current'), then the imported ones."""
    models = {"current": MirrorFiles(profile.folder).model}
    if given is not None:
        models = {"given": given, **models}
    models.update({f"shared/{p.name}": p for p in sorted(shared_folder(profile).glob("*.onnx"))})
    return models


def viewer_app(library: ReplayLibrary, models: dict[str, Path], host: str = "127.0.0.1"):
    """The replay viewer's web app alone: recordings from ``library``, analysed with
    ``models``, served on ``host`` (the Host header its requests must name)."""
    from game.replay_view import create_replay_app

    return create_replay_app(library, *viewer_analysis(models), host=host)


def add_viewer_routes(app, library: ReplayLibrary, models: dict[str, Path]) -> None:
    """The replay viewer's routes on another app (the game's: one site for both); that
    app's middlewares (the Host guard) cover them."""
    from game.replay_view import add_replay_routes

    add_replay_routes(app, library, *viewer_analysis(models))


def viewer_analysis(models: dict[str, Path]):
    """The viewer's two model functions: ``analyze_file(path, model_name)`` (the overlays)
    and ``list_models()`` (what the model menu offers)."""

    def list_models() -> list[dict]:
        listed = []
        for name, path in models.items():
            try:
                model = load_model(path)
            except MirrorError:
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
        name = model_name or next(iter(models))
        if name not in models:
            raise LookupError(f"no model named {name!r}")
        try:
            model = load_model(models[name]) if models[name].exists() else None
        except MirrorError:
            model = None
        result = analyze(read_recording(path), model, RelevanceWeights())
        if result["model"] is not None:
            result["model"]["name"] = name
        return result

    return analyze_file, list_models
