"""``python main.py tune``: search the sampler's relevance weights with Optuna.

The recorded play (``--from``, or the player's own recordings) is split by time, so one
long session is enough: the newest quarter of the rallies (at least ``MIN_SPLIT_SECONDS``)
validates and no trial trains on it; the older rallies train. Each trial trains a fresh
mirror for a fixed number of steps on the older rallies, with the trial's weights, and is
scored by agreement while the ball approaches in the newest ones: how well it would follow
the player's next play. The study lives in an embedded SQLite file by default; give
``--storage postgresql://…`` and the same ``--study`` name on several machines and their
trials join one study.

Outputs: the best weights as a sampler config (``{"weights": {...}}``) that ``play`` and
``train`` accept, and a report folder with learning curves per trial and parameter
importances as PNG.
"""

from __future__ import annotations

import argparse
import json
import math
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import optuna
import torch

from game.files import atomic_write
from game.recording import Recording, RecordingError, read_recording
from game.replay import ticks
from learner.metrics import HeldOut, Watcher, agreement
from learner.recordings import TrainingError, find_recordings
from learner.sampler import RelevanceWeights
from learner.trainer import MirrorTrainer, TrainerConfig

OBJECTIVE = "approach agreement on the newest rallies"
VALIDATION_SHARE = 0.25
"""The newest quarter of the rallies (at least) scores the trials; the older ones train."""
MIN_SPLIT_SECONDS = 10.0
"""Play on each side of the split, at the least: fewer seconds give flukes, not scores."""


@dataclass
class TuningData:
    train_ticks: list  # (before state, left command, events) per tick, in play order
    validation: HeldOut
    recordings: list[Path]  # in play order
    train_rallies: int
    validation_rallies: int
    tick_rate: int

    def describe(self) -> str:
        """Where the split fell, in the words ``main.py tune`` prints."""
        tick_rate = self.tick_rate
        return (
            f"training on the older {self.train_rallies} rallies "
            f"({len(self.train_ticks) / tick_rate:.0f} s), scoring on the newest "
            f"{self.validation_rallies} ({len(self.validation.commands) / tick_rate:.0f} s), "
            f"from {len(self.recordings)} recording(s)"
        )


def _ticks(recording: Recording) -> list:
    return [
        (before, record.left_cmd, [(e.kind, e.side) for e in events])
        for before, record, events in ticks(recording)
    ]


def _rally_starts(recording_ticks: list) -> list[int]:
    """The first tick of each rally: a rally begins at its serve (as the trainer counts
    them), and the wait before a match's first serve belongs to its first rally."""
    serves = [
        i
        for i, (_, _, events) in enumerate(recording_ticks)
        if any(kind == "serve" for kind, _ in events)
    ]
    return [0, *serves[1:]]


def load_tuning_data(sources: list[Path]) -> TuningData:
    """Split the recorded play by time: the newest rallies (a quarter of them, at least
    ``MIN_SPLIT_SECONDS``) validate, the older ones train. One long session is enough."""
    files = find_recordings(sources)
    recordings = []
    for path in files:
        try:
            recordings.append(read_recording(path))
        except RecordingError as exc:
            print(f"skipped: {exc}")
    recordings = [r for r in recordings if r.records]
    if not recordings:
        raise TrainingError("the recordings hold no play to tune on")
    recordings.sort(key=lambda r: (r.header.get("started_at", 0), r.path.name))
    played = [_ticks(recording) for recording in recordings]
    rallies = [(i, start) for i, ticks_ in enumerate(played) for start in _rally_starts(ticks_)]
    split = _split(rallies, played, recordings[0].params.tick_rate)
    recording, start = rallies[split]
    train_ticks = [tick for ticks_ in played[:recording] for tick in ticks_]
    train_ticks += played[recording][:start]
    return TuningData(
        train_ticks,
        _held_out(played[recording:], skip=start, params=recordings[0].params),
        [r.path for r in recordings],
        split,
        len(rallies) - split,
        recordings[0].params.tick_rate,
    )


