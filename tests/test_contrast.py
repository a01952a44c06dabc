"""Contrastive suites: reading, accuracy per category, the CLI's JSON, and the
pairwise training loss (with fine-tuning from a checkpoint)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
from conftest import make_config, write_swap_suite

from seq2seq.checkpoint import load_checkpoint
from seq2seq.config import ConfigError
from seq2seq.contrast import EncodedSuite, accuracy_by_category, contrast_margins, read_suite
from seq2seq.corpus import CorpusError
from seq2seq.train import TrainError, train
from seq2seq.translate import Translator


def test_contrast_accuracy_per_category(trained, tmp_path):
    rows = ["red cat\tcat red\tred cat\torder",
            "big sun old tree\ttree old sun big\ttree old big sun\torder",
            "blue moon\tmoon blue\tmoon moon\twords",
            "blue moon\tmoon moon\tmoon blue\twords"]  # the "correct" one is wrong here
    suite = tmp_path / "suite.tsv"
    suite.write_text("\n".join(rows[:2]) + "\n\n" + "\n".join(rows[2:]) + "\n", encoding="utf-8")
    suite_rows = read_suite(suite)
    margins = contrast_margins(Translator.from_checkpoint(trained), suite_rows)
    assert [m > 0 for m in margins] == [True, True, True, False]
    result = accuracy_by_category(suite_rows, margins)
    assert result["order"] == {"accuracy": 1.0, "correct": 2, "rows": 2}
    assert result["words"] == {"accuracy": 0.5, "correct": 1, "rows": 2}
    assert result["overall"]["rows"] == 4 and result["overall"]["correct"] == 3

    report = tmp_path / "rows.tsv"
    cli = subprocess.run([sys.executable, "-m", "seq2seq", "contrast", "-c", str(trained),
                          str(suite), "--json", "--rows", str(report)],
                         capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout) == result
    header, *lines = [line.split("\t") for line in report.read_text().splitlines()]
    assert header == ["line", "category", "margin", "right", "swap"]
    assert [line[0] for line in lines] == ["1", "2", "4", "5"]  # suite lines; 3 is blank
    assert [float(line[2]) for line in lines] == pytest.approx(margins, abs=1e-3)
    assert [line[3] for line in lines] == ["1", "1", "1", "0"]
    assert lines[2][4] == "blue>moon" and lines[1][4] == "sun>big big>sun"


def test_malformed_suite_names_file_and_line(tmp_path):
    suite = tmp_path / "bad.tsv"
    suite.write_text("a\tb\tc\n\njust one field\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"bad.tsv: line 3: expected 3 or 4 tab-separated"):
        read_suite(suite)
    blank_field = tmp_path / "blank.tsv"
    blank_field.write_text("a\tb\tc\na b\t \tc\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"blank.tsv: line 2: empty correct field"):
        read_suite(blank_field)
    empty = tmp_path / "empty.tsv"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="no contrastive rows"):
        read_suite(empty)


def _accuracy(checkpoint, suite) -> float:
    rows = read_suite(suite)
    margins = contrast_margins(Translator.from_checkpoint(checkpoint), rows)
    return accuracy_by_category(rows, margins)["overall"]["accuracy"]


@pytest.mark.parametrize("weight", [0.0, 40.0], ids=["translation-loss-only", "contrastive"])
def test_contrastive_loss_teaches_held_out_rows(corpus, trained, tmp_path, weight):
    """Fine-tuning from a trained model with a suite that contradicts the training data
    (red -> blue): only the pairwise loss makes held-out rows of the suite come out right."""
    taught = write_swap_suite(tmp_path / "taught.tsv", 200, seed=11)
    held_out = write_swap_suite(tmp_path / "held_out.tsv", 60, seed=12)
    assert _accuracy(trained, held_out) < 0.2
    config = make_config(corpus, tmp_path / "ft", train={
        "init_from": str(trained), "contrastive": str(taught), "contrastive_weight": weight,
        "contrastive_rows": 16, "lr": 0.003, "max_steps": 40, "eval_every": 40})
    train(config, log=lambda message: None)
    accuracy = _accuracy(tmp_path / "ft" / "last.pt", held_out)
    assert accuracy > 0.9 if weight else accuracy < 0.2
    logged = [json.loads(line) for line in (tmp_path / "ft" / "metrics.jsonl").open()]
    pairwise = [entry["contrastive_loss"] for entry in logged if entry["kind"] == "train"]
    assert len(pairwise) == 40  # logged every step, also at weight 0
    if weight:
        assert pairwise[-1] < pairwise[0] / 10


def test_init_from_starts_from_the_checkpoint_and_checks_it_fits(corpus, trained, tmp_path):
    frozen = make_config(corpus, tmp_path / "ft", model={"dropout": 0.2}, train={
        "init_from": str(trained), "lr": 1e-9, "min_lr": 0.0, "max_steps": 1, "eval_every": 1})
    train(frozen, log=lambda message: None)
    start, after = (load_checkpoint(p)["model"] for p in (trained, tmp_path / "ft" / "last.pt"))
    assert all(torch.allclose(start[k], after[k], atol=1e-6) for k in start)

    other_model = make_config(corpus, tmp_path / "other", model={"emb_dim": 16},
                              train={"init_from": str(trained)})
    with pytest.raises(TrainError, match="holds another model"):
        train(other_model, log=lambda message: None)
    other_tokenizers = make_config(corpus, tmp_path / "fresh", tokenizer={"vocab_size": 50},
                                   train={"max_steps": 1})
    train(other_tokenizers, log=lambda message: None)  # leaves its own tokenizers there
    (tmp_path / "fresh" / "last.pt").unlink()
    again = make_config(corpus, tmp_path / "fresh", train={"init_from": str(trained)})
    with pytest.raises(ConfigError, match=f"from training there, from checkpoint {trained} in"):
        train(again, log=lambda message: None)
    (tmp_path / "fresh" / "tokenizer.json").unlink()  # as in an out_dir from before it existed
    with pytest.raises(TrainError, match="other tokenizers"):
        train(again, log=lambda message: None)


@pytest.mark.parametrize("categories", [("rare", "common"), ("word order", "word order")])
def test_contrastive_rows_are_drawn_equally_by_category_and_kind(trained, tmp_path, categories):
    """5% of the rows are a category of their own, or another kind of swap (moon blue ->
    blue moon, not cat red -> red cat) in the same category: either way they make about
    half of the draws."""
    rare = f"blue moon\tmoon blue\tblue moon\t{categories[0]}"
    common = f"red cat\tcat red\tred cat\t{categories[1]}"
    suite = tmp_path / "suite.tsv"
    suite.write_text("\n".join([rare] * 10 + [common] * 190) + "\n", encoding="utf-8")
    translator = Translator.from_checkpoint(trained)
    encoded = EncodedSuite.from_rows(read_suite(suite), translator.src_tok, translator.tgt_tok)
    rare_source = torch.tensor(translator.src_tok.encode("blue moon"))
    drawn = rare_drawn = 0
    for step in range(50):
        batch = encoded.sample(20, (1, step))  # (40 pairs): 20 correct, then 20 contrastive
        assert batch.src.size(0) == 40 and torch.equal(batch.src[:20], batch.src[20:])
        sources = batch.src[:20, :len(rare_source)]
        rare_drawn += int((sources == rare_source).all(dim=1).sum())
        drawn += 20
    assert 0.3 < rare_drawn / drawn < 0.6


def test_bad_contrastive_suite_stops_before_data_preparation(corpus, tmp_path):
    suite = tmp_path / "suite.tsv"
    suite.write_text("a\tb\n", encoding="utf-8")
    config = make_config(corpus, tmp_path / "run", train={"contrastive": str(suite)})
    with pytest.raises(CorpusError, match=r"suite.tsv: line 1: expected 3 or 4"):
        train(config, log=lambda message: None)
    assert not (tmp_path / "run" / "tokenizer.src.model").exists()
