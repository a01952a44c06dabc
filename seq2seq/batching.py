"""Token-budget, length-bucketed, seeded batches and their collation into tensors.

An epoch's batches are a pure function of (lengths, budget, seed, epoch), so a
resumed run can rebuild the same epoch and skip the batches it already trained on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from seq2seq.corpus import EncodedCorpus
from seq2seq.tokenizer import BOS, EOS, PAD


@dataclass
class Batch:
    """Padded tensors of one batch; `tgt_in` starts with BOS, `tgt_out` ends with EOS."""

    src: torch.Tensor  # (batch, src_len) long
    src_len: torch.Tensor  # (batch,) long
    tgt_in: torch.Tensor  # (batch, tgt_len) long
    tgt_out: torch.Tensor  # (batch, tgt_len) long, PAD where there is no token

    def to(self, device: torch.device) -> Batch:
        return Batch(*(t.to(device) for t in (self.src, self.src_len, self.tgt_in,
                                              self.tgt_out)))

    @property
    def target_tokens(self) -> int:
        """Non-padding target tokens, end-of-sentence included."""
        return int((self.tgt_out != PAD).sum())


def epoch_batches(
    src_lengths: np.ndarray, tgt_lengths: np.ndarray, max_tokens: int,
    seed: int, epoch: int, shuffle: bool = True,
) -> list[np.ndarray]:
    """Group pair indices into batches of at most `max_tokens` padded target tokens.

    Pairs are sorted by target then source length (random tie order) so each
    batch holds similar lengths; the batch order is then shuffled. A single pair
    longer than the budget still gets a batch of its own.
    """
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(tgt_lengths)) if shuffle else np.arange(len(tgt_lengths))
    key = tgt_lengths.astype(np.int64) * (int(src_lengths.max(initial=0)) + 1) + src_lengths
    if key.max(initial=0) < 2**16:  # numpy's stable sort is a radix sort on 16-bit keys
        key = key.astype(np.uint16)  # (3.4x faster at 10M pairs)
    order = order[np.argsort(key[order], kind="stable")]
    costs = tgt_lengths[order] + 1  # + EOS, non-decreasing along `order`
    batches, start = [], 0
    while start < len(order):
        start_cost = max(int(costs[start]), 1)
        window = costs[start:start + max(max_tokens // start_cost, 1)]
        # a batch of k pairs costs k * (its longest target); costs rise, so keep the
        # k whose cost still fits (at least one pair, even an oversized one)
        fits = np.arange(1, len(window) + 1) * window <= max_tokens
        size = max(int(np.argmin(fits)) if not fits.all() else len(window), 1)
        batches.append(order[start:start + size])
        start += size
    if shuffle:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def collate(corpus: EncodedCorpus, indices: Sequence[int]) -> Batch:
    """Pad the pairs `indices` of `corpus` into a `Batch`."""
    return make_batch([corpus.src(i) for i in indices], [corpus.tgt(i) for i in indices])


def make_batch(sources: Sequence[Sequence[int]], targets: Sequence[Sequence[int]]) -> Batch:
    """Pad source and target id sequences (without BOS/EOS) into a `Batch`."""
    src, src_len = pad_sequences(sources)
    tgt_in, _ = pad_sequences(targets, prefix=BOS)
    tgt_out, _ = pad_sequences(targets, suffix=EOS)
    return Batch(src, src_len, tgt_in, tgt_out)


def pad_sequences(
    sequences: Sequence[Sequence[int]], prefix: int | None = None, suffix: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad id sequences with PAD -> (batch, max_len) long tensor and lengths."""
    extra = (prefix is not None) + (suffix is not None)
    lengths = torch.tensor([len(s) + extra for s in sequences], dtype=torch.long)
    out = torch.full((len(sequences), max(int(lengths.max()), 1)), PAD, dtype=torch.long)
    for row, seq in enumerate(sequences):
        ids = ([prefix] if prefix is not None else []) + [int(t) for t in seq]
        ids += [suffix] if suffix is not None else []
        out[row, :len(ids)] = torch.tensor(ids, dtype=torch.long)
    return out, lengths
