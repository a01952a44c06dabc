"""Checkpoint averaging: the element-wise mean of several checkpoints' weights."""

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
