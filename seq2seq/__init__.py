"""seq2seq: recurrent encoder-decoder translation with attention.

Python API:
    from seq2seq import load_config, train, Translator
    state = train(load_config("configs/quickstart.yaml"))
    translator = Translator.from_checkpoint("runs/quickstart/best.pt", method="beam")
    translator.translate(["A girl who likes to read is sitting on a bench."])
"""

from seq2seq.config import Config, ConfigError, load_config
from seq2seq.train import train
from seq2seq.translate import Translator

__all__ = ["Config", "ConfigError", "Translator", "load_config", "train"]
__version__ = "0.1.0"
