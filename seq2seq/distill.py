"""Synthetic training pairs from trained models, as data:
- sequence-level knowledge distillation (Kim & Rush, 2016, `data.distill_from`): a model's
  beam translations of the training sources, each paired with its source;
- back-translation of the training targets (`data.back_translate_from`): a model of the
  opposite direction beam-translates every reference into the source language, and the
  translation is paired with the reference. With distillation this is the "data
  diversification" of Nguyen et al. (2020): both sides of every pair get a second version.
Either model may be an ensemble: several checkpoints with one vocabulary, separated by
commas, whose next-piece probabilities are averaged while searching (`Ensemble`).

The corpus is the training pairs, then the (source, translation) pairs (n times with the
teacher's n best, `data.distill_nbest`: first all the best ones, then all the second best,
...), then the (back-translation, reference) pairs. It is written once into
`train.out_dir/distilled/` and reused by later runs in that directory (a resumed run
trains on the same pairs).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from seq2seq.atomic import write_bytes_atomic
from seq2seq.config import Config, ConfigError, describe_differences, read_record
from seq2seq.corpus import read_parallel
from seq2seq.translate import Translator


def make_distilled_corpus(config: Config, src_path: Path, tgt_path: Path,
                          log: Callable[[str], None] = print) -> tuple[Path, Path]:
    """Add the `data.distill_from` model's beam translations of the training sources
    (`src_path`, references in `tgt_path`) and the `data.back_translate_from` model's of
    the references, whichever are set, and write the corpus, unless it is already there.
    `ConfigError` if the one there was made from other models or another corpus, or if a
    model translates another pair of languages."""
    data = config.data
    directory = Path(config.train.out_dir) / "distilled"
    paths = directory / f"train.{data.src_lang}.gz", directory / f"train.{data.tgt_lang}.gz"
    record_path = directory / "distilled.json"
    record = {"distill_from": data.distill_from, "source": str(src_path), "target": str(tgt_path)}
    # recorded only when set, so older corpora stay valid
    if data.distill_nbest > 1:
        record["nbest"] = data.distill_nbest
    if data.back_translate_from:
        record["back_translate_from"] = data.back_translate_from
    if record_path.exists():
        _check_record(record_path, record)
        return paths
    pairs = list(read_parallel(src_path, tgt_path))
    sources, references = [s for s, _ in pairs], [t for _, t in pairs]
    src_lines, tgt_lines = list(sources), list(references)
    if data.distill_from:
        translations = _translate(config, "distill_from", sources, src_path, data.distill_nbest,
                                  log)
        src_lines += sources * data.distill_nbest
        tgt_lines += translations
    if data.back_translate_from:
        src_lines += _translate(config, "back_translate_from", references, tgt_path, 1, log)
        tgt_lines += references
    directory.mkdir(parents=True, exist_ok=True)
    for path, lines in zip(paths, (src_lines, tgt_lines)):
        write_bytes_atomic(path, gzip.compress("".join(f"{line}\n" for line in lines).encode()))
    write_bytes_atomic(record_path, json.dumps(record, indent=1).encode())  # last: complete
    return paths


def _translate(config: Config, key: str, lines: list[str], path: Path, nbest: int,
               log: Callable[[str], None]) -> list[str]:
    """Beam translations of `lines` (read from `path`) by the model or ensemble in
    `data.<key>`, with the first checkpoint's decode settings: all the best ones, then
    all the second best, ... up to `nbest`. `ConfigError` unless the model translates
    the way `key` needs (distill_from: source to target; back_translate_from: target to
    source); an ensemble's checkpoints must agree on it (`CheckpointError`)."""
    data = config.data
    checkpoints = getattr(data, key).split(",")
    languages = (data.src_lang, data.tgt_lang)
    wanted = languages if key == "distill_from" else languages[::-1]
    model = Translator.from_checkpoint(checkpoints, method="beam", bf16=config.train.bf16)
    if model.languages != wanted:
        raise ConfigError(f"{getattr(data, key)}: translates {'->'.join(model.languages)}, "
                          f"but data.{key} needs a {'->'.join(wanted)} model")
    if nbest > model.decode.beam_size:
        raise ConfigError(f"data.distill_nbest is {nbest}, more than the beam size of "
                          f"{checkpoints[0]} ({model.decode.beam_size})")
    model.decode = replace(model.decode, nbest=nbest)
    who = " + ".join(checkpoints) + (" (ensemble)" if len(checkpoints) > 1 else "")
    verb = "distilling" if key == "distill_from" else "back-translating"
    log(f"{verb}: {who} translates {len(lines):,} lines of {path}"
        + (f", {nbest} best each" if nbest > 1 else ""))
    found = model.translate_full(lines)
    # the k-th best of every line, or its last one if the search found fewer
    return [found_for[min(k, len(found_for) - 1)].text
            for k in range(nbest) for found_for in found]


def _check_record(path: Path, record: dict) -> None:
    differ = describe_differences(read_record(path), record)
    if differ:
        raise ConfigError(f"{path}: the distilled corpus in {path.parent} was made otherwise "
                          f"({'; '.join(differ)}); use another train.out_dir")
