"""One exporter for every mirror architecture: torch module -> ONNX bytes with metadata.

Uses the TorchScript-based exporter (``dynamo=False``): a few milliseconds for the MLP,
needs no onnxscript (DESIGN.md measured the dynamo path at ~0.9 s). The batch axis is
dynamic; names, shapes and opset come from ``models.contract``.
"""

from __future__ import annotations

import copy
import io
import json
import warnings

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn

from models.contract import (
    CONTRACT_VERSION,
    FEATURE_VERSION,
    HISTORY,
    INPUT_NAME,
    NUM_FEATURES,
    OPSET,
    OUTPUT_NAME,
)
from models.registry import model_config


def _trace_to_proto(model: nn.Module) -> onnx.ModelProto:
    """Trace ``model`` (a CPU module) to an ONNX graph."""
    was_training = model.training
    model.eval()
    example = torch.zeros(1, HISTORY, NUM_FEATURES)
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(
            model,
            (example,),
            buffer,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )
    model.train(was_training)
    return onnx.load_from_string(buffer.getvalue())


def _metadata(
    model: nn.Module,
    model_version: int,
    training_frames: int,
    validation_agreement: float | None,
    temperature: float | None = None,
) -> dict[str, str]:
    own = {} if temperature is None else {"temperature": f"{temperature:g}"}
    return own | {
        "contract_version": str(CONTRACT_VERSION),
        "architecture": model.architecture,
        "config": json.dumps(model_config(model), sort_keys=True),
        "feature_version": str(FEATURE_VERSION),
        "training_frames": str(int(training_frames)),
        "validation_agreement": ""
        if validation_agreement is None
        else f"{validation_agreement:.6f}",
        "model_version": str(int(model_version)),
    }


def export_onnx(
    model: nn.Module,
    model_version: int,
    training_frames: int = 0,
    validation_agreement: float | None = None,
    temperature: float | None = None,
) -> bytes:
    """Serialized ONNX of ``model`` carrying the contract metadata (a full trace), and the
    temperature it plays at (``learner.calibration``) when it has one."""
    proto = _trace_to_proto(_on_cpu(model))
    metadata = _metadata(model, model_version, training_frames, validation_agreement, temperature)
    onnx.helper.set_model_props(proto, metadata)
    proto.producer_name = "mirror-pong"
    return proto.SerializeToString()


def _on_cpu(model: nn.Module) -> nn.Module:
    if next(model.parameters()).device.type == "cpu":
        return model
    return copy.deepcopy(model).to("cpu")


class FastExporter:
    """Traces a model once, then exports each update by swapping the graph's weights.

    A full trace costs ~16 ms for the MLP and ~70 ms for the transformer here; replacing
    initializers and serializing costs about a millisecond, which keeps the hot-swap path
    short. The tracer renames and transposes some weights (a Linear on a 3-D input becomes
    a MatMul with the transposed weight), so the map from parameters to initializers is
    found by value: the template is traced from a copy whose every parameter holds distinct
    random values. Any parameter that cannot be matched falls back to a full trace.
    """

    def __init__(self, model: nn.Module) -> None:
        template = copy.deepcopy(_on_cpu(model))
        generator = torch.Generator().manual_seed(0)
        with torch.no_grad():
            for parameter in template.parameters():
                parameter.copy_(torch.randn(parameter.shape, generator=generator))
        self.proto = _trace_to_proto(template)
        self.mapping: list[tuple[int, str, bool]] = []  # (initializer index, parameter, transposed)
        parameters = {name: p.detach().numpy() for name, p in template.named_parameters()}
        unmatched = set(parameters)
        for index, initializer in enumerate(self.proto.graph.initializer):
            values = numpy_helper.to_array(initializer)
            for name in list(unmatched):
                candidate = parameters[name]
                if candidate.shape == values.shape and np.array_equal(candidate, values):
                    self.mapping.append((index, name, False))
                elif (
                    candidate.ndim == 2
                    and candidate.T.shape == values.shape
                    and np.array_equal(candidate.T, values)
                ):
                    self.mapping.append((index, name, True))
                else:
                    continue
                unmatched.discard(name)
                break
        self.complete = not unmatched

    def export(
        self,
        model: nn.Module,
        model_version: int,
        training_frames: int = 0,
        validation_agreement: float | None = None,
        temperature: float | None = None,
    ) -> bytes:
        if not self.complete:
            return export_onnx(
                model, model_version, training_frames, validation_agreement, temperature
            )
        parameters = dict(model.named_parameters())
        proto = onnx.ModelProto()
        proto.CopyFrom(self.proto)
        for index, name, transposed in self.mapping:
            values = parameters[name].detach().to("cpu").numpy()
            values = np.ascontiguousarray(values.T if transposed else values)
            initializer = proto.graph.initializer[index]
            initializer.CopyFrom(numpy_helper.from_array(values, initializer.name))
        del proto.metadata_props[:]
        onnx.helper.set_model_props(
            proto,
            _metadata(model, model_version, training_frames, validation_agreement, temperature),
        )
        proto.producer_name = "mirror-pong"
        return proto.SerializeToString()
