"""The learned opponent: onnxruntime sessions, checked before use and swapped between ticks.

``MirrorOpponent.act`` reads the current model once per tick. A new model reaches it only
through ``ModelGate.consider``, which runs off the tick path (in a background thread) and
refuses a candidate that fails any check:

1. it parses and passes the ONNX checker;
2. its input and output names and shapes are the contract's (``models.contract``);
3. its metadata names this contract version;
4. on probe inputs (ordinary and extreme) every output is finite;
5. on the held-out frames that came with it, it agrees with the player at least as often
   as the current model does.

A rejected candidate is counted and logged with its reason and the current model stays.
Until the first model is accepted the opponent plays a scripted fallback.

The game knows nothing about features: the feature builder is handed in (``observe``), as
DESIGN.md's one-way imports require.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

from game.engine import View
from game.files import atomic_write
from game.opponent import Opponent, ScriptedOpponent
from models.contract import (
    AGREEMENT_TOLERANCE,
    COMMAND_BINS,
    CONTRACT_VERSION,
    HISTORY,
    INPUT_NAME,
    NUM_BINS,
    NUM_FEATURES,
    OUTPUT_NAME,
)

log = logging.getLogger(__name__)

_BINS = np.asarray(COMMAND_BINS, dtype=np.float32)


class CandidateRejected(Exception):
    """A model that must not play; the message says why."""


@dataclass
class Model:
    """An accepted model, ready to play."""

    session: ort.InferenceSession
    version: int
    metadata: dict[str, str]
    onnx_bytes: bytes
    heldout_agreement: float | None = None


def make_session(onnx_bytes: bytes) -> ort.InferenceSession:
    """An inference session that stays on one core and never spins (DESIGN.md)."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return ort.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])


def commands_from_logits(logits: np.ndarray) -> np.ndarray:
    """The command each row's model plays: the highest-scoring bin."""
    return _BINS[np.argmax(logits, axis=-1)]


def agreement(commands: np.ndarray, player_commands: np.ndarray) -> float:
    if len(player_commands) == 0:
        return float("nan")
    return float(np.mean(np.abs(commands - player_commands) <= AGREEMENT_TOLERANCE))


def _check_dims(value_info, expected: list[int | None], what: str) -> None:
    dims = value_info.type.tensor_type.shape.dim
    if len(dims) != len(expected):
        raise CandidateRejected(
            f"{what} has {len(dims)} dimensions, the contract needs {len(expected)}"
        )
    for axis, (dim, want) in enumerate(zip(dims, expected, strict=True)):
        if want is not None and dim.HasField("dim_value") and dim.dim_value != want:
            raise CandidateRejected(
                f"{what} axis {axis} is {dim.dim_value}, the contract needs {want}"
            )
        if want is not None and not dim.HasField("dim_value"):
            raise CandidateRejected(f"{what} axis {axis} is unsized, the contract needs {want}")


def probe_inputs(seed: int = 0) -> np.ndarray:
    """Ordinary and extreme observations a model must answer with finite scores."""
    rng = np.random.default_rng(seed)
    ordinary = rng.normal(0.0, 1.0, size=(16, HISTORY, NUM_FEATURES))
    extremes = np.stack(
        [
            np.zeros((HISTORY, NUM_FEATURES)),
            np.ones((HISTORY, NUM_FEATURES)),
            np.full((HISTORY, NUM_FEATURES), -5.0),
            np.full((HISTORY, NUM_FEATURES), 50.0),
        ]
    )
    return np.concatenate([ordinary, extremes]).astype(np.float32)


def _no_pause() -> None:
    pass


def check_candidate(
    onnx_bytes: bytes, between_ticks: Callable[[], None] = _no_pause
) -> tuple[ort.InferenceSession, dict[str, str]]:
    """Checks 1-4; returns a ready session and the model's metadata, or raises.

    ``between_ticks`` is called before each heavy step: the ONNX checker and building a
    session run in C++ holding the GIL for milliseconds, so the gate starts each one just
    after a tick, when the session loop has the most time before it needs the GIL again."""
    between_ticks()
    try:
        proto = onnx.load_from_string(onnx_bytes)
        onnx.checker.check_model(proto)
    except Exception as exc:  # the checker raises several types; all mean the same here
        raise CandidateRejected(
            f"not a valid ONNX model: {str(exc).splitlines()[0][:200]}"
        ) from None
    inputs = [
        i for i in proto.graph.input if i.name not in {t.name for t in proto.graph.initializer}
    ]
    if [i.name for i in inputs] != [INPUT_NAME]:
        raise CandidateRejected(
            f"inputs are {[i.name for i in inputs]}, the contract needs ['{INPUT_NAME}']"
        )
    outputs = [o.name for o in proto.graph.output]
    if outputs != [OUTPUT_NAME]:
        raise CandidateRejected(f"outputs are {outputs}, the contract needs ['{OUTPUT_NAME}']")
    _check_dims(inputs[0], [None, HISTORY, NUM_FEATURES], f"input '{INPUT_NAME}'")
    _check_dims(proto.graph.output[0], [None, NUM_BINS], f"output '{OUTPUT_NAME}'")
    metadata = {prop.key: prop.value for prop in proto.metadata_props}
    if metadata.get("contract_version") != str(CONTRACT_VERSION):
        found = metadata.get("contract_version")
        raise CandidateRejected(f"contract version {found!r}, this game needs '{CONTRACT_VERSION}'")
    between_ticks()
    try:
        session = make_session(onnx_bytes)
        between_ticks()
        probe = probe_inputs()
        (logits,) = session.run([OUTPUT_NAME], {INPUT_NAME: probe})
    except Exception as exc:
        raise CandidateRejected(f"does not run: {str(exc).splitlines()[0][:200]}") from None
    if logits.shape != (len(probe), NUM_BINS):
        raise CandidateRejected(
            f"outputs shape {logits.shape} for {len(probe)} probes, needs (N, {NUM_BINS})"
        )
    if not np.all(np.isfinite(logits)):
        raise CandidateRejected("outputs non-finite scores (NaN or infinity) on probe inputs")
    return session, metadata


