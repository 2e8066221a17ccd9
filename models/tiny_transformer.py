"""A tiny causal transformer mirror, in the spirit of GPT.

Each tick's features are projected to a token, learned positional embeddings are added,
and pre-LayerNorm blocks (causal self-attention, then an MLP) read the window. Scores above
the diagonal are masked to -inf before the softmax, so the prediction at tick t sees ticks
<= t only; training scores a command at every position, the exported model the newest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from models.contract import HISTORY, NUM_BINS, NUM_FEATURES
from models.inputs import InputNorm


@dataclass
class TransformerConfig:
    block_size: int = HISTORY  # ticks in the window (the contract's history length)
    n_layer: int = 2  # transformer blocks
    n_head: int = 2  # attention heads per block
    n_embd: int = 32  # token width
    num_features: int = NUM_FEATURES  # feature columns per tick
    num_bins: int = NUM_BINS  # command bins it scores
    normalize: bool = True  # inputs clamped to the play trained on and scaled
    # (``models.inputs``); mirrors saved before it existed have it off


class CausalSelfAttention(nn.Module):
    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        if config.n_embd % config.n_head:
            raise ValueError(
                f"n_embd must be a multiple of n_head, got n_embd={config.n_embd}, "
                f"n_head={config.n_head}"
            )
        self.n_head = config.n_head
        self.qkv = nn.Linear(config.n_embd, 3 * config.n_embd)
        self.proj = nn.Linear(config.n_embd, config.n_embd)
        mask = torch.tril(torch.ones(config.block_size, config.block_size, dtype=torch.bool))
        self.register_buffer("mask", mask.view(1, 1, config.block_size, config.block_size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        hs = C // self.n_head
        q, k, v = self.qkv(x).split(C, dim=2)
        q = q.view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        k = k.view(B, T, self.n_head, hs).transpose(1, 2)
        v = v.view(B, T, self.n_head, hs).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hs)  # (B, nh, T, T)
        att = att.masked_fill(~self.mask[:, :, :T, :T], float("-inf"))
        att = F.softmax(att, dim=-1)
        y = att @ v  # (B, nh, T, hs)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.proj(y)


class MLPBlock(nn.Module):
    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.fc = nn.Linear(config.n_embd, 4 * config.n_embd)
        self.proj = nn.Linear(4 * config.n_embd, config.n_embd)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(F.gelu(self.fc(x)))


class Block(nn.Module):
    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd)
        self.mlp = MLPBlock(config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class TinyTransformer(nn.Module):
    architecture = "transformer"

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.config = config
        self.inputs = InputNorm(config.num_features, config.normalize)
        self.token = nn.Linear(config.num_features, config.n_embd)
        self.position = nn.Embedding(config.block_size, config.n_embd)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd)
        self.head = nn.Linear(config.n_embd, config.num_bins)

    def training_logits(self, obs: torch.Tensor) -> torch.Tensor:
        """obs (B, T, F) -> logits (B, T, bins): a command prediction at every position."""
        B, T, _ = obs.shape
        positions = torch.arange(T, device=obs.device)
        x = self.token(self.inputs(obs)) + self.position(positions)  # (B, T, n_embd)
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """obs (B, T, F) -> logits (B, bins) for the newest tick."""
        return self.training_logits(obs)[:, -1, :]
