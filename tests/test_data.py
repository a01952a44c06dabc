"""Tokenizers of every type, separate or joint, and the encoded corpus cache."""

from __future__ import annotations

import pytest
from conftest import make_config

from seq2seq.config import ConfigError
from seq2seq.prepare import prepare
from seq2seq.tokenizer import BOS, EOS, PAD, UNK

QUIET = {"log": lambda message: None}


@pytest.mark.parametrize("kind", ["bpe", "unigram", "char"])
def test_each_tokenizer_type_trains_and_round_trips(corpus, tmp_path, kind):
    config = make_config(corpus, tmp_path, tokenizer={"type": kind, "vocab_size": 50})
    data = prepare(config, **QUIET)
    text = "red cat big sun"
    ids = data.src_tok.encode(text)
    assert min(ids) > EOS and data.src_tok.decode(ids) == text
    assert data.src_tok.pieces([PAD, UNK, BOS, EOS]) == ["<pad>", "<unk>", "<s>", "</s>"]
    if kind == "char":
        assert len(ids) == len(text.replace(" ", "")) + text.count(" ") + 1  # '▁' pieces


def test_separate_tokenizers_see_one_side_and_joint_ones_both(tmp_path):
    lines = ["red cat", "big sun", "old tree", "blue moon"] * 50
    (tmp_path / "c.src").write_text("\n".join(lines) + "\n")
    (tmp_path / "c.tgt").write_text("\n".join(line.upper() for line in lines) + "\n")
    corpus = {"train": str(tmp_path / "c"), "dev": str(tmp_path / "c")}
    separate = prepare(make_config(corpus, tmp_path / "s", tokenizer={"joint": False}), **QUIET)
    assert UNK in separate.src_tok.encode("RED") and UNK not in separate.tgt_tok.encode("RED")
    assert UNK in separate.tgt_tok.encode("red")
    joint = prepare(make_config(corpus, tmp_path / "j"), **QUIET)
    assert joint.src_tok.model_bytes == joint.tgt_tok.model_bytes
    assert UNK not in joint.src_tok.encode("red RED")


def test_second_prepare_reuses_tokenizers_and_encoded_cache(corpus, tmp_path):
    config = make_config(corpus, tmp_path)
    first = prepare(config, **QUIET)
    cache = tmp_path / "cache" / "train"
    stamps = {p.name: p.stat().st_mtime_ns for p in cache.iterdir()}
    second = prepare(config, **QUIET)
    assert {p.name: p.stat().st_mtime_ns for p in cache.iterdir()} == stamps
    assert second.src_tok.model_bytes == first.src_tok.model_bytes
    assert len(second.train) == len(first.train) == 2000
    assert list(second.train.tgt(5)) == list(first.train.tgt(5))


def test_out_dir_refuses_tokenizers_made_with_other_settings(corpus, tmp_path):
    first = prepare(make_config(corpus, tmp_path, tokenizer={"vocab_size": 60}), **QUIET)
    kept = {p.name: p.read_bytes() for p in tmp_path.glob("tokenizer.*")}
    assert set(kept) == {"tokenizer.src.model", "tokenizer.tgt.model", "tokenizer.json"}
    resampled = make_config(corpus, tmp_path, tokenizer={"vocab_size": 60, "sampling": 0.1})
    assert prepare(resampled, **QUIET).src_tok.model_bytes == first.src_tok.model_bytes
    for key, value in [("vocab_size", 40), ("joint", False), ("type", "unigram")]:
        changed = make_config(corpus, tmp_path, tokenizer={"vocab_size": 60, key: value})
        with pytest.raises(ConfigError) as error:
            prepare(changed, **QUIET)
        message = str(error.value)
        assert message.startswith(f"{tmp_path / 'tokenizer.json'}: ") and "\n" not in message
        assert f"{key} (" in message and f"-> {value!r})" in message
    assert {p.name: p.read_bytes() for p in tmp_path.glob("tokenizer.*")} == kept


def test_length_filters_drop_and_count(corpus, tmp_path):
    config = make_config(corpus, tmp_path, data={"max_len": 6, "max_ratio": 1.5})
    data = prepare(config, **QUIET)
    stats = data.train.stats
    assert stats.read == 2000 and stats.kept == len(data.train) < 2000
    assert stats.kept + sum(stats.dropped.values()) == stats.read
    assert max(data.train.src_lengths.max(), data.train.tgt_lengths.max()) <= 6


def test_sampled_segmentations_are_seeded_per_epoch_and_decode_to_the_text(
        corpus, tmp_path, monkeypatch):
    import numpy as np

    from seq2seq import corpus as corpus_module
    from seq2seq.corpus import FilterRule, Sampling, corpus_path, read_parallel, sample_corpus

    data = prepare(make_config(corpus, tmp_path), **QUIET)
    files = corpus_path(corpus["train"], "src"), corpus_path(corpus["train"], "tgt")

    def sampled(epoch: int, workers: int = 1):
        return sample_corpus(*files, data.src_tok, data.tgt_tok, FilterRule(),
                             Sampling(0.3, seed=7, epoch=epoch), workers=workers)

    monkeypatch.setattr(corpus_module, "CHUNK_LINES", 300)  # several chunks for 2 workers
    first, again, two_workers, next_epoch = sampled(0), sampled(0), sampled(0, 2), sampled(1)
    for other in (again, two_workers):
        assert np.array_equal(first.src_tokens, other.src_tokens)
        assert np.array_equal(first.tgt_offsets, other.tgt_offsets)
    assert not np.array_equal(first.src_tokens, next_epoch.src_tokens)
    assert first.src_lengths.sum() > data.train.src_lengths.sum()  # pieces were split
    texts = list(read_parallel(*files))
    assert len(first) == len(texts) == 2000
    for i in (0, 1, 999, 1999):
        assert data.src_tok.decode(first.src(i)) == texts[i][0]
        assert data.tgt_tok.decode(first.tgt(i)) == texts[i][1]
