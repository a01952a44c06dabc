"""Typed, validated configuration: one YAML file -> one frozen `Config`.

Every section is a dataclass; the loader checks each key against the dataclass
fields (unknown keys, missing required keys, wrong types, out-of-range values)
and raises `ConfigError` with a one-line message naming the file and the key.
"""

from __future__ import annotations

import dataclasses
import json
import re
import types
import typing
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml


class ConfigError(ValueError):
    """A configuration problem; the message is one line naming file and key."""


def _positive(default: Any = dataclasses.MISSING) -> Any:
    return field(default=default, metadata={"min": 1})


def _non_negative(default: Any) -> Any:
    return field(default=default, metadata={"min": 0})


def _unit_interval(default: float) -> Any:
    return field(default=default, metadata={"min": 0.0, "max_exclusive": 1.0})


@dataclass(frozen=True)
class DataConfig:
    """Where the parallel corpora are and how they are filtered.

    `train`, `dev` and `test` are path prefixes: the files are
    `{prefix}.{src_lang}` and `{prefix}.{tgt_lang}`, optionally gzipped (`.gz`).
    """

    src_lang: str
    tgt_lang: str
    train: str
    dev: str
    test: str | None = None
    max_len: int = _positive(100)  # subword pieces per side, longer pairs are dropped
    max_ratio: float = field(default=3.0, metadata={"min": 1.0})
    encode_workers: int = _positive(1)
    # sequence-level distillation: a checkpoint whose beam translations of the training
    # sources join the training pairs (each source then comes with its reference and with
    # the translation); made once into train.out_dir/distilled/ (see distill.py). Several
    # checkpoints separated by commas teach as an ensemble (one vocabulary)
    distill_from: str | None = None
    # how many of the teacher's beam translations per source join: the best, or the n best
    # (each source then comes n + 1 times); at most the teacher's beam size
    distill_nbest: int = _positive(1)
    # back-translation: a checkpoint of the opposite direction (target -> source) whose
    # beam translations of the training references join as (translation, reference) pairs,
    # after those of distill_from if both are set (see distill.py)
    back_translate_from: str | None = None


@dataclass(frozen=True)
class TokenizerConfig:
    """SentencePiece model(s) trained by the toolkit on the training data."""

    type: Literal["bpe", "unigram", "char"] = "bpe"
    vocab_size: int = _positive(8000)
    joint: bool = True  # one model for both languages (needed for shared embeddings)
    character_coverage: float = field(default=1.0, metadata={"min": 0.5})
    max_training_sentences: int = _positive(2_000_000)
    # subword regularisation of the training data, re-sampled every epoch: the
    # BPE-dropout probability (bpe) or the sampling smoothing alpha (unigram); 0 = off
    sampling: float = _unit_interval(0.0)


@dataclass(frozen=True)
class ModelConfig:
    """Encoder-decoder architecture; the model is built from this alone."""

    rnn: Literal["gru", "lstm"] = "gru"
    emb_dim: int = _positive(256)
    enc_hidden: int = _positive(256)  # per direction; memory is 2 * enc_hidden wide
    dec_hidden: int = _positive(512)
    enc_layers: int = _positive(1)
    dec_layers: int = _positive(1)
    attention: Literal["bahdanau", "luong_dot", "luong_general"] = "bahdanau"
    attention_dim: int = _positive(256)  # only used by bahdanau
    input_feeding: bool = False
    context_rnn: bool = False  # a second decoder RNN over [RNN output; context], after attention
    # the previous target embedding joins [RNN output; context] in the readout layer ("deep
    # output"), so the word just written bears on the next one without passing the RNN
    readout_embedding: bool = False
    # each decoder position also attends over the decoder's own outputs so far, so a
    # pronoun can look straight back at its noun (the readout reads that context too)
    target_attention: bool = False
    dropout: float = _unit_interval(0.3)
    word_dropout: float = _unit_interval(0.0)  # training: input tokens -> UNK with this prob.
    # which inputs word dropout hides: "source" alone leaves the decoder the whole target
    # history, so it must learn to take e.g. a noun's gender from there
    word_dropout_side: Literal["both", "source", "target"] = "both"
    # each piece's embedding adds vectors for its last 1..N characters, shared with the
    # pieces that end alike (0: off; the output projection uses the piece rows alone)
    piece_endings: int = _non_negative(0)
    tie_output: bool = True  # target embedding matrix == output projection
    share_embeddings: bool = False  # source and target embeddings (needs a joint vocabulary)


