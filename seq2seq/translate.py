"""`Translator`: a checkpoint's model and tokenizers behind text in, text out.

It batches sentences by length, searches, and restores the input order; a line
of no pieces (empty, or only characters SentencePiece normalises away) gives an
empty translation. `score` is forced decoding: the model's log-probability of
given targets.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

import torch

from seq2seq.batching import make_batch, pad_sequences
from seq2seq.checkpoint import CheckpointError, load_checkpoint
from seq2seq.config import Config, ConfigError, DecodeConfig, config_from_dict
from seq2seq.distributed import device as resolve_device
from seq2seq.model import Seq2Seq, target_log_probs
from seq2seq.model.ensemble import Ensemble
from seq2seq.search import Hypothesis, search
from seq2seq.tokenizer import EOS, PAD, Tokenizer

T = TypeVar("T")


@dataclass
class Translation:
    """One output of `Translator.translate_full`."""

    text: str
    score: float
    normalized_score: float
    src_pieces: list[str]
    tgt_pieces: list[str]
    attention: torch.Tensor | None  # (len(tgt_pieces) + 1, len(src_pieces)), last row EOS


@dataclass
class ForcedScore:
    """Log-probability of a given target under the model (natural log)."""

    total: float
    tokens: int  # target pieces + EOS
    per_token: list[float]

    @property
    def normalized(self) -> float:
        return self.total / self.tokens


def quantize_int8(model: Seq2Seq) -> Seq2Seq:
    """Dynamic int8 quantisation of Linear and GRU/LSTM weights (activations stay float).

    On CPUs with AMX tiles the oneDNN engine runs int8 matmuls several times faster than
    the default (fbgemm), so it is selected for the whole process (quantised weights are
    packed for, and must run on, the engine that was current when they were packed).
    torch marks `torch.ao.quantization` deprecated in favour of torchao, but it still
    ships and works in torch 2.13; its deprecation warnings are kept off the user's screen.
    """
    if _has_amx() and "onednn" in torch.backends.quantized.supported_engines:
        torch.backends.quantized.engine = "onednn"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        qconfig = torch.ao.quantization.default_dynamic_qconfig
        return torch.ao.quantization.quantize_dynamic(
            model, {name: qconfig for name in _int8_modules(model)}, dtype=torch.qint8,
        )


def _load_model(payload: dict, config: Config, tokenizers: tuple[Tokenizer, Tokenizer],
                int8: bool, device: str, bf16: bool) -> Seq2Seq:
    """The checkpoint's model, in eval mode, quantised to int8 or cast to bf16 if asked.
    int8 runs on the CPU only: device auto then means cpu, and cuda is an error."""
    if int8 and bf16:
        raise ValueError("choose int8 or bf16 decoding, not both")
    if int8 and device == "cuda":
        raise ConfigError("int8 decoding runs on the CPU only, not on device cuda")
    model = Seq2Seq.for_tokenizers(config.model, *tokenizers)
    model.load_state_dict(payload["model"])
    if int8:
        return quantize_int8(model.eval())
    return model.to(resolve_device(device), torch.bfloat16 if bf16 else torch.float32).eval()


def _languages(config: Config) -> tuple[str, str]:
    return config.data.src_lang, config.data.tgt_lang


def _decode_config(config: Config, overrides: dict[str, Any]) -> DecodeConfig:
    """`config`'s search settings with `overrides` (None = keep), validated as a config
    file's are."""
    raw = config.to_dict()
    raw["decode"].update({k: v for k, v in overrides.items() if v is not None})
    return config_from_dict(raw, source="decoding options").decode