def _split(rallies: list[tuple[int, int]], played: list[list], tick_rate: int) -> int:
    """Index of the first validation rally: walk back from the newest until the validation
    rallies are ``VALIDATION_SHARE`` of them and last ``MIN_SPLIT_SECONDS``; refuse when
    what is left to train on is shorter than that."""
    ends = [*rallies[1:], (len(played), 0)]
    lengths = [  # ticks in each rally
        (len(played[i]) if next_i != i else next_start) - start
        for (i, start), (next_i, next_start) in zip(rallies, ends, strict=True)
    ]
    min_ticks = MIN_SPLIT_SECONDS * tick_rate
    wanted = math.ceil(VALIDATION_SHARE * len(rallies))
    split, validation_ticks = len(rallies), 0
    while split > 0 and (len(rallies) - split < wanted or validation_ticks < min_ticks):
        split -= 1
        validation_ticks += lengths[split]
    if split == 0 or sum(lengths[:split]) < min_ticks:
        total = sum(lengths) / tick_rate
        raise TrainingError(
            f"too little play to tune on: {len(rallies)} rallies, {total:.0f} s; trials train "
            f"on the older rallies and are scored on the newest quarter, each side at least "
            f"{MIN_SPLIT_SECONDS:.0f} s; play longer"
        )
    return split


def _held_out(played: list[list], skip: int, params) -> HeldOut:
    """What the player saw and did in ``played`` (ticks per recording), less the first
    ``skip`` ticks, which are watched all the same: they fill the observation windows of
    the ticks after them."""
    watcher = Watcher(params)
    for recording_ticks in played:
        for before, command, _ in recording_ticks:
            watcher.on_tick(before, command, None, None, None)
    held = watcher.held_out()
    return HeldOut(held.obs[skip:], held.commands[skip:], held.approach[skip:])


def suggest_weights(trial: optuna.Trial) -> RelevanceWeights:
    """The search space. 'approach' stays 1: only ratios between weights matter."""
    return RelevanceWeights(
        approach=1.0,
        recede=trial.suggest_float("recede", 0.01, 1.0, log=True),
        serve=trial.suggest_float("serve", 0.01, 1.0, log=True),
        urgency=trial.suggest_float("urgency", 0.0, 5.0),
        urgency_tau=trial.suggest_float("urgency_tau", 0.1, 2.0, log=True),
        pre_event=trial.suggest_float("pre_event", 1.0, 10.0, log=True),
        event_window=trial.suggest_float("event_window", 0.0, 1.5),
        recency_half_life=trial.suggest_float("recency_half_life", 0.0, 30.0),
    )


def _score(trainer: MirrorTrainer, validation: HeldOut) -> float:
    approach = validation.approach
    return agreement(trainer.predict(validation.obs)[approach], validation.commands[approach])


def make_objective(data: TuningData, steps: int, architecture: str, seed: int, report_every: int):
    def objective(trial: optuna.Trial) -> float:
        torch.set_num_threads(1)
        weights = suggest_weights(trial)
        trainer = MirrorTrainer(
            TrainerConfig(architecture=architecture, seed=seed, min_frames=0), weights
        )
        for before, command, events in data.train_ticks:
            trainer.add_tick(before, command, events)
        score = math.nan
        for step in range(1, steps + 1):
            trainer.train_step()
            if step % report_every == 0 or step == steps:
                score = _score(trainer, data.validation)
                trial.report(score, step)
                if trial.should_prune():
                    raise optuna.TrialPruned()
        return score

    return objective


def run(args: argparse.Namespace) -> int:
    """``main.py tune``."""
    from game.profiles import default_data_dir
    from learner.tools.offline import recordings_to_read

    if args.trials < 1 or args.steps < 1:
        raise TrainingError("--trials and --steps must be at least 1")
    sources = recordings_to_read(args)
    storage = args.storage or default_storage(args.data_dir or default_data_dir())
    try:
        result = tune(
            sources,
            args.trials,
            storage,
            args.study,
            args.out,
            args.report,
            args.steps,
            args.model,
            args.seed,
        )
    except ImportError as exc:  # e.g. a PostgreSQL URL without its driver installed
        hint = (
            " (PostgreSQL: pip install -r requirements-extras.txt)" if "postgres" in storage else ""
        )
        raise TrainingError(f"{exc}{hint}") from None
    print(summary(result, args.out, args.report))
    return 0


