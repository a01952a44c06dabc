"""seq2seq: recurrent encoder-decoder translation with attention.

Python API:
    from seq2seq import load_config, train, Translator
    state = train(load_config("configs/quickstart.yaml"))
    translator = Translator.from_checkpoint("runs/quickstart/best.pt", method="beam")
    translator.translate(["A girl who likes to read is sitting on a bench."])
"""

import os

# bf16 matmuls on CPU run through oneDNN, which keeps one compiled kernel per matrix shape
# (1,024 by default, ~1 MB each with AMX). Length-bucketed batches come in hundreds of
# shapes, so the default cache grew a bf16 training process by >2 GB; a small cache
# keeps it flat at no measurable speed cost. Set before oneDNN creates its cache.
os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "64")

from seq2seq.config import Config, ConfigError, load_config
from seq2seq.train import train
from seq2seq.translate import Translator

__all__ = ["Config", "ConfigError", "Translator", "load_config", "train"]
__version__ = "0.1.0"
