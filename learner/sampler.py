"""The replay buffer the trainer draws its batches from: frame storage and a relevance sampler.

A player's frames are not equally worth imitating. What they do while the ball comes at them
(and most of all just before they hit or miss it) is their style; what they do while the ball
flies away or waits at the centre is mostly idle drift. ``RelevanceSampler`` draws stored
frames with probability proportional to a relevance weight built from ``RelevanceWeights``,
whose terms the player can tune live from sliders. Any setting that validation accepts trains
from the first stored frame: when every stored frame weighs zero (say ``recede=0, serve=0``
before the ball has first come at the player), the sampler draws uniformly among them.

With ``LossPriority`` the sampler also adapts to the player: the trainer reports each drawn
frame's loss (``update_losses``), and a frame's weight becomes its relevance weight (the prior
the sliders set) times a clipped factor from its loss relative to the running mean, so frames
the mirror still gets wrong come up more often. ``importance_weights`` undoes that factor's
bias in the loss (not the prior's, which is the point of relevance), as in prioritized replay.

Shape follows TorchRL / Stable-Baselines3: ``FrameStorage`` holds the frames (a bounded ring of
numpy arrays), the sampler only holds one weight per slot in a ``SumTree`` and an injected
``numpy.random.Generator``; both have ``state_dict`` / ``load_state_dict``. Numpy only, so the
same code runs in the trainer process and in tests without torch.

Costs: adding B frames or updating B priorities is O(B log capacity), drawing n slots is
O(n log capacity), all vectorised over the batch; changing the weights re-weighs every stored
frame in one O(capacity) numpy pass.
"""

from __future__ import annotations

import copy
import math
import numbers
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from game import safe_json
from models.contract import COLUMN, COMMAND_BINS

PHASE_APPROACH, PHASE_RECEDE, PHASE_SERVE = 0, 1, 2
PHASE_NAMES = ("approach", "recede", "serve")  # indexed by the phase codes above

APPROACHING_COLUMN = COLUMN["approaching"]
SERVING_COLUMN = COLUMN["serving"]
TIME_TO_REACH_COLUMN = COLUMN["time_to_reach"]

# With recency on, new frames are weighed against the sampler's clock without re-weighing the
# old ones (see relevance_weight); once the newest frame is this many half-lives ahead of the
# clock the sampler moves the clock forward, so weights stay far from float64 overflow
# (2 ** 64 is tiny next to the 2 ** 1024 limit).
REBASE_HALF_LIVES = 64.0


WEIGHT_MAXIMUM: dict[str, float] = {
    "approach": 1000.0,
    "recede": 1000.0,
    "serve": 1000.0,
    "urgency": 1000.0,
    "urgency_tau": 60.0,  # seconds
    "pre_event": 1000.0,
    "event_window": 10.0,  # seconds
    "recency_half_life": 100_000.0,  # minutes of play
}
"""The largest value each term accepts: a frame's weight stays below ~1e12, far from
overflowing the sum tree's float64 sums."""


def _shown_number(value: float) -> str:
    if isinstance(value, int) and value.bit_length() > 64:  # repr of 10**5000 itself fails
        return f"an integer of {value.bit_length()} bits"
    return repr(value)


