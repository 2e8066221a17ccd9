"""The trainer: behavioural cloning of the player's commands, one step at a time.

``MirrorTrainer`` is the whole learning loop in one object, usable in-process (headless
benches, offline training, tests) or inside the trainer process (``learner.live``):

    add_tick()   the player's view -> features window -> storage + relevance weight,
                 or to the held-out set (every ``heldout_every``-th rally)
    train_step() a relevance-weighted batch -> cross-entropy over command bins -> AdamW
    evaluate()   held-out agreement, overall and while the ball approaches
    candidate()  when held-out agreement improved, an ONNX export with its metadata

What the mirror plays, is judged on and exports (``played``) is a moving average of the
weights the steps train (``TrainerConfig.average``); ``model`` is the one being trained.

The learning rate warms up linearly, then stays constant: play never ends, so a schedule
that decays to zero would stop the mirror from following a player who changes. Offline
training, which knows its length, sets ``total_steps`` and gets warm-up then cosine decay.
"""

from __future__ import annotations

import copy
import io
import math
import time
from collections import deque
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch.nn import functional as F

from game.engine import DEFAULT_PARAMS, LEFT, Params, State, clamp_command, view
from game.mirror_opponent import agreeing, agreement, commands_from_logits
from game.playback import TEMPERATURE_RANGE
from learner.calibration import PlayerJitter
from learner.config import TrainerConfig
from learner.exporter import FastExporter
from learner.features import ObservationBuilder
from learner.sampler import (
    PHASE_APPROACH,
    FrameStorage,
    RelevanceSampler,
    RelevanceWeights,
    frame_phase_and_time,
)
from models.contract import (
    COLUMN,
    CONTRACT_VERSION,
    HISTORY,
    NUM_BINS,
    NUM_FEATURES,
)
from models.registry import build_model, model_config


class CheckpointRefused(ValueError):
    """A checkpoint this trainer cannot continue from; the message says why, in one line."""


@dataclass
class Candidate:
    onnx_bytes: bytes
    version: int
    agreement: float
    approach_agreement: float
    training_frames: int
    produced_at: float  # time.time() at the end of the training step that made it
    heldout_obs: np.ndarray  # (N, HISTORY, NUM_FEATURES) the gate compares models on
    heldout_commands: np.ndarray  # (N,)


def bin_targets(commands: torch.Tensor, two_hot: bool = True) -> torch.Tensor:
    """(..., ) commands in [-1, 1] -> (..., NUM_BINS) target probabilities over the bins.

    ``two_hot``: a command between two bins is shared between them by nearness (0.02 is
    80% of bin 0.0 and 20% of bin 0.1), so a model can say a command finer than its bins,
    and a mirror playing the local mean of its scores (``game.playback.refine``) plays
    it. Otherwise all of it goes to the nearest bin."""
    position = (commands.clamp(-1.0, 1.0) + 1.0) * 0.5 * (NUM_BINS - 1)  # 0 .. NUM_BINS - 1
    if not two_hot:
        index = position.round().long()
        return F.one_hot(index, NUM_BINS).to(commands.dtype)
    low = position.floor().clamp(max=NUM_BINS - 2)
    share = (position - low).unsqueeze(-1)  # of the bin above
    low = low.long().unsqueeze(-1)
    targets = torch.zeros(*commands.shape, NUM_BINS, dtype=commands.dtype, device=commands.device)
    targets.scatter_(-1, low, 1.0 - share)
    targets.scatter_add_(-1, low + 1, share)
    return targets


_FLIP_MIRRORED = [COLUMN[n] for n in ("ball_y", "paddle_y", "opponent_y", "intercept_y")]
_FLIP_NEGATED = [COLUMN[n] for n in ("ball_vy", "ball_minus_paddle", "intercept_minus_paddle")]


_SIGN = np.ones(NUM_FEATURES, dtype=np.float32)
_SIGN[_FLIP_MIRRORED + _FLIP_NEGATED] = -1.0
_OFFSET = np.zeros(NUM_FEATURES, dtype=np.float32)
_OFFSET[_FLIP_MIRRORED] = 1.0
_FLIP_AFFINE = (torch.from_numpy(_SIGN), torch.from_numpy(_OFFSET))  # flipped = x * sign + offset


def flip_vertically(obs: np.ndarray) -> np.ndarray:
    """The same play upside down: heights mirrored about the middle, vertical motion and
    offsets negated (the player's command is negated alongside)."""
    return obs * _SIGN + _OFFSET


