"""SentencePiece subword models: training on the corpus, loading from bytes.

Ids are fixed for every model the toolkit trains: pad=0, unk=1, bos=2, eos=3.
A `Tokenizer` is built from the serialized model bytes, which is what a
checkpoint stores, so a checkpoint alone can translate.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator

import sentencepiece as spm

from seq2seq.config import TokenizerConfig

PAD, UNK, BOS, EOS = 0, 1, 2, 3


class Tokenizer:
    """Text <-> subword ids with one SentencePiece model."""

    def __init__(self, model_bytes: bytes) -> None:
        self.model_bytes = model_bytes
        self._sp = spm.SentencePieceProcessor(model_proto=model_bytes)

    def __len__(self) -> int:
        return self._sp.get_piece_size()

    def encode(self, text: str) -> list[int]:
        return self._sp.encode(text, out_type=int)

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return self._sp.encode(texts, out_type=int)

    def sample_encode(self, text: str, alpha: float = 0.1) -> list[int]:
        """Subword regularisation: one segmentation sampled from the model."""
        return self._sp.encode(text, out_type=int, enable_sampling=True, alpha=alpha,
                               nbest_size=-1)

    def decode(self, ids: Iterable[int]) -> str:
        return self._sp.decode([i for i in ids if i > EOS])

    def pieces(self, ids: Iterable[int]) -> list[str]:
        return [self._sp.id_to_piece(int(i)) for i in ids]


def train_tokenizer(sentences: Iterable[str], config: TokenizerConfig) -> Tokenizer:
    """Train a SentencePiece model on `sentences` in memory and return it."""
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=_non_empty(sentences),
        model_writer=model,
        model_type=config.type,
        vocab_size=config.vocab_size,
        character_coverage=config.character_coverage,
        input_sentence_size=config.max_training_sentences,
        shuffle_input_sentence=True,
        hard_vocab_limit=False,  # small corpora get a smaller vocabulary, not an error
        pad_id=PAD, unk_id=UNK, bos_id=BOS, eos_id=EOS,
        num_threads=2,
        minloglevel=2,
    )
    return Tokenizer(model.getvalue())


def _non_empty(sentences: Iterable[str]) -> Iterator[str]:
    return (s for s in sentences if s.strip())
