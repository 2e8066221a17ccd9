"""``python main.py bench live``: live play, real clock, the trainer process learning flat out.

A persona drives the left paddle through the real session loop; the server serves one
WebSocket client in another process (as a browser tab would be); the mirror learns in its
own process without pacing. Prints tick lateness, the opponent's decision latency, hot-swap
latency (end of the training step that made a model -> first tick it drives) and the
trainer's held-out agreement at each minute.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from game.engine import Params
from game.mirror_opponent import MirrorOpponent
from game.personas import load_persona
from game.ports import plug_learning
from game.server import ServerConfig, create_app
from game.session import Session
from learner.bench import write_json
from learner.bench.loop import lateness_summary, machine_description, serve_with_client
from learner.live import LiveLearner
from learner.mirror import MirrorFiles, make_mirror
from learner.trainer import TrainerConfig


class TimedOpponent:
    """Records how long each decision takes."""

    def __init__(self, inner: MirrorOpponent) -> None:
        self.inner = inner
        self.latencies: dict[str, list[float]] = {"scripted": [], "mirror": []}

    @property
    def label(self) -> str:
        return self.inner.label

    @property
    def model_version(self) -> int:
        return self.inner.model_version

    @property
    def name(self) -> str:
        return self.inner.name  # what the recording says the match is against

    def take_offer(self, first_only: bool = False) -> None:
        self.inner.take_offer(first_only)  # a paused game's session calls it between ticks

    def reset(self, seed: int) -> None:
        self.inner.reset(seed)

    def act(self, view) -> float:
        start = time.perf_counter()
        command = self.inner.act(view)
        self.latencies[self.inner.label].append(time.perf_counter() - start)
        return command


def _percentiles_us(samples: list[float]) -> dict:
    if not samples:
        return {"n": 0, "p50_us": None, "p99_us": None}
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "p50_us": round(statistics.median(ordered) * 1e6, 1),
        "p99_us": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e6, 1),
    }


async def play_while_training(
    persona_spec: str, architecture: str, minutes: float, folder: Path
) -> dict:
    """``minutes`` of live play while the trainer learns flat out; the figures as a dict."""
    params = Params(points_to_win=1_000_000)  # one long match: nothing restarts mid-run
    mirror, gate = make_mirror(params)
    opponent = TimedOpponent(mirror)
    learner = LiveLearner(
        mirror,
        gate,
        MirrorFiles(folder),
        config=TrainerConfig(architecture=architecture),
        params=params,
        flat_out=True,
    )
    persona = load_persona(persona_spec, seed=1)
    session = Session(opponent, params=params, seed=1, left_driver=persona)
    plug_learning(session, learner)  # as play does: frames in, the gate waits for tick gaps
    seconds = minutes * 60.0
    runner, client = await serve_with_client(create_app(ServerConfig(), session), seconds + 62.0)
    # Measure steady play: from the trainer's first report (its start-up, importing torch,
    # is a one-off of a few seconds per session).
    waited = time.perf_counter()
    while not learner.stats and time.perf_counter() - waited < 60:
        await asyncio.sleep(0.1)
    session.lateness.clear()
    opponent.latencies = {"scripted": [], "mirror": []}
    started = time.perf_counter()

    def minute_row(minute: int, stats: dict) -> dict:
        return {
            "minute": minute,
            "agreement": stats.get("agreement"),
            "approach_agreement": stats.get("approach_agreement"),
            "untrained_agreement": stats.get("untrained_agreement"),
            "model_version": mirror.model_version,
        }

    by_minute = []
    next_minute = 1
    while (elapsed := time.perf_counter() - started) < seconds:
        await asyncio.sleep(1.0)
        stats = learner.stats
        agreement = stats.get("agreement")
        print(
            f"\r  {elapsed:5.0f} / {seconds:.0f} s  mirror v{mirror.model_version}  "
            f"agreement {'—' if agreement is None else f'{agreement:.3f}'}  "
            f"steps/s {stats.get('steps_per_second', 0):.0f}",
            end="",
            file=sys.stderr,
            flush=True,
        )
        if elapsed >= next_minute * 60:
            by_minute.append(minute_row(next_minute, stats))
            next_minute += 1
    print(file=sys.stderr)
    if next_minute * 60 <= seconds + 1:  # the last minute ends with the loop
        by_minute.append(minute_row(next_minute, learner.stats))
    lateness = list(session.lateness)
    stats = dict(learner.stats)
    swaps = sorted(learner.swap_latencies)
    stages = list(learner.swap_stages)
    await runner.cleanup()
    learner.stop()
    await client.communicate()
    return {
        "persona": persona_spec,
        "model": architecture,
        "minutes": minutes,
        "machine": machine_description(),
        "tick_lateness_while_training": lateness_summary(lateness),
        "decision_latency": {
            "mirror": _percentiles_us(opponent.latencies["mirror"]),
            "scripted": _percentiles_us(opponent.latencies["scripted"]),
        },
        "hot_swap_ms": {
            "n": len(swaps),
            "median": round(statistics.median(swaps) * 1000, 2) if swaps else None,
            "max": round(swaps[-1] * 1000, 2) if swaps else None,
            # medians of: trainer -> the learner's supervisor, the gate's checks, the tick
            "stages_median": [
                round(statistics.median(s[i] for s in stages) * 1000, 2) for i in range(3)
            ]
            if stages
            else None,
        },
        "trainer_steps_per_second": stats.get("steps_per_second"),
        "trainer_samples_per_second": stats.get("samples_per_second"),
        "models_accepted": gate.stats.accepted,
        "models_rejected": gate.stats.rejected,
        "agreement_by_minute": by_minute,
    }


def run(args) -> int:
    """``main.py bench live``."""
    return bench_live(args.persona, args.model, args.minutes, args.json)


def bench_live(persona: str, model: str, minutes: float, json_path: Path | None) -> int:
    print(
        f"Live play for {minutes:g} min: persona {persona!r} vs its {model} mirror, trainer "
        f"flat out, one WebSocket client ({machine_description()})"
    )
    with tempfile.TemporaryDirectory(prefix="mirror-pong-bench-") as folder:
        result = asyncio.run(play_while_training(persona, model, minutes, Path(folder)))
    late = result["tick_lateness_while_training"]
    decision = result["decision_latency"]["mirror"]
    swap = result["hot_swap_ms"]
    print(
        f"tick lateness (trainer flat out): median {late['median_ms']} ms, "
        f"p99 {late['p99_ms']} ms, max {late['max_ms']} ms over {late['ticks']} ticks"
    )
    print(f"mirror decision latency: p50 {decision['p50_us']} µs, p99 {decision['p99_us']} µs")
    print(
        f"hot swap (training step end -> first tick): median {swap['median']} ms, "
        f"max {swap['max']} ms over {swap['n']} swaps; stages {swap['stages_median']} ms "
        f"({result['models_rejected']} candidates rejected)"
    )
    for point in result["agreement_by_minute"]:
        print(
            f"minute {point['minute']}: agreement {point['agreement']}, approach "
            f"{point['approach_agreement']}, untrained {point['untrained_agreement']}, "
            f"mirror v{point['model_version']}"
        )
    write_json(result, json_path)
    return 0
