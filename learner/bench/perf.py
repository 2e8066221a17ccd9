"""``python main.py bench perf``: every performance figure of DESIGN.md's table, in one run.

(a) session-loop tick lateness at 60 Hz, idle and with the trainer learning flat out (the
    real server, one WebSocket client in another process: ``learner.bench.loop`` and
    ``learner.bench.live`` measure it; this only runs both);
(b) the opponent's decision latency, ``MirrorOpponent.act`` beside a bare onnxruntime
    ``run`` of the same model, MLP and transformer, back to back and paced at 60 Hz (a call
    after 16.7 ms of sleep finds cold caches and is much slower than one in a tight loop);
(c) hot-swap latency: ``FastExporter.export`` + the gate's checks + the first ``act``;
(d) engine ticks per second, headless, random commands;
(e) the relevance sampler at capacity 1,000,000, batch 256, beside cpprb's
    ``PrioritizedReplayBuffer`` (optional: ``pip install -r requirements-bench.txt``) and
    torchrl's ``PrioritizedSampler`` (optional: ``--with-torchrl`` runs it in a separate
    environment, ``.venv-torchrl``, created on first use: torchrl's compiled extension does
    not load beside this project's torch, see DESIGN.md).

``--write-docs`` regenerates docs/benchmarks.md from the figures. A benchmark prints
figures; nothing here fails on a slow machine. Default run: about 4 minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import gc
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from game.engine import LEFT, RIGHT, Params, new_match, step, view
from learner.bench.cli import PERF_DOCS, PERF_SECONDS, TORCHRL_VENV
from learner.bench.loop import machine_description

DEFAULT_DOCS = PERF_DOCS
DEFAULT_TORCHRL_VENV = TORCHRL_VENV
TORCHRL_REQUIREMENTS = ("torch==2.14.1", "torchrl==0.14.1", "numpy==2.4.6")
TORCHRL_VENV_GB = 8.0  # free disk the torchrl environment needs (it takes ~5.5 GB)
GAME_PERIOD = 1.0 / 60.0  # the sleep between paced calls, as in the session loop
ARCHITECTURES = ("mlp", "transformer")


@dataclass
class Budget:
    """How much each part measures. The defaults keep a whole run near 4 minutes."""

    seconds: float = PERF_SECONDS
    """Seconds of tick lateness in each of the two loop runs (idle, trainer flat out)."""
    tight_calls: int = 5000
    """Decision-latency calls per series back to back."""
    paced_seconds: float = 8.0
    """Seconds per decision-latency series paced at 60 Hz (480 calls at the default)."""
    swaps: int = 50
    """Hot swaps per architecture."""
    heldout_frames: int = 1024
    """Held-out frames the gate compares each candidate and the current model on."""
    engine_seconds: float = 3.0
    capacity: int = 1_000_000
    """Frames the sampler holds (filled to capacity before measuring)."""
    batch: int = 256
    adds: int = 3000
    """Single-frame adds measured."""
    rounds: int = 500
    """Sample + update-priority rounds measured."""


# -- statistics -------------------------------------------------------------------------------


def latency_stats(samples_s: list[float]) -> dict:
    """p50, p99, max and mean of latencies given in seconds, reported in microseconds."""
    if not samples_s:
        return {"n": 0, "p50_us": None, "p99_us": None, "max_us": None, "mean_us": None}
    ordered = sorted(samples_s)
    return {
        "n": len(ordered),
        "p50_us": round(statistics.median(ordered) * 1e6, 2),
        "p99_us": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e6, 2),
        "max_us": round(ordered[-1] * 1e6, 2),
        "mean_us": round(statistics.fmean(ordered) * 1e6, 2),
    }


def _ms(seconds: list[float]) -> dict:
    if not seconds:
        return {"n": 0, "median_ms": None, "max_ms": None}
    return {
        "n": len(seconds),
        "median_ms": round(statistics.median(seconds) * 1000, 3),
        "max_ms": round(max(seconds) * 1000, 3),
    }


# -- (a) tick lateness ------------------------------------------------------------------------


def measure_tick_lateness(seconds: float, persona: str = "chaser", model: str = "mlp") -> dict:
    """The loop idle, then with the trainer flat out, ``seconds`` each (real clock)."""
    from learner.bench.live import play_while_training
    from learner.bench.loop import measure_lateness

    print(f"(a) tick lateness at 60 Hz, idle, {seconds:g} s …", flush=True)
    idle = asyncio.run(measure_lateness(seconds))
    print(f"(a) tick lateness at 60 Hz, {model} trainer flat out, {seconds:g} s …", flush=True)
    with tempfile.TemporaryDirectory(prefix="mirror-pong-perf-") as folder:
        live = asyncio.run(play_while_training(persona, model, seconds / 60.0, Path(folder)))
    training = dict(live["tick_lateness_while_training"])
    return {
        "idle": idle,
        "trainer_flat_out": {
            **training,
            "seconds": seconds,
            "persona": persona,
            "model": model,
            "trainer_steps_per_second": live["trainer_steps_per_second"],
            "models_accepted": live["models_accepted"],
            "hot_swap_end_to_end_ms": live["hot_swap_ms"],
            "mirror_decision_latency_live": live["decision_latency"]["mirror"],
        },
    }


# -- shared: realistic views and exported models ---------------------------------------------


def recorded_views(ticks: int, params: Params | None = None) -> list:
    """The right side's views over ``ticks`` of chaser-vs-predictor play (real situations)."""
    from game.personas import load_persona

    params = params or Params(points_to_win=1_000_000)
    left, right = load_persona("chaser", seed=1), load_persona("predictor", seed=1)
    state = new_match(1, params)
    views = []
    for _ in range(ticks):
        right_view = view(state, RIGHT, params)
        views.append(right_view)
        state, _ = step(state, left.act(view(state, LEFT, params)), right.act(right_view), params)
    return views