@dataclass
class RelevanceWeights:
    """The terms of a frame's relevance weight; every field is tunable live from a slider.

    A frame's weight is ``phase base * urgency factor * pre-event factor * recency factor``:
    see ``relevance_weight``. Only ratios between frames matter to the sampler.
    """

    approach: float = 1.0
    """Base weight while the ball comes toward the player: their style shows here."""
    recede: float = 0.1
    """Base weight while the ball moves away after the player's hit; mostly idle drift, so the
    seed default is much less than ``approach``."""
    serve: float = 0.1
    """Base weight while the ball waits at the centre to be served."""
    urgency: float = 1.0
    """Extra weight as the ball nears the paddle: approach frames are multiplied by
    ``1 + urgency * exp(-time_to_reach / urgency_tau)``; 0 turns the term off."""
    urgency_tau: float = 0.4
    """Seconds over which the urgency boost fades with time to reach; must be > 0."""
    pre_event: float = 2.0
    """Multiplier for frames within ``event_window`` seconds before the player's hit or miss;
    1 turns the term off, 0 drops those frames."""
    event_window: float = 0.5
    """Seconds before a hit or miss whose frames count as near the event. 0 is allowed and
    marks nothing (the pre-event term is then off). Applied when an event is reported:
    changing it does not re-mark frames of past events."""
    recency_half_life: float = 0.0
    """Minutes of play after which a frame's weight has halved, so the opponent follows how the
    player plays now; 0 turns the term off (every frame counts regardless of age)."""

    def validate(self) -> None:
        """Raise ValueError naming the term and its value if these weights are unusable."""
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ValueError(f"{field.name} must be a number, got {field.name}={value!r}")
            shown = _shown_number(value)
            try:
                finite = math.isfinite(value)
            except OverflowError:  # an int too large for a float, e.g. 10**400
                finite = False
            if not finite:
                raise ValueError(f"{field.name} must be finite, got {field.name}={shown}")
            if value < 0:
                raise ValueError(f"{field.name} must be >= 0, got {field.name}={shown}")
            if value > WEIGHT_MAXIMUM[field.name]:
                # Finite but huge weights overflow the sampler's sums (1e308 crash-looped the
                # trainer): every term has a documented ceiling, the sliders' range and more.
                raise ValueError(
                    f"{field.name} must be <= {WEIGHT_MAXIMUM[field.name]:g}, "
                    f"got {field.name}={shown}"
                )
        if self.urgency_tau <= 0:
            # It divides time_to_reach.
            raise ValueError(
                f"urgency_tau must be > 0 seconds, got urgency_tau={self.urgency_tau!r}"
            )
        if self.approach == 0 and self.recede == 0 and self.serve == 0:
            raise ValueError(
                "all phase weights are zero (approach=0, recede=0, serve=0): "
                "no frame could ever be drawn; give at least one phase a positive weight"
            )

    @classmethod
    def uniform(cls) -> RelevanceWeights:
        """Weights under which every frame weighs exactly 1: plain uniform replay."""
        return cls(
            approach=1.0, recede=1.0, serve=1.0, urgency=0.0, pre_event=1.0, recency_half_life=0.0
        )

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, float]) -> RelevanceWeights:
        """Weights from ``to_dict`` output (missing keys take defaults); validated."""
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"unknown relevance weight keys {unknown}; known keys are {sorted(known)}"
            )
        weights = cls(**data)
        weights.validate()
        return weights


