"""Corpus-level BLEU and chrF with sacreBLEU, signatures included.

`evaluate` reports cased BLEU (the headline, detokenised, sacreBLEU's default
13a tokenisation), lowercased BLEU beside it, and chrF. `paper_bleu` reproduces
the score Multi30k papers report: lowercase, punctuation normalisation and Moses
tokenisation of both sides, then BLEU without further tokenisation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sacrebleu.metrics import BLEU, CHRF


@dataclass
class MetricScore:
    name: str
    score: float
    signature: str
    detail: str

    def as_dict(self) -> dict:
        return asdict(self)


def _check_lengths(hypotheses: list[str], references: list[str]) -> None:
    if len(hypotheses) != len(references):
        raise ValueError(
            f"{len(hypotheses)} hypotheses but {len(references)} references; they must align"
        )


def _run(metric: BLEU | CHRF, name: str, hypotheses: list[str], references: list[str]
         ) -> MetricScore:
    result = metric.corpus_score(hypotheses, [references])
    return MetricScore(name, round(result.score, 2), str(metric.get_signature()), str(result))


def evaluate(hypotheses: list[str], references: list[str]) -> list[MetricScore]:
    """Cased BLEU, lowercased BLEU and chrF of detokenised text."""
    _check_lengths(hypotheses, references)
    return [
        _run(BLEU(), "BLEU", hypotheses, references),
        _run(BLEU(lowercase=True), "BLEU_lc", hypotheses, references),
        _run(CHRF(), "chrF", hypotheses, references),
    ]


def bleu(hypotheses: list[str], references: list[str]) -> float:
    """Cased sacreBLEU score only (dev-set model selection)."""
    _check_lengths(hypotheses, references)
    return BLEU().corpus_score(hypotheses, [references]).score


def paper_bleu(hypotheses: list[str], references: list[str], lang: str) -> MetricScore:
    """Multi30k-paper BLEU: lowercased, punctuation-normalised, Moses-tokenised."""
    from sacremoses import MosesPunctNormalizer, MosesTokenizer

    normalizer, tokenizer = MosesPunctNormalizer(lang=lang), MosesTokenizer(lang=lang)

    def prepare(lines: list[str]) -> list[str]:
        return [tokenizer.tokenize(normalizer.normalize(line.lower()), return_str=True,
                                   escape=False) for line in lines]

    _check_lengths(hypotheses, references)
    metric = BLEU(tokenize="none", force=True)  # the text is tokenised on purpose
    score = _run(metric, "BLEU_paper", prepare(hypotheses), prepare(references))
    score.signature += f"|moses-tok:{lang}|lc|punct-norm"
    return score