def _exported(architecture: str):
    import torch

    from learner.exporter import export_onnx
    from models.registry import build_model

    torch.manual_seed(0)
    model = build_model(architecture)
    return model, export_onnx(model, 1)


def _mirror(onnx_bytes: bytes | None = None):
    from learner.mirror import make_mirror

    mirror, gate = make_mirror()
    if onnx_bytes is not None and gate.consider(onnx_bytes, 1) is None:
        raise RuntimeError(f"the benchmark model was refused: {gate.stats.last_rejection}")
    return mirror, gate


# -- (b) decision latency ---------------------------------------------------------------------


def _time_calls(call, count: int, paced: bool) -> list[float]:
    samples = []
    perf = time.perf_counter
    for i in range(count):
        if paced:
            time.sleep(GAME_PERIOD)
        start = perf()
        call(i)
        samples.append(perf() - start)
    return samples


def measure_decision_latency(tight_calls: int = 5000, paced_seconds: float = 8.0) -> dict:
    """Per architecture: ``MirrorOpponent.act`` and a bare ``session.run`` at batch 1,
    back to back ("tight") and with a 16.7 ms sleep before every call ("paced")."""
    from game.mirror_opponent import make_session
    from learner.features import ObservationBuilder
    from models.contract import INPUT_NAME, OUTPUT_NAME

    paced_calls = max(1, round(paced_seconds / GAME_PERIOD))
    views = recorded_views(3600)
    builder = ObservationBuilder()
    windows = [builder.push(v)[None] for v in views]  # (1, HISTORY, NUM_FEATURES) each
    result = {}
    for architecture in ARCHITECTURES:
        _, onnx_bytes = _exported(architecture)
        mirror, _ = _mirror(onnx_bytes)
        session = make_session(onnx_bytes)

        def act(i, mirror=mirror):
            mirror.act(views[i % len(views)])

        def bare(i, session=session):
            session.run([OUTPUT_NAME], {INPUT_NAME: windows[i % len(windows)]})

        for call in (act, bare):  # warm up: first calls allocate and swap the model in
            _time_calls(call, 200, paced=False)
        print(
            f"(b) decision latency, {architecture}: {tight_calls} calls back to back, "
            f"{paced_calls} paced at 60 Hz ({paced_calls * GAME_PERIOD * 2:.0f} s) …",
            flush=True,
        )
        result[architecture] = {
            "mirror_act": {
                "tight": latency_stats(_time_calls(act, tight_calls, paced=False)),
                "paced": latency_stats(_time_calls(act, paced_calls, paced=True)),
            },
            "onnxruntime_run": {
                "tight": latency_stats(_time_calls(bare, tight_calls, paced=False)),
                "paced": latency_stats(_time_calls(bare, paced_calls, paced=True)),
            },
        }
    return result


