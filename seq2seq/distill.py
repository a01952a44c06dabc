"""Sequence-level knowledge distillation (Kim & Rush, 2016) as data: a trained model's
beam translations of the training sources join the training corpus (`data.distill_from`).
The teacher may be an ensemble: several checkpoints with one vocabulary, separated by
commas, whose next-piece probabilities are averaged while searching (`Ensemble`).

The distilled corpus is the training corpus twice over, (source, reference) pairs and then
(source, translation) pairs, or n + 1 times with the teacher's n best translations
(`data.distill_nbest`: first all the best ones, then all the second best, ...). It is
written once into `train.out_dir/distilled/` and reused by later runs in that directory
(a resumed run trains on the same pairs).
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
    """Translate the training sources (`src_path`, references in `tgt_path`) with the
    `data.distill_from` model or ensemble (beam search, the first model's decode settings)
    and write the distilled corpus, unless it is already there. `ConfigError` if the one
    there was made from another model or corpus."""
    data = config.data
    directory = Path(config.train.out_dir) / "distilled"
    paths = directory / f"train.{data.src_lang}.gz", directory / f"train.{data.tgt_lang}.gz"
    record_path = directory / "distilled.json"
    record = {"distill_from": data.distill_from, "source": str(src_path), "target": str(tgt_path)}
    if data.distill_nbest > 1:  # recorded only when set, so older corpora stay valid
        record["nbest"] = data.distill_nbest
    if record_path.exists():
        _check_record(record_path, record)
        return paths
    pairs = list(read_parallel(src_path, tgt_path))
    sources, references = [s for s, _ in pairs], [t for _, t in pairs]
    checkpoints = data.distill_from.split(",")
    nbest = data.distill_nbest
    teacher = Translator.from_checkpoint(checkpoints, method="beam", bf16=config.train.bf16)
    if nbest > teacher.decode.beam_size:
        raise ConfigError(f"data.distill_nbest is {nbest}, more than the beam size of "
                          f"{checkpoints[0]} ({teacher.decode.beam_size})")
    teacher.decode = replace(teacher.decode, nbest=nbest)
    who = " + ".join(checkpoints) + (" (ensemble)" if len(checkpoints) > 1 else "")
    log(f"distilling: {who} translates {len(sources):,} lines of {src_path}"
        + (f", {nbest} best each" if nbest > 1 else ""))
    found = teacher.translate_full(sources)
    # the k-th best of every source, or its last one if the search found fewer
    translations = [found_for[min(k, len(found_for) - 1)].text
                    for k in range(nbest) for found_for in found]
    directory.mkdir(parents=True, exist_ok=True)
    for path, lines in zip(paths, (sources * (nbest + 1), references + translations)):
        write_bytes_atomic(path, gzip.compress("".join(f"{line}\n" for line in lines).encode()))
    write_bytes_atomic(record_path, json.dumps(record, indent=1).encode())  # last: complete
    return paths


def _check_record(path: Path, record: dict) -> None:
    differ = describe_differences(read_record(path), record)
    if differ:
        raise ConfigError(f"{path}: the distilled corpus in {path.parent} was made otherwise "
                          f"({'; '.join(differ)}); use another train.out_dir")
