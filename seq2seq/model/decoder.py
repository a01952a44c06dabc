"""Attentional RNN decoder, fused or with input feeding.

Without input feeding the RNN runs over all target positions in one call and
attention follows for all steps in one batched matmul (fast on CPU). With input
feeding the previous attentional vector is part of each step's input, so the
steps run one by one. Search calls the same `forward` with one position at a time.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from seq2seq.model.attention import build_attention
from seq2seq.model.encoder import Memory, rnn_class


class DecoderState(NamedTuple):
    """Recurrent state carried between decoding steps."""

    hidden: torch.Tensor | tuple[torch.Tensor, torch.Tensor]  # (layers, batch, hidden) [h, c]
    feed: torch.Tensor | None  # (batch, out_dim): last attentional vector, input feeding only

    def select(self, rows: torch.Tensor) -> DecoderState:
        """Reorder/select batch rows (beam search), dim 1 of hidden, dim 0 of feed."""
        if isinstance(self.hidden, tuple):
            hidden = tuple(h.index_select(1, rows) for h in self.hidden)
        else:
            hidden = self.hidden.index_select(1, rows)
        feed = None if self.feed is None else self.feed.index_select(0, rows)
        return DecoderState(hidden, feed)


class Decoder(nn.Module):
    """Target embeddings + decoder state + memory -> attentional vectors."""

    def __init__(
        self, rnn: str, emb_dim: int, memory_dim: int, hidden: int, layers: int,
        attention: str, attention_dim: int, input_feeding: bool, out_dim: int, dropout: float,
    ) -> None:
        super().__init__()
        self.layers, self.out_dim, self.input_feeding = layers, out_dim, input_feeding
        self.is_lstm = rnn == "lstm"
        input_dim = emb_dim + (out_dim if input_feeding else 0)
        self.rnn = rnn_class(rnn)(
            input_dim, hidden, num_layers=layers, batch_first=True,
            dropout=dropout if layers > 1 else 0.0,
        )
        self.bridge = nn.Linear(memory_dim, hidden)
        self.attention = build_attention(attention, hidden, memory_dim, attention_dim)
        self.combine = nn.Linear(hidden + memory_dim, out_dim)
        self.dropout = nn.Dropout(dropout)

    def init_state(self, summary: torch.Tensor) -> DecoderState:
        """summary (batch, memory_dim) -> initial state, the same for every layer."""
        h0 = torch.tanh(self.bridge(summary))  # (batch, hidden)
        h0 = h0.unsqueeze(0).repeat(self.layers, 1, 1).contiguous()  # (layers, batch, hidden)
        hidden = (h0, torch.zeros_like(h0)) if self.is_lstm else h0
        feed = summary.new_zeros(summary.size(0), self.out_dim) if self.input_feeding else None
        return DecoderState(hidden, feed)

    def forward(
        self, embedded: torch.Tensor, state: DecoderState, memory: Memory,
    ) -> tuple[torch.Tensor, DecoderState, torch.Tensor]:
        """embedded (batch, tgt_len, emb) -> attentional vectors (batch, tgt_len, out_dim),
        the state after the last position, attention weights (batch, tgt_len, src_len)."""
        embedded = self.dropout(embedded)
        if not self.input_feeding:
            output, hidden = self.rnn(embedded, state.hidden)  # (batch, tgt_len, hidden)
            vectors, weights = self._attend(output, memory)
            return self.dropout(vectors), DecoderState(hidden, None), weights
        hidden, feed = state
        vectors, weights = [], []
        for t in range(embedded.size(1)):
            step_input = torch.cat([embedded[:, t:t + 1], feed.unsqueeze(1)], dim=-1)
            output, hidden = self.rnn(step_input, hidden)  # (batch, 1, hidden)
            vector, weight = self._attend(output, memory)
            feed = vector.squeeze(1)  # (batch, out_dim)
            vectors.append(vector)
            weights.append(weight)
        vectors = self.dropout(torch.cat(vectors, dim=1))
        return vectors, DecoderState(hidden, feed), torch.cat(weights, dim=1)

    def _attend(self, output: torch.Tensor, memory: Memory) -> tuple[torch.Tensor, torch.Tensor]:
        context, weights = self.attention(output, memory.keys, memory.values, memory.mask)
        vector = torch.tanh(self.combine(torch.cat([output, context], dim=-1)))
        return vector, weights  # (batch, tgt_len, out_dim), (batch, tgt_len, src_len)