@dataclass(frozen=True)
class LossPriority:
    """Loss-aware priorities on top of the relevance weights (prioritized replay, with the
    relevance weight as each frame's prior).

    A frame's weight is ``relevance weight * factor`` with
    ``factor = clip((loss / mean_loss) ** alpha, min_factor, max_factor)`` from the frame's
    latest training loss; a frame not trained on yet has factor 1. The clip keeps the prior
    meaningful: a slider at 5x still outweighs any loss factor below 5.
    """

    alpha: float = 1.0
    """How strongly the loss ratio moves the factor; 0 turns the adaptation off."""
    min_factor: float = 0.25
    """The least a frame the mirror already gets right is drawn, relative to its prior."""
    max_factor: float = 4.0
    """The most a frame the mirror gets wrong is drawn, relative to its prior."""
    beta: float = 0.5
    """Importance-sampling exponent: each sample's loss is weighed by
    ``(min factor in batch / its factor) ** beta``; 1 undoes the factor's bias fully, 0 not."""
    mean_decay: float = 0.98
    """Per training step, how much of the running mean loss is kept (the reference loss)."""

    def validate(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ValueError(f"{field.name} must be a number, got {field.name}={value!r}")
            if not math.isfinite(value) or value < 0:
                raise ValueError(
                    f"{field.name} must be finite and >= 0, got {field.name}={value!r}"
                )
        if not 0 < self.min_factor <= 1 <= self.max_factor:
            raise ValueError(
                "need 0 < min_factor <= 1 <= max_factor, got "
                f"min_factor={self.min_factor!r}, max_factor={self.max_factor!r}"
            )
        if self.beta > 1 or self.mean_decay >= 1:
            raise ValueError(
                f"need beta <= 1 and mean_decay < 1, got beta={self.beta!r}, "
                f"mean_decay={self.mean_decay!r}"
            )


def relevance_weight(
    phase: np.ndarray,
    time_to_reach: np.ndarray,
    near_event: np.ndarray,
    added_at: np.ndarray | float,
    now: float,
    weights: RelevanceWeights,
) -> np.ndarray:
    """Relevance weights (N,) float64 >= 0 of N frames.

    phase: (N,) phase codes; time_to_reach: (N,) seconds; near_event: (N,) bool; added_at:
    (N,) or scalar, minutes of play when each frame was recorded; now: minutes of play.

    The recency factor is ``2 ** (-(now - added_at) / recency_half_life)`` without clipping at
    age 0: a frame newer than ``now`` gets a factor above 1. That keeps the ratio between any
    two frames exact whatever ``now`` is, so the sampler can weigh new frames against an older
    clock without re-weighing the whole buffer on every add.
    """
    phase = np.asarray(phase)
    if phase.size and (phase.min() < 0 or phase.max() > PHASE_SERVE):
        raise ValueError(
            f"phase codes must be in 0..{PHASE_SERVE} {PHASE_NAMES}, "
            f"got values from {phase.min()} to {phase.max()}"
        )
    phase_base = np.array([weights.approach, weights.recede, weights.serve], dtype=np.float64)
    weight = phase_base[phase]  # (N,) float64, a fresh array: safe to scale in place
    if weights.urgency != 0:
        time_to_reach = np.asarray(time_to_reach, dtype=np.float64)
        urgency_factor = 1.0 + weights.urgency * np.exp(-time_to_reach / weights.urgency_tau)
        weight *= np.where(phase == PHASE_APPROACH, urgency_factor, 1.0)
    if weights.pre_event != 1:
        weight *= np.where(np.asarray(near_event, dtype=bool), weights.pre_event, 1.0)
    if weights.recency_half_life > 0:
        age = now - np.asarray(added_at, dtype=np.float64)  # minutes; negative: newer than now
        weight *= np.exp2(-age / weights.recency_half_life)
    return weight


def frame_phase_and_time(obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Phase codes (B,) uint8 and time to reach (B,) float32 of B observation windows.

    obs: (B, HISTORY, NUM_FEATURES); a frame is labelled by its newest tick, the one whose
    command the model learns. The serve check comes first: a waiting ball has zero velocity,
    so it is not approaching either.
    """
    newest = np.asarray(obs)[:, -1, :]  # (B, NUM_FEATURES)
    phase = np.where(
        newest[:, SERVING_COLUMN] > 0.5,
        PHASE_SERVE,
        np.where(newest[:, APPROACHING_COLUMN] > 0.5, PHASE_APPROACH, PHASE_RECEDE),
    ).astype(np.uint8)
    return phase, newest[:, TIME_TO_REACH_COLUMN].astype(np.float32)


def _checked_copy(weights: RelevanceWeights) -> RelevanceWeights:
    """A validated private copy: later edits to the caller's object must not leak in unseen."""
    if not isinstance(weights, RelevanceWeights):
        raise TypeError(f"weights must be RelevanceWeights, got {type(weights).__name__}")
    weights = copy.copy(weights)
    weights.validate()
    return weights


def _check_positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer of at least 1, got {name}={value!r}")
    return int(value)


class FrameStorage:
    """A bounded ring of training frames; when full, each new frame overwrites the oldest.

    Slots fill in order from 0, so the filled slots are always ``0 .. len(self) - 1``.
    """

    def __init__(self, capacity: int, history: int, num_features: int) -> None:
        self.capacity = _check_positive_int("capacity", capacity)
        self.history = _check_positive_int("history", history)
        self.num_features = _check_positive_int("num_features", num_features)
        # np.zeros maps untouched pages lazily, so a large, mostly empty ring costs little.
        self.obs = np.zeros((capacity, history, num_features), dtype=np.float32)
        # the player's command per tick, in [-1, 1]; the trainer turns each into a target over
        # the command bins (``learner.trainer.bin_targets``)
        self.targets = np.zeros((capacity, history), dtype=np.float32)
        self.phase = np.zeros(capacity, dtype=np.uint8)  # (capacity,) PHASE_* codes
        self.time_to_reach = np.zeros(capacity, dtype=np.float32)  # (capacity,) seconds
        self.near_event = np.zeros(capacity, dtype=bool)  # (capacity,) just before hit/miss
        self.added_at = np.zeros(capacity, dtype=np.float64)  # (capacity,) minutes of play
        self.write_position = 0  # the slot the next frame goes to
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def add(
        self,
        obs: np.ndarray,
        targets: np.ndarray,
        phase: np.ndarray,
        time_to_reach: np.ndarray,
        added_at: np.ndarray | float,
    ) -> np.ndarray:
        """Store B frames; return their slots (B,) int64.

        obs: (B, history, num_features); targets: (B, history) commands; phase: (B,);
        time_to_reach: (B,) seconds >= 0; added_at: (B,) or scalar, minutes of play.
        B may exceed the free room or even the capacity: the oldest frames are overwritten,
        and of a batch larger than the capacity only its last ``capacity`` frames stay (the
        returned slots of the earlier ones then repeat later slots).
        """
        obs = np.asarray(obs, dtype=np.float32)
        count = obs.shape[0] if obs.ndim == 3 else -1
        if obs.shape[1:] != (self.history, self.num_features) or count < 0:
            raise ValueError(
                f"obs must have shape (B, {self.history}, {self.num_features}), got {obs.shape}"
            )
        targets = np.asarray(targets, dtype=np.float32)
        if targets.shape != (count, self.history):
            raise ValueError(
                f"targets must have shape ({count}, {self.history}), got {targets.shape}"
            )
        if count and not (np.isfinite(targets).all() and np.abs(targets).max() <= 1.0):
            raise ValueError("targets must be commands in [-1, 1]")
        phase = np.asarray(phase)
        if phase.shape != (count,):
            raise ValueError(f"phase must have shape ({count},), got {phase.shape}")
        if count and (phase.min() < 0 or phase.max() > PHASE_SERVE):
            raise ValueError(
                f"phase codes must be in 0..{PHASE_SERVE} {PHASE_NAMES}, "
                f"got values from {phase.min()} to {phase.max()}"
            )
        time_to_reach = np.asarray(time_to_reach, dtype=np.float32)
        if time_to_reach.shape != (count,):
            raise ValueError(f"time_to_reach must have shape ({count},), got {time_to_reach.shape}")
        if count and not (np.isfinite(time_to_reach).all() and time_to_reach.min() >= 0):
            raise ValueError(f"time_to_reach must be finite and >= 0 seconds, got {time_to_reach}")
        added_at = np.broadcast_to(np.asarray(added_at, dtype=np.float64), (count,))
        if count and not np.isfinite(added_at).all():
            raise ValueError(f"added_at must be finite minutes of play, got {added_at}")

        slots = (self.write_position + np.arange(count)) % self.capacity  # (B,)
        kept = slice(max(0, count - self.capacity), count)  # what survives this very batch
        start = int(slots[kept][0]) if count else 0
        stop = start + (kept.stop - kept.start)
        # A contiguous run (no wrap) is written through slices, cheaper than fancy indexing.
        where = slice(start, stop) if stop <= self.capacity else slots[kept]
        self.obs[where] = obs[kept]
        self.targets[where] = targets[kept]
        self.phase[where] = phase[kept]
        self.time_to_reach[where] = time_to_reach[kept]
        self.near_event[where] = False  # a new frame has not been near any event yet
        self.added_at[where] = added_at[kept]
        self.write_position = (self.write_position + count) % self.capacity
        self._size = min(self.capacity, self._size + count)
        return slots

    def check_slots(self, slots: np.ndarray) -> np.ndarray:
        """Slots as an int64 array (N,); ValueError if any is not a filled slot."""
        slots = np.asarray(slots, dtype=np.int64).reshape(-1)
        if slots.size and (slots.min() < 0 or slots.max() >= self._size):
            raise ValueError(
                f"slots must be filled slots in 0..{self._size - 1}, "
                f"got values from {slots.min()} to {slots.max()}"
            )
        return slots

    def mark_near_event(self, slots: np.ndarray) -> None:
        """Flag these slots' frames as lying just before a hit or miss."""
        self.near_event[self.check_slots(slots)] = True

    def slots_added_between(self, start: float, stop: float) -> np.ndarray:
        """Filled slots (K,) whose frames were added in [start, stop] minutes of play."""
        added_at = self.added_at[: self._size]
        return np.flatnonzero((added_at >= start) & (added_at <= stop))

    def state_dict(self) -> dict:
        """The filled part of the ring, copied, plus where the next frame goes."""
        filled = slice(0, self._size)
        return {
            "capacity": self.capacity,
            "history": self.history,
            "num_features": self.num_features,
            "write_position": self.write_position,
            "obs": self.obs[filled].copy(),
            "targets": self.targets[filled].copy(),
            "phase": self.phase[filled].copy(),
            "time_to_reach": self.time_to_reach[filled].copy(),
            "near_event": self.near_event[filled].copy(),
            "added_at": self.added_at[filled].copy(),
        }

    def load_state_dict(self, state: dict) -> None:
        shape = (state["capacity"], state["history"], state["num_features"])
        if shape != (self.capacity, self.history, self.num_features):
            raise ValueError(
                f"state is for a storage of (capacity, history, num_features)={shape}, "
                f"this one is {(self.capacity, self.history, self.num_features)}"
            )
        size = len(state["phase"])
        for name in ("obs", "targets", "phase", "time_to_reach", "near_event", "added_at"):
            getattr(self, name)[:size] = state[name]
        if np.issubdtype(np.asarray(state["targets"]).dtype, np.integer):
            # saved before commands were kept whole: command bins, read back as commands
            bins = np.clip(state["targets"], 0, len(COMMAND_BINS) - 1)
            self.targets[:size] = np.asarray(COMMAND_BINS, dtype=np.float32)[bins]
        self._size = size
        self.write_position = int(state["write_position"])


class SumTree:
    """Non-negative float64 values over ``capacity`` leaves, with O(log n) prefix-sum search.

    Array layout: node 1 is the root, node i has children 2i and 2i + 1, the leaves are nodes
    ``size .. 2 * size - 1`` where ``size`` is the power of two >= capacity; padding leaves
    stay 0 and so are never found. Parents are recomputed from their children (never updated
    by deltas), so rounding errors cannot accumulate however often leaves change.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = _check_positive_int("capacity", capacity)
        self.size = 1 << (self.capacity - 1).bit_length()  # leaves, a power of two
        self.depth = self.size.bit_length() - 1  # levels between the root and the leaves
        self._tree = np.zeros(2 * self.size, dtype=np.float64)  # (2 * size,), node 0 unused
        # Row i holds the two children of node i, for updates and whole-level rebuilds.
        self._children = self._tree.reshape(self.size, 2)  # (size, 2) view

    @property
    def leaves(self) -> np.ndarray:
        """Read-only view (capacity,) of the leaf values; write through ``set``."""
        view = self._tree[self.size : self.size + self.capacity]
        view.flags.writeable = False
        return view

    def total(self) -> float:
        return float(self._tree[1])

    def values(self, indices: np.ndarray) -> np.ndarray:
        """Leaf values (N,) at these leaf indices."""
        return self._tree[self.size + self._check_indices(indices)]

    def set(self, indices: np.ndarray, values: np.ndarray) -> None:
        """Set leaves; O(N log capacity). Repeated indices are allowed (the last value wins)."""
        indices = self._check_indices(indices)
        values = np.broadcast_to(np.asarray(values, dtype=np.float64), indices.shape)
        if values.size and not (np.isfinite(values).all() and values.min() >= 0):
            raise ValueError(f"sum tree values must be finite and >= 0, got {values}")
        nodes = indices + self.size  # (N,)
        tree = self._tree
        tree[nodes] = values
        # Repeated parents are harmless: each one is written with the same sum. On small
        # batches numpy's per-call overhead dominates, so each level is one row take() (both
        # children at once; fancy row indexing is several times slower) and one add.
        for _ in range(self.depth):
            nodes >>= 1
            children = self._children.take(nodes, axis=0)  # (N, 2)
            tree[nodes] = children[:, 0] + children[:, 1]

    def set_all(self, values: np.ndarray) -> None:
        """Replace every leaf (capacity,) and rebuild the tree; O(capacity)."""
        values = np.asarray(values, dtype=np.float64)
        if values.shape != (self.capacity,):
            raise ValueError(f"values must have shape ({self.capacity},), got {values.shape}")
        if not (np.isfinite(values).all() and values.min() >= 0):
            raise ValueError("sum tree values must be finite and >= 0")
        self._tree[self.size : self.size + self.capacity] = values
        start = self.size
        while start > 1:
            start >>= 1
            # Nodes start .. 2 * start - 1 are this level; their children the next one.
            level = self._children[start : 2 * start]  # (start, 2)
            np.sum(level, axis=1, out=self._tree[start : 2 * start])

    def sample(self, targets: np.ndarray) -> np.ndarray:
        """Leaf indices (N,) whose prefix-sum interval holds each target (N,) in [0, total).

        The descent never enters a zero-weight subtree, so a target that rounding pushed to
        or past the total still lands on the last positive leaf, never on a zero one.
        """
        if not self._tree[1] > 0:
            raise ValueError(f"cannot sample from a sum tree whose total is {self._tree[1]}")
        remaining = np.array(targets, dtype=np.float64).reshape(-1)  # (N,), a private copy
        nodes = self._descend(remaining.copy(), guarded=False)
        # Rounding can carry a target that sits at the very end of an interval into a
        # zero-weight leaf to its right; such rare targets descend again with a guard that
        # never enters a zero-weight subtree. The unguarded descent is half the numpy calls.
        stray = self._tree.take(nodes) <= 0  # (N,)
        if stray.any():
            nodes[stray] = self._descend(remaining[stray], guarded=True)
        return nodes - self.size

    def _descend(self, remaining: np.ndarray, guarded: bool) -> np.ndarray:
        """Leaf node numbers (N,) found by descending from the root; consumes ``remaining``."""
        tree = self._tree
        nodes = np.ones(remaining.shape, dtype=np.int64)  # (N,) all start at the root
        for _ in range(self.depth):
            nodes <<= 1  # the left child
            left = tree.take(nodes)  # (N,)
            go_right = remaining >= left
            if guarded:
                right = tree.take(nodes + 1)
                go_right = (go_right & (right > 0)) | (left <= 0)
            nodes += go_right
            remaining -= left * go_right
        return nodes

    def _check_indices(self, indices: np.ndarray) -> np.ndarray:
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        if indices.size and (indices.min() < 0 or indices.max() >= self.capacity):
            raise ValueError(
                f"leaf indices must be in 0..{self.capacity - 1}, "
                f"got values from {indices.min()} to {indices.max()}"
            )
        return indices


class RelevanceSampler:
    """Draws stored frames with probability proportional to their relevance weight.

    The trainer calls ``on_added`` after every ``storage.add``, ``on_event`` when the player
    hits or misses, ``advance_time`` as play goes on, and ``sample`` for each batch.
    """

    def __init__(
        self,
        storage: FrameStorage,
        weights: RelevanceWeights | None = None,
        generator: np.random.Generator | None = None,
        loss_priority: LossPriority | None = None,
    ) -> None:
        if not isinstance(storage, FrameStorage):
            raise TypeError(f"storage must be a FrameStorage, got {type(storage).__name__}")
        if generator is not None and not isinstance(generator, np.random.Generator):
            raise TypeError(
                f"generator must be a numpy.random.Generator, got {type(generator).__name__}"
            )
        self.storage = storage
        self.weights = _checked_copy(RelevanceWeights() if weights is None else weights)
        self.generator = np.random.default_rng() if generator is None else generator
        self.now = 0.0  # minutes of play the recency factor is measured against
        self.tree = SumTree(storage.capacity)
        if loss_priority is not None:
            loss_priority.validate()
        self.loss_priority = loss_priority  # None: plain relevance weights
        self.loss_factor = np.ones(storage.capacity, dtype=np.float64)  # (capacity,)
        self.mean_loss = math.nan  # running mean of reported losses: the factor's reference
        self._reweigh_all()  # the storage may already hold frames

    def on_added(self, slots: np.ndarray) -> None:
        """Weigh the frames just written to these slots (new or overwriting old ones)."""
        slots = self.storage.check_slots(slots)
        if slots.size == 0:
            return
        self.loss_factor[slots] = 1.0  # a new frame: no loss of its own yet
        half_life = self.weights.recency_half_life
        if half_life > 0:
            newest = float(self.storage.added_at[slots].max())
            if newest - self.now > REBASE_HALF_LIVES * half_life:
                self.advance_time(newest)
        self._reweigh(slots)

    def on_event(self, slots: np.ndarray) -> None:
        """The player hit or missed: mark these (recent) slots near the event, re-weigh them.

        ``event_slots`` picks the slots within ``weights.event_window`` before the event.
        """
        slots = self.storage.check_slots(slots)
        self.storage.mark_near_event(slots)
        self._reweigh(slots)

    def event_slots(self, event_minutes: float) -> np.ndarray:
        """Filled slots (K,) added within ``event_window`` seconds up to an event's time."""
        window_minutes = self.weights.event_window / 60.0
        return self.storage.slots_added_between(event_minutes - window_minutes, event_minutes)

    def set_weights(self, weights: RelevanceWeights) -> None:
        """Validate new weights and re-weigh every stored frame; the next sample uses them.

        Weights from ``update_priority`` are replaced by the new relevance weights; loss
        factors (``LossPriority``) are kept: the sliders set the prior they multiply.
        """
        self.weights = _checked_copy(weights)
        self._reweigh_all()

    def advance_time(self, now_minutes: float) -> None:
        """Move the recency clock to ``now_minutes`` of play.

        With recency on, every weight is scaled by the same ``2 ** (-elapsed / half_life)``
        (one vectorised pass), which is exactly re-weighing at the new clock and keeps
        ``update_priority`` weights. Sampling odds do not change (they depend on frames' age
        differences only); this keeps the numbers in range and the stored weights meaningful
        as "weight now". A no-op while recency is off.
        """
        if not math.isfinite(now_minutes):
            raise ValueError(f"now_minutes must be finite, got now_minutes={now_minutes!r}")
        half_life = self.weights.recency_half_life
        if half_life <= 0:
            self.now = float(now_minutes)
            return
        scale = 2.0 ** (-(now_minutes - self.now) / half_life)
        self.now = float(now_minutes)
        if scale != 1.0:
            self.tree.set_all(self.tree.leaves * scale)

    def sample(self, n: int) -> np.ndarray:
        """n slots (n,) int64 drawn iid with probability proportional to weight.

        Only filled slots with positive weight can come out, except when every filled slot
        weighs zero: then the n slots are drawn uniformly from all filled ones. Weights only
        rank frames against each other, so a setting that zeroes what the buffer holds so far
        (``recede=0, serve=0`` before the first approach frame, ``pre_event=0`` while every
        frame is near an event, priorities all set to 0) must not stall the trainer: those
        frames are used, evenly, until a frame with positive weight exists.
        """
        n = _check_positive_int("n", n)
        size = len(self.storage)
        if size == 0:
            raise ValueError("cannot sample: the storage holds no frames yet")
        total = self.tree.total()
        if not total > 0:
            return self.generator.integers(0, size, n, dtype=np.int64)
        return self.tree.sample(self.generator.random(n) * total)

    def update_priority(self, slots: np.ndarray, weights_values: np.ndarray) -> None:
        """Override the weights of these slots (e.g. loss-aware replay).

        An override lasts until the slot is re-weighed: overwritten, near an event, or on
        ``set_weights``; ``advance_time`` ages it like any weight.
        """
        slots = self.storage.check_slots(slots)
        values = np.asarray(weights_values, dtype=np.float64).reshape(-1)
        if values.shape != slots.shape:
            raise ValueError(
                f"weights_values must have one value per slot ({slots.size}), got {values.size}"
            )
        bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            raise ValueError(
                f"weights_values must be finite and >= 0, got {values[bad][:5]} "
                f"at slots {slots[bad][:5]}"
            )
        self.tree.set(slots, values)

    def set_loss_priority(self, loss_priority: LossPriority | None) -> None:
        """Turn loss-aware priorities on (or off with None) and re-weigh every stored frame;
        loss factors already learned are kept."""
        if loss_priority is not None:
            loss_priority.validate()
        self.loss_priority = loss_priority
        self._reweigh_all()

    def update_losses(self, slots: np.ndarray, losses: np.ndarray) -> None:
        """The trainer's per-sample losses (B,) for the slots (B,) it just trained on: with
        ``loss_priority`` set, each slot's weight becomes prior x its clipped loss factor
        (the last value wins for a slot drawn twice); otherwise a no-op."""
        priority = self.loss_priority
        if priority is None:
            return
        slots = self.storage.check_slots(slots)
        losses = np.asarray(losses, dtype=np.float64).reshape(-1)
        if losses.shape != slots.shape or not np.isfinite(losses).all() or losses.min() < 0:
            raise ValueError(
                f"losses must be {slots.size} finite values >= 0, got shape {losses.shape}"
            )
        batch_mean = float(losses.mean())
        if math.isnan(self.mean_loss):
            self.mean_loss = batch_mean
        else:
            keep = priority.mean_decay
            self.mean_loss = keep * self.mean_loss + (1 - keep) * batch_mean
        if self.mean_loss <= 0:
            return  # every loss is 0: nothing to prefer
        ratio = losses / self.mean_loss
        factor = np.clip(ratio**priority.alpha, priority.min_factor, priority.max_factor)
        self.loss_factor[slots] = factor
        self._reweigh(slots)

    def importance_weights(self, slots: np.ndarray) -> np.ndarray:
        """Per-sample loss weights (B,) float32 for drawn slots (B,), at most 1: they undo the
        loss factor's share of the draw odds (``LossPriority.beta``); all 1 without it."""
        slots = self.storage.check_slots(slots)
        if self.loss_priority is None or slots.size == 0:
            return np.ones(slots.size, dtype=np.float32)
        factor = self.loss_factor[slots]
        return ((factor.min() / factor) ** self.loss_priority.beta).astype(np.float32)

    def adaptation_focus(self) -> dict[str, float | None]:
        """What the adaptation currently favours: per phase, its share of the draws over the
        share the weights alone (the sliders' priors) would give it; above 1 it studies that
        phase more than the sliders say. None for a phase with no frame or no weight; an
        empty dict when loss-aware priorities are off."""
        if self.loss_priority is None:
            return {}
        size = len(self.storage)
        phase = self.storage.phase[:size]
        weight = self.tree.leaves[:size]
        prior = weight / self.loss_factor[:size]  # factors are >= min_factor > 0
        totals = [
            (float(weight[phase == code].sum()), float(prior[phase == code].sum()))
            for code in range(len(PHASE_NAMES))
        ]
        weight_total, prior_total = sum(t[0] for t in totals), sum(t[1] for t in totals)
        if not (weight_total > 0 and prior_total > 0):  # nothing weighs: drawn uniformly
            return dict.fromkeys(PHASE_NAMES)
        return {
            name: (with_factor / weight_total) / (alone / prior_total) if alone > 0 else None
            for name, (with_factor, alone) in zip(PHASE_NAMES, totals, strict=True)
        }

    def effective_sample_size(self) -> float:
        """(sum w)^2 / sum w^2 over the filled slots: how many frames a batch effectively
        draws from (equals the frame count when weights are uniform, and when all weigh 0,
        as ``sample`` then draws uniformly); 0 with no frames."""
        weight = self.tree.leaves[: len(self.storage)]
        total = weight.sum()
        if total <= 0:
            return float(len(self.storage))
        # Scaled by the largest weight first so squaring cannot overflow.
        scaled = weight / weight.max()
        return float(scaled.sum() ** 2 / np.dot(scaled, scaled))

    def phase_split(self, slots: np.ndarray) -> dict[str, float]:
        """Share of these (sampled) slots in each phase, keyed by PHASE_NAMES; all 0 if none."""
        slots = self.storage.check_slots(slots)
        counts = np.bincount(self.storage.phase[slots], minlength=len(PHASE_NAMES))
        shares = counts / max(1, slots.size)
        return {name: float(share) for name, share in zip(PHASE_NAMES, shares, strict=True)}

    def state_dict(self) -> dict:
        """Weights, clock, generator state and the filled slots' weights (overrides included).

        The frames themselves belong to ``FrameStorage.state_dict``.
        """
        return {
            "weights": self.weights.to_dict(),
            "now": self.now,
            "generator": copy.deepcopy(self.generator.bit_generator.state),
            "priorities": self.tree.leaves[: len(self.storage)].copy(),  # (len,) float64
            **self.adaptation_state_dict(),
            "loss_factors": self.loss_factor[: len(self.storage)].copy(),  # (len,) float64
        }

    def adaptation_state_dict(self) -> dict:
        """What the sampler has learned about the player that outlives its frames: the loss
        priority settings (None: off) and the running mean loss."""
        priority = self.loss_priority
        return {
            "loss_priority": None if priority is None else asdict(priority),
            "mean_loss": self.mean_loss,
        }

    def load_adaptation_state_dict(self, state: dict) -> None:
        """Restore ``adaptation_state_dict`` (a state without it leaves the adaptation off)."""
        settings = state.get("loss_priority")
        priority = None if settings is None else LossPriority(**settings)
        if priority is not None:
            priority.validate()
        self.loss_priority = priority
        self.mean_loss = float(state.get("mean_loss", math.nan))

    def load_state_dict(self, state: dict) -> None:
        """Restore a ``state_dict``; the storage must hold the frames it was saved with."""
        weights = RelevanceWeights.from_dict(state["weights"])
        priorities = np.asarray(state["priorities"], dtype=np.float64)
        if priorities.shape != (len(self.storage),):
            raise ValueError(
                f"state holds weights of {priorities.shape[0]} frames, "
                f"the storage holds {len(self.storage)}"
            )
        self.generator.bit_generator.state = copy.deepcopy(state["generator"])
        self.weights = weights
        self.now = float(state["now"])
        self.load_adaptation_state_dict(state)
        self.loss_factor[:] = 1.0
        if "loss_factors" in state:
            self.loss_factor[: priorities.size] = np.asarray(state["loss_factors"], np.float64)
        all_leaves = np.zeros(self.storage.capacity, dtype=np.float64)
        all_leaves[: priorities.size] = priorities
        self.tree.set_all(all_leaves)

    def _relevance(self, slots: np.ndarray | slice) -> np.ndarray:
        storage = self.storage
        return relevance_weight(
            storage.phase[slots],
            storage.time_to_reach[slots],
            storage.near_event[slots],
            storage.added_at[slots],
            self.now,
            self.weights,
        )

    def _reweigh(self, slots: np.ndarray) -> None:
        weight = self._relevance(slots)
        if self.loss_priority is not None:
            weight *= self.loss_factor[slots]
        self.tree.set(slots, weight)

    def _reweigh_all(self) -> None:
        all_leaves = np.zeros(self.storage.capacity, dtype=np.float64)
        size = len(self.storage)
        if self.weights.recency_half_life > 0 and size:
            # A clock far behind the newest frame would overflow its factor; moving the clock
            # forward changes no odds (see relevance_weight).
            self.now = max(self.now, float(self.storage.added_at[:size].max()))
        all_leaves[:size] = self._relevance(slice(0, size))
        if self.loss_priority is not None:
            all_leaves[:size] *= self.loss_factor[:size]
        self.tree.set_all(all_leaves)


def read_sampler_config(path: Path | None) -> RelevanceWeights:
    """Weights from a JSON file: ``{"weights": {...}}`` (as tune writes) or the bare dict.
    ``None`` gives the defaults. Raises ValueError with a message naming the file."""
    if path is None:
        return RelevanceWeights()
    try:
        data = safe_json.load_file(path, max_bytes=64 * 1024, max_depth=4)
    except FileNotFoundError:
        raise ValueError(f"no such sampler config: {path}") from None
    except OSError as exc:
        raise ValueError(f"sampler config {path} cannot be read: {exc.strerror or exc}") from None
    except ValueError as exc:  # too big, too deep, not JSON, a number out of range
        raise ValueError(f"sampler config {path} cannot be read: {exc}") from None
    weights = data.get("weights", data) if isinstance(data, dict) else data
    try:
        return RelevanceWeights.from_dict(weights)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"sampler config {path}: {exc}") from None
