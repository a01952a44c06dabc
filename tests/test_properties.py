"""Property-based tests (hypothesis) of the tokenizer, the batcher and beam search."""

from __future__ import annotations

import string
import unicodedata

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from seq2seq.batching import epoch_batches, pad_sequences
from seq2seq.config import ModelConfig, TokenizerConfig
from seq2seq.model import Seq2Seq
from seq2seq.search import length_penalty, max_lengths, search
from seq2seq.tokenizer import EOS, Tokenizer, train_tokenizer

SETTINGS = settings(max_examples=60, deadline=None)

# --- SentencePiece ----------------------------------------------------------------------

ALPHABET = string.ascii_letters + string.digits + ".,!?'-éüßж"
# NFKC maps each of these onto the alphabet or onto a space.
NFKC_VARIANTS = ["ﬁ", "Ａ", "e\u0301", "u\u0308", "²"]
SPACES = [" ", "  ", "\t", "\u3000", "\u00a0"]


@pytest.fixture(scope="module", params=["char", "bpe"])
def tokenizer(request) -> Tokenizer:
    sentences = [ALPHABET, "the quick brown fox jumps over the lazy dog", "fine words"] * 5
    return train_tokenizer(sentences, TokenizerConfig(type=request.param, vocab_size=120))


def known_characters(tokenizer: Tokenizer) -> set[str]:
    pieces = tokenizer.pieces(range(EOS + 1, len(tokenizer)))
    return {c for piece in pieces for c in piece} - {"▁"}


@SETTINGS
@given(st.lists(st.sampled_from(list(ALPHABET) + NFKC_VARIANTS + SPACES), max_size=40))
def test_sentencepiece_round_trip_is_nfkc_with_collapsed_whitespace(tokenizer, parts):
    """Over characters the model knows, decode(encode(t)) is exactly NFKC(t) with runs of
    whitespace collapsed to one space and leading/trailing whitespace removed."""
    text = "".join(parts)
    expected = " ".join(unicodedata.normalize("NFKC", text).split())
    assert tokenizer.decode(tokenizer.encode(text)) == expected


@SETTINGS
@given(st.text(max_size=60))
def test_sentencepiece_on_arbitrary_text_is_normalised_and_idempotent(tokenizer, text):
    """Any text (controls, surrogates excluded by hypothesis' text(), unknown scripts)
    encodes without error; the decoded text uses only known characters and single spaces
    (unknown characters are dropped), and a second round trip changes nothing."""
    once = tokenizer.decode(tokenizer.encode(text))
    assert set(once) <= known_characters(tokenizer) | {" "}
    assert once == once.strip() and "  " not in once
    assert tokenizer.decode(tokenizer.encode(once)) == once


# --- batching ---------------------------------------------------------------------------

lengths = st.lists(st.tuples(st.integers(1, 80), st.integers(1, 80)), max_size=200)


@SETTINGS
@given(lengths, st.integers(1, 400), st.integers(0, 2**31), st.integers(0, 50))
def test_epoch_batches_cover_each_pair_once_within_budget(pairs, budget, seed, epoch):
    src = np.array([s for s, _ in pairs], dtype=np.int64)
    tgt = np.array([t for _, t in pairs], dtype=np.int64)
    batches = epoch_batches(src, tgt, budget, seed, epoch)
    flat = np.concatenate(batches) if batches else np.zeros(0, dtype=np.int64)
    assert sorted(flat.tolist()) == list(range(len(pairs)))
    for batch in batches:
        padded_targets = len(batch) * int((tgt[batch] + 1).max())  # + EOS
        assert padded_targets <= budget or len(batch) == 1
    again = epoch_batches(src, tgt, budget, seed, epoch)
    assert [b.tolist() for b in again] == [b.tolist() for b in batches]


# --- beam search ------------------------------------------------------------------------

VOCAB = 24


@pytest.fixture(scope="module", ids=["gru-bahdanau", "lstm-luong-feeding-context-readout-target"],
                params=[("gru", "bahdanau", False), ("lstm", "luong_general", True)])
def model(request) -> Seq2Seq:
    rnn, attention, input_feeding = request.param
    torch.manual_seed(0)
    config = ModelConfig(rnn=rnn, emb_dim=8, enc_hidden=8, dec_hidden=16, attention=attention,
                         attention_dim=8, input_feeding=input_feeding, dropout=0.0,
                         dec_layers=2, context_rnn=input_feeding,
                         readout_embedding=input_feeding, target_attention=input_feeding)
    return Seq2Seq(config, VOCAB, VOCAB).eval()


sources = st.lists(st.lists(st.integers(EOS + 1, VOCAB - 1), min_size=1, max_size=8),
                   min_size=1, max_size=4)


@SETTINGS
@given(sources, st.integers(1, 4), st.integers(1, 4), st.floats(0.0, 1.5),
       st.floats(0.1, 2.0), st.integers(0, 3))
def test_beam_nbest_sorted_and_within_max_length(model, srcs, beam, nbest, alpha, ratio, extra):
    nbest = min(nbest, beam)
    src, src_len = pad_sequences(srcs)
    results = search(model, src, src_len, "beam", beam_size=beam, alpha=alpha, nbest=nbest,
                     max_len_ratio=ratio, max_len_extra=extra)
    limits = max_lengths(src_len, ratio, extra).tolist()
    assert len(results) == len(srcs)
    for hyps, limit in zip(results, limits):
        assert 1 <= len(hyps) <= nbest
        scores = [h.normalized_score for h in hyps]
        assert scores == sorted(scores, reverse=True)
        for h in hyps:
            assert len(h.tokens) <= limit and EOS not in h.tokens
            assert h.normalized_score == pytest.approx(
                h.score / length_penalty(len(h.tokens) + 1, alpha))


@SETTINGS
@given(sources, st.floats(0.0, 1.5), st.floats(0.1, 2.0), st.integers(0, 3))
def test_beam_of_one_is_greedy(model, srcs, alpha, ratio, extra):
    src, src_len = pad_sequences(srcs)
    limits = {"max_len_ratio": ratio, "max_len_extra": extra}
    beam = search(model, src, src_len, "beam", beam_size=1, alpha=alpha, **limits)
    greedy = search(model, src, src_len, "greedy", **limits)
    for (b,), (g,) in zip(beam, greedy):
        assert b.tokens == g.tokens
        assert b.score == pytest.approx(g.score, abs=1e-4)


# --- the k largest of a row (search's vocabulary-wide top-k) ------------------------------

@SETTINGS
@given(rows=st.integers(1, 5), n=st.integers(1, 3000), k=st.integers(1, 12),
       distinct=st.integers(2, 10_000), seed=st.integers(0, 2**31))
def test_largest_matches_torch_topk(rows, n, k, distinct, seed):
    from seq2seq.search import largest

    k = min(k, n)
    generator = torch.Generator().manual_seed(seed)
    shuffled = torch.randint(distinct, (rows, n), generator=generator).float()  # ties if few
    for x in (shuffled, shuffled.sort(dim=1).values):  # sorted: the largest come last
        values, columns = largest(x, k)
        assert values.shape == columns.shape == (rows, k)
        expected = x.topk(k, dim=1).values.sort(dim=1).values
        assert torch.equal(values.sort(dim=1).values, expected)
        assert torch.equal(x.gather(1, columns), values)
        assert all(len(set(row)) == k for row in columns.tolist())  # no column twice
