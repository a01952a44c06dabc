"""Shared fixtures: a generated reversal corpus and a small model trained on it; a tiny
untrained model and batch for gradient checks."""

from __future__ import annotations

import copy
import random
from pathlib import Path

import pytest
import torch

from seq2seq.config import Config, ModelConfig, config_from_dict
from seq2seq.model.seq2seq import Seq2Seq
from seq2seq.tokenizer import BOS, EOS, PAD
from seq2seq.train import train

# Tiny models gain nothing from intra-op threads, and spinning threads starve
# anything else running on a 2-core machine.
torch.set_num_threads(1)

WORDS = ("red green blue cat dog bird tree house river stone sun moon "
         "small big old new fast slow").split()


def tiny_model(**model_options: object) -> Seq2Seq:
    """A small untrained model (seeded) over a 30-piece vocabulary, for gradient checks."""
    torch.manual_seed(0)
    return Seq2Seq(ModelConfig(emb_dim=16, enc_hidden=16, dec_hidden=24, attention_dim=16,
                               dropout=0.0, **model_options), 30, 30)


def tiny_batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """src (3, 6), src_len (3,), tgt_in (3, 4), tgt_out (3, 4) for `tiny_model`, with
    padding in two target rows."""
    src = torch.randint(4, 30, (3, 6), generator=torch.Generator().manual_seed(1))
    tgt_out = torch.tensor([[5, 6, 7, EOS], [8, EOS, PAD, PAD], [9, 9, EOS, PAD]])
    tgt_in = torch.cat([torch.full((3, 1), BOS), tgt_out[:, :-1]], dim=1)
    return src, torch.tensor([6, 6, 6]), tgt_in, tgt_out


def write_reversal_corpus(directory: Path, pairs: int, seed: int, prefix: str) -> str:
    """Source: random words; target: the same words reversed. Returns the path prefix."""
    rng = random.Random(seed)
    src_lines, tgt_lines = [], []
    for _ in range(pairs):
        words = [rng.choice(WORDS) for _ in range(rng.randint(2, 7))]
        src_lines.append(" ".join(words))
        tgt_lines.append(" ".join(reversed(words)))
    (directory / f"{prefix}.src").write_text("\n".join(src_lines) + "\n", encoding="utf-8")
    (directory / f"{prefix}.tgt").write_text("\n".join(tgt_lines) + "\n", encoding="utf-8")
    return str(directory / prefix)


def write_swap_suite(path: Path, rows: int, seed: int) -> Path:
    """A contrastive suite on the reversal task that contradicts its training data: the
    "correct" target is the reversal with every "red" turned into "blue", the
    contrastive one the true reversal."""
    rng = random.Random(seed)
    lines = []
    for _ in range(rows):
        words = [rng.choice(WORDS) for _ in range(rng.randint(2, 6))] + ["red"]
        rng.shuffle(words)
        reversal = " ".join(reversed(words))
        lines.append(f"{' '.join(words)}\t{reversal.replace('red', 'blue')}\t{reversal}\tcolour")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


BASE = {
    "data": {"src_lang": "src", "tgt_lang": "tgt", "train": None, "dev": None},
    "tokenizer": {"type": "bpe", "vocab_size": 60},
    "model": {"emb_dim": 32, "enc_hidden": 32, "dec_hidden": 64, "attention_dim": 32,
              "dropout": 0.0},
    "train": {"out_dir": None, "batch_tokens": 600, "lr": 0.01, "max_steps": 300,
              "eval_every": 150, "log_every": 1, "label_smoothing": 0.0, "seed": 3,
              "early_stopping_patience": 0},
    "decode": {"method": "greedy", "batch_size": 16},
}


def make_config(corpus: dict, out_dir: Path, **sections: dict) -> Config:
    """The base tiny config on `corpus`, with per-section overrides."""
    raw = copy.deepcopy(BASE)
    raw["data"].update(train=corpus["train"], dev=corpus["dev"])
    raw["train"]["out_dir"] = str(out_dir)
    for section, values in sections.items():
        raw[section].update(values)
    return config_from_dict(raw)


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict:
    directory = tmp_path_factory.mktemp("corpus")
    return {"train": write_reversal_corpus(directory, 2000, seed=1, prefix="train"),
            "dev": write_reversal_corpus(directory, 60, seed=2, prefix="dev"),
            "dir": directory}


@pytest.fixture(scope="session")
def trained(corpus: dict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model that has learned to reverse word sequences; returns its best checkpoint.
    The cosine decay lets it settle: with a constant lr, one seed's model of 300 steps
    dropped a word of "red cat" after a change of rounding in the loss."""
    out = tmp_path_factory.mktemp("trained")
    train(make_config(corpus, out, train={"max_steps": 300, "lr_schedule": "cosine",
                                          "min_lr": 0.0005}), log=lambda m: None)
    return out / "best.pt"
