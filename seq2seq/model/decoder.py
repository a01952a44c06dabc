"""Attentional RNN decoder, fused or with input feeding.

Without input feeding the RNN runs over all target positions in one call and
attention follows for all steps in one batched matmul (fast on CPU). With input
feeding the previous attentional vector is part of each step's input, so the
steps run one by one. Search calls the same `forward` with one position at a time.

With `context_rnn` a second one-layer RNN reads [first RNN output; context] after
attention, so each output also depends on the contexts of earlier steps (as in a
conditional GRU), while both RNNs still run over all positions in one call each.

With `readout_embedding` the readout layer also reads the previous target embedding
(a "deep output"): [RNN output; context; embedding] -> attentional vector.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from seq2seq.model.attention import build_attention
from seq2seq.model.encoder import Memory, rnn_class

RNNState = torch.Tensor | tuple[torch.Tensor, torch.Tensor]  # (layers, batch, hidden) [h, c]


class DecoderState(NamedTuple):
    """Recurrent state carried between decoding steps."""

    hidden: RNNState
    feed: torch.Tensor | None  # (batch, out_dim): last attentional vector, input feeding only
    context_hidden: RNNState | None = None  # (1, batch, hidden): the context RNN's state

    def select(self, rows: torch.Tensor) -> DecoderState:
        """Reorder/select batch rows (beam search): dim 1 of the RNN states, dim 0 of feed."""
        feed = None if self.feed is None else self.feed.index_select(0, rows)
        return DecoderState(
            _select_rnn_state(self.hidden, rows), feed,
            _select_rnn_state(self.context_hidden, rows),
        )


def _select_rnn_state(state: RNNState | None, rows: torch.Tensor) -> RNNState | None:
    if isinstance(state, tuple):
        return tuple(h.index_select(1, rows) for h in state)
    return None if state is None else state.index_select(1, rows)


class Decoder(nn.Module):
    """Target embeddings + decoder state + memory -> attentional vectors."""

    def __init__(
        self, rnn: str, emb_dim: int, memory_dim: int, hidden: int, layers: int,
        attention: str, attention_dim: int, input_feeding: bool, out_dim: int, dropout: float,
        context_rnn: bool = False, readout_embedding: bool = False,
    ) -> None:
        super().__init__()
        self.layers, self.out_dim, self.input_feeding = layers, out_dim, input_feeding
        self.is_lstm, self.readout_embedding = rnn == "lstm", readout_embedding
        input_dim = emb_dim + (out_dim if input_feeding else 0)
        self.rnn = rnn_class(rnn)(
            input_dim, hidden, num_layers=layers, batch_first=True,
            dropout=dropout if layers > 1 else 0.0,
        )
        self.context_rnn = (
            rnn_class(rnn)(hidden + memory_dim, hidden, batch_first=True) if context_rnn else None
        )
        self.bridge = nn.Linear(memory_dim, hidden)
        self.attention = build_attention(attention, hidden, memory_dim, attention_dim)
        readout_dim = hidden + memory_dim + (emb_dim if readout_embedding else 0)
        self.combine = nn.Linear(readout_dim, out_dim)
        self.dropout = nn.Dropout(dropout)

    def init_state(self, summary: torch.Tensor) -> DecoderState:
        """summary (batch, memory_dim) -> initial state, the same for every layer."""
        h0 = torch.tanh(self.bridge(summary)).unsqueeze(0)  # (1, batch, hidden)
        hidden = self._rnn_state(h0.repeat(self.layers, 1, 1).contiguous())
        feed = summary.new_zeros(summary.size(0), self.out_dim) if self.input_feeding else None
        context_hidden = None if self.context_rnn is None else self._rnn_state(h0)
        return DecoderState(hidden, feed, context_hidden)

    def _rnn_state(self, h: torch.Tensor) -> RNNState:
        return (h, torch.zeros_like(h)) if self.is_lstm else h

    def forward(
        self, embedded: torch.Tensor, state: DecoderState, memory: Memory,
    ) -> tuple[torch.Tensor, DecoderState, torch.Tensor]:
        """embedded (batch, tgt_len, emb) -> attentional vectors (batch, tgt_len, out_dim),
        the state after the last position, attention weights (batch, tgt_len, src_len)."""
        embedded = self.dropout(embedded)
        if not self.input_feeding:
            output, hidden = self.rnn(embedded, state.hidden)  # (batch, tgt_len, hidden)
            vectors, weights, context_hidden = self._attend(
                output, embedded, memory, state.context_hidden,
            )
            return self.dropout(vectors), DecoderState(hidden, None, context_hidden), weights
        hidden, feed, context_hidden = state
        vectors, weights = [], []
        for t in range(embedded.size(1)):
            step_input = torch.cat([embedded[:, t:t + 1], feed.unsqueeze(1)], dim=-1)
            output, hidden = self.rnn(step_input, hidden)  # (batch, 1, hidden)
            vector, weight, context_hidden = self._attend(
                output, embedded[:, t:t + 1], memory, context_hidden,
            )
            feed = vector.squeeze(1)  # (batch, out_dim)
            vectors.append(vector)
            weights.append(weight)
        vectors = self.dropout(torch.cat(vectors, dim=1))
        return vectors, DecoderState(hidden, feed, context_hidden), torch.cat(weights, dim=1)

    def _attend(
        self, output: torch.Tensor, embedded: torch.Tensor, memory: Memory,
        context_hidden: RNNState | None,
    ) -> tuple[torch.Tensor, torch.Tensor, RNNState | None]:
        """output (batch, len, hidden), embedded (batch, len, emb) -> attentional vectors
        (batch, len, out_dim), weights (batch, len, src_len), the context RNN's new state."""
        context, weights = self.attention(output, memory.keys, memory.values, memory.mask)
        if self.context_rnn is not None:  # (batch, len, hidden) over [output; context]
            output, context_hidden = self.context_rnn(
                torch.cat([output, context], dim=-1), context_hidden,
            )
        readout = [output, context, embedded] if self.readout_embedding else [output, context]
        vector = torch.tanh(self.combine(torch.cat(readout, dim=-1)))
        return vector, weights, context_hidden
