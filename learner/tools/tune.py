"""``python main.py tune``: search the sampler's relevance weights with Optuna.

Each trial trains a fresh mirror for a fixed number of steps on the training recordings,
with the trial's weights, and is scored by agreement while the ball approaches on the
validation recordings, which no trial trains on. The study lives in an embedded SQLite file
by default; give ``--storage postgresql://…`` and the same ``--study`` name on several
machines and their trials join one study.

Outputs: the best weights as a sampler config (``{"weights": {...}}``) that ``play`` and
``train`` accept, and a report folder with learning curves per trial and parameter
importances as PNG.
"""

from __future__ import annotations

import argparse
import json
import math
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

OBJECTIVE = "approach agreement on validation recordings"


@dataclass
class TuningData:
    train_ticks: list  # (before state, left command, events) per tick, in play order
    validation: HeldOut
    train_files: list[Path]
    validation_files: list[Path]


def _ticks(recording: Recording) -> list:
    return [
        (before, record.left_cmd, [(e.kind, e.side) for e in events])
        for before, record, events in ticks(recording)
    ]


def _held_out(recordings: list[Recording]) -> HeldOut:
    watcher = Watcher(recordings[0].params)
    for recording in recordings:
        for before, record, events in ticks(recording):
            watcher.on_tick(before, record.left_cmd, record.right_cmd, record.state, events)
    return watcher.held_out()


def load_tuning_data(sources: list[Path]) -> TuningData:
    """Split recordings by file: the last quarter (at least one) validates, the rest train."""
    files = find_recordings(sources)
    recordings = []
    for path in files:
        try:
            recordings.append(read_recording(path))
        except RecordingError as exc:
            print(f"skipped: {exc}")
    recordings = [r for r in recordings if r.records]
    if len(recordings) < 2:
        raise TrainingError(
            "tuning needs at least two recordings: trials train on some and are scored on "
            "others they never saw"
        )
    recordings.sort(key=lambda r: (r.header.get("started_at", 0), r.path.name))
    n_validation = max(1, len(recordings) // 4)
    train, validation = recordings[:-n_validation], recordings[-n_validation:]
    ticks = [tick for recording in train for tick in _ticks(recording)]
    return TuningData(
        ticks, _held_out(validation), [r.path for r in train], [r.path for r in validation]
    )


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

    if args.trials < 1 or args.steps < 1:
        raise TrainingError("--trials and --steps must be at least 1")
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
    except ImportError as exc:  # e.g. a PostgreSQL URL without its driver installed
        hint = " (PostgreSQL: pip install 'psycopg[binary]')" if "postgres" in storage else ""
        raise TrainingError(f"{exc}{hint}") from None
    print(summary(result, args.out, args.report))
    return 0


def default_storage(data_dir: Path) -> str:
    folder = data_dir / "tuning"
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'studies.db'}"


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
    print(
        f"training on {len(data.train_files)} recording(s) ({len(data.train_ticks)} ticks), "
        f"scoring on {len(data.validation_files)} ({len(data.validation.commands)} ticks); "
        f"objective: {OBJECTIVE} after {steps} steps"
    )
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name=study_name,
        storage=storage,
        direction="maximize",
        load_if_exists=True,
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=steps // 3),
    )
    if not study.trials:
        study.enqueue_trial(  # the shipped defaults are the first trial: a baseline to beat
            {k: v for k, v in RelevanceWeights().to_dict().items() if k != "approach"}
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