# -- (c) hot swap -----------------------------------------------------------------------------


def measure_hot_swap(swaps: int = 50, heldout_frames: int = 1024) -> dict:
    """Per architecture: export a weight update, pass the gate (checks 1-5), play the first
    tick with it. Each update shifts the output bias uniformly: new bytes, new weights, the
    same argmax, so the held-out comparison always passes and every candidate swaps in."""
    import torch

    from game.mirror_opponent import commands_from_logits
    from learner.exporter import FastExporter
    from learner.features import ObservationBuilder
    from models.contract import INPUT_NAME, NUM_BINS, OUTPUT_NAME

    views = recorded_views(max(heldout_frames, 64))
    builder = ObservationBuilder()
    heldout_obs = np.stack([builder.push(v) for v in views[:heldout_frames]])
    result = {}
    for architecture in ARCHITECTURES:
        print(f"(c) hot swap, {architecture}: {swaps} swaps …", flush=True)
        model, first = _exported(architecture)
        mirror, gate = _mirror(first)
        mirror.act(views[0])  # the first model plays
        (logits,) = mirror.model.session.run([OUTPUT_NAME], {INPUT_NAME: heldout_obs})
        heldout_commands = commands_from_logits(logits)
        output_bias = [p for p in model.parameters() if tuple(p.shape) == (NUM_BINS,)][-1]
        exporter = FastExporter(model)
        export_s, check_s, act_s, total_s = [], [], [], []
        rejected = 0
        for version in range(2, swaps + 2):
            with torch.no_grad():
                output_bias += 1e-3
            start = time.perf_counter()
            data = exporter.export(model, version)
            exported = time.perf_counter()
            accepted = gate.consider(data, version, heldout_obs, heldout_commands)
            checked = time.perf_counter()
            mirror.act(views[version % len(views)])
            played = time.perf_counter()
            if accepted is None or mirror.model_version != version:
                rejected += 1
                continue
            export_s.append(exported - start)
            check_s.append(checked - exported)
            act_s.append(played - checked)
            total_s.append(played - start)
        result[architecture] = {
            **_ms(total_s),
            "export": _ms(export_s),
            "check": _ms(check_s),
            "first_act": _ms(act_s),
            "rejected": rejected,
            "fast_export_complete": exporter.complete,
            "heldout_frames": int(len(heldout_obs)),
        }
    return result


# -- (d) engine -------------------------------------------------------------------------------


def measure_engine(seconds: float = 3.0) -> dict:
    """Engine ticks per second: ``step`` in a loop, random commands, new match at each end."""
    print(f"(d) engine ticks per second, {seconds:g} s …", flush=True)
    params = Params()
    rng = random.Random(0)
    commands = [rng.uniform(-1.0, 1.0) for _ in range(4096)]
    state = new_match(0, params)
    ticks = matches = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for i in range(0, 4096, 2):
            state, _ = step(state, commands[i], commands[i + 1], params)
            if state.winner:
                matches += 1
                state = new_match(matches, params)
        ticks += 2048
        if time.perf_counter() >= deadline:
            break
    elapsed = time.perf_counter() - start
    return {
        "ticks": ticks,
        "seconds": round(elapsed, 3),
        "ticks_per_second": round(ticks / elapsed),
        "realtime_factor": round(ticks / elapsed / params.tick_rate),
        "matches": matches,
    }


# -- (e) sampler ------------------------------------------------------------------------------


def _random_frames(rng: np.random.Generator, count: int):
    from learner.sampler import frame_phase_and_time
    from models.contract import HISTORY, NUM_FEATURES

    obs = rng.random((count, HISTORY, NUM_FEATURES), dtype=np.float32)
    targets = rng.uniform(-1.0, 1.0, size=(count, HISTORY)).astype(np.float32)  # commands
    phase, time_to_reach = frame_phase_and_time(obs)
    return obs, targets, phase, time_to_reach


