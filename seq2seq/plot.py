"""Attention heatmaps: one PNG per sentence. matplotlib is an optional dependency: this
module is imported only when plots are asked for."""

from __future__ import annotations

from pathlib import Path

import torch
from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global figure state


def plot_attention(weights: torch.Tensor, src_pieces: list[str], tgt_pieces: list[str],
                   path: str | Path, title: str = "") -> None:
    """weights (len(tgt_pieces) + 1, len(src_pieces)): target rows incl. EOS, source columns."""
    rows = [*tgt_pieces, "</s>"]
    width = max(4.0, 0.35 * len(src_pieces) + 2)
    height = max(3.0, 0.3 * len(rows) + 1.5)
    fig = Figure(figsize=(width, height))
    ax = fig.subplots()
    ax.imshow(weights.numpy(), cmap="Greys", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(src_pieces)), src_pieces, rotation=90)
    ax.set_yticks(range(len(rows)), rows)
    ax.set_xlabel("source")
    ax.set_ylabel("output")
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
