"""Contrastive pairs: does the model prefer the correct target over a minimal wrong
variant (e.g. a relative pronoun of the wrong gender)? Measured on test suites, and
taught in training by a pairwise loss on suites built from the training data.

A suite is a TSV file: source <TAB> correct <TAB> contrastive [<TAB> category].
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np
import torch
import torch.nn.functional as F

from seq2seq.batching import Batch, make_batch
from seq2seq.corpus import CorpusError, read_lines
from seq2seq.model import target_log_probs
from seq2seq.tokenizer import Tokenizer
from seq2seq.translate import Translator

FIELDS = ("source", "correct", "contrastive")


@dataclass(frozen=True)
class ContrastRow:
    source: str
    correct: str
    contrastive: str
    category: str
    line: int  # in the suite file, for reports
    path: str  # the suite file, for error messages


def read_suite(path: str | Path) -> list[ContrastRow]:
    """Parse a contrastive TSV; malformed rows stop with file and line."""
    rows = []
    for number, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) not in (3, 4):
            raise CorpusError(f"{path}: line {number}: expected 3 or 4 tab-separated fields "
                              f"(source, correct, contrastive[, category]), got {len(fields)}")
        empty = [name for name, text in zip(FIELDS, fields) if not text.strip()]
        if empty:
            raise CorpusError(f"{path}: line {number}: empty {empty[0]} field")
        category = fields[3] if len(fields) == 4 else "all"
        rows.append(ContrastRow(fields[0], fields[1], fields[2], category, number, str(path)))
    if not rows:
        raise CorpusError(f"{path}: no contrastive rows")
    return rows


def encode_rows(rows: list[ContrastRow], src_tok: Tokenizer, tgt_tok: Tokenizer
                ) -> tuple[list[list[int]], list[list[int]], list[list[int]]]:
    """Piece ids of the rows' sources, correct and contrastive targets. A field of no
    pieces (only characters SentencePiece normalises away, e.g. control or zero-width
    ones) stops with the suite file and line: the comparison would be meaningless."""
    encoded = (src_tok.encode_batch([r.source.strip() for r in rows]),
               tgt_tok.encode_batch([r.correct.strip() for r in rows]),
               tgt_tok.encode_batch([r.contrastive.strip() for r in rows]))
    for row, *ids in zip(rows, *encoded):
        empty = [name for name, pieces in zip(FIELDS, ids) if not pieces]
        if empty:
            raise CorpusError(f"{row.path}: line {row.line}: {empty[0]} field has no pieces "
                              "(only characters the tokenizer removes, e.g. control or "
                              "zero-width ones)")
    return encoded


def contrast_margins(translator: Translator, rows: list[ContrastRow]) -> list[float]:
    """log P(correct) - log P(contrastive) of each row (total log-probabilities, natural
    log): positive when the model prefers the correct target."""
    sources, correct, contrastive = encode_rows(rows, translator.src_tok, translator.tgt_tok)
    scores = translator.score_ids(sources * 2, correct + contrastive)
    return [good.total - bad.total for good, bad in zip(scores[:len(rows)], scores[len(rows):])]


def accuracy_by_category(rows: list[ContrastRow], margins: list[float]) -> dict:
    """Share of rows with a positive margin, per category and overall."""
    wins: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row, margin in zip(rows, margins):
        for key in (row.category, "overall"):
            wins[key][0] += margin > 0
            wins[key][1] += 1
    return {key: {"accuracy": right / total, "correct": right, "rows": total}
            for key, (right, total) in sorted(wins.items())}


def write_row_report(out: TextIO, rows: list[ContrastRow], margins: list[float]) -> None:
    """TSV, one line per row: suite line, category, margin, 1 if right else 0, and the
    words that differ ('correct>contrastive', e.g. 'která>který')."""
    out.write("line\tcategory\tmargin\tright\tswap\n")
    for row, margin in zip(rows, margins):
        swap = " ".join(f"{good}>{bad}" for good, bad in swap_kind(row))
        out.write(f"{row.line}\t{row.category}\t{margin:.4f}\t{int(margin > 0)}\t{swap}\n")


@dataclass(frozen=True)
class EncodedSuite:
    """Suite rows as piece ids, for the training loss, with each row's chance of being
    drawn: uniform over categories, then over the kinds of swap in a category (e.g.
    das -> die), then over rows. So rare categories are not drowned, and with reciprocal
    swaps (das -> die and die -> das) no word is more often the wrong one than the right
    one: otherwise the loss can be lowered by disliking that word everywhere."""

    sources: list[list[int]]
    correct: list[list[int]]
    contrastive: list[list[int]]
    draw_probability: np.ndarray  # (rows,) sums to 1

    @classmethod
    def from_rows(cls, rows: list[ContrastRow], src_tok: Tokenizer, tgt_tok: Tokenizer
                  ) -> EncodedSuite:
        kinds = [(r.category, swap_kind(r)) for r in rows]
        rows_of_kind = Counter(kinds)
        kinds_of_category = Counter(category for category, _ in rows_of_kind)
        weights = np.array([1.0 / (rows_of_kind[kind] * kinds_of_category[kind[0]])
                            for kind in kinds])  # each category's weights sum to 1
        return cls(*encode_rows(rows, src_tok, tgt_tok), weights / weights.sum())

    def __len__(self) -> int:
        return len(self.sources)

    def sample(self, rows: int, seed: tuple[int, ...]) -> Batch:
        """`rows` random rows (a pure function of `seed`) as one batch of 2 * rows pairs:
        each source with its correct target, then each source with its contrastive one."""
        picked = np.random.default_rng(seed).choice(
            len(self), min(rows, len(self)), replace=False, p=self.draw_probability)
        sources = [self.sources[i] for i in picked]
        return make_batch(sources * 2, [self.correct[i] for i in picked]
                          + [self.contrastive[i] for i in picked])


def swap_kind(row: ContrastRow) -> tuple[tuple[str, str], ...]:
    """The (correct, contrastive) pairs of lower-cased words where the two targets differ."""
    good, bad = row.correct.lower().split(), row.contrastive.lower().split()
    if len(good) != len(bad):
        return ((row.correct.lower(), row.contrastive.lower()),)
    return tuple((g, b) for g, b in zip(good, bad) if g != b)


def contrastive_loss(model: torch.nn.Module, batch: Batch) -> torch.Tensor:
    """Pairwise logistic loss -log sigmoid(log P(correct) - log P(contrastive)) of each
    row (rows,) of a batch from `EncodedSuite.sample`: log 2 when the model cannot tell
    them apart, near 0 once the correct target is clearly ahead."""
    totals = target_log_probs(model, batch).sum(dim=1)  # (2 * rows,)
    correct, contrastive = totals.chunk(2)
    return F.softplus(contrastive - correct)
