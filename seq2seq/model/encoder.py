"""Bidirectional GRU/LSTM encoder over source embeddings."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


class Memory(NamedTuple):
    """What the decoder attends to; rows can be reordered together (beam search)."""

    values: torch.Tensor  # (batch, src_len, 2*enc_hidden)
    keys: torch.Tensor  # (batch, src_len, key_dim), projected once by the attention
    mask: torch.Tensor  # (batch, src_len) bool, True on real tokens

    def select(self, rows: torch.Tensor) -> Memory:
        """rows (n,) indices into batch -> the memory of those rows (n, ...)."""
        return Memory(*(t.index_select(0, rows) for t in self))


def rnn_class(kind: str) -> type[nn.RNNBase]:
    return {"gru": nn.GRU, "lstm": nn.LSTM}[kind]


class Encoder(nn.Module):
    """Embedded source -> per-token memory and a summary of the whole sentence."""

    def __init__(self, rnn: str, emb_dim: int, hidden: int, layers: int, dropout: float) -> None:
        super().__init__()
        self.rnn = rnn_class(rnn)(
            emb_dim, hidden, num_layers=layers, batch_first=True, bidirectional=True,
            dropout=dropout if layers > 1 else 0.0,
        )
        self.dropout = nn.Dropout(dropout)

    def forward(
        self, embedded: torch.Tensor, lengths: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """embedded (batch, src_len, emb), lengths (batch,)
        -> memory (batch, src_len, 2*hidden), summary (batch, 2*hidden): the last layer's
        final forward and backward states. Packing makes padding invisible to the RNN."""
        packed = pack_padded_sequence(
            self.dropout(embedded), lengths.cpu(), batch_first=True, enforce_sorted=False,
        )
        output, final = self.rnn(packed)
        memory, _ = pad_packed_sequence(output, batch_first=True, total_length=embedded.size(1))
        if isinstance(final, tuple):  # LSTM: (h, c)
            final = final[0]
        summary = torch.cat([final[-2], final[-1]], dim=-1)  # (batch, 2*hidden)
        return self.dropout(memory), summary