def _per_op(samples_total_s: float, count: int) -> dict:
    per_op = samples_total_s / count
    return {"n": count, "us_per_op": round(per_op * 1e6, 2), "ops_per_second": round(1 / per_op)}


def _chunks(capacity: int, chunk: int = 100_000):
    for start in range(0, capacity, chunk):
        yield min(chunk, capacity - start)


def measure_ours(capacity: int, batch: int, adds: int, rounds: int) -> dict:
    """FrameStorage + RelevanceSampler, filled to capacity, one thread."""
    from learner.sampler import FrameStorage, RelevanceSampler
    from models.contract import HISTORY, NUM_FEATURES

    rng = np.random.default_rng(0)
    storage = FrameStorage(capacity, HISTORY, NUM_FEATURES)
    sampler = RelevanceSampler(storage, generator=np.random.default_rng(1))
    for count in _chunks(capacity):
        sampler.on_added(storage.add(*_random_frames(rng, count), added_at=0.0))
    one = _random_frames(rng, 1)
    start = time.perf_counter()
    for _ in range(adds):
        sampler.on_added(storage.add(*one, added_at=0.0))
    add_s = time.perf_counter() - start
    priorities = rng.random((rounds, batch)) + 0.1
    start = time.perf_counter()
    for r in range(rounds):
        slots = sampler.sample(batch)
        _ = storage.obs[slots], storage.targets[slots]  # the trainer gathers the batch
        sampler.update_priority(slots, priorities[r])
    update_s = time.perf_counter() - start
    return {"add_one": _per_op(add_s, adds), "sample_update": _per_op(update_s, rounds)}


def measure_cpprb(capacity: int, batch: int, adds: int, rounds: int) -> dict:
    """cpprb's PrioritizedReplayBuffer holding the same fields, or why it cannot run."""
    try:
        from cpprb import PrioritizedReplayBuffer
    except ImportError as exc:
        return {
            "available": False,
            "note": f"cpprb is not installed ({exc}); "
            "`.venv/bin/pip install -r requirements-bench.txt` adds it",
        }
    from models.contract import HISTORY, NUM_FEATURES

    rng = np.random.default_rng(0)
    buffer = PrioritizedReplayBuffer(
        capacity,
        {
            "obs": {"shape": (HISTORY, NUM_FEATURES), "dtype": np.float32},
            "targets": {"shape": (HISTORY,), "dtype": np.float32},
        },
        alpha=1.0,
    )
    for count in _chunks(capacity):
        obs, targets, _, _ = _random_frames(rng, count)
        buffer.add(obs=obs, targets=targets, priorities=rng.random(count) + 0.1)
    obs, targets, _, _ = _random_frames(rng, 1)
    start = time.perf_counter()
    for _ in range(adds):
        buffer.add(obs=obs, targets=targets)
    add_s = time.perf_counter() - start
    priorities = rng.random((rounds, batch)) + 0.1
    start = time.perf_counter()
    for r in range(rounds):
        drawn = buffer.sample(batch, beta=0.4)  # gathers obs and targets, like ours
        buffer.update_priorities(drawn["indexes"], priorities[r])
    update_s = time.perf_counter() - start
    import cpprb

    return {
        "available": True,
        "version": getattr(cpprb, "__version__", None) or _dist_version("cpprb"),
        "add_one": _per_op(add_s, adds),
        "sample_update": _per_op(update_s, rounds),
    }


def _dist_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


