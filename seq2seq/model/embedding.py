"""Subword embeddings that can also see how each piece ends.

With `piece_endings: N` the vector of a piece is its own row plus the mean of one vector
per ending of the piece, its last 1..N characters ("▁dívka" -> "a", "ka", "vka"). Pieces
that end alike share those vectors, so what an ending says about a word (a Czech noun's
gender and case, a German plural) is learnt from frequent words and carries over to rare
ones. Only endings that at least two pieces share get a vector: an ending of one piece
alone would duplicate that piece's own row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import torch
from torch import nn

from seq2seq.tokenizer import PAD


class PieceEmbedding(nn.Embedding):
    """nn.Embedding over subword ids, plus shared ending vectors when `ending_chars` > 0.

    The ending vectors start at zero, so a new model embeds as a plain one does. Without
    `pieces` the ending table is sized for the worst case (every ending of every piece
    distinct): such a model counts parameters but cannot embed."""

    def __init__(self, vocab: int, dim: int, ending_chars: int = 0,
                 pieces: Sequence[str] | None = None) -> None:
        super().__init__(vocab, dim, padding_idx=PAD)
        self.endings: nn.EmbeddingBag | None = None
        ids = offsets = None
        rows = vocab * ending_chars
        if ending_chars and pieces is not None:
            if len(pieces) != vocab:
                raise ValueError(f"{len(pieces)} pieces for a vocabulary of {vocab}")
            ids, offsets, rows = ending_table(pieces, ending_chars)
        self.register_buffer("ending_ids", ids, persistent=False)  # (endings of all pieces,)
        self.register_buffer("ending_offsets", offsets, persistent=False)  # (vocab,)
        if ending_chars:
            self.endings = nn.EmbeddingBag(max(rows, 1), dim, mode="mean")

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        """ids (batch, len) -> (batch, len, dim)."""
        embedded = super().forward(ids)
        if self.endings is None:
            return embedded
        if self.ending_ids is None:
            raise ValueError("this embedding was built without its pieces: it can count "
                             "parameters but not embed")
        per_piece = self.endings(self.ending_ids, self.ending_offsets)  # (vocab, dim)
        return embedded + per_piece[ids]


def ending_table(pieces: Sequence[str], ending_chars: int,
                 ) -> tuple[torch.Tensor, torch.Tensor, int]:
    """The shared endings of each piece as EmbeddingBag input: flat ending ids, the offset
    of each piece's first id (vocab,), and the number of distinct shared endings.
    Special pieces (<pad>, <unk>, <s>, </s>) and endings of one piece alone get none."""
    endings_of = [_endings(piece, ending_chars) for piece in pieces]
    counts = Counter(ending for endings in endings_of for ending in endings)
    shared = sorted(ending for ending, count in counts.items() if count > 1)
    row = {ending: i for i, ending in enumerate(shared)}
    ids, offsets = [], []
    for endings in endings_of:
        offsets.append(len(ids))
        ids.extend(row[ending] for ending in endings if ending in row)
    return torch.tensor(ids, dtype=torch.long), torch.tensor(offsets, dtype=torch.long), len(shared)


def _endings(piece: str, ending_chars: int) -> list[str]:
    if piece.startswith("<") and piece.endswith(">"):  # SentencePiece's control pieces
        return []
    return [piece[-n:] for n in range(1, min(ending_chars, len(piece)) + 1)]
