"""One-file checkpoints: format tag, config, SentencePiece models, weights, train state.

Writes are atomic (`atomic.py`), so a crash never leaves a half-written checkpoint
under the real name. Loading uses `weights_only=True`:
a checkpoint holds tensors and plain data only and cannot execute code.
"""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path
from typing import Any

import torch

from seq2seq.atomic import write_atomic
from seq2seq.errors import first_line

FORMAT = "seq2seq-checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """An unreadable or foreign checkpoint; the message names the file."""


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> None:
    """Atomically write `payload` (plain data and tensors) to `path`."""
    write_atomic(path, lambda f: torch.save({"format": FORMAT, "version": VERSION, **payload}, f))


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read and check a checkpoint; raise `CheckpointError` with a one-line reason."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: checkpoint not found")
    if path.is_dir():
        raise CheckpointError(f"{path}: is a directory, expected a checkpoint file")
    try:
        with warnings.catch_warnings():  # torch warns about foreign pickles: the error says it
            warnings.simplefilter("ignore")
            payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise CheckpointError(
            f"{path}: refused to load: holds something other than tensors and plain data "
            "(damaged, or objects that could run code)"
        ) from None
    except Exception as e:  # noqa: BLE001 (torch raises many types on damaged files)
        reason = first_line(e, 120, with_type=True)
        raise CheckpointError(f"{path}: not a readable checkpoint ({reason})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a seq2seq checkpoint")
    if payload.get("version") != VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format version {payload.get('version')!r}, "
            f"this seq2seq reads version {VERSION}"
        )
    return payload
