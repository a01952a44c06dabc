"""Attention scores and contexts.

Keys are projected once per source batch by the caller (`project_keys`) and passed
back in on every call: the modules hold parameters only, never per-batch state.
Shapes: queries (batch, tgt_len, dec_hidden), memory (batch, src_len, 2*enc_hidden),
mask (batch, src_len) with True on real tokens.
"""

from __future__ import annotations

import torch
from torch import nn


def attend(
    scores: torch.Tensor, mask: torch.Tensor, values: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Masked softmax over source positions and the weighted sum of `values`.

    scores (batch, tgt_len, src_len), mask (batch, src_len), values (batch, src_len, dim)
    -> context (batch, tgt_len, dim), weights (batch, tgt_len, src_len).
    Padding positions get exactly zero weight.
    """
    scores = scores.masked_fill(~mask.unsqueeze(1), float("-inf"))
    weights = torch.softmax(scores, dim=-1)  # (batch, tgt_len, src_len)
    return torch.bmm(weights, values), weights


class AdditiveAttention(nn.Module):
    """Bahdanau: score(q, k) = v^T tanh(W_q q + W_k k)."""

    def __init__(self, query_dim: int, memory_dim: int, attention_dim: int) -> None:
        super().__init__()
        self.key_proj = nn.Linear(memory_dim, attention_dim, bias=False)
        self.query_proj = nn.Linear(query_dim, attention_dim)
        self.energy = nn.Linear(attention_dim, 1, bias=False)

    def project_keys(self, memory: torch.Tensor) -> torch.Tensor:
        """memory (batch, src_len, memory_dim) -> keys (batch, src_len, attention_dim)."""
        return self.key_proj(memory)

    def forward(
        self, queries: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, mask: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """queries (batch, tgt_len, query_dim), keys from `project_keys`, values
        (batch, src_len, memory_dim), mask (batch, src_len)
        -> context (batch, tgt_len, memory_dim), weights (batch, tgt_len, src_len)."""
        q = self.query_proj(queries).unsqueeze(2)  # (batch, tgt_len, 1, attention_dim)
        hidden = torch.tanh(q + keys.unsqueeze(1))  # (batch, tgt_len, src_len, attention_dim)
        scores = self.energy(hidden).squeeze(-1)  # (batch, tgt_len, src_len)
        return attend(scores, mask, values)


class MultiplicativeAttention(nn.Module):
    """Luong: score(q, k) = q . k ("dot") or q . W k ("general")."""

    def __init__(self, query_dim: int, memory_dim: int, general: bool) -> None:
        super().__init__()
        self.key_proj = nn.Linear(memory_dim, query_dim, bias=False) if general else None

    def project_keys(self, memory: torch.Tensor) -> torch.Tensor:
        """memory (batch, src_len, memory_dim) -> keys (batch, src_len, query_dim); "dot"
        needs memory_dim == query_dim and uses the memory itself."""
        return memory if self.key_proj is None else self.key_proj(memory)

    def forward(
        self, queries: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, mask: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """queries (batch, tgt_len, query_dim), keys from `project_keys`, values
        (batch, src_len, memory_dim), mask (batch, src_len)
        -> context (batch, tgt_len, memory_dim), weights (batch, tgt_len, src_len)."""
        scores = torch.bmm(queries, keys.transpose(1, 2))  # (batch, tgt_len, src_len)
        return attend(scores, mask, values)


def build_attention(kind: str, query_dim: int, memory_dim: int, attention_dim: int) -> nn.Module:
    if kind == "bahdanau":
        return AdditiveAttention(query_dim, memory_dim, attention_dim)
    if kind in ("luong_dot", "luong_general"):
        return MultiplicativeAttention(query_dim, memory_dim, general=kind == "luong_general")
    raise ValueError(f"unknown attention type {kind!r}")