@dataclass(frozen=True)
class DecodeConfig:
    """Search settings, used for dev BLEU during training and as CLI defaults."""

    method: Literal["greedy", "beam", "sample"] = "beam"
    beam_size: int = _positive(5)
    alpha: float = _non_negative(0.6)  # GNMT length penalty exponent
    nbest: int = _positive(1)
    max_len_ratio: float = field(default=2.0, metadata={"min": 0.1})
    max_len_extra: int = _non_negative(10)
    temperature: float = field(default=1.0, metadata={"min": 1e-6})
    top_k: int = _non_negative(0)  # 0 = no top-k truncation
    batch_size: int = _positive(64)  # sentences per decoding batch


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation, evaluation and checkpoint policy."""

    out_dir: str
    batch_tokens: int = _positive(4096)  # padded target tokens per batch
    lr: float = field(default=1e-3, metadata={"min": 1e-9})
    warmup_steps: int = _non_negative(0)
    # after warm-up: "plateau" multiplies the lr by plateau_factor when the dev metric
    # stalls; "cosine" decays it along a half cosine towards 0 at the end of the run
    # (max_steps, or max_epochs if fewer). Either way the lr never goes below min_lr.
    lr_schedule: Literal["plateau", "cosine"] = "plateau"
    plateau_factor: float = field(default=0.5, metadata={"min": 0.01, "max_exclusive": 1.0})
    plateau_patience: int = _non_negative(2)  # lr drops after more evals than this w/o gain
    min_lr: float = _non_negative(1e-5)
    clip_norm: float = _non_negative(1.0)  # 0 disables clipping
    label_smoothing: float = _unit_interval(0.1)
    # R-Drop: every batch passes through the model twice (two dropout masks) and
    # rdrop * the mean of KL(p1||p2) and KL(p2||p1), summed over target tokens, joins the
    # mean of the two passes' cross-entropies; 0 = off (one pass per step)
    rdrop: float = _non_negative(0.0)
    # exponential moving average of the weights, updated after every step with this decay
    # (e.g. 0.999: about the last 1,000 steps); dev evaluation, best-step*.pt and best.pt
    # use the average, last.pt keeps both. 0 = off
    ema_decay: float = _unit_interval(0.0)
    max_steps: int = _positive(100_000)
    max_epochs: int = _positive(100)
    eval_every: int = _positive(1000)
    log_every: int = _positive(50)
    eval_metric: Literal["bleu", "loss"] = "bleu"
    dev_decode: Literal["greedy", "beam"] = "greedy"
    early_stopping_patience: int = _non_negative(5)  # stop after this many evals w/o gain; 0: never
    keep_best: int = _positive(3)
    seed: int = 1
    threads: int = _non_negative(0)  # 0 = torch default
    device: Literal["auto", "cpu", "cuda"] = "auto"  # auto: cuda when available
    bf16: bool = False  # bfloat16 autocast of the forward pass (CPUs with AVX512-BF16, GPUs)
    # fine-tuning: a checkpoint whose weights and tokenizers start the run (same model)
    init_from: str | None = None
    # a contrastive suite (TSV, see contrast.py) of training pairs: each step adds, for
    # each of contrastive_rows random rows, contrastive_weight * -log sigmoid(log
    # P(correct) - log P(contrastive)) to the token-summed translation loss (a row weighs
    # as much as contrastive_weight target tokens)
    contrastive: str | None = None
    contrastive_weight: float = _non_negative(10.0)
    contrastive_rows: int = _positive(32)


@dataclass(frozen=True)
class Config:
    """The whole configuration of one experiment."""

    data: DataConfig
    train: TrainConfig
    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    decode: DecodeConfig = field(default_factory=DecodeConfig)
    name: str = "experiment"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def load_config(path: str | Path, overrides: Sequence[str] = ()) -> Config:
    """Read and validate a YAML config file; raise `ConfigError` on any problem.

    `overrides` are `section.key=value` strings (value in YAML syntax) applied
    on top of the file, e.g. `train.max_steps=100`.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, expected a YAML file") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text (byte {e.start})") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError(f"{path}: {where}invalid YAML: {problem}") from None
    for override in overrides:
        _apply_override(raw, override, str(path))
    return config_from_dict(raw, source=str(path))


def _apply_override(raw: Any, override: str, source: str) -> None:
    key, sep, value = override.partition("=")
    parts = key.strip().split(".")
    if not sep or not all(parts):
        raise ConfigError(f"{source}: override {override!r} must look like section.key=value")
    if not isinstance(raw, dict):
        return  # the top-level error is reported by config_from_dict
    target = raw
    for part in parts[:-1]:
        target = target.setdefault(part, {})
        if not isinstance(target, dict):
            raise ConfigError(f"{source}: override {override!r}: '{part}' is not a section")
    try:
        target[parts[-1]] = yaml.safe_load(value)
    except yaml.YAMLError:
        raise ConfigError(f"{source}: override {override!r}: value is not valid YAML") from None


def config_from_dict(raw: Any, source: str = "<config>") -> Config:
    """Build a validated `Config` from plain data (e.g. the copy in a checkpoint)."""
    config = _build(Config, raw, source, prefix="")
    _check_consistency(config, source)
    return config


