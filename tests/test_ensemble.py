"""Ensembles: several checkpoints decoded and scored as one mixture of their models."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
from conftest import make_config

from seq2seq.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from seq2seq.train import train
from seq2seq.translate import Translator

SOURCES = ["red cat", "big old tree", "sun moon river stone", "dog"]


def test_ensemble_of_one_model_twice_is_that_model(trained):
    single = Translator.from_checkpoint(trained, method="beam", beam_size=3)
    double = Translator.from_checkpoint([trained, trained], method="beam", beam_size=3)
    assert double.translate(SOURCES) == single.translate(SOURCES)
    targets = single.translate(SOURCES)
    for a, b in zip(single.score(SOURCES, targets), double.score(SOURCES, targets)):
        assert a.per_token == pytest.approx(b.per_token, abs=1e-5)


def test_ensemble_scores_are_the_mixture_of_the_members(trained):
    early = trained.parent / "best-step150.pt"
    members = [Translator.from_checkpoint(p) for p in (early, trained)]
    ensemble = Translator.from_checkpoint([early, trained])
    targets = ["cat red", "tree old big", "moon sun stone river", "cat"]
    scores = [t.score(SOURCES, targets) for t in (*members, ensemble)]
    for first, second, mixed in zip(*scores):
        expected = [math.log((math.exp(a) + math.exp(b)) / 2)
                    for a, b in zip(first.per_token, second.per_token)]
        assert mixed.per_token == pytest.approx(expected, abs=1e-4)
        assert first.per_token != pytest.approx(second.per_token, abs=1e-4)  # two models
    for method in ("greedy", "beam"):
        ensemble = Translator.from_checkpoint([early, trained], method=method, beam_size=4)
        together = ensemble.translate(SOURCES)
        assert together == [ensemble.translate([s])[0] for s in SOURCES]
        assert all(together)


def test_ensemble_needs_one_vocabulary_and_works_from_the_cli(corpus, trained, tmp_path):
    other = make_config(corpus, tmp_path / "other", tokenizer={"vocab_size": 50},
                        train={"max_steps": 1, "eval_every": 1})
    train(other, log=lambda message: None)
    with pytest.raises(CheckpointError, match="tokenizers differ"):
        Translator.from_checkpoint([trained, tmp_path / "other" / "last.pt"])
    source = tmp_path / "in.txt"
    source.write_text("\n".join(SOURCES) + "\n", encoding="utf-8")
    cli = subprocess.run([sys.executable, "-m", "seq2seq", "translate", "-c", str(trained),
                          "-c", str(trained.parent / "best-step150.pt"), "-i", str(source),
                          "--method", "beam"], capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stderr
    expected = Translator.from_checkpoint([trained, trained.parent / "best-step150.pt"],
                                          method="beam").translate(SOURCES)
    assert cli.stdout.splitlines() == expected


def test_ensemble_needs_one_direction_and_knows_it(trained, tmp_path):
    assert Translator.from_checkpoint([trained, trained]).languages == ("src", "tgt")
    payload = load_checkpoint(trained)  # the same weights and tokenizers, stored as tgt->src
    payload["config"]["data"].update(src_lang="tgt", tgt_lang="src")
    del payload["format"], payload["version"]
    reverse = tmp_path / "reverse.pt"
    save_checkpoint(reverse, payload)
    assert Translator.from_checkpoint(reverse).languages == ("tgt", "src")
    with pytest.raises(CheckpointError, match=rf"{reverse.name}: translates tgt->src, .*"
                                              "best.pt src->tgt; an ensemble needs one direction"):
        Translator.from_checkpoint([trained, reverse])