def heldout_agreement(
    session: ort.InferenceSession, obs: np.ndarray, commands: np.ndarray
) -> float:
    (logits,) = session.run([OUTPUT_NAME], {INPUT_NAME: obs.astype(np.float32, copy=False)})
    if not np.all(np.isfinite(logits)):
        raise CandidateRejected("outputs non-finite scores on held-out frames")
    return agreement(commands_from_logits(logits), commands)


class MirrorOpponent:
    """Plays the right paddle with the current accepted model (scripted until there is one)."""

    def __init__(
        self,
        observe_factory: Callable[[], Callable[[View], np.ndarray]],
        fallback: Opponent | None = None,
        name: str = "mirror",
    ) -> None:
        self.name = name  # the label while a model plays ("mirror", or a shared mirror's name)
        self._observe_factory = observe_factory
        self._observe = observe_factory()
        self.fallback = fallback or ScriptedOpponent()
        self.model: Model | None = None
        self._next: Model | None = None
        self.swaps = 0
        self.on_swap: Callable[[Model], None] | None = None  # told on the tick a model starts

    @property
    def label(self) -> str:
        return self.name if self.model else "scripted"

    @property
    def model_version(self) -> int:
        return self.model.version if self.model else 0

    def offer(self, model: Model | None) -> None:
        """Called from any thread: the next tick plays this model (None: back to scripted)."""
        self._next = model if model is not None else _NO_MODEL

    def reset(self, seed: int) -> None:
        self._observe = self._observe_factory()
        if hasattr(self.fallback, "reset"):
            self.fallback.reset(seed)

    def act(self, view: View) -> float:
        offered = self._next  # read once: the swap happens here, between two ticks
        if offered is not None:
            self._next = None
            self.model = None if offered is _NO_MODEL else offered
            self.swaps += 1
            if self.model is not None and self.on_swap:
                self.on_swap(self.model)
        obs = self._observe(view)
        model = self.model
        if model is None:
            return self.fallback.act(view)
        (logits,) = model.session.run([OUTPUT_NAME], {INPUT_NAME: obs[None]})
        row = logits[0]
        if not np.all(np.isfinite(row)):  # cannot pass the gate, but never trust blindly
            return 0.0
        return float(_BINS[int(np.argmax(row))])


_NO_MODEL = Model(session=None, version=0, metadata={}, onnx_bytes=b"")  # type: ignore[arg-type]


@dataclass
class GateStats:
    accepted: int = 0
    rejected: int = 0
    last_rejection: str | None = None
    reasons: dict[str, int] = field(default_factory=dict)


class ModelGate:
    """Checks candidates and hands the good ones to the opponent; saves each to the profile."""

    def __init__(
        self,
        opponent: MirrorOpponent,
        save_path: Path | None = None,
        between_ticks: Callable[[], None] = _no_pause,
    ) -> None:
        self.opponent = opponent
        self.save_path = save_path
        self.between_ticks = between_ticks  # the live game's Session.wait_for_tick_gap
        self.stats = GateStats()
        self._lock = threading.Lock()

    def consider(
        self,
        onnx_bytes: bytes,
        version: int,
        heldout_obs: np.ndarray | None = None,
        heldout_commands: np.ndarray | None = None,
    ) -> Model | None:
        """Run every check; on success offer the model to the opponent and return it."""
        with self._lock:
            try:
                session, metadata = check_candidate(onnx_bytes, self.between_ticks)
                candidate_agreement = None
                if (
                    heldout_obs is not None
                    and heldout_commands is not None
                    and len(heldout_commands)
                ):
                    self.between_ticks()
                    candidate_agreement = heldout_agreement(session, heldout_obs, heldout_commands)
                    current = self.opponent.model
                    if current is not None:
                        self.between_ticks()
                        current_agreement = heldout_agreement(
                            current.session, heldout_obs, heldout_commands
                        )
                        if candidate_agreement < current_agreement:
                            raise CandidateRejected(
                                f"worse than the current model on held-out frames "
                                f"({candidate_agreement:.3f} < {current_agreement:.3f})"
                            )
            except CandidateRejected as exc:
                self._reject(version, str(exc))
                return None
            model = Model(session, version, metadata, onnx_bytes, candidate_agreement)
            self.stats.accepted += 1
            self.opponent.offer(model)
            if self.save_path is not None:
                self._save(onnx_bytes)
            return model

    def _reject(self, version: int, reason: str) -> None:
        self.stats.rejected += 1
        self.stats.last_rejection = reason
        key = reason.split("(")[0].strip()
        self.stats.reasons[key] = self.stats.reasons.get(key, 0) + 1
        log.warning("rejected mirror model v%d: %s; keeping the current one", version, reason)

    def _save(self, onnx_bytes: bytes) -> None:
        try:
            atomic_write(self.save_path, onnx_bytes)
        except OSError as exc:
            log.error("could not save the mirror to %s: %s", self.save_path, exc.strerror or exc)