def _build(cls: type, raw: Any, source: str, prefix: str) -> Any:
    if not isinstance(raw, dict):
        what = prefix.rstrip(".") or "top level"
        raise ConfigError(f"{source}: {what}: expected a mapping, got {_describe(raw)}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in raw:
        if key not in fields:
            known = ", ".join(fields)
            raise ConfigError(f"{source}: unknown key '{prefix}{key}' (known: {known})")
    hints = typing.get_type_hints(cls)
    values = {}
    for name, f in fields.items():
        key = f"{prefix}{name}"
        if name not in raw:
            no_default = f.default is dataclasses.MISSING
            if no_default and f.default_factory is dataclasses.MISSING:
                raise ConfigError(f"{source}: missing required key '{key}'")
            continue
        values[name] = _convert(hints[name], raw[name], source, key)
        _check_range(f, values[name], source, key)
    return cls(**values)


# YAML 1.1 (PyYAML) reads 1e-4 as a string: a float needs a dot before the exponent
_EXPONENT_WITHOUT_DOT = re.compile(r"[-+]?[0-9]+[eE][-+]?[0-9]+")


def _convert(hint: Any, value: Any, source: str, key: str) -> Any:
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, source, prefix=f"{key}.")
    origin = typing.get_origin(hint)
    if origin is Literal:
        choices = typing.get_args(hint)
        if value not in choices:
            options = ", ".join(map(str, choices))
            raise ConfigError(f"{source}: '{key}' must be one of {options}, got {value!r}")
        return value
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        if value is None and type(None) in args:
            return None
        (hint,) = [a for a in args if a is not type(None)]
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is float and isinstance(value, str) and _EXPONENT_WITHOUT_DOT.fullmatch(value):
        return float(value)
    if hint is bool and not isinstance(value, bool):
        raise ConfigError(f"{source}: '{key}' must be true or false, got {_describe(value)}")
    if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
        raise ConfigError(f"{source}: '{key}' must be {hint.__name__}, got {_describe(value)}")
    return value


def _check_range(f: dataclasses.Field, value: Any, source: str, key: str) -> None:
    low, high = f.metadata.get("min"), f.metadata.get("max_exclusive")
    if value is None:
        return
    if low is not None and value < low:
        raise ConfigError(f"{source}: '{key}' must be >= {low}, got {value}")
    if high is not None and value >= high:
        raise ConfigError(f"{source}: '{key}' must be < {high}, got {value}")


def _check_consistency(config: Config, source: str) -> None:
    model, tokenizer = config.model, config.tokenizer
    if model.share_embeddings and not tokenizer.joint:
        raise ConfigError(f"{source}: 'model.share_embeddings' needs 'tokenizer.joint: true'")
    if tokenizer.sampling > 0 and tokenizer.type == "char":
        raise ConfigError(f"{source}: 'tokenizer.sampling' needs type bpe or unigram "
                          "(a char model has one segmentation)")
    if model.attention == "luong_dot" and model.dec_hidden != 2 * model.enc_hidden:
        raise ConfigError(
            f"{source}: 'model.attention: luong_dot' needs model.dec_hidden == 2 * enc_hidden "
            f"(got {model.dec_hidden} and {model.enc_hidden})"
        )
    decode = config.decode
    if decode.method == "beam" and decode.nbest > decode.beam_size:
        raise ConfigError(f"{source}: 'decode.nbest' ({decode.nbest}) must not exceed "
                          f"'decode.beam_size' ({decode.beam_size})")
    if config.data.distill_nbest > 1 and not config.data.distill_from:
        raise ConfigError(f"{source}: 'data.distill_nbest' needs 'data.distill_from' "
                          "(the teacher whose translations it counts)")
    if config.data.src_lang == config.data.tgt_lang:
        raise ConfigError(f"{source}: 'data.src_lang' and 'data.tgt_lang' are both "
                          f"'{config.data.src_lang}'")


def describe_differences(
    before: Mapping[str, Any], after: Mapping[str, Any], allowed: Collection[str] = (),
) -> list[str]:
    """'key (before -> after)' for each key, not in `allowed`, whose value differs
    (a missing key counts as None): one wording for every settings comparison."""
    return [f"{key} ({before.get(key)!r} -> {after.get(key)!r})"
            for key in sorted(before.keys() | after.keys())
            if before.get(key) != after.get(key) and key not in allowed]


def read_record(path: Path) -> dict:
    """A JSON record of the settings a directory's files were made with (e.g.
    `tokenizer.json`); `ConfigError` naming the file if it cannot be read."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConfigError(f"{path}: unreadable ({getattr(e, 'strerror', None) or e})") from None


def _describe(value: Any) -> str:
    return f"{type(value).__name__} {value!r}" if value is not None else "nothing (null)"
