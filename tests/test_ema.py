"""The exponential moving average of the weights (`train.ema_decay`)."""

from __future__ import annotations

import copy
import json

import pytest
import torch
from conftest import make_config

from seq2seq.average import ema_decay, update_moving_average
from seq2seq.checkpoint import load_checkpoint
from seq2seq.config import ModelConfig
from seq2seq.model.seq2seq import Seq2Seq
from seq2seq.prepare import prepare
from seq2seq.train import dev_loss, train


def test_decay_starts_low_and_rises_to_the_configured_value():
    assert ema_decay(0.999, 0) == pytest.approx(0.1)  # the initial weights fade at once
    assert ema_decay(0.999, 90) == pytest.approx(0.91)
    assert ema_decay(0.999, 100_000) == 0.999


def test_update_moves_every_weight_towards_the_model_and_keeps_tied_weights_tied():
    config = ModelConfig(emb_dim=8, enc_hidden=8, dec_hidden=16, attention_dim=8,
                         tie_output=True, share_embeddings=True)
    model = Seq2Seq(config, 20, 20)
    average = copy.deepcopy(model)
    with torch.no_grad():
        for param in model.parameters():
            param.add_(torch.randn_like(param))
    before = {name: p.clone() for name, p in average.named_parameters()}
    update_moving_average(average, model, 0.9)
    trained = dict(model.named_parameters())
    for name, param in average.named_parameters():
        assert torch.allclose(param, 0.9 * before[name] + 0.1 * trained[name], atol=1e-6), name
    assert average.generator.weight is average.tgt_embed.weight is average.src_embed.weight


def test_dev_scores_and_saved_models_are_the_averaged_weights(corpus, tmp_path):
    config = make_config(corpus, tmp_path / "run", model={"dropout": 0.2},
                         train={"ema_decay": 0.95, "max_steps": 40, "eval_every": 20})
    train(config, log=lambda message: None)
    last = load_checkpoint(tmp_path / "run" / "last.pt")
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    logged = [e["loss"] for e in map(json.loads, lines) if e["kind"] == "dev"][-1]
    data = prepare(config, lambda message: None)
    losses = {}
    for weights in ("model", "train_weights"):
        model = Seq2Seq.for_tokenizers(config.model, data.src_tok, data.tgt_tok)
        model.load_state_dict(last[weights])
        losses[weights] = dev_loss(model, data.dev, config.train.batch_tokens)
    assert losses["model"] == pytest.approx(logged, rel=1e-6)
    assert losses["train_weights"] != pytest.approx(logged, rel=1e-3)
    best = load_checkpoint(tmp_path / "run" / "best.pt")
    assert "train_weights" not in best
    kept = [load_checkpoint(p)["model"] for p in (tmp_path / "run").glob("best-step*.pt")]
    assert any(all(torch.equal(k[name], best["model"][name]) for name in k) for k in kept)
