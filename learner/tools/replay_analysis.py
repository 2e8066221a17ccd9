"""What the replay viewer overlays on a recording, and ``replay --model``'s comparison.

For every recorded tick: the mirror's ghost (the paddle path a model would have played
from the player's side: it sees the recorded ball and its own ghost paddle), whether the
model, given exactly the player's view and history, disagrees with the player's command,
and the relevance weight the sampler would give the frame.
"""

from __future__ import annotations

import numpy as np

from game.engine import LEFT, RIGHT, move_paddle, new_match, step, view
from game.mirror_opponent import Model, commands_from_logits
from game.opponent import ScriptedOpponent
from game.recording import Recording
from game.replay import ticks
from learner.features import ObservationBuilder
from learner.metrics import StyleRecorder, Watcher, agreeing, agreement, model_commands
from learner.sampler import (
    PHASE_APPROACH,
    PHASE_RECEDE,
    PHASE_SERVE,
    RelevanceWeights,
    relevance_weight,
)
from models.contract import FEATURE_NAMES, INPUT_NAME, OUTPUT_NAME

_APPROACHING = FEATURE_NAMES.index("approaching")
_SERVING = FEATURE_NAMES.index("serving")
_TIME_TO_REACH = FEATURE_NAMES.index("time_to_reach")


def player_windows(recording: Recording) -> tuple[np.ndarray, list, list]:
    """The player's observation window before every tick, the 'before' states, and each
    tick's events."""
    watcher = Watcher(recording.params)
    befores, events_per_tick = [], []
    for before, record, events in ticks(recording):
        watcher.on_tick(before, record.left_cmd, record.right_cmd, record.state, events)
        befores.append(before)
        events_per_tick.append(events)
    windows = np.stack(watcher.obs) if watcher.obs else np.zeros((0, 16, 12), np.float32)
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
    newest = windows[:, -1, :]
    phase = np.where(
        newest[:, _SERVING] > 0.5,
        PHASE_SERVE,
        np.where(newest[:, _APPROACHING] > 0.5, PHASE_APPROACH, PHASE_RECEDE),
    ).astype(np.uint8)
    near_event = np.zeros(len(windows), dtype=bool)
    window = int(weights.event_window * recording.params.tick_rate)
    for i, events in enumerate(events_per_tick):
        if window > 0 and any(e.kind in {"hit", "miss"} and e.side == LEFT for e in events):
            near_event[max(0, i - window + 1) : i + 1] = True
    return relevance_weight(phase, newest[:, _TIME_TO_REACH], near_event, 0.0, 0.0, weights)


def analyze(recording: Recording, model: Model | None, weights: RelevanceWeights) -> dict:
    windows, befores, events_per_tick = player_windows(recording)
    commands = np.array([r.left_cmd for r in recording.records], dtype=np.float32)
    approach = windows[:, -1, _APPROACHING] > 0.5 if len(windows) else np.zeros(0, bool)
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
    the player's own. The right side is the scripted opponent again if it was the recorded
    one (it reacts to the new game as it did to the old); otherwise the recorded right
    commands are replayed, which no longer answer the ball once play diverges."""
    from learner.metrics import compare_styles
    from learner.mirror import fixed_mirror

    params = recording.params
    player, clone = StyleRecorder(), StyleRecorder()
    for before, record, events in ticks(recording):
        player.on_tick(before, record.left_cmd, record.right_cmd, record.state, events)
    driver = fixed_mirror(model, params)
    driver.reset(recording.seed)
    opponent = ScriptedOpponent() if recording.header.get("opponent") == "scripted" else None
    state = new_match(recording.seed, params)
    for record in recording.records:
        if state.winner:
            break
        command = driver.act(view(state, LEFT, params))
        right = opponent.act(view(state, RIGHT, params)) if opponent else record.right_cmd
        after, events = step(state, command, right, params)
        clone.on_tick(state, command, right, after, events)
        state = after
    return compare_styles(player.figures(), clone.figures())
