"""Multi-process training on torch.distributed; every helper is a no-op in one process.

`torchrun --nproc_per_node N -m seq2seq train CONFIG` sets the environment that
`init_from_env` reads: gloo on CPU, nccl on GPU. Each rank trains on its own
shard of every epoch's batches; only rank 0 validates and writes files, and it
broadcasts the validation results so all ranks take the same decisions.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable
from typing import Any, TypeVar

import torch
import torch.distributed as torch_dist
from torch.nn.parallel import DistributedDataParallel

from seq2seq.config import ConfigError

T = TypeVar("T")


def init_from_env() -> None:
    """Join the process group described by torchrun's environment, if any."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not torch_dist.is_initialized():
        if torch.cuda.is_available():
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        torch_dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")


def device(kind: str) -> torch.device:
    """The device of this process: `kind` is auto, cpu or cuda (this rank's GPU);
    `ConfigError` for cuda on a machine where torch finds no GPU."""
    gpu = torch.cuda.is_available()
    if kind == "cuda" and not gpu:
        raise ConfigError("device cuda: torch finds no CUDA GPU on this machine "
                          "(choose device cpu, or auto to use a GPU when there is one)")
    if kind == "cpu" or not gpu:
        return torch.device("cpu")
    return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))


def shutdown() -> None:
    """Leave the process group. Unreachable DDP wrappers are collected first: one that
    outlived the group could tear down gloo threads at interpreter exit (SIGABRT)."""
    if torch_dist.is_initialized():
        gc.collect()
        torch_dist.destroy_process_group()


def world_size() -> int:
    return torch_dist.get_world_size() if torch_dist.is_initialized() else 1


def rank() -> int:
    return torch_dist.get_rank() if torch_dist.is_initialized() else 0


def is_rank_zero() -> bool:
    return rank() == 0


def wrap(model: torch.nn.Module) -> torch.nn.Module:
    """DistributedDataParallel around `model` when running multi-process."""
    if world_size() == 1:
        return model
    on_gpu = next(model.parameters()).is_cuda
    return DistributedDataParallel(model, device_ids=[torch.cuda.current_device()] if on_gpu
                                   else None)


def shard(batches: list) -> list:
    """This rank's share of an epoch: every rank gets the same number of batches."""
    n = world_size()
    usable = len(batches) // n * n
    return batches[rank():usable:n] if n > 1 else batches


def sum_int(value: int) -> int:
    if world_size() == 1:
        return value
    tensor = torch.tensor([value], dtype=torch.long)
    torch_dist.all_reduce(tensor)
    return int(tensor.item())


def broadcast_object(obj: Any) -> Any:
    """Rank 0's `obj` on every rank."""
    if world_size() == 1:
        return obj
    holder = [obj]
    torch_dist.broadcast_object_list(holder, src=0)
    return holder[0]


def gather_object(obj: Any) -> list[Any]:
    """Every rank's `obj`, in rank order, on rank 0 (an empty list elsewhere)."""
    if world_size() == 1:
        return [obj]
    gathered = [None] * world_size() if is_rank_zero() else None
    torch_dist.gather_object(obj, gathered, dst=0)
    return gathered or []


def barrier() -> None:
    if world_size() > 1:
        torch_dist.barrier()


def rank_zero_first(fn: Callable[[], T]) -> T:
    """`fn()` on rank 0, then on the other ranks once rank 0 has finished.

    For work that fills a shared cache (tokenizers, encoded corpora under
    `train.out_dir`): rank 0 writes it, the others then only read it. If rank 0
    fails, it exits and torchrun stops the ranks waiting here.
    """
    if is_rank_zero():
        result = fn()
        barrier()
        return result
    barrier()
    return fn()
