"""The chunked output-layer loss against F.cross_entropy on full logits."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from conftest import tiny_batch, tiny_model

from seq2seq.loss import linear_cross_entropy
from seq2seq.tokenizer import PAD


def _plain(vectors: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor,
           smoothing: float) -> torch.Tensor:
    return F.cross_entropy(vectors @ weight.T, targets, ignore_index=PAD,
                           label_smoothing=smoothing, reduction="sum")


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.3])
@pytest.mark.parametrize("chunk_tokens", [1, 7, 50, 256])
def test_loss_and_gradients_match_cross_entropy_on_full_logits(smoothing, chunk_tokens):
    generator = torch.Generator().manual_seed(0)
    vectors = torch.randn(50, 12, generator=generator)
    weight = torch.randn(40, 12, generator=generator)
    targets = torch.randint(1, 40, (50,), generator=generator)
    targets[::6] = PAD  # ignored rows, in several chunks
    results = []
    for loss_fn in (_plain, lambda v, w, t, s: linear_cross_entropy(
            v, w, t, label_smoothing=s, ignore_index=PAD, chunk_tokens=chunk_tokens)):
        v, w = vectors.clone().requires_grad_(), weight.clone().requires_grad_()
        loss = loss_fn(v, w, targets, smoothing)
        (loss * 0.5).backward()  # backward scales by the incoming gradient
        results.append((loss, v.grad, w.grad))
    (plain_loss, plain_gv, plain_gw), (loss, gv, gw) = results
    assert torch.allclose(loss, plain_loss, rtol=1e-5)
    assert torch.allclose(gv, plain_gv, atol=1e-5)
    assert torch.allclose(gw, plain_gw, atol=1e-5)
    assert gv[::6].abs().max() == 0  # an ignored token gets no gradient


def test_all_targets_ignored_gives_zero_loss_and_gradients():
    vectors = torch.randn(5, 4, requires_grad=True)
    weight = torch.randn(9, 4, requires_grad=True)
    loss = linear_cross_entropy(vectors, weight, torch.full((5,), PAD),
                                label_smoothing=0.1, ignore_index=PAD)
    loss.backward()
    assert loss.item() == 0 and vectors.grad.abs().max() == 0 and weight.grad.abs().max() == 0


@pytest.mark.parametrize("tie_output", [True, False])
def test_model_gradients_match_the_logits_path(tie_output):
    model = tiny_model(tie_output=tie_output)
    src, src_len, tgt_in, tgt_out = tiny_batch()
    grads = []
    for fused in (False, True):
        model.zero_grad()
        if fused:
            vectors = model(src, src_len, tgt_in, features=True)  # (3, 4, out_dim)
            loss = linear_cross_entropy(vectors.flatten(0, 1), model.generator.weight,
                                        tgt_out.flatten(), label_smoothing=0.1,
                                        ignore_index=PAD)
        else:
            loss = F.cross_entropy(model(src, src_len, tgt_in).flatten(0, 1),
                                   tgt_out.flatten(), ignore_index=PAD,
                                   label_smoothing=0.1, reduction="sum")
        loss.backward()
        grads.append([p.grad.clone() for p in model.parameters()])
    for plain, fused in zip(*grads, strict=True):
        assert torch.allclose(plain, fused, atol=1e-5)


def test_bfloat16_products_stay_close_to_float32():
    generator = torch.Generator().manual_seed(1)
    vectors = torch.randn(300, 16, generator=generator, requires_grad=True)
    weight = torch.randn(50, 16, generator=generator, requires_grad=True)
    targets = torch.randint(1, 50, (300,), generator=generator)
    plain = _plain(vectors, weight, targets, 0.1)
    expected = torch.autograd.grad(plain, (vectors, weight))
    low = linear_cross_entropy(vectors, weight, targets, label_smoothing=0.1,
                               ignore_index=PAD, matmul_dtype=torch.bfloat16)
    got = torch.autograd.grad(low, (vectors, weight))
    assert low.dtype == torch.float32
    assert abs(low.item() - plain.item()) < 0.01 * plain.item()
    for g, e in zip(got, expected, strict=True):
        assert g.dtype == torch.float32
        assert F.cosine_similarity(g.flatten(), e.flatten(), dim=0) > 0.999