def _int8_modules(model: Seq2Seq) -> list[str]:
    """Names of the Linear and RNN modules worth quantising: all but one-column Linears
    (Bahdanau's energy layer). Dynamic quantisation quantises a layer's input on every
    call; for a one-column output that costs more than the int8 matmul saves, and the
    energy layer's input is the (rows, src_len, attention_dim) activations of every step
    (beam search ~1.15x faster without it)."""
    kinds = (torch.nn.Linear, torch.nn.GRU, torch.nn.LSTM)
    return [name for name, module in model.named_modules() if isinstance(module, kinds)
            and not (isinstance(module, torch.nn.Linear) and module.out_features == 1)]


def _has_amx() -> bool:
    probe = getattr(torch.cpu, "_is_amx_tile_supported", None)  # private, so probed
    return bool(probe and probe())


def _in_length_batches(
    indices: Iterable[int], length: Callable[[int], int], batch_size: int,
    run: Callable[[list[int]], list[T]],
) -> dict[int, T]:
    """`run` over batches of `indices` sorted by `length` (little padding); results
    keyed by index, so callers restore their own order."""
    order = sorted(indices, key=length)
    results: dict[int, T] = {}
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        results.update(zip(chunk, run(chunk)))
    return results


class Translator:
    """Translate and score text with one model (or an `Ensemble` of models)."""

    def __init__(self, model: Seq2Seq | Ensemble, src_tok: Tokenizer, tgt_tok: Tokenizer,
                 decode: DecodeConfig, languages: tuple[str, str] | None = None) -> None:
        self.model = model.eval()
        self.src_tok, self.tgt_tok, self.decode = src_tok, tgt_tok, decode
        self.languages = languages  # (source, target) language codes, when known

    @classmethod
    def from_checkpoint(cls, path: str | Path | Sequence[str | Path], int8: bool = False,
                        device: str = "cpu", bf16: bool = False, **decode_overrides: Any
                        ) -> Translator:
        """Everything needed comes from the checkpoint; overrides change search settings.
        Several checkpoints with the same tokenizers and direction decode as an ensemble,
        with the first one's search settings. `int8` quantises Linear and RNN weights for
        faster CPU decoding; `bf16` casts the model to bfloat16 (scores stay float32);
        `device` is cpu, cuda or auto."""
        paths = [path] if isinstance(path, (str, Path)) else list(path)
        payloads = [load_checkpoint(p) for p in paths]
        configs = [config_from_dict(payload["config"], source=f"{p} (stored config)")
                   for p, payload in zip(paths, payloads)]
        for other, payload, config in zip(paths[1:], payloads[1:], configs[1:]):
            if payload["tokenizers"] != payloads[0]["tokenizers"]:
                raise CheckpointError(f"{other}: tokenizers differ from {paths[0]}'s; an "
                                      "ensemble needs one vocabulary")
            if _languages(config) != _languages(configs[0]):
                raise CheckpointError(f"{other}: translates {'->'.join(_languages(config))}, "
                                      f"{paths[0]} {'->'.join(_languages(configs[0]))}; an "
                                      "ensemble needs one direction")
        return cls._from_payloads(payloads, configs, int8, device, bf16, decode_overrides)

    @classmethod
    def from_payload(cls, payload: dict, config: Config, int8: bool = False,
                     device: str = "cpu", bf16: bool = False, **decode_overrides: Any
                     ) -> Translator:
        return cls._from_payloads([payload], [config], int8, device, bf16, decode_overrides)

    @classmethod
    def _from_payloads(cls, payloads: list[dict], configs: list[Config], int8: bool,
                       device: str, bf16: bool, decode_overrides: dict[str, Any]
                       ) -> Translator:
        """One model, or an `Ensemble` of several, with the first payload's tokenizers
        (shared by all) and search settings."""
        src_tok = Tokenizer(payloads[0]["tokenizers"]["src"])
        tgt_tok = Tokenizer(payloads[0]["tokenizers"]["tgt"])
        decode = _decode_config(configs[0], decode_overrides)  # checked before the models load
        members = [_load_model(payload, config, (src_tok, tgt_tok), int8, device, bf16)
                   for payload, config in zip(payloads, configs)]
        model = members[0] if len(members) == 1 else Ensemble(members)
        return cls(model, src_tok, tgt_tok, decode, _languages(configs[0]))

    def search_ids(self, sources: list[list[int]], return_attention: bool = False
                   ) -> list[list[Hypothesis]]:
        """Search every source id sequence; empty ones get one empty hypothesis."""
        d = self.decode

        def run(chunk: list[int]) -> list[list[Hypothesis]]:
            src, src_len = pad_sequences([sources[i] for i in chunk])
            src, src_len = src.to(self.model.device), src_len.to(self.model.device)
            return search(
                self.model, src, src_len, d.method, beam_size=d.beam_size, alpha=d.alpha,
                nbest=d.nbest, max_len_ratio=d.max_len_ratio, max_len_extra=d.max_len_extra,
                temperature=d.temperature, top_k=d.top_k, return_attention=return_attention,
            )

        non_empty = [i for i, s in enumerate(sources) if len(s)]
        found = _in_length_batches(non_empty, lambda i: len(sources[i]), d.batch_size, run)
        return [found.get(i, [Hypothesis([], 0.0, 0.0)]) for i in range(len(sources))]

    def translate(self, lines: list[str]) -> list[str]:
        """Best translation of each line, detokenised."""
        return [nbest[0].text for nbest in self.translate_full(lines)]

    def translate_full(self, lines: list[str], return_attention: bool = False
                       ) -> list[list[Translation]]:
        """n-best translations with scores, pieces and (optionally) attention."""
        sources = self.src_tok.encode_batch([line.strip() for line in lines])
        hyps = self.search_ids(sources, return_attention)
        return [[self._translation(src, h) for h in nbest] for src, nbest in zip(sources, hyps)]

    def _translation(self, src: list[int], hyp: Hypothesis) -> Translation:
        attention = None if hyp.attention is None else hyp.attention[:, :len(src)].cpu()
        return Translation(
            self.tgt_tok.decode(hyp.tokens), hyp.score, hyp.normalized_score,
            self.src_tok.pieces(src), self.tgt_tok.pieces(hyp.tokens), attention,
        )

    def translate_stream(self, lines: Iterable[str], chunk: int = 1000,
                         return_attention: bool = False) -> Iterator[list[Translation]]:
        """Translate an unbounded stream in chunks; memory stays bounded."""
        lines = iter(lines)
        while block := list(islice(lines, chunk)):
            yield from self.translate_full(block, return_attention)

    def score(self, sources: list[str], targets: list[str]) -> list[ForcedScore]:
        """Forced decoding: log P(target | source) for each pair, batched by length."""
        return self.score_ids(self.src_tok.encode_batch([s.strip() for s in sources]),
                              self.tgt_tok.encode_batch([t.strip() for t in targets]))

    @torch.no_grad()
    def score_ids(self, src_ids: list[list[int]], tgt_ids: list[list[int]]
                  ) -> list[ForcedScore]:
        """`score` of pairs already encoded into piece ids."""
        if len(src_ids) != len(tgt_ids):
            raise ValueError(f"{len(src_ids)} sources but {len(tgt_ids)} targets")
        scores = _in_length_batches(
            range(len(src_ids)), lambda i: len(src_ids[i]), self.decode.batch_size,
            lambda chunk: self._score_batch([src_ids[i] for i in chunk],
                                            [tgt_ids[i] for i in chunk]),
        )
        return [scores[i] for i in range(len(src_ids))]

    def _score_batch(self, sources: list[list[int]], targets: list[list[int]]
                     ) -> list[ForcedScore]:
        batch = make_batch([s or [EOS] for s in sources], targets)  # empty source: lone EOS
        picked = target_log_probs(self.model, batch.to(self.model.device))  # (b, tgt_len)
        lengths = (batch.tgt_out != PAD).sum(1).tolist()
        return [ForcedScore(float(row[:n].sum()), int(n), row[:n].tolist())
                for row, n in zip(picked, lengths)]
