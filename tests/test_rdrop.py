"""R-Drop: the consistency term between two dropout passes, and training with it."""

from __future__ import annotations

import copy
import json

import torch
import torch.nn.functional as F
from conftest import make_config

from seq2seq.batching import Batch
from seq2seq.config import ModelConfig
from seq2seq.model.seq2seq import Seq2Seq
from seq2seq.tokenizer import BOS, EOS, PAD
from seq2seq.train import consistency_loss, train, train_step


def _batch(vocab: int = 30) -> Batch:
    generator = torch.Generator().manual_seed(0)
    src = torch.randint(4, vocab, (3, 7), generator=generator)
    src[2, 5:] = PAD
    body = torch.randint(4, vocab, (3, 6), generator=generator)
    tgt_in = torch.cat([torch.full((3, 1), BOS), body], dim=1)
    tgt_out = torch.cat([body, torch.full((3, 1), EOS)], dim=1)
    tgt_in[1, 4:], tgt_out[1, 3:] = PAD, PAD
    tgt_out[1, 3] = EOS
    return Batch(src, torch.tensor([7, 7, 5]), tgt_in, tgt_out)


TGT_OUT = torch.tensor([[5, 6, EOS, PAD], [7, EOS, PAD, PAD], [5, 6, 7, EOS]])


def test_consistency_loss_is_the_mean_of_both_kl_directions_over_real_tokens():
    log_p, log_q = F.log_softmax(torch.randn(2, 3, 4, 10), -1).unbind(0)
    kl_pq = F.kl_div(log_q, log_p, log_target=True, reduction="none").sum(-1)  # KL(p||q)
    kl_qp = F.kl_div(log_p, log_q, log_target=True, reduction="none").sum(-1)
    expected = ((kl_pq + kl_qp) / 2)[TGT_OUT != PAD].sum()
    assert torch.allclose(consistency_loss(log_p, log_q, TGT_OUT), expected, atol=1e-5)
    assert torch.allclose(consistency_loss(log_q, log_p, TGT_OUT), expected, atol=1e-5)
    assert consistency_loss(log_p, log_p, TGT_OUT).abs() < 1e-6


def _step(model: Seq2Seq, rdrop: float) -> tuple[float, Seq2Seq]:
    """One training step with SGD, whose update is linear in the gradient (Adam's first
    step is about lr * sign(gradient), which blows rounding noise in near-zero gradients
    up to a full step)."""
    model = copy.deepcopy(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    torch.manual_seed(5)
    result = train_step(model, optimizer, _batch(), lr=0.01, label_smoothing=0.1,
                        clip_norm=1.0, params=model.parameters(), rdrop=rdrop)
    return result.loss, model


def test_without_dropout_both_passes_agree_and_the_step_is_a_plain_one():
    torch.manual_seed(0)
    model = Seq2Seq(ModelConfig(emb_dim=16, enc_hidden=16, dec_hidden=24, attention_dim=16,
                                dropout=0.0), 30, 30)
    plain_loss, plain = _step(model, rdrop=0.0)
    rdrop_loss, rdropped = _step(model, rdrop=5.0)
    assert abs(plain_loss - rdrop_loss) < 1e-5
    for a, b in zip(plain.parameters(), rdropped.parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-6)


def test_with_dropout_the_consistency_term_changes_the_update():
    torch.manual_seed(0)
    model = Seq2Seq(ModelConfig(emb_dim=16, enc_hidden=16, dec_hidden=24, attention_dim=16,
                                dropout=0.3), 30, 30)
    _, light = _step(model, rdrop=0.01)
    _, heavy = _step(model, rdrop=50.0)  # same seed, so the same two dropout masks
    moved = [not torch.allclose(a, b, atol=1e-6)
             for a, b in zip(light.parameters(), heavy.parameters(), strict=True)]
    assert any(moved)


def test_training_with_rdrop_learns(corpus, tmp_path):
    config = make_config(corpus, tmp_path, model={"dropout": 0.1},
                         train={"rdrop": 1.0, "max_steps": 300, "eval_every": 300})
    train(config, log=lambda m: None)
    dev = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()
           if '"dev"' in line]
    assert dev[-1]["bleu"] > 80, dev