def default_storage(data_dir: Path) -> str:
    folder = data_dir / "tuning"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'studies.db'}"


def open_storage(url: str, attempts: int = 5) -> optuna.storages.RDBStorage:
    """The study's storage, its tables created on first use. Processes that start at once on
    a fresh database race to create them, and all but one fail (PostgreSQL: a duplicate
    type or table); a retry finds the tables made. A server that cannot be reached is a
    ``TrainingError``: one line, not a traceback."""
    from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

    try:
        for attempt in range(1, attempts):
            try:
                return optuna.storages.RDBStorage(url)
            except (IntegrityError, ProgrammingError):
                time.sleep(0.2 * attempt)
        return optuna.storages.RDBStorage(url)  # the last try's error is the one to see
    except OperationalError as exc:
        reason = " ".join(str(exc.orig or exc).split())  # the driver's message is multi-line
        raise TrainingError(f"cannot open the study storage: {reason}") from None


def tune(
    sources: list[Path],
    trials: int,
    storage: str,
    study_name: str,
    out: Path,
    report_dir: Path | None,
    steps: int = 600,
    architecture: str = "mlp",
    seed: int = 0,
) -> dict:
    data = load_tuning_data(sources)
    print(f"{data.describe()}; objective: {OBJECTIVE} after {steps} steps")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name=study_name,
        storage=open_storage(storage),
        direction="maximize",
        load_if_exists=True,
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=steps // 3),
    )
    study.enqueue_trial(  # the shipped defaults are the first trial: a baseline to beat
        {k: v for k, v in RelevanceWeights().to_dict().items() if k != "approach"},
        skip_if_exists=True,  # once per study, however many processes join it
    )
    objective = make_objective(data, steps, architecture, seed, max(1, steps // 6))
    study.optimize(objective, n_trials=trials, show_progress_bar=True)
    completed = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not completed:
        raise TrainingError("no trial completed")
    best = study.best_trial
    weights = RelevanceWeights(approach=1.0, **best.params)
    config = {
        "weights": weights.to_dict(),
        "objective": OBJECTIVE,
        "value": best.value,
        "study": study_name,
        "trial": best.number,
    }
    atomic_write(out, json.dumps(config, indent=2).encode())
    if report_dir is not None:
        write_report(study, report_dir)
    return {
        "best_value": best.value,
        "best_trial": best.number,
        "trials": len(study.trials),
        "weights": weights.to_dict(),
    }


def summary(result: dict, out: Path, report_dir: Path) -> str:
    """The line ``main.py tune`` prints."""
    return (
        f"best trial {result['best_trial']} of {result['trials']}: "
        f"{result['best_value']:.3f}; weights written to {out}; report in {report_dir}"
    )


def write_report(study: optuna.Study, folder: Path) -> list[Path]:
    """Learning curves per trial and parameter importances, as PNG, via Optuna's plots."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as optuna_plots

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    plots = [
        ("learning-curves.png", optuna_plots.plot_intermediate_values),
        ("history.png", optuna_plots.plot_optimization_history),
    ]
    completed = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if len(completed) >= 2:
        plots.append(("importances.png", optuna_plots.plot_param_importances))
    for name, plot in plots:
        try:
            with warnings.catch_warnings():  # Optuna's notes on few trials belong to no player
                warnings.simplefilter("ignore")
                axes = plot(study)
        except (ValueError, RuntimeError) as exc:  # e.g. importances of constant results
            print(f"report: {name} skipped ({exc})")
            continue
        figure = axes.figure if hasattr(axes, "figure") else axes[0].figure
        figure.set_size_inches(9, 5)
        figure.tight_layout()
        path = folder / name
        figure.savefig(path, dpi=100)
        plt.close(figure)
        written.append(path)
    return written
