"""Training loss: label-smoothed cross-entropy of the output layer, a chunk of tokens
at a time.

The plain way, `F.cross_entropy(generator(vectors), ...)`, holds the logits of every
target token over the whole vocabulary, (tokens, vocab) floats: 160 MB for a batch of
5,000 positions and 8,000 pieces, and autograd adds log-probabilities and gradients of
the same size. Allocations that large come straight from the kernel (glibc maps them
and unmaps them on free), so each step pays for zeroing fresh pages: on the 2-core
machine, 14.8 s of system time against 38.6 s of user time in a short en->cs training
benchmark (docs/performance.md).

`linear_cross_entropy` projects `chunk_tokens` tokens at a time and turns their logits
into the gradient of the loss in place, so no tensor is larger than (chunk, vocab) and
those are reused from the heap; the gradients of the vectors and of the weight are done
when the forward pass ends, and backward only scales them.
"""

from __future__ import annotations

from typing import Any

import torch

CHUNK_TOKENS = 256


def linear_cross_entropy(vectors: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor,
                         *, label_smoothing: float, ignore_index: int,
                         matmul_dtype: torch.dtype = torch.float32,
                         chunk_tokens: int = CHUNK_TOKENS) -> torch.Tensor:
    """Summed label-smoothed cross-entropy of logits = vectors @ weight.T, the number
    `F.cross_entropy(logits, targets, ignore_index=ignore_index,
    label_smoothing=label_smoothing, reduction="sum")` gives, with the same gradients.

    vectors (tokens, dim) float32, weight (vocab, dim) float32, targets (tokens,) ids;
    tokens whose target is `ignore_index` count for nothing. The three products (logits
    and both gradients) run in `matmul_dtype` (bfloat16 as under autocast), the softmax
    and the sums in float32. Returns a float32 scalar."""
    return _LinearCrossEntropy.apply(vectors, weight, targets, label_smoothing,
                                     ignore_index, matmul_dtype, chunk_tokens)


def loss_and_logit_gradient(logits: torch.Tensor, targets: torch.Tensor, keep: torch.Tensor,
                            smoothing: float) -> tuple[torch.Tensor, torch.Tensor]:
    """logits (chunk, vocab), targets (chunk,), keep (chunk,) bool -> the summed
    label-smoothed cross-entropy of the kept rows () and its gradient with respect to
    the logits (chunk, vocab), written over `logits`.

    Per token: log Z - (1 - s) * logit[target] - s * mean(logits), whose gradient is
    softmax - (1 - s) * one_hot(target) - s / vocab."""
    log_norm = torch.logsumexp(logits, dim=-1)  # (chunk,)
    target_logit = logits.gather(1, targets.unsqueeze(1)).squeeze(1)  # (chunk,)
    per_token = log_norm - (1 - smoothing) * target_logit - smoothing * logits.mean(-1)
    loss = per_token.masked_fill(~keep, 0.0).sum()
    grad = logits.sub_(log_norm.unsqueeze(1)).exp_()  # softmax, (chunk, vocab)
    grad.sub_(smoothing / logits.shape[1])
    grad.scatter_add_(1, targets.unsqueeze(1), grad.new_full((len(targets), 1), smoothing - 1))
    grad.mul_(keep.unsqueeze(1))
    return loss, grad


class _LinearCrossEntropy(torch.autograd.Function):
    """Forward computes the loss and both gradients chunk by chunk; backward scales."""

    @staticmethod
    def forward(ctx: Any, vectors: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor,
                smoothing: float, ignore_index: int, matmul_dtype: torch.dtype,
                chunk_tokens: int) -> torch.Tensor:
        grad_vectors = torch.empty_like(vectors)  # (tokens, dim)
        grad_weight = torch.zeros_like(weight)  # (vocab, dim)
        total = vectors.new_zeros(())
        low_weight = weight.to(matmul_dtype)
        for start in range(0, len(vectors), chunk_tokens):
            rows = slice(start, start + chunk_tokens)
            chunk = vectors[rows].to(matmul_dtype)  # (chunk, dim)
            chunk_targets = targets[rows]  # (chunk,)
            loss, grad_logits = loss_and_logit_gradient(
                (chunk @ low_weight.T).float(), chunk_targets,
                chunk_targets != ignore_index, smoothing)
            total += loss
            low_grad = grad_logits.to(matmul_dtype)  # (chunk, vocab)
            grad_vectors[rows] = low_grad @ low_weight
            grad_weight += low_grad.T @ chunk
        ctx.save_for_backward(grad_vectors, grad_weight)
        return total

    @staticmethod
    def backward(ctx: Any, grad_total: torch.Tensor) -> tuple[Any, ...]:
        grad_vectors, grad_weight = ctx.saved_tensors
        return (grad_vectors * grad_total, grad_weight * grad_total,
                None, None, None, None, None)
