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
into the gradient of the loss in place, in (chunk, vocab) buffers made once per call; the
gradients of the vectors and of the weight are done when the forward pass ends, and
backward only scales them.
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
    the logits (chunk, vocab), written over `logits` (no other (chunk, vocab) tensor is
    made).

    Per token: log Z - (1 - s) * logit[target] - s * mean(logits), whose gradient is
    softmax - (1 - s) * one_hot(target) - s / vocab."""
    target_logit = logits.gather(1, targets.unsqueeze(1)).squeeze(1)  # (chunk,)
    mean_logit = logits.mean(-1)  # (chunk,)
    top = logits.amax(-1, keepdim=True)  # (chunk, 1)
    grad = logits.sub_(top).exp_()  # exp(logit - max), (chunk, vocab)
    norm = grad.sum(-1, keepdim=True)  # (chunk, 1)
    log_norm = (norm.log() + top).squeeze(1)  # log Z, (chunk,)
    per_token = log_norm - (1 - smoothing) * target_logit - smoothing * mean_logit
    loss = per_token.masked_fill(~keep, 0.0).sum()
    grad.div_(norm).sub_(smoothing / logits.shape[1])  # softmax - s / vocab
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
        low_weight = weight.to(matmul_dtype)  # (vocab, dim)
        # every chunk reuses these: the heap hands out no block of this size per chunk
        chunk_rows = (min(chunk_tokens, len(vectors)), len(weight))
        low_logits = vectors.new_empty(chunk_rows, dtype=matmul_dtype)  # (chunk, vocab)
        logits = low_logits if matmul_dtype == torch.float32 else vectors.new_empty(chunk_rows)
        low_grad_weight = torch.empty_like(low_weight)  # one chunk's share, (vocab, dim)
        for start in range(0, len(vectors), chunk_tokens):
            rows = slice(start, start + chunk_tokens)
            chunk = vectors[rows].to(matmul_dtype)  # (chunk, dim)
            chunk_targets = targets[rows]  # (chunk,)
            low, full = low_logits[:len(chunk)], logits[:len(chunk)]
            torch.matmul(chunk, low_weight.T, out=low)
            full.copy_(low)  # float32 (a no-op when the products are float32)
            loss, grad_logits = loss_and_logit_gradient(
                full, chunk_targets, chunk_targets != ignore_index, smoothing)
            total += loss
            low.copy_(grad_logits)  # (chunk, vocab) in matmul_dtype
            grad_vectors[rows] = low @ low_weight
            grad_weight += torch.matmul(low.T, chunk, out=low_grad_weight)
        ctx.save_for_backward(grad_vectors, grad_weight)
        return total

    @staticmethod
    def backward(ctx: Any, grad_total: torch.Tensor) -> tuple[Any, ...]:
        grad_vectors, grad_weight = ctx.saved_tensors
        return (grad_vectors * grad_total, grad_weight * grad_total,
                None, None, None, None, None)
