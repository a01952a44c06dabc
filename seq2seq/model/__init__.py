"""The encoder-decoder model: encoder, attention, decoder, and their assembly."""

from seq2seq.model.seq2seq import Seq2Seq, target_log_probs

__all__ = ["Seq2Seq", "target_log_probs"]
