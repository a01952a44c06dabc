"""An ensemble of models with one vocabulary, behind the single model's interface.

Each step, the members' next-piece distributions are averaged (a mixture); what
`step` and `forward` return are the log of those mean probabilities, which search,
forced decoding and the contrastive loss take exactly like a model's logits (a
softmax of normalised log-probabilities gives them back unchanged).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import nn

from seq2seq.model.decoder import DecoderState
from seq2seq.model.encoder import Memory
from seq2seq.model.seq2seq import Seq2Seq


class EnsembleMemory(NamedTuple):
    """Every member's memory of the same source batch."""

    memories: tuple[Memory, ...]

    @property
    def mask(self) -> torch.Tensor:  # (batch, src_len) bool, the same for every member
        return self.memories[0].mask

    def select(self, rows: torch.Tensor) -> EnsembleMemory:
        return EnsembleMemory(tuple(m.select(rows) for m in self.memories))


class EnsembleState(NamedTuple):
    """Every member's decoder state."""

    states: tuple[DecoderState, ...]

    def select(self, rows: torch.Tensor) -> EnsembleState:
        return EnsembleState(tuple(s.select(rows) for s in self.states))


class Ensemble(nn.Module):
    """Models that share the source and target tokenizers, decoded as one."""

    def __init__(self, members: list[Seq2Seq]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)

    def encode(self, src: torch.Tensor, src_len: torch.Tensor
               ) -> tuple[EnsembleMemory, EnsembleState]:
        """src (batch, src_len), src_len (batch,) -> each member's memory and initial
        decoder state."""
        encoded = [m.encode(src, src_len) for m in self.members]
        return (EnsembleMemory(tuple(mem for mem, _ in encoded)),
                EnsembleState(tuple(state for _, state in encoded)))

    def step(
        self, prev: torch.Tensor, state: EnsembleState, memory: EnsembleMemory,
    ) -> tuple[torch.Tensor, EnsembleState, torch.Tensor]:
        """prev (batch,) -> log mean probabilities (batch, vocab), new state, mean
        attention weights (batch, src_len)."""
        outputs = [m.step(prev, s, mem)
                   for m, s, mem in zip(self.members, state.states, memory.memories)]
        log_probs = _log_mean_probs([logits for logits, _, _ in outputs])
        weights = torch.stack([w for _, _, w in outputs]).mean(0)
        return log_probs, EnsembleState(tuple(s for _, s, _ in outputs)), weights

    def forward(
        self, src: torch.Tensor, src_len: torch.Tensor, tgt_in: torch.Tensor,
    ) -> torch.Tensor:
        """Teacher forcing: log mean probabilities (batch, tgt_len, vocab)."""
        return _log_mean_probs([m(src, src_len, tgt_in).float() for m in self.members])

    @property
    def device(self) -> torch.device:
        return self.members[0].device


def _log_mean_probs(logits: list[torch.Tensor]) -> torch.Tensor:
    """log((1/n) * sum_i softmax(logits_i)) over the last dimension, computed stably."""
    log_probs = torch.stack([torch.log_softmax(x, dim=-1) for x in logits])
    return torch.logsumexp(log_probs, dim=0) - math.log(len(logits))