# The torchrl side runs in its own environment (torch 2.14.1 + torchrl 0.14.1), so it is a
# standalone script: numpy, torch and torchrl only. Same fields, same loop as measure_ours:
# storage.set + sampler.add for one frame; sample + gather + update_priority for a batch.
TORCHRL_SCRIPT = r"""
import json, sys, time
import torch
from tensordict import TensorDict
from torchrl.data.replay_buffers.samplers import PrioritizedSampler
from torchrl.data.replay_buffers.storages import LazyTensorStorage
import torchrl

torch.set_num_threads(1)
capacity, history, features, bins, batch, adds, rounds = map(int, sys.argv[1:8])
out = sys.argv[8]
generator = torch.Generator().manual_seed(0)
storage = LazyTensorStorage(capacity)
sampler = PrioritizedSampler(capacity, alpha=1.0, beta=0.4)
for start in range(0, capacity, 100_000):
    count = min(100_000, capacity - start)
    index = torch.arange(start, start + count)
    frames = TensorDict(
        {
            "obs": torch.rand(count, history, features, generator=generator),
            "targets": torch.rand(count, history, generator=generator) * 2 - 1,
        },
        batch_size=[count],
    )
    storage.set(index, frames)
    sampler.extend(index)
    sampler.update_priority(index, torch.rand(count, generator=generator) + 0.1)
one = TensorDict(
    {"obs": torch.rand(history, features), "targets": torch.rand(history) * 2 - 1},
    batch_size=[],
)
start = time.perf_counter()
for i in range(adds):
    storage.set(i, one)
    sampler.add(i)
add_s = time.perf_counter() - start
priorities = torch.rand(rounds, batch, generator=generator) + 0.1
start = time.perf_counter()
for r in range(rounds):
    index, info = sampler.sample(storage, batch)
    storage.get(index)
    sampler.update_priority(index, priorities[r])
update_s = time.perf_counter() - start
with open(out, "w") as file:
    json.dump({"add_s": add_s, "update_s": update_s, "torch": torch.__version__,
               "torchrl": torchrl.__version__}, file)
"""

TORCHRL_PROBE = (
    "from torchrl.data.replay_buffers.samplers import PrioritizedSampler; "
    "PrioritizedSampler(8, 1.0, 0.4)"
)


def _venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _torchrl_loads(venv: Path) -> str | None:
    """None if torchrl's PrioritizedSampler works in ``venv``, else why not."""
    python = _venv_python(venv)
    if not python.exists():
        return f"{venv} has no Python"
    probe = subprocess.run([str(python), "-c", TORCHRL_PROBE], capture_output=True, text=True)
    if probe.returncode == 0:
        return None
    lines = (probe.stderr or probe.stdout).strip().splitlines()
    return lines[-1] if lines else f"exit code {probe.returncode}"


def ensure_torchrl_venv(venv: Path) -> str | None:
    """Create ``venv`` with torch 2.14.1 + torchrl 0.14.1 unless it works already.
    Returns None when torchrl is ready, else why it is not."""
    if _torchrl_loads(venv) is None:
        return None
    parent = venv.resolve().parent
    free_gb = shutil.disk_usage(parent).free / 1e9
    if not _venv_python(venv).exists() and free_gb < TORCHRL_VENV_GB:
        return (
            f"the torchrl environment needs ~{TORCHRL_VENV_GB:g} GB of disk, "
            f"{free_gb:.1f} GB free at {parent}"
        )
    print(
        f"    creating {venv} with {' '.join(TORCHRL_REQUIREMENTS)} (~5.5 GB, once) …",
        flush=True,
    )
    base_python = getattr(sys, "_base_executable", None) or sys.executable
    made = subprocess.run([base_python, "-m", "venv", str(venv)], capture_output=True, text=True)
    if made.returncode != 0:
        return f"could not create {venv}: {made.stderr.strip()[-300:]}"
    (venv / ".gitignore").write_text("*\n")  # keep the 5.5 GB out of git
    pip = subprocess.run(
        [str(_venv_python(venv)), "-m", "pip", "install", "--quiet", *TORCHRL_REQUIREMENTS],
        capture_output=True,
        text=True,
    )
    if pip.returncode != 0:
        tail = (pip.stderr or pip.stdout).strip().splitlines()[-3:]
        return f"pip could not install {' '.join(TORCHRL_REQUIREMENTS)}: {' / '.join(tail)}"
    return _torchrl_loads(venv)


