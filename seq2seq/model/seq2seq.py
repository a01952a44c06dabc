"""The encoder-decoder model, built from a `ModelConfig` and the vocabulary sizes."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from seq2seq.batching import Batch
from seq2seq.config import ModelConfig
from seq2seq.model.decoder import Decoder, DecoderState
from seq2seq.model.embedding import PieceEmbedding
from seq2seq.model.encoder import Encoder, Memory
from seq2seq.tokenizer import BOS, PAD, UNK, Tokenizer


class Seq2Seq(nn.Module):
    """Bidirectional RNN encoder + attentional RNN decoder + output projection."""

    def __init__(self, config: ModelConfig, src_vocab: int, tgt_vocab: int,
                 pieces: tuple[Sequence[str], Sequence[str]] | None = None) -> None:
        """`pieces` (source, target) are the vocabularies' pieces, which `piece_endings`
        needs to embed; without them such a model only counts its parameters."""
        super().__init__()
        self.config = config
        memory_dim = 2 * config.enc_hidden
        out_dim = config.emb_dim if config.tie_output else config.dec_hidden
        src_pieces, tgt_pieces = pieces or (None, None)
        self.src_embed = PieceEmbedding(src_vocab, config.emb_dim, config.piece_endings,
                                        src_pieces)
        self.tgt_embed = (
            self.src_embed if config.share_embeddings
            else PieceEmbedding(tgt_vocab, config.emb_dim, config.piece_endings, tgt_pieces)
        )
        self.encoder = Encoder(
            config.rnn, config.emb_dim, config.enc_hidden, config.enc_layers, config.dropout,
        )
        self.decoder = Decoder(
            config.rnn, config.emb_dim, memory_dim, config.dec_hidden, config.dec_layers,
            config.attention, config.attention_dim, config.input_feeding, out_dim,
            config.dropout, config.context_rnn, config.readout_embedding,
            config.target_attention,
        )
        self.generator = nn.Linear(out_dim, tgt_vocab, bias=False)
        self._init_weights()
        if config.tie_output:
            self.generator.weight = self.tgt_embed.weight

    @classmethod
    def for_tokenizers(cls, config: ModelConfig, src_tok: Tokenizer, tgt_tok: Tokenizer,
                       ) -> Seq2Seq:
        """The model for these source and target tokenizers' vocabularies."""
        return cls(config, len(src_tok), len(tgt_tok), (src_tok.vocabulary(), tgt_tok.vocabulary()))

    def _init_weights(self) -> None:
        for name, param in self.named_parameters():
            if "endings" in name:
                nn.init.zeros_(param)  # a new model embeds as one without endings
            elif "embed" in name:
                nn.init.normal_(param, std=self.config.emb_dim ** -0.5)
                with torch.no_grad():
                    param[PAD].zero_()
            elif param.dim() > 1:
                nn.init.xavier_uniform_(param)
            else:
                nn.init.zeros_(param)

    def encode(self, src: torch.Tensor, src_len: torch.Tensor) -> tuple[Memory, DecoderState]:
        """src (batch, src_len) ids -> memory to attend to and the initial decoder state."""
        values, summary = self.encoder(self.src_embed(src), src_len)  # (b, s, 2h), (b, 2h)
        keys = self.decoder.attention.project_keys(values)  # (batch, src_len, key_dim)
        memory = Memory(values, keys, src != PAD)
        return memory, self.decoder.init_state(summary)

    def decode(
        self, tgt_in: torch.Tensor, state: DecoderState, memory: Memory,
        features: bool = False,
    ) -> tuple[torch.Tensor, DecoderState, torch.Tensor]:
        """tgt_in (batch, tgt_len) -> logits (batch, tgt_len, vocab), or with `features`
        the generator's input (batch, tgt_len, out_dim); new state; attention weights
        (batch, tgt_len, src_len)."""
        vectors, state, weights = self.decoder(self.tgt_embed(tgt_in), state, memory)
        return vectors if features else self.generator(vectors), state, weights

    def forward(
        self, src: torch.Tensor, src_len: torch.Tensor, tgt_in: torch.Tensor,
        features: bool = False,
    ) -> torch.Tensor:
        """Teacher forcing: logits (batch, tgt_len, vocab) for every target position, or
        with `features` the generator's input (batch, tgt_len, out_dim), for
        `loss.linear_cross_entropy`. In training mode `word_dropout` hides random input
        tokens on `word_dropout_side`."""
        p, side = self.config.word_dropout, self.config.word_dropout_side
        if self.training and p > 0:
            if side != "target":
                src = drop_words(src, p)
            if side != "source":
                tgt_in = drop_words(tgt_in, p)
        memory, state = self.encode(src, src_len)
        return self.decode(tgt_in, state, memory, features)[0]

    def step(
        self, prev: torch.Tensor, state: DecoderState, memory: Memory,
    ) -> tuple[torch.Tensor, DecoderState, torch.Tensor]:
        """One search step: prev (batch,) last tokens -> float logits (batch, vocab),
        new state, attention weights (batch, src_len).

        Logits, not log-probabilities: search takes a softmax (several times faster than
        `log_softmax` on CPU) and the log of only the few probabilities it keeps."""
        logits, state, weights = self.decode(prev.unsqueeze(1), state, memory)
        return logits.squeeze(1).float(), state, weights.squeeze(1).float()

    @property
    def device(self) -> torch.device:
        return self.src_embed.weight.device  # embeddings stay float under int8 quantisation

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def target_log_probs(model: nn.Module, batch: Batch) -> torch.Tensor:
    """Teacher-forced log-probability of every target token of `batch`:
    (batch, tgt_len) float32, 0 at padding. `model` is a `Seq2Seq`, an `Ensemble` or a
    DDP wrapper; gradients flow unless the caller disables them."""
    logits = model(batch.src, batch.src_len, batch.tgt_in)  # (batch, tgt_len, vocab)
    log_probs = torch.log_softmax(logits.float(), dim=-1)
    picked = log_probs.gather(2, batch.tgt_out.unsqueeze(2)).squeeze(2)  # (batch, tgt_len)
    return picked.masked_fill(batch.tgt_out == PAD, 0.0)


def drop_words(ids: torch.Tensor, p: float) -> torch.Tensor:
    """Replace each token of ids (batch, len) by UNK with probability p; PAD and BOS stay."""
    drop = (torch.rand(ids.shape, device=ids.device) < p) & (ids > BOS)
    return ids.masked_fill(drop, UNK)
