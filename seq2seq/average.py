"""Weight averaging: the element-wise mean of several checkpoints' weights, and the
exponential moving average of the weights during training (`train.ema_decay`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from seq2seq.checkpoint import CheckpointError, load_checkpoint


def average_checkpoints(paths: list[str | Path]) -> dict[str, Any]:
    """A model-only payload whose weights are the mean of `paths`' weights.

    All checkpoints must share the config's model section and the tokenizers.
    """
    if not paths:
        raise CheckpointError("average: no checkpoints given")
    payloads = [load_checkpoint(p) for p in paths]
    first = payloads[0]
    for path, payload in zip(paths[1:], payloads[1:]):
        if (payload["config"]["model"] != first["config"]["model"]
                or payload["tokenizers"] != first["tokenizers"]):
            raise CheckpointError(f"{path}: model config or tokenizers differ from {paths[0]}")
    weights = {
        name: torch.stack([p["model"][name].float() for p in payloads]).mean(0).to(tensor.dtype)
        for name, tensor in first["model"].items()
    }
    return {"config": first["config"], "tokenizers": first["tokenizers"], "model": weights,
            "step": max(p.get("step", 0) for p in payloads), "averaged_from": [str(p)
                                                                           for p in paths]}


def ema_decay(decay: float, updates: int) -> float:
    """The moving average's decay for update number `updates` (0-based): `decay`, held
    lower at first, (1 + updates) / (10 + updates), so that the random initial weights
    fade within the first steps rather than over 1 / (1 - decay) of them."""
    return min(decay, (1 + updates) / (10 + updates))


@torch.no_grad()
def update_moving_average(average: torch.nn.Module, model: torch.nn.Module,
                          decay: float) -> None:
    """average <- decay * average + (1 - decay) * model, parameter by parameter; the two
    modules have the same architecture (`average` is a copy of `model`)."""
    torch._foreach_lerp_(list(average.parameters()), list(model.parameters()), 1.0 - decay)
