"""The encoder-decoder model: encoder, attention, decoder, and their assembly."""

from seq2seq.model.seq2seq import Seq2Seq

__all__ = ["Seq2Seq"]
