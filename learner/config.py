"""The trainer's settings and pacing, importable without torch (the game process never
loads torch)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class TrainerConfig:
    architecture: str = "mlp"
    """'mlp' or 'transformer'."""
    model_config: dict = field(default_factory=dict)
    """Overrides of the architecture's config dataclass."""
    capacity: int = 100_000
    """Frames kept for training (about 28 minutes of play)."""
    batch_size: int = 256
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 100
    """Steps over which the learning rate rises linearly from lr/warmup_steps to lr."""
    total_steps: int = 0
    """0: the rate stays at lr after warm-up (live play and the benches: play never ends, and
    a rate decayed to zero would stop the mirror following a player who changes). N: after
    warm-up it follows a cosine from lr down to 0 at step N, the standard schedule for a run
    that knows its length (offline ``train``)."""
    steps_per_second: float = 10.0
    """Training steps per second of play, live and headless alike. DESIGN.md found 10, 30
    and 300 give nearly the same agreement at equal play time (distinct ball trajectories,
    not compute, limit learning); measured again here with `bench fidelity`, 10 matched or
    beat 30 for three personas and leaves the second core to the browser."""
    two_hot: bool = True
    """Each command is a target shared between the two bins either side of it by nearness
    (``learner.trainer.bin_targets``), not rounded to the nearest: a player's 0.02 is not a
    0.0, and a mirror that plays its scores' local mean plays it (``game.playback.refine``).
    Rounded, a continuous player's clone changes command in steps of a bin and so seems to
    react sooner: the chaser's clone 0.26 sooner than the chaser on the same play, 0.08
    later once the chaser's own commands are rounded alike."""
    flip: float = 0.5
    """Share of the frames drawn for a step that train upside down
    (``learner.trainer.flip_vertically``: heights mirrored about the middle, vertical motion
    and the command negated): how a player goes for a ball coming low is how they go for
    one coming high, so a few minutes of play teach twice the trajectories. Measured as
    ``bench fidelity`` judges (8 personas, held-out agreement, against 0): after 3 simulated
    minutes, seeds 0-3, 24 persona x seed pairs up and 8 down, mean +0.010 (angler 0.916 ->
    0.945, keyboard 0.914 -> 0.938); after 10, seeds 0-1, 11 up and 5 down, mean +0.012
    (angler 0.966 -> 0.987, keyboard 0.936 -> 0.971), no persona down by more than 0.002."""
    flip_approach_only: bool = True
    """Only frames of the ball coming at the player train upside down. Where a player waits
    between rallies is a habit of theirs (the lazy persona waits above the middle) that its
    mirror image would average away: flipping every frame moved the lazy clone's waiting
    height by 5-22%, flipping only these by no more than without flips."""
    heldout_every: int = 5
    """Every this-many-th rally is held out for validation, never trained on."""
    rally_block_seconds: float = 10.0
    """A rally longer than this counts as a new one every this many seconds, for the
    held-out split: two players as good as each other can rally for minutes, and a split by
    serves alone then holds nothing new out, so the gate keeps judging every candidate on
    the same old frames (measured: a predictor's mirror refused 17 candidates in a row over
    its last 6 of 10 minutes, keeping a model that scored 0.957 on fresh play while the
    trainer's scored 0.981)."""
    min_heldout_frames: int = 180
    """Held-out frames (3 s of play) before agreement is reported: fewer give flukes."""
    heldout_capacity: int = 4096
    """The most recent held-out frames kept."""
    min_frames: int = 300
    """Frames (5 s of play) before the first candidate is exported."""
    min_improvement: float = 0.005
    """Held-out agreement gain over the last exported model that triggers a new export."""
    export_every: float = 20.0
    """Seconds of play after which a candidate is exported anyway. Held-out sets grow and
    slide, so an early, lucky score on a few frames must not block later, better models;
    the gate compares each candidate with the playing model on the same frames."""
    average: float = 0.99
    """The mirror plays (exports, and is judged on) an exponential moving average of the
    weights it trains, not the last step's: decay ``a`` a step (0.99: about the last 100
    steps, 10 s of play), less in the first steps (``min(a, (1 + n) / (10 + n))``). A player
    with noise in every move (a reaction time that varies, a trembling hand) pulls the
    weights a little this way and that on every batch; the average irons that out. 0: the
    last step's weights. Measured as ``bench fidelity`` judges (held-out agreement after 3
    simulated minutes, seeds 0-7, against 0): keyboard 0.959 -> 0.965 (7 of 8 seeds up),
    pointer 0.851 -> 0.860, nervous 0.716 -> 0.718, the deterministic personas within
    0.004 either way (chaser 0.992 -> 0.988); on two players written for the check and never
    tuned on, slow arrow keys 0.943 -> 0.951 and a late, trembling mouse 0.528 -> 0.545."""
    device: str = "cpu"
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.average < 1.0:  # also refuses NaN
            raise ValueError(
                f"average is a decay per step, 0 (off) up to but not 1, got average={self.average}"
            )
        if not 0.0 <= self.flip <= 1.0:  # also refuses NaN
            raise ValueError(f"flip is a share of the frames, 0 to 1, got flip={self.flip}")


class StepPacer:
    """Training steps owed for the play received: ``steps_per_second`` per second of play,
    live (the trainer process), headless (the benches) and offline alike, so all three learn
    at the same pace. A burst of play is capped at ``cap_seconds`` worth of steps."""

    def __init__(self, steps_per_second: float, cap_seconds: float = math.inf) -> None:
        self.steps_per_second = steps_per_second
        self.cap = cap_seconds * steps_per_second
        self.budget = 0.0

    def add_play(self, seconds: float) -> None:
        self.budget = min(self.budget + seconds * self.steps_per_second, self.cap)

    def due(self) -> int:
        """Whole steps owed now; call ``spend`` for each one taken."""
        return int(self.budget)

    def spend(self) -> None:
        self.budget = max(0.0, self.budget - 1.0)

    def reset(self) -> None:
        self.budget = 0.0


def steps_for_play(seconds: float, steps_per_second: float) -> int:
    """Steps for ``seconds`` of play known in advance (offline training), at least one."""
    return max(1, math.ceil(seconds * steps_per_second))
