"""What a run's numbers depend on besides the config: library versions and the CPU.

The same config and seed repeat a run exactly on one machine, but on another CPU (whose
bfloat16 and float32 kernels may round differently) or with another library release the
numbers can differ from the first steps on. `seq2seq train` logs this description in metrics.jsonl
whenever it starts or resumes training, so two runs that differ can be told apart.
"""

from __future__ import annotations

import platform
from pathlib import Path

import numpy
import sacrebleu
import sentencepiece
import torch


def describe_environment() -> dict[str, str | int]:
    """Versions of Python and the numeric libraries, the CPU's model name, the instruction
    set torch dispatches its CPU kernels for (e.g. "AVX512"), and torch's thread count."""
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "sentencepiece": sentencepiece.__version__,
        "sacrebleu": sacrebleu.__version__,
        "numpy": numpy.__version__,
        "cpu": cpu_model(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "threads": torch.get_num_threads(),
    }


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The processor's model name, family, model and stepping from `cpuinfo` (Linux; a
    virtual machine may report a generic name, but the numbers still tell generations
    apart), else what `platform` reports."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    fields: dict[str, str] = {}
    for line in text.split("\n\n")[0].splitlines():  # the first processor's block
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    name = fields.get("model name") or platform.processor() or platform.machine()
    numbers = [f"{key} {fields[key]}" for key in ("cpu family", "model", "stepping")
               if fields.get(key)]
    return f"{name} ({', '.join(numbers)})" if numbers else name
