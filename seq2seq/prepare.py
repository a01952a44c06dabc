"""Data preparation for an experiment: SentencePiece models and encoded corpora.

Everything lands in `train.out_dir`: `tokenizer.{src,tgt}.model`, `tokenizer.json`
(the settings they were made with) and `cache/{train,dev}/` (see `corpus.py`). A second
run reuses them, and refuses tokenizers made with other settings than its config's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from itertools import chain
from pathlib import Path

from seq2seq.atomic import write_bytes_atomic
from seq2seq.checkpoint import load_checkpoint
from seq2seq.config import Config, ConfigError, DataConfig, describe_differences, read_record
from seq2seq.corpus import (
    CorpusError,
    EncodedCorpus,
    FilterRule,
    Sampling,
    corpus_path,
    encode_corpus,
    read_parallel,
    sample_corpus,
)
from seq2seq.distill import make_distilled_corpus
from seq2seq.tokenizer import Tokenizer, TokenizerError, train_tokenizer


@dataclass
class PreparedData:
    """Tokenizers, encoded train/dev corpora, and the dev text for BLEU."""

    src_tok: Tokenizer
    tgt_tok: Tokenizer
    train: EncodedCorpus
    dev: EncodedCorpus
    dev_sources: list[str]
    dev_references: list[str]


def prepare(config: Config, log: Callable[[str], None] = print) -> PreparedData:
    """Train or load the tokenizers, then encode or load the train and dev corpora."""
    data, out = config.data, Path(config.train.out_dir)
    make_out_dir(out)
    train_src, train_tgt = _train_files(config, log)
    dev_src, dev_tgt = _files(data.dev, data)
    src_tok, tgt_tok = load_or_train_tokenizers(config, train_src, train_tgt, out, log)
    train = encode_corpus(train_src, train_tgt, src_tok, tgt_tok, _train_filter(data),
                          out / "cache" / "train", workers=data.encode_workers)
    log(f"train {train_src} -> {train_tgt}: {train.stats.summary()}")
    dev_rule = FilterRule()
    dev = encode_corpus(dev_src, dev_tgt, src_tok, tgt_tok, dev_rule, out / "cache" / "dev")
    log(f"dev {dev_src} -> {dev_tgt}: {dev.stats.summary()}")
    # dev BLEU is on the pairs the dev loss sees (the same rule drops the same pairs)
    dev_pairs = [(s, t) for s, t in read_parallel(dev_src, dev_tgt)
                 if not dev_rule.reason_to_drop(s, t, src_tok.encode(s), tgt_tok.encode(t))]
    return PreparedData(src_tok, tgt_tok, train, dev,
                        [s for s, _ in dev_pairs], [t for _, t in dev_pairs])


def sampled_train(config: Config, data: PreparedData, epoch: int) -> EncodedCorpus:
    """The training corpus with its subwords sampled afresh for `epoch`
    (`tokenizer.sampling`); a pure function of the config, so a resumed run gets the
    same epoch again."""
    d = config.data
    return sample_corpus(
        *_train_files(config), data.src_tok, data.tgt_tok, _train_filter(d),
        Sampling(config.tokenizer.sampling, config.train.seed, epoch), workers=d.encode_workers,
    )


def _train_files(config: Config, log: Callable[[str], None] = print) -> tuple[Path, Path]:
    """The training corpus: `data.train`, or that with synthetic pairs (`distill.py`)."""
    data = config.data
    files = _files(data.train, data)
    synthetic = data.distill_from or data.back_translate_from
    return make_distilled_corpus(config, *files, log) if synthetic else files


def _files(prefix: str, data: DataConfig) -> tuple[Path, Path]:
    """The source and target files of corpus `prefix`."""
    return corpus_path(prefix, data.src_lang), corpus_path(prefix, data.tgt_lang)


def _train_filter(data: DataConfig) -> FilterRule:
    return FilterRule(data.max_len, data.max_ratio)


def make_out_dir(out: Path) -> None:
    """Create `train.out_dir` and its parents; `ConfigError` if that is impossible."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"{out}: cannot create train.out_dir ({e.strerror or e})") from None


def load_or_train_tokenizers(
    config: Config, train_src: Path, train_tgt: Path, out: Path, log: Callable[[str], None] = print,
) -> tuple[Tokenizer, Tokenizer]:
    """SentencePiece model(s) from `out`, else those of the `train.init_from` checkpoint,
    else trained on the training corpus; written to `out` for the next run, with the
    settings they were made with (`tokenizer.json`), which a later run must share."""
    paths = out / "tokenizer.src.model", out / "tokenizer.tgt.model"
    record_path, record = out / "tokenizer.json", tokenizer_record(config)
    if all(p.exists() for p in paths):
        _check_record(record_path, record)
        return Tokenizer(paths[0].read_bytes()), Tokenizer(paths[1].read_bytes())
    if config.train.init_from:
        tokenizers = load_checkpoint(config.train.init_from)["tokenizers"]
        src_tok, tgt_tok = Tokenizer(tokenizers["src"]), Tokenizer(tokenizers["tgt"])
        log(f"tokenizers from {config.train.init_from}")
    else:
        src_tok, tgt_tok = _train_tokenizers(config, train_src, train_tgt, log)
    for path, tok in zip(paths, (src_tok, tgt_tok)):
        write_bytes_atomic(path, tok.model_bytes)
    write_bytes_atomic(record_path, json.dumps(record, indent=1).encode())
    return src_tok, tgt_tok


def tokenizer_record(config: Config) -> dict:
    """What the tokenizers depend on: the tokenizer settings (sampling only changes how
    training data is segmented, not the models), or the checkpoint they come from."""
    if config.train.init_from:
        return {"init_from": config.train.init_from}
    settings = asdict(config.tokenizer)
    del settings["sampling"]
    return settings


def _check_record(path: Path, record: dict) -> None:
    """`ConfigError` if the tokenizers in `path`'s directory were made otherwise than
    `record` says (an out_dir from before `tokenizer.json` existed is taken as it is)."""
    if not path.exists():
        return
    made_with = read_record(path)
    if ("init_from" in made_with) != ("init_from" in record):
        differ = [f"from {_origin(made_with)} there, from {_origin(record)} in the config"]
    else:
        differ = describe_differences(made_with, record)
    if differ:
        raise ConfigError(f"{path}: the tokenizers in {path.parent} were made with other "
                          f"settings ({'; '.join(differ)}); use another train.out_dir")


def _origin(record: dict) -> str:
    return f"checkpoint {record['init_from']}" if "init_from" in record else "training"


def _train_tokenizers(config: Config, train_src: Path, train_tgt: Path, log: Callable[[str], None]
                      ) -> tuple[Tokenizer, Tokenizer]:
    cfg = config.tokenizer
    pairs = lambda: read_parallel(train_src, train_tgt)  # noqa: E731 (re-readable stream)
    try:
        if cfg.joint:
            joint = train_tokenizer(_both_sides(pairs()), cfg)
            src_tok = tgt_tok = joint
        else:
            src_tok = train_tokenizer((s for s, _ in pairs()), cfg)
            tgt_tok = train_tokenizer((t for _, t in pairs()), cfg)
    except TokenizerError as e:
        raise CorpusError(f"{train_src}, {train_tgt}: {e}") from None
    log(f"trained {cfg.type} SentencePiece ({'joint' if cfg.joint else 'separate'}): "
        f"{len(src_tok)} source / {len(tgt_tok)} target pieces")
    return src_tok, tgt_tok


def _both_sides(pairs: Iterator[tuple[str, str]]) -> Iterator[str]:
    return chain.from_iterable(pairs)
