"""Build a mirror model by architecture name and config dict (what checkpoints store)."""

from __future__ import annotations

from dataclasses import asdict

from torch import nn

from models import contract
from models.mlp import MLP, MLPConfig
from models.tiny_transformer import TinyTransformer, TransformerConfig

ARCHITECTURES = {"mlp": (MLP, MLPConfig), "transformer": (TinyTransformer, TransformerConfig)}
assert tuple(ARCHITECTURES) == contract.ARCHITECTURES, "models/contract.py names them all"


def build_model(architecture: str, config: dict | None = None) -> nn.Module:
    if architecture not in ARCHITECTURES:
        raise ValueError(
            f"architecture must be one of {sorted(ARCHITECTURES)}, got {architecture!r}"
        )
    model_class, config_class = ARCHITECTURES[architecture]
    return model_class(config_class(**(config or {})))


def model_config(model: nn.Module) -> dict:
    return asdict(model.config)
