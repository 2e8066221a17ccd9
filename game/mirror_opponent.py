"""The learned opponent: onnxruntime sessions, checked before use and swapped between ticks.

``MirrorOpponent.act`` reads the current model once per tick. A new model reaches it only
through ``ModelGate.consider``, which runs off the tick path (in a background thread) and
refuses a candidate that fails any check:

1. it is at most ``MAX_MODEL_BYTES`` (checked before parsing), parses and passes the ONNX
   checker;
2. it is inert data (a model may come from someone else, DESIGN.md): only the operators the
   mirror architectures export (``ALLOWED_OPS``, default domain), no control flow, functions,
   subgraphs, external or sparse data; at most ``MAX_NODES`` nodes and ``MAX_TENSOR_ELEMENTS``
   per weight; no tensor's size may depend on the observation's values, so the time a model
   takes is the same on every tick and the probe below measures it;
3. its input and output names and shapes are the contract's (``models.contract``);
4. its metadata names this contract version, and its numbers are in range;
5. on probe inputs (ordinary and extreme) every output is finite, within ``PROBE_DEADLINE``;
6. on the held-out frames that came with it, it agrees with the player at least as often
   as the current model does.

A rejected candidate is counted and logged with its reason and the current model stays.
Until the first model is accepted the opponent plays a scripted fallback.

While it plays, every inference has a deadline (``INFERENCE_DEADLINE``): a watchdog thread
sets the run's ``terminate`` flag when it is overdue, and a model that misses its deadline or
fails is dropped for the last good one (or the scripted fallback), with one log line.

The game knows nothing about features: the feature builder is handed in (``observe``), as
DESIGN.md's one-way imports require.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

from game.engine import View
from game.files import atomic_write
from game.opponent import Opponent, ScriptedOpponent
from game.playback import (
    ARGMAX,
    DEFAULT_PLAYBACK,
    TEMPERATURE_RANGE,
    BinPicker,
    Playback,
    model_temperature,
    refine,
    temperature_for,
)
from game.session import GAP_AFTER_TICK
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
# Bins on each side of a command that still agree with it (0.25 / 0.1 apart: 2).
_AGREEING_BINS = int(AGREEMENT_TOLERANCE / (COMMAND_BINS[1] - COMMAND_BINS[0]) + 1e-9)
# How much a bin's own probability counts beside its neighbourhood's in the judged command:
# enough that a peak's own bin beats its neighbours (whose windows hold the same peak).
_OWN_BIN_WEIGHT = 0.1


# Bounds on a model from outside. The real mirrors are far inside them: the default MLP is
# 37 KB, 25 nodes, 4,096-element weights; a 4-layer d=64 transformer 0.9 MB, 415 nodes.
MAX_MODEL_BYTES = 8 << 20
MAX_NODES = 4000
MAX_TENSOR_ELEMENTS = 1 << 20  # per weight or constant
MAX_MODEL_VERSION = (1 << 31) - 1  # recordings store the version as a signed 32-bit int

# Every operator the exported MLP and tiny transformer use (any config, full trace or
# FastExporter), found by exporting them; nothing else may run in the game process.
ALLOWED_OPS = frozenset(
    {
        "Add", "Cast", "Concat", "Constant", "Cos", "Div", "Erf", "Flatten", "Gather", "Gemm",
        "Identity", "LayerNormalization", "MatMul", "Max", "Min", "Mul", "Not", "Range",
        "Reshape", "Shape", "Sin", "Slice", "Softmax", "Split", "Transpose", "Unsqueeze", "Where",
    }
)  # fmt: skip
# Inputs (by position) of allowed operators that set the size of their output: they must
# not depend on the observation's values, or a model could work harder only when the ball
# comes (Range(0, f(obs)) allocates and fills as much as it is told).
_SIZE_INPUTS = {"Range": (0, 1, 2), "Reshape": (1,), "Slice": (1, 2, 3, 4), "Split": (1,),
                "Unsqueeze": (1,)}  # fmt: skip
_DEFAULT_DOMAINS = {"", "ai.onnx"}

# A tick lasts 16.7 ms and a model's run normally takes 20-400 us: one that has run for
# INFERENCE_DEADLINE is stopped and dropped. The gate's checks run off the tick path, on
# bigger batches, and get longer.
INFERENCE_DEADLINE = 0.020
PROBE_DEADLINE = 1.0
HELDOUT_DEADLINE = 5.0
_PLAY_BUDGET = INFERENCE_DEADLINE / 4  # a probe row may take at most this at import


class CandidateRejected(Exception):
    """A model that must not play; the message says why."""


class NotBetter(CandidateRejected):
    """A sound candidate that is not more like the player than the model playing now."""


def read_model_file(path: str | os.PathLike) -> bytes:
    """The bytes of a model file from anywhere (a shared mirror, the profile's own), read
    only if it is a regular file of at most ``MAX_MODEL_BYTES``; CandidateRejected (one
    line) otherwise. Check the bytes with ``check_candidate`` before use."""
    try:
        # O_NONBLOCK: a FIFO put where a model should be must not hang the open.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise CandidateRejected(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise CandidateRejected(f"{path} is not a regular file")
        if info.st_size > MAX_MODEL_BYTES:
            raise CandidateRejected(_too_big(info.st_size))
        with os.fdopen(os.dup(fd), "rb") as file:
            data = file.read(MAX_MODEL_BYTES + 1)  # a file growing meanwhile is still bounded
    except OSError as exc:
        raise CandidateRejected(f"cannot read {path}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > MAX_MODEL_BYTES:
        raise CandidateRejected(_too_big(len(data)))
    return data


def _too_big(size: int) -> str:
    return f"model is {size} bytes, over the {MAX_MODEL_BYTES}-byte limit"


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
    """The command each row's model is judged on: its best guess of the player's command,
    the bin that the player's command most likely lies within ``AGREEMENT_TOLERANCE`` of
    (the most predicted probability within 2 bins either side), which is what agreement
    counts; of bins that come close, the one most likely itself. For a steady player, whose
    predicted commands sit in one bin, that is the highest-scoring bin; for one with noise
    in every tick, whose commands spread over several bins, it is the middle of the spread,
    where the highest single bin can be one edge of it."""
    logits = np.asarray(logits, dtype=np.float64)
    weights = np.exp(logits - logits.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    total = np.cumsum(weights, axis=-1)
    total = np.concatenate([np.zeros_like(total[..., :1]), total], axis=-1)
    index = np.arange(NUM_BINS)
    high = np.minimum(index + _AGREEING_BINS + 1, NUM_BINS)
    low = np.maximum(index - _AGREEING_BINS, 0)
    within = total[..., high] - total[..., low]
    return _BINS[np.argmax(within + _OWN_BIN_WEIGHT * weights, axis=-1)]


def agreeing(commands: np.ndarray, player_commands: np.ndarray) -> np.ndarray:
    """Per tick: is the command within ``AGREEMENT_TOLERANCE`` of the player's? The one
    definition of agreement; the gate, the trainer, the benches and the replay all use it."""
    return np.abs(np.asarray(commands) - np.asarray(player_commands)) <= AGREEMENT_TOLERANCE


def agreement(commands: np.ndarray, player_commands: np.ndarray) -> float:
    """The fraction of ticks ``agreeing`` (NaN when there are none)."""
    if len(player_commands) == 0:
        return float("nan")
    return float(np.mean(agreeing(commands, player_commands)))


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


class GapPacer:
    """Starts each of the gate's GIL-holding steps in a gap between ticks with room for it.

    The ONNX checker, building a session and running a model hold the GIL in C++ for a
    millisecond or a few; one that runs over a tick's deadline makes the tick late. Before a
    step the pacer asks ``wait_for_gap(need)`` (the live game's
    ``Session.wait_for_tick_gap``) for a gap with ``need`` seconds left: one and a half
    times what the step took last time (slow runs are remembered, fading by a fifth each
    run), plus a millisecond; the most a gap offers before the step has been timed. So the
    gate's steps share one gap where they fit, instead of each waiting for a tick of its
    own. Without ``wait_for_gap`` (headless, tests) steps run at once."""

    def __init__(self, wait_for_gap: Callable[[float], None] | None = None) -> None:
        self.wait_for_gap = wait_for_gap
        self.took: dict[str, float] = {}  # seconds, per step name

    def need(self, name: str) -> float:
        took = self.took.get(name)
        return GAP_AFTER_TICK if took is None else min(GAP_AFTER_TICK, 1.5 * took + 0.001)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        if self.wait_for_gap is not None:
            self.wait_for_gap(self.need(name))
        started = time.perf_counter()
        try:
            yield
        finally:
            took = time.perf_counter() - started
            self.took[name] = max(took, 0.8 * self.took.get(name, 0.0))


_NO_PACING = GapPacer()


def check_candidate(
    onnx_bytes: bytes, pacer: GapPacer = _NO_PACING
) -> tuple[ort.InferenceSession, dict[str, str]]:
    """Checks 1-5; returns a ready session and the model's metadata, or raises.

    The ONNX checker, building a session and the probes run in C++ holding the GIL for
    milliseconds, so each starts in a gap between ticks with room for it (``GapPacer``)."""
    if len(onnx_bytes) > MAX_MODEL_BYTES:
        raise CandidateRejected(_too_big(len(onnx_bytes)))
    with pacer.step("parse"):
        try:
            proto = onnx.load_from_string(onnx_bytes)
        except Exception as exc:  # protobuf's DecodeError and friends
            raise CandidateRejected(
                f"not a valid ONNX model: {str(exc).splitlines()[0][:200] if str(exc) else exc!r}"
            ) from None
        check_inert(proto)
        try:
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
    metadata = {prop.key: prop.value for prop in proto.metadata_props}
    found = metadata.get("contract_version")
    if found != str(CONTRACT_VERSION):
        older = found is not None and found.isdigit() and int(found) < CONTRACT_VERSION
        raise CandidateRejected(
            f"made for an older version of the game (contract {found}, this game plays "
            f"{CONTRACT_VERSION}); play to train a new mirror"
            if older
            else f"contract version {found!r}, this game needs '{CONTRACT_VERSION}'"
        )
    _check_dims(inputs[0], [None, HISTORY, NUM_FEATURES], f"input '{INPUT_NAME}'")
    _check_dims(proto.graph.output[0], [None, NUM_BINS], f"output '{OUTPUT_NAME}'")
    check_sizes_fixed(proto)
    check_metadata(metadata)
    with pacer.step("session"):
        try:
            session = make_session(onnx_bytes)
        except Exception as exc:
            raise CandidateRejected(f"does not run: {str(exc).splitlines()[0][:200]}") from None
    probe = probe_inputs()
    with pacer.step("probe"):
        logits = run_with_deadline(session, probe, PROBE_DEADLINE, "probe inputs")
    if logits.shape != (len(probe), NUM_BINS):
        raise CandidateRejected(
            f"outputs shape {logits.shape} for {len(probe)} probes, needs (N, {NUM_BINS})"
        )
    if not np.all(np.isfinite(logits)):
        raise CandidateRejected("outputs non-finite scores (NaN or infinity) on probe inputs")
    with pacer.step("play speed"):
        _check_play_speed(session, probe[:1])
    return session, metadata


def check_inert(proto: onnx.ModelProto) -> None:
    """Refuse anything in a model beyond plain data flow through the allowed operators."""
    graph = proto.graph
    if proto.functions:
        raise CandidateRejected("defines ONNX functions (custom operators are not allowed)")
    if len(proto.training_info):
        raise CandidateRejected("carries training graphs (subgraphs are not allowed)")
    foreign = [o.domain for o in proto.opset_import if o.domain not in _DEFAULT_DOMAINS]
    if foreign:
        raise CandidateRejected(f"imports operator domain {foreign[0]!r} (custom operators)")
    if len(graph.node) > MAX_NODES:
        raise CandidateRejected(f"has {len(graph.node)} nodes, over the limit of {MAX_NODES}")
    if len(graph.sparse_initializer):
        raise CandidateRejected("has sparse initializers (not allowed)")
    for tensor in graph.initializer:
        _check_tensor(tensor, f"weight {tensor.name[:60]!r}")
    for node in graph.node:
        if node.domain not in _DEFAULT_DOMAINS:
            raise CandidateRejected(
                f"uses operator {node.domain[:60]}::{node.op_type[:60]} (custom operators)"
            )
        if node.op_type not in ALLOWED_OPS:
            raise CandidateRejected(
                f"uses operator {node.op_type[:60]}, which no mirror architecture needs"
            )
        for attribute in node.attribute:
            kind = attribute.type
            if kind in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) or (
                attribute.HasField("g") or len(attribute.graphs)
            ):
                raise CandidateRejected(f"operator {node.op_type} holds a subgraph")
            if kind in (onnx.AttributeProto.SPARSE_TENSOR, onnx.AttributeProto.SPARSE_TENSORS):
                raise CandidateRejected(f"operator {node.op_type} holds a sparse tensor")
            if attribute.HasField("t"):
                _check_tensor(attribute.t, f"constant in {node.op_type}")
            for tensor in attribute.tensors:
                _check_tensor(tensor, f"constant in {node.op_type}")


def _check_tensor(tensor: onnx.TensorProto, what: str) -> None:
    if tensor.data_location == onnx.TensorProto.EXTERNAL or len(tensor.external_data):
        raise CandidateRejected(f"{what} refers to external data (not allowed)")
    elements = 1
    for dim in tensor.dims:
        if dim < 0:
            raise CandidateRejected(f"{what} has a negative dimension")
        elements *= dim
    if elements > MAX_TENSOR_ELEMENTS:
        raise CandidateRejected(
            f"{what} has {elements} elements, over the limit of {MAX_TENSOR_ELEMENTS}"
        )


def check_sizes_fixed(proto: onnx.ModelProto) -> None:
    """No size-setting input may depend on the observation's values (see ``_SIZE_INPUTS``).

    Values flow from ``obs`` through every operator except ``Shape``, whose output depends
    only on the input's shape (the batch size, which the game sets)."""
    from_obs = {INPUT_NAME}
    for node in proto.graph.node:  # the checker has made sure they are in topological order
        for position in _SIZE_INPUTS.get(node.op_type, ()):
            if position < len(node.input) and node.input[position] in from_obs:
                raise CandidateRejected(
                    f"operator {node.op_type} takes a size from the observation's values"
                )
        if node.op_type != "Shape" and any(name in from_obs for name in node.input):
            from_obs.update(node.output)


def _int_field(metadata: dict[str, str], key: str, low: int, high: int) -> None:
    text = metadata.get(key)
    if text is None:
        return
    if not (text.isascii() and text.isdigit() and len(text) <= 20) or not (
        low <= int(text) <= high
    ):
        raise CandidateRejected(
            f"metadata {key} is {text[:40]!r}, needs an integer in [{low}, {high}]"
        )


def check_metadata(metadata: dict[str, str]) -> None:
    """The numbers the game shows and records: present ones must parse and be in range."""
    _int_field(metadata, "model_version", 0, MAX_MODEL_VERSION)
    _int_field(metadata, "training_frames", 0, (1 << 63) - 1)
    agreement_text = metadata.get("validation_agreement")
    if agreement_text:
        try:
            value = float(agreement_text)
        except ValueError:
            value = float("nan")
        if len(agreement_text) > 40 or not 0.0 <= value <= 1.0:
            raise CandidateRejected(
                f"metadata validation_agreement is {agreement_text[:40]!r}, "
                f"needs a number in [0, 1] or nothing"
            )
    temperature_text = metadata.get("temperature")
    if temperature_text and (len(temperature_text) > 40 or model_temperature(metadata) is None):
        low, high = TEMPERATURE_RANGE
        raise CandidateRejected(
            f"metadata temperature is {temperature_text[:40]!r}, "
            f"needs a number in [{low:g}, {high:g}] or nothing"
        )


def run_with_deadline(
    session: ort.InferenceSession, obs: np.ndarray, seconds: float, what: str
) -> np.ndarray:
    """One run off the tick path, stopped after ``seconds`` (CandidateRejected if so)."""
    options = ort.RunOptions()
    timer = threading.Timer(seconds, setattr, (options, "terminate", True))
    timer.daemon = True
    timer.start()
    try:
        (logits,) = session.run(
            [OUTPUT_NAME], {INPUT_NAME: obs.astype(np.float32, copy=False)}, options
        )
    except Exception as exc:
        if options.terminate:
            raise CandidateRejected(f"takes longer than {seconds:g} s on {what}") from None
        raise CandidateRejected(f"does not run: {str(exc).splitlines()[0][:200]}") from None
    finally:
        timer.cancel()
    return logits


def _check_play_speed(session: ort.InferenceSession, row: np.ndarray) -> None:
    """A model must answer one observation well inside a tick's deadline."""
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        run_with_deadline(session, row, PROBE_DEADLINE, "one observation")
        timings.append(time.perf_counter() - started)
    fastest = min(timings)  # the least disturbed by whatever else this machine does
    if fastest > _PLAY_BUDGET:
        raise CandidateRejected(
            f"too slow to play: {fastest * 1000:.1f} ms per tick "
            f"(the game allows {_PLAY_BUDGET * 1000:.0f} ms)"
        )


def heldout_agreement(
    session: ort.InferenceSession, obs: np.ndarray, commands: np.ndarray
) -> float:
    logits = run_with_deadline(session, obs, HELDOUT_DEADLINE, "held-out frames")
    if not np.all(np.isfinite(logits)):
        raise CandidateRejected("outputs non-finite scores on held-out frames")
    return agreement(commands_from_logits(logits), commands)


class MirrorOpponent:
    """Plays the right paddle with the current accepted model (scripted until there is one).

    ``playback`` says how the model's scores become a command (``game.playback``): its most
    likely bin, or a seeded draw from its distribution.

    Each run gets its own ``RunOptions`` and is watched by this opponent's watchdog thread;
    a run past ``INFERENCE_DEADLINE`` is terminated and its model dropped for the last good
    one (``deadline=None``: no watchdog, for a model the process made itself and plays off
    any tick path). ``act`` never raises for a model's sake."""

    def __init__(
        self,
        observe_factory: Callable[[], Callable[[View], np.ndarray]],
        fallback: Opponent | None = None,
        name: str = "mirror",
        deadline: float | None = INFERENCE_DEADLINE,
        playback: Playback = DEFAULT_PLAYBACK,
    ) -> None:
        # deadline None: no watchdog (a model this process made and checked, played off any
        # tick path: the trainer finding its mirror's temperature)
        self.name = name  # the label while a model plays ("mirror", or a shared mirror's name)
        self._observe_factory = observe_factory
        self._observe = observe_factory()
        self.fallback = fallback or ScriptedOpponent()
        self.deadline = deadline
        self.playback = playback
        self._picker = BinPicker(playback)
        self._found: float | None = None  # found_temperature
        self._found_used: float | None = None  # the one the picker was last given
        self.model: Model | None = None
        self._next: Model | None = None
        self._last_good: Model | None = None  # what played before ``model``, to fall back on
        self.swaps = 0
        self.dropped = 0  # models dropped while playing (missed deadline, failed run)
        self.last_drop: str | None = None
        self.on_swap: Callable[[Model], None] | None = None  # told on the tick a model starts
        # (that run's options, the running thread's CPU clock) while a run is in progress,
        # else None; one attribute, replaced whole, so the watchdog reads a consistent pair.
        self._running: tuple[ort.RunOptions, int | None] | None = None
        self._clock: tuple[int, int | None] = (0, None)  # (thread ident, its CPU clock)
        self._watchdog: _Watchdog | None = None

    @property
    def label(self) -> str:
        return self.name if self.model else "scripted"

    @property
    def model_version(self) -> int:
        return self.model.version if self.model else 0

    @property
    def found_temperature(self) -> float | None:
        """The temperature the player's trainer found for their jitter (the live learner
        sets it from the trainer's reports), for a model that carries none: one restored
        from before it was found, or one the gate has kept since. Such a model draws at
        this, not at the default."""
        return self._found

    @found_temperature.setter
    def found_temperature(self, value: float | None) -> None:
        # Taken up by the next tick (``act``), on the loop's thread; a float, replaced whole.
        # One outside the range a model file may carry is not taken (None: the default).
        low, high = TEMPERATURE_RANGE
        ok = isinstance(value, int | float) and low <= value <= high
        self._found = float(value) if ok else None

    @property
    def temperature(self) -> float | None:
        """The temperature its draws use now (None: it plays by argmax)."""
        if self.playback.by == ARGMAX:
            return None
        return temperature_for(self.playback, self._metadata(), self._found)[0]

    @property
    def temperature_source(self) -> str | None:
        """Where its draws' temperature comes from: "own" (the playing model carries one,
        found for its player, or its trainer has found one since: ``found_temperature``),
        "default" (neither), "set" (the player chose one); None when it plays by argmax."""
        if self.playback.by == ARGMAX:
            return None
        return temperature_for(self.playback, self._metadata(), self._found)[1]

    def _metadata(self) -> dict[str, str]:
        model = self.model
        return model.metadata if model is not None else {}

    def offer(self, model: Model | None) -> None:
        """Called from any thread: the next tick plays this model (None: back to scripted)."""
        self._next = model if model is not None else _NO_MODEL

    def reset(self, seed: int) -> None:
        self._observe = self._observe_factory()
        self._picker.reset(seed)
        if hasattr(self.fallback, "reset"):
            self.fallback.reset(seed)

    def take_offer(self, first_only: bool = False) -> None:
        """Between two ticks: a model offered takes over now, and a temperature found since
        is taken up. ``act`` calls it first. A game that plays no tick (paused, or the match
        over) calls it with ``first_only``: a model takes over only where none plays yet, so
        the mirror restored while a resumed match waits for Space is the one shown, while a
        newer one waits for play (the mirrors the player meets are ones they play)."""
        offered = self._next  # read once: the swap happens here, between two ticks
        if offered is not None and not (first_only and self.model is not None):
            self._next = None
            self._last_good = self.model
            self._start(None if offered is _NO_MODEL else offered)
        elif self._found != self._found_used:
            self._use_temperature()

    def act(self, view: View) -> float:
        self.take_offer()
        obs = self._observe(view)
        self._picker.see(view.ball_vx)
        while self.model is not None:  # at most twice: a fallback model has no fallback
            command = self._run(self.model, obs)
            if command is not None:
                return command
        return self.fallback.act(view)

    def _run(self, model: Model, obs: np.ndarray) -> float | None:
        """The model's command, or None after dropping a model that missed its deadline or
        failed (``self.model`` is then its fallback)."""
        watchdog = self._watchdog
        if self.deadline is not None and (watchdog is None or not watchdog.is_alive()):
            watchdog = self._watchdog = _Watchdog(self)
        options = ort.RunOptions()  # one per run: a late terminate can only stop its own run
        clock = self._clock
        if clock[0] != threading.get_ident():
            clock = self._clock = _thread_clock()
        self._running = (options, clock[1])  # the watchdog times it (no clock read here)
        try:
            (logits,) = model.session.run([OUTPUT_NAME], {INPUT_NAME: obs[None]}, options)
        except Exception as exc:
            self._running = None
            if options.terminate:
                self._drop(model, f"took longer than {self.deadline * 1000:g} ms")
            else:
                self._drop(model, f"failed: {str(exc).splitlines()[0][:200] or repr(exc)}")
            return None
        self._running = None
        row = logits[0]
        if not np.all(np.isfinite(row)):  # cannot pass the gate, but never trust blindly
            return 0.0
        scores = row.tolist()  # once: the picker and the refinement both read it
        index = int(np.argmax(row)) if self.playback.by == ARGMAX else self._picker.pick(scores)
        return refine(scores, index) if self.playback.refine else float(_BINS[index])

    def _start(self, model: Model | None) -> None:
        self.model = model
        self.swaps += 1
        self._use_temperature()
        if model is not None:
            if self._watchdog is not None:
                self._watchdog.wake.set()
            if self.on_swap:
                self.on_swap(model)

    def _use_temperature(self) -> None:
        found = self._found  # read once: the learner's thread may set it meanwhile
        self._found_used = found
        self._picker.use_model(self._metadata(), found)

    def _drop(self, model: Model, reason: str) -> None:
        """``model`` failed a run: never play it again; the last good one (or the scripted
        fallback) plays from this very tick."""
        self.dropped += 1
        fallback, self._last_good = self._last_good, None
        self.last_drop = f"mirror v{model.version} {reason}"
        log.error(
            "dropped the mirror model v%d: a run %s; %s plays instead",
            model.version,
            reason,
            f"v{fallback.version}" if fallback else "the scripted opponent",
        )
        self._start(fallback)


def _thread_clock() -> tuple[int, int | None]:
    """The calling thread's CPU-time clock (None where the platform has none: wall time).

    Deadlines count the CPU time a run uses, not wall time: on a busy 2-core machine the
    scheduler can hold a thread back for 90 ms (measured), which is no fault of the model.
    A hostile model burns CPU and is stopped all the same."""
    ident = threading.get_ident()
    try:
        return ident, time.pthread_getcpuclockid(ident)
    except (AttributeError, OSError):
        return ident, None


def _now(clock_id: int | None) -> float:
    return time.clock_gettime(clock_id) if clock_id is not None else time.perf_counter()


class _Watchdog:
    """One daemon thread per opponent: terminates a run that has passed the deadline.

    It polls every quarter deadline while a model plays and sleeps while none does; a run
    it sees in progress on two polls more than a deadline of CPU time apart is stopped. The
    tick path reads no clock and pays only for writing ``_running`` twice. It holds the
    opponent weakly and ends with it; an error in its loop is logged once and it goes on."""

    def __init__(self, opponent: MirrorOpponent) -> None:
        self.wake = threading.Event()
        self._opponent = weakref.ref(opponent)
        self._thread = threading.Thread(
            target=self._run, name=f"inference-watchdog-{opponent.name}", daemon=True
        )
        self._failed = False
        self._thread.start()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        seen = None  # (the run in progress, its thread's CPU time when first seen)
        while True:
            opponent, running = self._opponent(), None
            if opponent is None:
                return
            try:
                interval = opponent.deadline / 4
                playing = opponent.model is not None
                running = opponent._running
                if running is None:
                    seen = None
                elif seen is None or seen[0] is not running:
                    seen = (running, _now(running[1]))
                elif _now(running[1]) - seen[1] > opponent.deadline:
                    running[0].terminate = True
            except Exception:
                if not self._failed:
                    log.exception("the inference watchdog failed; it keeps watching")
                    self._failed = True
                interval, playing, seen = 0.005, True, None
            del opponent, running  # never keep the opponent alive while sleeping
            if playing:
                time.sleep(interval)
            else:
                self.wake.wait(1.0)  # woken when a model starts; a second to notice the end
                self.wake.clear()


_NO_MODEL = Model(session=None, version=0, metadata={}, onnx_bytes=b"")  # type: ignore[arg-type]


@dataclass
class GateStats:
    accepted: int = 0
    rejected: int = 0
    last_rejection: str | None = None  # why the latest candidate was refused, if it was
    reasons: dict[str, int] = field(default_factory=dict)


class ModelGate:
    """Checks candidates and hands the good ones to the opponent; saves each to the profile."""

    def __init__(
        self,
        opponent: MirrorOpponent,
        save_path: Path | None = None,
        pacer: GapPacer | None = None,
    ) -> None:
        self.opponent = opponent
        self.save_path = save_path
        self.pacer = pacer or GapPacer()  # live: paced by Session.wait_for_tick_gap
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
                if not 0 <= version <= MAX_MODEL_VERSION:
                    raise CandidateRejected(
                        f"model version {version} is outside [0, {MAX_MODEL_VERSION}]"
                    )
                session, metadata = check_candidate(onnx_bytes, self.pacer)
                candidate_agreement = None
                if (
                    heldout_obs is not None
                    and heldout_commands is not None
                    and len(heldout_commands)
                ):
                    with self.pacer.step("held-out"):
                        candidate_agreement = heldout_agreement(
                            session, heldout_obs, heldout_commands
                        )
                    current = self.opponent.model
                    if current is not None:
                        with self.pacer.step("held-out"):
                            current_agreement = heldout_agreement(
                                current.session, heldout_obs, heldout_commands
                            )
                        if candidate_agreement < current_agreement:
                            raise NotBetter(
                                f"worse than the current model on held-out frames "
                                f"({candidate_agreement:.3f} < {current_agreement:.3f})"
                            )
            except CandidateRejected as exc:
                self._reject(version, str(exc), routine=isinstance(exc, NotBetter))
                return None
            model = Model(session, version, metadata, onnx_bytes, candidate_agreement)
            self.stats.accepted += 1
            self.stats.last_rejection = None  # the news is the new model, not an old refusal
            self.opponent.offer(model)
            if self.save_path is not None:
                self._save(onnx_bytes)
            return model

    def _reject(self, version: int, reason: str, routine: bool = False) -> None:
        self.stats.rejected += 1
        self.stats.last_rejection = reason
        key = reason.split("(")[0].strip()
        self.stats.reasons[key] = self.stats.reasons.get(key, 0) + 1
        # A candidate that is merely not better is routine (the terminal stays quiet unless
        # --verbose); one that fails a check deserves a warning.
        log.log(
            logging.DEBUG if routine else logging.WARNING,
            "rejected mirror model v%d: %s; keeping the current one",
            version,
            reason,
        )

    def _save(self, onnx_bytes: bytes) -> None:
        try:
            atomic_write(self.save_path, onnx_bytes)
        except OSError as exc:
            log.error("could not save the mirror to %s: %s", self.save_path, exc.strerror or exc)