def pick_device(requested: str) -> str:
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but torch sees no CUDA device")
    if requested not in {"cpu", "cuda"}:
        raise ValueError(f"device must be auto, cpu or cuda, got device={requested!r}")
    return requested


class MirrorTrainer:
    def __init__(
        self,
        config: TrainerConfig | None = None,
        weights: RelevanceWeights | None = None,
        params: Params = DEFAULT_PARAMS,
    ) -> None:
        self.config = config or TrainerConfig()
        self.params = params
        self.device = torch.device(pick_device(self.config.device))
        self.generator = np.random.default_rng(self.config.seed)
        torch.manual_seed(self.config.seed)
        self.storage = FrameStorage(self.config.capacity, HISTORY, NUM_FEATURES)
        self.sampler = RelevanceSampler(self.storage, weights or RelevanceWeights(), self.generator)
        self._builder = ObservationBuilder(params)
        self._targets = np.zeros(HISTORY, dtype=np.float32)  # the window's commands
        self._pending: list[tuple[np.ndarray, np.ndarray, int, float]] = []
        self._recent_slots: deque[int] = deque(maxlen=256)
        self._heldout_obs: deque[np.ndarray] = deque(maxlen=self.config.heldout_capacity)
        self._heldout_cmd: deque[float] = deque(maxlen=self.config.heldout_capacity)
        self._heldout_approach: deque[bool] = deque(maxlen=self.config.heldout_capacity)
        self._rally = 0
        self._rally_ticks = 0  # ticks since the rally (or its last block) began
        self.frames_seen = 0  # every player tick received
        self.frames_trained = 0  # ticks that went into training storage
        self.steps = 0
        self.version = 0
        self.best_exported = -math.inf
        self.last_loss = float("nan")
        self.history: list[dict] = []  # evaluation results over time, for charts
        self.player_jitter = PlayerJitter(params)  # for the mirror's own temperature
        self.temperature: float | None = None  # its calibrated temperature (exported with it)
        self._build(self.config.architecture)

    # -- model ---------------------------------------------------------------------------

    def _build(self, architecture: str, model_config_overrides: dict | None = None) -> None:
        self.config.architecture = architecture
        overrides = (
            model_config_overrides
            if model_config_overrides is not None
            else (self.config.model_config)
        )
        self.model = build_model(architecture, overrides).to(self.device)
        # What the mirror plays: the trained weights, or their moving average (``average``).
        self.played = copy.deepcopy(self.model) if self.config.average else self.model
        # An untrained twin, scored on the same held-out frames: what "no learning" gets.
        with torch.random.fork_rng():
            torch.manual_seed(self.config.seed + 1)
            self._untrained = build_model(architecture, overrides).to(self.device).eval()
        self._untrained_agreement: float | None = None
        # fused: one kernel updates every parameter, not a loop of small tensor operations
        # per parameter (``bench fidelity``'s speed column shows what it buys headless)
        self.optimizer = torch.optim.AdamW(
            self.model.parameters(),
            lr=self.config.lr,
            weight_decay=self.config.weight_decay,
            fused=True,
        )
        # The weights each step moves, and the played ones that follow them (none without an
        # average), listed once: the step runs ten times a second of play.
        self._trained = [p for p in self.model.parameters() if p.requires_grad]
        self._averaged = (
            [p for p in self.played.parameters() if p.requires_grad]
            if self.played is not self.model
            else []
        )
        self._arch_steps = 0
        self._exporter = FastExporter(self.model)
        self._widen_inputs(self.storage.obs[: len(self.storage)])  # frames kept from before
        self.best_exported = -math.inf
        self._exported_at = -math.inf  # seconds of play at the last export

    def set_architecture(self, architecture: str) -> None:
        """Start a new model of another kind; the frames collected so far stay."""
        if architecture != self.config.architecture:
            self._build(architecture, {})

    def reset_mirror(self) -> None:
        """Forget everything: a fresh model and no frames (the version numbering goes on)."""
        self.storage = FrameStorage(self.config.capacity, HISTORY, NUM_FEATURES)
        self.sampler = RelevanceSampler(
            self.storage, self.sampler.weights, self.generator, self.sampler.loss_priority
        )
        self._heldout_obs.clear()
        self._heldout_cmd.clear()
        self._heldout_approach.clear()
        self._pending.clear()
        self._recent_slots.clear()
        self.frames_seen = self.frames_trained = 0
        self.history.clear()
        self.player_jitter.clear()
        self.temperature = None
        self._build(self.config.architecture)

    # -- data ----------------------------------------------------------------------------

    def add_tick(self, before: State, left_cmd: float, events: list[tuple[str, str]]) -> None:
        """One tick of the player's play: what they saw (``before``) and what they did."""
        if before.tick == 0:  # a new match: histories start over
            self._builder.reset()
            self._targets[:] = clamp_command(left_cmd)
            self.player_jitter.new_match()
        self.player_jitter.add_tick(before, left_cmd, events)
        obs = self._builder.push(view(before, LEFT, self.params))
        self._targets[:-1] = self._targets[1:]
        self._targets[-1] = clamp_command(left_cmd)
        self.frames_seen += 1
        (phase,), (time_to_reach,) = frame_phase_and_time(obs[None])
        self._rally_ticks += 1
        if self._rally_ticks > self.config.rally_block_seconds * self.params.tick_rate:
            self._rally += 1  # a long rally's next block
            self._rally_ticks = 1
        heldout = self._rally % self.config.heldout_every == 1  # the 2nd rally already counts
        if heldout:
            self._heldout_obs.append(obs)
            self._heldout_cmd.append(left_cmd)
            self._heldout_approach.append(bool(phase == PHASE_APPROACH))
        else:
            self._pending.append((obs, self._targets.copy(), int(phase), float(time_to_reach)))
        for kind, side in events:
            if kind in {"hit", "miss"} and side == LEFT:
                self._flush()
                self._mark_event()
            if kind in {"serve"}:
                self._rally += 1
                self._rally_ticks = 0
        if len(self._pending) >= 16:
            self._flush()

    def play_minutes(self) -> float:
        return self.frames_seen / self.params.tick_rate / 60.0

    def _flush(self) -> None:
        if not self._pending:
            return
        obs = np.stack([p[0] for p in self._pending])
        targets = np.stack([p[1] for p in self._pending])
        phase = np.array([p[2] for p in self._pending], dtype=np.uint8)
        time_to_reach = np.array([p[3] for p in self._pending], dtype=np.float32)
        added_at = np.full(len(self._pending), self.play_minutes())
        slots = self.storage.add(obs, targets, phase, time_to_reach, added_at)
        self._widen_inputs(obs)
        self.sampler.on_added(slots)
        self._recent_slots.extend(int(s) for s in slots)
        self.frames_trained += len(self._pending)
        self._pending.clear()

    def _widen_inputs(self, obs: np.ndarray) -> None:
        """The model's input range takes in these frames (``models.inputs``): it is judged
        and plays on the range of the play it learned from."""
        if len(obs):
            flat = obs.reshape(-1, obs.shape[-1])
            if self.config.flip > 0.0:
                flat = np.concatenate([flat, flip_vertically(flat)])
            flat = torch.from_numpy(flat)
            self.model.inputs.widen(flat.amin(dim=0), flat.amax(dim=0))
            if self.played is not self.model:
                self.played.inputs.widen(flat.amin(dim=0), flat.amax(dim=0))

    def _mark_event(self) -> None:
        window = int(self.sampler.weights.event_window * self.params.tick_rate)
        if window <= 0 or not self._recent_slots:
            return
        slots = np.array(list(self._recent_slots)[-window:], dtype=np.int64)
        self.sampler.on_event(slots)

    # -- learning ------------------------------------------------------------------------

    def _lr(self) -> float:
        """Linear warm-up, then constant (live) or a cosine decay to 0 at ``total_steps``."""
        warmup = max(1, self.config.warmup_steps)
        step = self._arch_steps + 1
        if step <= warmup:
            return self.config.lr * step / warmup
        total = self.config.total_steps
        if total <= warmup:
            return self.config.lr
        progress = min(1.0, (step - warmup) / (total - warmup))
        return self.config.lr * 0.5 * (1.0 + math.cos(math.pi * progress))

    def train_step(self) -> float | None:
        """One step on a relevance-weighted batch; None when there is nothing to learn from."""
        self._flush()
        if len(self.storage) < self.config.batch_size // 4:
            return None
        slots = self.sampler.sample(self.config.batch_size)
        obs = torch.from_numpy(self.storage.obs[slots]).to(self.device)
        commands = torch.from_numpy(self.storage.targets[slots]).to(self.device)
        if self.config.flip > 0.0:
            flip = self.generator.random(len(slots)) < self.config.flip
            if self.config.flip_approach_only:
                flip &= self.storage.phase[slots] == PHASE_APPROACH
            flip = torch.from_numpy(flip).to(self.device)
            # flip_vertically on the batch tensor, kept only where the draw said flip
            sign, offset = (t.to(self.device) for t in _FLIP_AFFINE)
            obs = torch.where(flip[:, None, None], obs * sign + offset, obs)
            commands = torch.where(flip[:, None], -commands, commands)
        logits = self.model.training_logits(obs)  # (B, T', bins): T' = 1 (MLP) or HISTORY
        targets = bin_targets(commands[:, -logits.shape[1] :], self.config.two_hot)
        if self.sampler.loss_priority is None:
            loss = F.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), targets.reshape(-1, targets.shape[-1])
            )
        else:
            loss = self._loss_aware(slots, logits, targets)
        for group in self.optimizer.param_groups:
            group["lr"] = self._lr()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self._trained, 1.0)
        self.optimizer.step()
        self.steps += 1
        self._arch_steps += 1
        if self._averaged:
            self._average()
        self.last_loss = float(loss.detach())
        return self.last_loss

    @torch.no_grad()
    def _average(self) -> None:
        """The played weights move a step towards the trained ones (``average``)."""
        n = self._arch_steps
        decay = min(self.config.average, (1.0 + n) / (10.0 + n))
        # the input range is not among them: it is widened in both as frames come
        torch._foreach_lerp_(self._averaged, self._trained, 1.0 - decay)

    def _loss_aware(
        self,
        slots: np.ndarray,
        logits: torch.Tensor,
        targets: torch.Tensor,  # (B, T', bins)
    ) -> torch.Tensor:
        """The batch loss under loss-aware priorities (``LossPriority``): each sample's loss
        goes back to the sampler, and the mean is importance-weighted against the loss
        factor's share of the draw odds."""
        per_tick = F.cross_entropy(
            logits.transpose(1, 2), targets.transpose(1, 2), reduction="none"
        )  # (B, T')
        per_sample = per_tick.mean(dim=1)  # (B,)
        weights = torch.from_numpy(self.sampler.importance_weights(slots)).to(self.device)
        self.sampler.update_losses(slots, per_sample.detach().cpu().numpy())
        return (weights * per_sample).mean()

    def heldout(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self._heldout_cmd:
            empty = np.zeros((0, HISTORY, NUM_FEATURES), dtype=np.float32)
            return empty, np.zeros(0, dtype=np.float32), np.zeros(0, dtype=bool)
        return (
            np.stack(self._heldout_obs),
            np.asarray(self._heldout_cmd, dtype=np.float32),
            np.asarray(self._heldout_approach, dtype=bool),
        )

    @torch.no_grad()
    def predict(self, obs: np.ndarray, model: torch.nn.Module | None = None) -> np.ndarray:
        """Commands a model (the mirror by default) plays for observations (N, HISTORY, F)."""
        model = model or self.played
        was_training = model.training
        model.eval()
        commands = []
        for start in range(0, len(obs), 2048):
            batch = torch.from_numpy(obs[start : start + 2048]).to(self.device)
            commands.append(commands_from_logits(model(batch).cpu().numpy()))
        model.train(was_training)
        return np.concatenate(commands) if commands else np.zeros(0, dtype=np.float32)

    def evaluate(self, max_frames: int = 1024) -> dict:
        """Agreement on the newest ``max_frames`` held-out frames (evaluation sits on the
        hot-swap path, so it stays small; the untrained baseline is refreshed every fifth
        time, as it barely moves)."""
        obs, commands, approach = self.heldout()
        obs, commands, approach = obs[-max_frames:], commands[-max_frames:], approach[-max_frames:]
        result = {
            "minutes": round(self.play_minutes(), 4),
            "steps": self.steps,
            "loss": self.last_loss,
            "agreement": None,
            "approach_agreement": None,
            "untrained_agreement": None,
            "heldout_frames": len(commands),
        }
        if len(commands) >= self.config.min_heldout_frames:
            agree = agreeing(self.predict(obs), commands)
            result["agreement"] = float(agree.mean())
            if self._untrained_agreement is None or len(self.history) % 5 == 0:
                untrained = self.predict(obs, self._untrained)
                self._untrained_agreement = agreement(untrained, commands)
            result["untrained_agreement"] = self._untrained_agreement
            if approach.any():
                result["approach_agreement"] = float(agree[approach].mean())
        self.history.append(result)
        return result

    def candidate(self, evaluation: dict, produced_at: float | None = None) -> Candidate | None:
        """An export of the current model if it improved enough since the last export."""
        agreement = evaluation.get("agreement")
        if agreement is None or self.frames_trained < self.config.min_frames:
            return None
        play_seconds = self.frames_seen / self.params.tick_rate
        improved = agreement >= self.best_exported + self.config.min_improvement
        if not improved and play_seconds - self._exported_at < self.config.export_every:
            return None
        self.best_exported = max(agreement, self.best_exported) if improved else agreement
        self._exported_at = play_seconds
        self.version += 1
        onnx_bytes = self._exporter.export(
            self.played, self.version, self.frames_trained, agreement, self.temperature
        )
        obs, commands, _ = self.heldout()
        keep = slice(-512, None)  # the gate re-scores both models; the newest 512 suffice
        return Candidate(
            onnx_bytes=onnx_bytes,
            version=self.version,
            agreement=agreement,
            approach_agreement=evaluation.get("approach_agreement") or 0.0,
            training_frames=self.frames_trained,
            produced_at=produced_at if produced_at is not None else time.time(),
            heldout_obs=obs[keep],
            heldout_commands=commands[keep],
        )

    # -- stats and checkpoints -----------------------------------------------------------

    def sampler_stats(self, sample_size: int = 2048) -> dict:
        if len(self.storage) == 0:
            return {"effective_sample_size": 0.0, "phase_split": {}}
        slots = self.sampler.sample(sample_size)
        return {
            "effective_sample_size": float(self.sampler.effective_sample_size()),
            "phase_split": self.sampler.phase_split(slots),
        }

    def checkpoint(self) -> bytes:
        buffer = io.BytesIO()
        torch.save(
            {
                "contract_version": CONTRACT_VERSION,
                "architecture": self.config.architecture,
                "model_config": model_config(self.model),
                "model": self.model.state_dict(),
                "played": self.played.state_dict() if self.played is not self.model else None,
                "optimizer": self.optimizer.state_dict(),
                "version": self.version,
                "steps": self.steps,
                "arch_steps": self._arch_steps,
                "trainer_config": asdict(self.config),
                "sampler_adaptation": self.sampler.adaptation_state_dict(),
                "temperature": self.temperature,
            },
            buffer,
        )
        return buffer.getvalue()

    def load_checkpoint(self, data: bytes) -> None:
        state = torch.load(io.BytesIO(data), map_location=self.device, weights_only=False)
        found = state.get("contract_version", 1) if isinstance(state, dict) else None
        if found != CONTRACT_VERSION:
            raise CheckpointRefused(
                f"it was saved by an older game (contract version {found}, this game needs "
                f"{CONTRACT_VERSION}); the mirror is retrained from your recordings"
            )
        # A mirror saved before an option existed was trained without it: no input
        # normalisation, and (an MLP) no column read at every tick, no periodic reading and
        # no paddle moves.
        saved_before: dict = {"normalize": False}
        if state["architecture"] == "mlp":
            saved_before.update(dense=[], periodic=0, motion=0)
        model_config = dict(state["model_config"])
        if "frames" in model_config:  # the MLP's first 400 ms window: the newest N ticks
            model_config["taps"] = list(range(model_config.pop("frames")))
        self._build(state["architecture"], {**saved_before, **model_config})
        # Buffers are worked out from the config (which ticks it reads, the flags' scale): a
        # checkpoint saved before one existed lacks it, and the freshly built one stands in.
        built = self.model.state_dict()
        derived = {name: built[name] for name, _ in self.model.named_buffers() if name in built}
        self.model.load_state_dict({**derived, **state["model"]})
        if self.played is not self.model:  # a checkpoint saved without an average starts one
            self.played.load_state_dict({**derived, **(state.get("played") or state["model"])})
        self._widen_inputs(self.storage.obs[: len(self.storage)])
        self.optimizer.load_state_dict(state["optimizer"])
        self.version = int(state["version"])
        self.steps = int(state["steps"])
        self._arch_steps = int(state["arch_steps"])
        if "sampler_adaptation" in state:  # older checkpoints have none: the sampler's stays
            self.sampler.load_adaptation_state_dict(state["sampler_adaptation"])
        temperature = state.get("temperature")  # older checkpoints have none: found anew
        low, high = TEMPERATURE_RANGE
        self.temperature = (
            float(temperature)
            if isinstance(temperature, float) and low <= temperature <= high
            else None
        )
