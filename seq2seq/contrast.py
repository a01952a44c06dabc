"""Contrastive evaluation: does the model prefer the correct target over a minimal
wrong variant (e.g. a relative pronoun of the wrong gender)?

A suite is a TSV file: source <TAB> correct <TAB> contrastive [<TAB> category].
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from seq2seq.corpus import CorpusError, read_lines
from seq2seq.translate import Translator


@dataclass(frozen=True)
class ContrastRow:
    source: str
    correct: str
    contrastive: str
    category: str


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
        category = fields[3] if len(fields) == 4 else "all"
        rows.append(ContrastRow(fields[0], fields[1], fields[2], category))
    if not rows:
        raise CorpusError(f"{path}: no contrastive rows")
    return rows


def contrast_accuracy(translator: Translator, rows: list[ContrastRow]) -> dict:
    """Share of rows whose correct target scores higher (total log-probability)."""
    sources = [r.source for r in rows] * 2
    targets = [r.correct for r in rows] + [r.contrastive for r in rows]
    scores = translator.score(sources, targets)
    wins: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row, good, bad in zip(rows, scores[:len(rows)], scores[len(rows):]):
        for key in (row.category, "overall"):
            wins[key][0] += good.total > bad.total
            wins[key][1] += 1
    return {key: {"accuracy": right / total, "correct": right, "rows": total}
            for key, (right, total) in sorted(wins.items())}
