"""The whole training path learns a task, and the trained model behaves consistently."""

from __future__ import annotations

import json

import torch
from conftest import make_config

from seq2seq.train import train
from seq2seq.translate import Translator


def test_reversal_task_is_learned_to_near_zero_loss(trained, corpus):
    log = [json.loads(line) for line in (trained.parent / "metrics.jsonl").read_text().splitlines()]
    dev = [entry for entry in log if entry["kind"] == "dev"]
    assert dev[-1]["loss"] < 0.1, dev  # 0.031-0.038 at step 300 over seeds 1-4
    assert dev[-1]["bleu"] > 90, dev  # 95.0-99.6 at step 300 over seeds 1-4
    translator = Translator.from_checkpoint(trained)
    assert translator.translate(["red cat big sun"]) == ["sun big cat red"]


def test_checkpoint_round_trip_translates_identically(trained, corpus, tmp_path):
    from seq2seq.checkpoint import load_checkpoint, save_checkpoint

    payload = load_checkpoint(trained)
    copy_path = tmp_path / "copy.pt"
    save_checkpoint(copy_path, payload)
    sources = (corpus["dir"] / "dev.src").read_text().splitlines()
    first = Translator.from_checkpoint(trained, method="beam", beam_size=3)
    second = Translator.from_checkpoint(copy_path, method="beam", beam_size=3)
    a, b = first.translate_full(sources), second.translate_full(sources)
    assert [h[0].text for h in a] == [h[0].text for h in b]
    assert [h[0].score for h in a] == [h[0].score for h in b]


def test_checkpoint_from_before_the_newer_decoder_options_loads_as_it_was(trained, corpus,
                                                                         tmp_path):
    """A stored config without the decoder options added later (readout embedding, target
    attention, piece endings) builds the model it was trained as: the options default to
    off."""
    from seq2seq.checkpoint import load_checkpoint, save_checkpoint

    payload = load_checkpoint(trained)
    for key in ("readout_embedding", "target_attention", "piece_endings"):
        del payload["config"]["model"][key]
    old_path = tmp_path / "old.pt"
    save_checkpoint(old_path, payload)
    sources = (corpus["dir"] / "dev.src").read_text().splitlines()
    assert (Translator.from_checkpoint(old_path).translate(sources)
            == Translator.from_checkpoint(trained).translate(sources))


def test_lstm_luong_variant_with_every_decoder_option_learns(corpus, tmp_path):
    config = make_config(corpus, tmp_path, model={"rnn": "lstm", "attention": "luong_general",
                                                  "input_feeding": True, "context_rnn": True,
                                                  "readout_embedding": True,
                                                  "target_attention": True,
                                                  "enc_layers": 2, "dec_layers": 2,
                                                  "tie_output": False},
                         train={"max_steps": 300, "eval_every": 300})
    train(config, log=lambda m: None)
    dev = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()
           if '"dev"' in line]
    assert dev[-1]["bleu"] > 60, dev
    assert torch.isfinite(torch.tensor(dev[-1]["loss"]))


def test_bf16_autocast_training_learns(corpus, tmp_path):
    config = make_config(corpus, tmp_path, train={"bf16": True, "max_steps": 300,
                                                  "eval_every": 300})
    train(config, log=lambda m: None)
    dev = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()
           if '"dev"' in line]
    assert dev[-1]["bleu"] > 80, dev