def measure_torchrl(capacity: int, batch: int, adds: int, rounds: int, venv: Path) -> dict:
    from models.contract import HISTORY, NUM_BINS, NUM_FEATURES

    reason = ensure_torchrl_venv(venv)
    if reason is not None:
        return {"available": False, "note": f"torchrl not available: {reason}"}
    with tempfile.TemporaryDirectory(prefix="mirror-pong-torchrl-") as folder:
        script, out = Path(folder) / "torchrl_bench.py", Path(folder) / "result.json"
        script.write_text(TORCHRL_SCRIPT)
        numbers = (capacity, HISTORY, NUM_FEATURES, NUM_BINS, batch, adds, rounds)
        ran = subprocess.run(
            [str(_venv_python(venv)), str(script), *map(str, numbers), str(out)],
            capture_output=True,
            text=True,
        )
        if ran.returncode != 0 or not out.exists():
            tail = (ran.stderr or ran.stdout).strip().splitlines()[-1:]
            return {"available": False, "note": f"the torchrl run failed: {' '.join(tail)}"}
        raw = json.loads(out.read_text())
    return {
        "available": True,
        "version": f"torchrl {raw['torchrl']}, torch {raw['torch']}",
        "add_one": _per_op(raw["add_s"], adds),
        "sample_update": _per_op(raw["update_s"], rounds),
    }


def measure_sampler(
    capacity: int = 1_000_000,
    batch: int = 256,
    adds: int = 3000,
    rounds: int = 500,
    with_torchrl: bool = False,
    torchrl_venv: Path = DEFAULT_TORCHRL_VENV,
) -> dict:
    """Ours beside cpprb and torchrl; ``ratio`` = their time per operation / ours (> 1: ours
    is faster). An unavailable comparison is reported with the reason, never an error."""
    print(
        f"(e) sampler at capacity {capacity:,}, batch {batch}: ours, cpprb"
        f"{', torchrl' if with_torchrl else ''} …",
        flush=True,
    )
    result = {"capacity": capacity, "batch": batch}
    result["ours"] = measure_ours(capacity, batch, adds, rounds)
    gc.collect()  # free the ring (0.9 GB at a million frames) before the next one fills
    others = {"cpprb": measure_cpprb(capacity, batch, adds, rounds)}
    gc.collect()
    if with_torchrl:
        others["torchrl"] = measure_torchrl(capacity, batch, adds, rounds, torchrl_venv)
    else:
        others["torchrl"] = {
            "available": False,
            "note": "not run: pass --with-torchrl (builds .venv-torchrl, ~5.5 GB, on first use)",
        }
    for name, other in others.items():
        if other["available"]:
            other["ratio"] = {
                part: round(other[part]["us_per_op"] / result["ours"][part]["us_per_op"], 2)
                for part in ("add_one", "sample_update")
            }
        result[name] = other
    return result


# -- the whole run ----------------------------------------------------------------------------


def run_all(
    budget: Budget,
    with_torchrl: bool = False,
    torchrl_venv: Path = DEFAULT_TORCHRL_VENV,
    command: str = "python main.py bench perf",
) -> dict:
    started = time.perf_counter()
    result = {
        "machine": machine_description(),
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": command,
        "load_average_at_start": round(os.getloadavg()[0], 2),
        "budget": asdict(budget),
        "versions": {
            name: _dist_version(name) for name in ("onnxruntime", "torch", "numpy", "cpprb")
        },
    }
    result["tick_lateness"] = measure_tick_lateness(budget.seconds)
    result["decision_latency"] = measure_decision_latency(budget.tight_calls, budget.paced_seconds)
    result["hot_swap"] = measure_hot_swap(budget.swaps, budget.heldout_frames)
    result["engine"] = measure_engine(budget.engine_seconds)
    result["sampler"] = measure_sampler(
        budget.capacity, budget.batch, budget.adds, budget.rounds, with_torchrl, torchrl_venv
    )
    result["load_average_at_end"] = round(os.getloadavg()[0], 2)
    result["wall_seconds"] = round(time.perf_counter() - started, 1)
    return result


