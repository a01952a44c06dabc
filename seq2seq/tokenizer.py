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


class TokenizerError(ValueError):
    """SentencePiece cannot be trained on the given sentences (e.g. there are none)."""


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

    def sample_batch(self, texts: list[str], alpha: float) -> list[list[int]]:
        """A random segmentation of each text (BPE-dropout with probability `alpha`, or
        unigram sampling with smoothing `alpha`), drawn from SentencePiece's generator:
        one thread, so `seed_sampling` makes the draws repeatable."""
        return self._sp.encode(texts, out_type=int, enable_sampling=True, alpha=alpha,
                               nbest_size=-1, num_threads=1)

    def decode(self, ids: Iterable[int]) -> str:
        """Text of the ids; special ids and unknowns are dropped, whitespace single."""
        return " ".join(self._sp.decode([i for i in ids if i > EOS]).split())

    def vocabulary(self) -> list[str]:
        """Every piece, in id order."""
        return self.pieces(range(len(self)))

    def pieces(self, ids: Iterable[int]) -> list[str]:
        return [self._sp.id_to_piece(int(i)) for i in ids]


def seed_sampling(seed: int) -> None:
    """Seed SentencePiece's (process-wide) generator used by `Tokenizer.sample_batch`."""
    spm.set_random_generator_seed(seed)


def train_tokenizer(sentences: Iterable[str], config: TokenizerConfig) -> Tokenizer:
    """Train a SentencePiece model on `sentences` in memory and return it."""
    model = io.BytesIO()
    feed = _Feed(sentences)
    try:
        _train_sentencepiece(feed, model, config)
    except RuntimeError:
        feed.check()  # the C++ trainer hides why its input failed: say it
        raise
    feed.check()
    return Tokenizer(model.getvalue())


def _train_sentencepiece(sentences: Iterator[str], model: io.BytesIO,
                         config: TokenizerConfig) -> None:
    spm.SentencePieceTrainer.train(
        sentence_iterator=sentences,
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


class _Feed:
    """The non-empty sentences of an iterable, counted; an exception raised while
    reading them ends the stream and is kept, so it can reach the caller intact."""

    def __init__(self, sentences: Iterable[str]) -> None:
        self._sentences = (s for s in sentences if s.strip())
        self.count = 0
        self.error: Exception | None = None

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        try:
            sentence = next(self._sentences)
        except StopIteration:
            raise
        except Exception as e:  # noqa: BLE001 (re-raised by `check`)
            self.error = e
            raise StopIteration from None
        self.count += 1
        return sentence

    def check(self) -> None:
        """Raise the reader's exception, or `TokenizerError` if there was no sentence."""
        if self.error is not None:
            raise self.error
        if self.count == 0:
            raise TokenizerError("no non-empty lines to train SentencePiece on")
