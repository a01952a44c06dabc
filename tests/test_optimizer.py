"""The training optimizer: fused Adam takes the steps of torch's per-tensor Adam."""

from __future__ import annotations

import copy

import torch
from conftest import tiny_batch, tiny_model

from seq2seq.tokenizer import PAD
from seq2seq.train import adam


def _steps(model: torch.nn.Module, optimizer: torch.optim.Optimizer, lrs: list[float]) -> None:
    """Plain training steps on a fixed batch, with the learning rate set per step as
    `train_step` does."""
    src, src_len, tgt_in, tgt_out = tiny_batch()
    for lr in lrs:
        logits = model(src, src_len, tgt_in)  # (3, 4, vocab)
        loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), tgt_out.flatten(),
                                                 ignore_index=PAD)
        loss.backward()
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)


def _assert_same_weights(a: torch.nn.Module, b: torch.nn.Module) -> None:
    """Equal up to rounding: Adam divides by the root of tiny second moments, so a few
    values differ by up to 4e-6, against steps of lr = 0.01 or so."""
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        assert torch.allclose(p, q, atol=1e-5), name


def test_fused_adam_takes_the_steps_of_per_tensor_adam():
    fused_model, loop_model = tiny_model(), tiny_model()
    fused = adam(fused_model, 0.01)
    assert fused.defaults["fused"]
    loop = torch.optim.Adam(loop_model.parameters(), lr=0.01, foreach=False)
    lrs = [0.01, 0.005, 0.02, 0.001, 0.01]
    _steps(fused_model, fused, lrs)
    _steps(loop_model, loop, lrs)
    _assert_same_weights(fused_model, loop_model)
    moved = sum((p - q).abs().sum() for p, q in zip(fused_model.parameters(),
                                                      tiny_model().parameters()))
    assert moved > 0.1  # the steps changed the weights


def test_state_of_per_tensor_adam_resumes_in_fused_adam():
    """A `last.pt` from before fused Adam carries the per-tensor optimizer's state."""
    old_model = tiny_model()
    old = torch.optim.Adam(old_model.parameters(), lr=0.01, foreach=False)
    _steps(old_model, old, [0.01] * 3)
    new_model = copy.deepcopy(old_model)
    new = adam(new_model, 0.01)
    new.load_state_dict(copy.deepcopy(old.state_dict()))  # as if read from disk
    _steps(old_model, old, [0.01] * 3)
    _steps(new_model, new, [0.01] * 3)
    _assert_same_weights(new_model, old_model)