def _fmt(value, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and value >= 100:
        value = round(value)
    return f"{value:,}{unit}" if isinstance(value, int) else f"{value:g}{unit}"


def _op(figures: dict) -> str:
    """Time per operation and throughput, e.g. '110 µs (9,090/s)'."""
    return f"{_fmt(figures['us_per_op'], ' µs')} ({figures['ops_per_second']:,}/s)"


def _ratio_words(ratio: float) -> str:
    return f"ours {ratio:.2g}× faster" if ratio >= 1 else f"ours {1 / ratio:.2g}× slower"


def report_lines(result: dict) -> list[str]:
    """The figures as Markdown: the printed report and docs/benchmarks.md share it."""
    lines = []
    late = result["tick_lateness"]
    lines += [
        "## (a) Session-loop tick lateness at 60 Hz",
        "",
        "Real server, real clock, one WebSocket client in another process; lateness is how "
        "long after its deadline each tick started.",
        "",
        "| condition | ticks | median | p99 | max |",
        "|---|---:|---:|---:|---:|",
    ]
    training = late["trainer_flat_out"]
    for label, row in (
        ("idle", late["idle"]),
        (f"{training['model']} trainer flat out (own process)", training),
    ):
        lines.append(
            f"| {label} | {_fmt(row['ticks'])} | {_fmt(row['median_ms'], ' ms')} | "
            f"{_fmt(row['p99_ms'], ' ms')} | {_fmt(row['max_ms'], ' ms')} |"
        )
    lines += [
        "",
        f"While training: {_fmt(training['trainer_steps_per_second'])} trainer steps/s, "
        f"{training['models_accepted']} models accepted; end-to-end swap (training step end "
        f"→ first tick) median {_fmt(training['hot_swap_end_to_end_ms']['median'], ' ms')}. "
        "The training run starts the trainer process as it starts measuring, so it includes "
        "the trainer's start-up (importing torch, several seconds here).",
        "",
        "## (b) Opponent decision latency, batch 1",
        "",
        "`MirrorOpponent.act` (features + onnxruntime + argmax) beside a bare onnxruntime "
        "`run` of the same model. *Tight*: calls back to back; *paced*: a 16.7 ms sleep "
        "before each call, as in the game loop, so caches are cold.",
        "",
        "| model | call | tight p50 | tight p99 | paced p50 | paced p99 | paced max |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for architecture, calls in result["decision_latency"].items():
        for call, label in (("mirror_act", "`MirrorOpponent.act`"), ("onnxruntime_run", "`run`")):
            tight, paced = calls[call]["tight"], calls[call]["paced"]
            lines.append(
                f"| {architecture} | {label} | {_fmt(tight['p50_us'], ' µs')} | "
                f"{_fmt(tight['p99_us'], ' µs')} | {_fmt(paced['p50_us'], ' µs')} | "
                f"{_fmt(paced['p99_us'], ' µs')} | {_fmt(paced['max_us'], ' µs')} |"
            )
    lines += [
        "",
        "## (c) Hot swap",
        "",
        "`FastExporter.export` of a weight update + the gate's checks (`ModelGate.consider`: "
        "ONNX checker, contract, probes, held-out comparison) + the first `act` with it.",
        "",
        "| model | swaps | median | max | export (median) | checks (median) | first act (median) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for architecture, swap in result["hot_swap"].items():
        lines.append(
            f"| {architecture} | {swap['n']} | {_fmt(swap['median_ms'], ' ms')} | "
            f"{_fmt(swap['max_ms'], ' ms')} | {_fmt(swap['export']['median_ms'], ' ms')} | "
            f"{_fmt(swap['check']['median_ms'], ' ms')} | "
            f"{_fmt(swap['first_act']['median_ms'], ' ms')} |"
        )
    some_swap = next(iter(result["hot_swap"].values()))
    engine = result["engine"]
    lines += [
        "",
        f"Held-out set: {some_swap['heldout_frames']} frames.",
        "",
        "## (d) Engine, headless",
        "",
        f"`step()` with random commands: **{_fmt(engine['ticks_per_second'])} ticks/s**, "
        f"{_fmt(engine['realtime_factor'])}× real time ({_fmt(engine['ticks'])} ticks, "
        f"{engine['matches']} matches).",
        "",
    ]
    sampler = result["sampler"]
    lines += [
        f"## (e) Prioritized replay at {sampler['capacity']:,} frames, batch {sampler['batch']}",
        "",
        "One thread, buffer filled to capacity first. *Add one frame*: store it and weigh it; "
        "*sample + update*: draw a batch, gather its observations and targets, set new "
        "priorities for it. Ratio: their time / ours (above 1: ours is faster).",
        "",
        "| implementation | add one frame | sample + update | add ratio | sample ratio |",
        "|---|---:|---:|---:|---:|",
    ]
    ours = sampler["ours"]
    lines.append(
        f"| ours (`FrameStorage` + `RelevanceSampler`, numpy) | {_op(ours['add_one'])} | "
        f"{_op(ours['sample_update'])} | 1 | 1 |"
    )
    notes = []
    for name, label in (("cpprb", "cpprb `PrioritizedReplayBuffer`"), ("torchrl", None)):
        other = sampler[name]
        label = label or "torchrl `PrioritizedSampler` + `LazyTensorStorage`"
        if not other["available"]:
            lines.append(f"| {label} | not available | not available | — | — |")
            notes.append(f"- {name}: {other['note']}")
            continue
        lines.append(
            f"| {label} ({other['version']}) | {_op(other['add_one'])} | "
            f"{_op(other['sample_update'])} | "
            f"{other['ratio']['add_one']:g} | {other['ratio']['sample_update']:g} |"
        )
    if notes:
        lines += ["", *notes]
    return lines


def print_report(result: dict) -> None:
    print()
    print(f"Performance on {result['machine']} ({result['wall_seconds']:g} s)")
    print()
    for line in report_lines(result):
        print(line)
    sampler = result["sampler"]
    for name in ("cpprb", "torchrl"):
        other = sampler[name]
        if other["available"]:
            print(
                f"{name}: adding one frame {_ratio_words(other['ratio']['add_one'])}, "
                f"sample + update {_ratio_words(other['ratio']['sample_update'])}"
            )


def render_markdown(result: dict) -> str:
    header = [
        "# Benchmarks",
        "",
        "Generated by `python main.py bench perf --write-docs`; do not edit by hand, re-run it.",
        "",
        f"- machine: {result['machine']}",
        f"- date: {result['date']}",
        f"- command: `{result['command']}`",
        "- versions: "
        + ", ".join(f"{name} {v}" for name, v in result["versions"].items() if v is not None),
        f"- wall time: {result['wall_seconds']:g} s; 1-minute load average "
        f"{result['load_average_at_start']:g} at the start, {result['load_average_at_end']:g} "
        "at the end, on this machine's cores",
        "",
        "Figures vary from run to run on a shared 2-core machine: compare runs on the same "
        "machine only. `--json OUT` writes every figure, with counts and means.",
        "",
    ]
    return "\n".join(header + report_lines(result)) + "\n"


# -- command line -----------------------------------------------------------------------------


def command_line(args: argparse.Namespace) -> str:
    words = ["python", "main.py", "bench", "perf"]
    if args.seconds != Budget.seconds:
        words += ["--seconds", f"{args.seconds:g}"]
    if args.with_torchrl:
        words.append("--with-torchrl")
        if args.torchrl_venv != DEFAULT_TORCHRL_VENV:
            words += ["--torchrl-venv", str(args.torchrl_venv)]
    if args.json:
        words += ["--json", str(args.json)]
    if args.write_docs:
        words.append("--write-docs")
        if args.write_docs != DEFAULT_DOCS:
            words.append(str(args.write_docs))
    return " ".join(words)


def run(args: argparse.Namespace) -> int:
    if not args.seconds > 0:
        print(f"error: --seconds must be positive, got {args.seconds}", file=sys.stderr)
        return 2
    budget = Budget(seconds=args.seconds)
    print(f"Performance benchmarks ({machine_description()})", flush=True)
    result = run_all(budget, args.with_torchrl, args.torchrl_venv, command_line(args))
    print_report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.json}")
    if args.write_docs:
        args.write_docs.parent.mkdir(parents=True, exist_ok=True)
        args.write_docs.write_text(render_markdown(result))
        print(f"wrote {args.write_docs}")
    return 0
