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

With `target_attention` each position also attends (scaled dot product, causal) over the
decoder's own outputs so far, itself included, and the readout reads that target context
too, so a word can look straight back at the noun it must agree with. Teacher forcing does
it for all positions in one masked matmul; search carries the keys and values in the state.
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
    history: TargetHistory | None = None  # target attention only: the outputs so far

    def select(self, rows: torch.Tensor) -> DecoderState:
        """Reorder/select batch rows (beam search): dim 1 of the RNN states, dim 0 of the rest."""
        feed = None if self.feed is None else self.feed.index_select(0, rows)
        history = None if self.history is None else self.history.select(rows)
        return DecoderState(
            _select_rnn_state(self.hidden, rows), feed,
            _select_rnn_state(self.context_hidden, rows), history,
        )


class TargetHistory(NamedTuple):
    """Keys and values of the decoder outputs written so far, for target attention."""

    keys: torch.Tensor  # (batch, written, hidden)
    values: torch.Tensor  # (batch, written, hidden)

    def select(self, rows: torch.Tensor) -> TargetHistory:
        return TargetHistory(self.keys.index_select(0, rows), self.values.index_select(0, rows))


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
        target_attention: bool = False,
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
        self.target_key = nn.Linear(hidden, hidden, bias=False) if target_attention else None
        readout_dim = (hidden + memory_dim + (emb_dim if readout_embedding else 0)
                       + (hidden if target_attention else 0))
        self.combine = nn.Linear(readout_dim, out_dim)
        self.dropout = nn.Dropout(dropout)

    def init_state(self, summary: torch.Tensor) -> DecoderState:
        """summary (batch, memory_dim) -> initial state, the same for every layer."""
        h0 = torch.tanh(self.bridge(summary)).unsqueeze(0)  # (1, batch, hidden)
        hidden = self._rnn_state(h0.repeat(self.layers, 1, 1).contiguous())
        feed = summary.new_zeros(summary.size(0), self.out_dim) if self.input_feeding else None
        context_hidden = None if self.context_rnn is None else self._rnn_state(h0)
        history = None
        if self.target_key is not None:
            empty = h0.new_zeros(summary.size(0), 0, h0.size(-1))  # (batch, 0, hidden)
            history = TargetHistory(empty, empty)
        return DecoderState(hidden, feed, context_hidden, history)

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
            vectors, weights, state = self._attend(
                output, embedded, memory, state._replace(hidden=hidden),
            )
            return self.dropout(vectors), state, weights
        vectors, weights = [], []
        for t in range(embedded.size(1)):
            step_input = torch.cat([embedded[:, t:t + 1], state.feed.unsqueeze(1)], dim=-1)
            output, hidden = self.rnn(step_input, state.hidden)  # (batch, 1, hidden)
            vector, weight, state = self._attend(
                output, embedded[:, t:t + 1], memory, state._replace(hidden=hidden),
            )
            state = state._replace(feed=vector.squeeze(1))  # (batch, out_dim)
            vectors.append(vector)
            weights.append(weight)
        return self.dropout(torch.cat(vectors, dim=1)), state, torch.cat(weights, dim=1)

    def _attend(
        self, output: torch.Tensor, embedded: torch.Tensor, memory: Memory, state: DecoderState,
    ) -> tuple[torch.Tensor, torch.Tensor, DecoderState]:
        """output (batch, len, hidden), embedded (batch, len, emb) -> attentional vectors
        (batch, len, out_dim), weights (batch, len, src_len), and `state` with the context
        RNN's state and the target history moved past these positions."""
        context, weights = self.attention(output, memory.keys, memory.values, memory.mask)
        context_hidden, history = state.context_hidden, state.history
        if self.context_rnn is not None:  # (batch, len, hidden) over [output; context]
            output, context_hidden = self.context_rnn(
                torch.cat([output, context], dim=-1), context_hidden,
            )
        readout = [output, context, embedded] if self.readout_embedding else [output, context]
        if history is not None:
            target_context, history = self._attend_to_history(output, history)
            readout.append(target_context)
        vector = torch.tanh(self.combine(torch.cat(readout, dim=-1)))
        return vector, weights, state._replace(context_hidden=context_hidden, history=history)

    def _attend_to_history(
        self, output: torch.Tensor, history: TargetHistory,
    ) -> tuple[torch.Tensor, TargetHistory]:
        """output (batch, len, hidden) at the positions after `history` -> target context
        (batch, len, hidden), each position a softmax-weighted sum of the outputs up to and
        including its own, and the history with these positions appended."""
        keys = torch.cat([history.keys, self.target_key(output)], dim=1)  # (b, seen, hidden)
        values = torch.cat([history.values, output], dim=1)  # (batch, seen, hidden)
        scores = torch.bmm(output, keys.transpose(1, 2)) / output.size(-1) ** 0.5
        written, length = history.keys.size(1), output.size(1)
        ahead = torch.ones(length, written + length, dtype=torch.bool, device=output.device)
        ahead = ahead.triu(written + 1)  # (len, seen): True on positions after the query's
        weights = torch.softmax(scores.masked_fill(ahead, float("-inf")), dim=-1)
        return torch.bmm(weights, values), TargetHistory(keys, values)
