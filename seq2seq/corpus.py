"""Parallel corpora: reading, validation, filtering, and the encoded cache on disk.

A corpus is encoded once into flat token arrays plus offsets (`EncodedCorpus`)
and stored under a cache directory; later runs memory-map the arrays, so start-up
time and resident memory do not grow with the corpus beyond the offsets index.
With subword regularisation the training corpus is instead re-encoded in memory every
epoch with sampled segmentations (`sample_corpus`).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import zlib
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from itertools import chain, islice, zip_longest
from pathlib import Path
from typing import BinaryIO

import numpy as np

from seq2seq.tokenizer import Tokenizer, seed_sampling

CACHE_FORMAT = 2  # 2: pairs with a side of no pieces are dropped
CHUNK_LINES = 10_000  # pairs encoded at once; bounds preparation memory (~30 MB a chunk)
NPY_HEADER = 128  # bytes of the .npy header of a 1-D int64 array of any length


class CorpusError(ValueError):
    """A problem with a corpus file; the message names the file (and line)."""


def corpus_path(prefix: str, lang: str) -> Path:
    """`{prefix}.{lang}` or `{prefix}.{lang}.gz`, whichever exists."""
    for candidate in (Path(f"{prefix}.{lang}"), Path(f"{prefix}.{lang}.gz")):
        if candidate.is_dir():
            raise CorpusError(f"{candidate}: is a directory, expected a text file")
        if candidate.exists():
            return candidate
    raise CorpusError(f"{prefix}.{lang}: file not found (also tried {prefix}.{lang}.gz)")


def read_lines(path: str | Path) -> Iterator[str]:
    """Lines of a plain or gzip UTF-8 file without line endings (LF or CRLF)."""
    path = Path(path)
    if path.is_dir():
        raise CorpusError(f"{path}: is a directory, expected a text file")
    try:
        handle = gzip.open(path, "rb") if _is_gzip(path) else open(path, "rb")
    except OSError as e:
        raise CorpusError(f"{path}: cannot open ({e.strerror or e})") from None
    with handle:
        yield from read_stream(handle, str(path))


def read_stream(handle: BinaryIO, name: str) -> Iterator[str]:
    """Decoded lines of an open binary stream; errors name `name` and the line."""
    number = 0
    try:
        for number, raw in enumerate(handle, start=1):  # noqa: B007 (used after the loop)
            yield _decode_line(raw, name, number)
    except (OSError, EOFError, zlib.error) as e:  # zlib.error: a corrupt .gz body
        raise CorpusError(f"{name}: line {number + 1}: unreadable ({e})") from None


def _decode_line(raw: bytes, path: str, number: int) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CorpusError(
            f"{path}: line {number}: invalid UTF-8 (byte 0x{raw[e.start]:02x} at column "
            f"{e.start + 1})"
        ) from None
    return text.rstrip("\n").rstrip("\r")


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def read_parallel(src_path: Path, tgt_path: Path) -> Iterator[tuple[str, str]]:
    """Aligned (source, target) lines; raises if the files differ in length."""
    missing = object()
    lines = zip_longest(read_lines(src_path), read_lines(tgt_path), fillvalue=missing)
    for number, (src, tgt) in enumerate(lines, start=1):
        if src is missing or tgt is missing:
            short, long_ = (src_path, tgt_path) if src is missing else (tgt_path, src_path)
            raise CorpusError(
                f"{short}: has {number - 1} lines but {long_} has more "
                f"(line {number}); parallel files must be line-aligned"
            )
        yield src, tgt


@dataclass
class FilterStats:
    """How many pairs were read, kept, and dropped for which reason."""

    read: int = 0
    kept: int = 0
    dropped: dict[str, int] = field(default_factory=dict)

    def drop(self, reason: str) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + 1

    def merge(self, other: FilterStats) -> None:
        self.read += other.read
        self.kept += other.kept
        for reason, count in other.dropped.items():
            self.dropped[reason] = self.dropped.get(reason, 0) + count

    def summary(self) -> str:
        reasons = ", ".join(f"{n} {r}" for r, n in sorted(self.dropped.items())) or "none"
        return f"{self.kept:,} of {self.read:,} pairs kept; dropped: {reasons}"


@dataclass
class EncodedCorpus:
    """Token ids of a parallel corpus: flat arrays plus offsets, one pair per index."""

    src_tokens: np.ndarray  # (total_src_tokens,)
    src_offsets: np.ndarray  # (pairs + 1,) int64
    tgt_tokens: np.ndarray  # (total_tgt_tokens,)
    tgt_offsets: np.ndarray  # (pairs + 1,) int64
    stats: FilterStats = field(default_factory=FilterStats)

    def __len__(self) -> int:
        return len(self.src_offsets) - 1

    def src(self, i: int) -> np.ndarray:
        return self.src_tokens[self.src_offsets[i]:self.src_offsets[i + 1]]

    def tgt(self, i: int) -> np.ndarray:
        return self.tgt_tokens[self.tgt_offsets[i]:self.tgt_offsets[i + 1]]

    @property
    def src_lengths(self) -> np.ndarray:
        return np.diff(self.src_offsets)

    @property
    def tgt_lengths(self) -> np.ndarray:
        return np.diff(self.tgt_offsets)


@dataclass(frozen=True)
class FilterRule:
    """Pairs with an empty (or blank) side always go, and so do pairs with a side of no
    pieces: text SentencePiece normalises away entirely (e.g. only control, zero-width or
    byte-order-mark characters), which the encoder cannot read. So do pairs longer than
    `max_len` pieces or with a length ratio above `max_ratio`."""

    max_len: int | None = None
    max_ratio: float | None = None

    def reason_to_drop(
        self, src_text: str, tgt_text: str, src: list[int], tgt: list[int],
    ) -> str | None:
        """The pair's texts and their ids -> why it is dropped, or None to keep it."""
        if not src_text.strip() or not tgt_text.strip():
            return "empty"
        if not src or not tgt:
            return "no_pieces"
        if self.max_len is not None and max(len(src), len(tgt)) > self.max_len:
            return "too_long"
        if self.max_ratio is not None:
            short, long_ = sorted((len(src), len(tgt)))
            if long_ > self.max_ratio * short:
                return "length_ratio"
        return None


def encode_corpus(
    src_path: Path, tgt_path: Path, src_tok: Tokenizer, tgt_tok: Tokenizer,
    rule: FilterRule, cache_dir: Path, workers: int = 1,
) -> EncodedCorpus:
    """Encode a parallel corpus into `cache_dir`, or memory-map it if already there."""
    fingerprint = _fingerprint(src_path, tgt_path, src_tok, tgt_tok, rule)
    cached = _load_cache(cache_dir, fingerprint)
    if cached is not None:
        return cached
    tmp = cache_dir.with_name(cache_dir.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    dtype = _token_dtype(src_tok, tgt_tok)
    try:
        stats = _encode_to_files(src_path, tgt_path, src_tok, tgt_tok, rule, tmp, dtype,
                                 workers)
        if stats.kept == 0:
            raise CorpusError(f"{src_path}: no usable sentence pairs ({stats.summary()})")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # a half-encoded cache is never left behind
        raise
    meta = {"fingerprint": fingerprint, "dtype": np.dtype(dtype).name, "stats": asdict(stats)}
    (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
    shutil.rmtree(cache_dir, ignore_errors=True)
    os.replace(tmp, cache_dir)
    corpus = _load_cache(cache_dir, fingerprint)
    assert corpus is not None
    return corpus


def _encode_to_files(
    src_path: Path, tgt_path: Path, src_tok: Tokenizer, tgt_tok: Tokenizer,
    rule: FilterRule, out: Path, dtype: type, workers: int,
) -> FilterStats:
    """Stream the encoded pairs to `{side}.bin` and `{side}.offsets.npy`, chunk by chunk:
    memory stays bounded by a few chunks whatever the corpus size."""
    stats = FilterStats()
    sides = ("src", "tgt")
    ends = dict.fromkeys(sides, 0)
    with ExitStack() as files:
        tokens = {s: files.enter_context(open(out / f"{s}.bin", "wb")) for s in sides}
        offsets = {s: files.enter_context(open(out / f"{s}.offsets.npy", "wb")) for s in sides}
        for handle in offsets.values():
            handle.write(bytes(NPY_HEADER))  # filled in once the length is known
            handle.write(np.zeros(1, np.int64).tobytes())
        encoded_chunks = _encoded_chunks(src_path, tgt_path, src_tok, tgt_tok, rule, workers)
        for chunk_stats, encoded in encoded_chunks:
            stats.merge(chunk_stats)
            for side, (flat, lengths) in zip(sides, encoded):
                offsets[side].write((ends[side] + np.cumsum(lengths)).tobytes())
                ends[side] += int(lengths.sum())
                tokens[side].write(flat.astype(dtype).tobytes())
        for side in sides:
            _write_npy_header(offsets[side], stats.kept + 1)
    return stats


@dataclass(frozen=True)
class Sampling:
    """Subword regularisation for one epoch: segmentations drawn with `alpha`, seeded by
    (seed, epoch, chunk), so they do not depend on the number of workers."""

    alpha: float
    seed: int
    epoch: int

    def chunk_seed(self, chunk: int) -> int:
        return int(np.random.SeedSequence([self.seed, self.epoch, chunk]).generate_state(1)[0])


def sample_corpus(
    src_path: Path, tgt_path: Path, src_tok: Tokenizer, tgt_tok: Tokenizer,
    rule: FilterRule, sampling: Sampling, workers: int = 1,
) -> EncodedCorpus:
    """The corpus encoded with freshly sampled segmentations, in memory (for subword
    regularisation: one call per epoch). Filtering applies to the sampled lengths."""
    stats = FilterStats()
    flats: dict[str, list] = {"src": [], "tgt": []}
    lengths: dict[str, list] = {"src": [], "tgt": []}
    for chunk_stats, encoded in _encoded_chunks(src_path, tgt_path, src_tok, tgt_tok, rule,
                                                workers, sampling):
        stats.merge(chunk_stats)
        for side, (flat, side_lengths) in zip(("src", "tgt"), encoded):
            flats[side].append(flat)
            lengths[side].append(side_lengths)
    dtype = _token_dtype(src_tok, tgt_tok)
    arrays = {}
    for side in ("src", "tgt"):
        arrays[f"{side}_tokens"] = np.concatenate(flats[side]).astype(dtype)
        arrays[f"{side}_offsets"] = np.concatenate([[0], np.cumsum(np.concatenate(
            lengths[side]))]).astype(np.int64)
    return EncodedCorpus(**arrays, stats=stats)


def _token_dtype(src_tok: Tokenizer, tgt_tok: Tokenizer) -> type:
    return np.uint16 if max(len(src_tok), len(tgt_tok)) < 2**16 else np.int32


def _encoded_chunks(
    src_path: Path, tgt_path: Path, src_tok: Tokenizer, tgt_tok: Tokenizer,
    rule: FilterRule, workers: int, sampling: Sampling | None = None,
) -> Iterator[tuple]:
    """(stats, ((src ids, src lengths), (tgt ids, tgt lengths))) per chunk, in order."""
    chunks = enumerate(_chunks(read_parallel(src_path, tgt_path), CHUNK_LINES))
    init = (src_tok.model_bytes, tgt_tok.model_bytes, rule, sampling)
    return _map_chunks(chunks, init, workers)


def _write_npy_header(handle: BinaryIO, length: int) -> None:
    """Write the header of a 1-D int64 .npy of `length` items into its reserved space."""
    handle.seek(0)
    header = {"descr": np.dtype(np.int64).str, "fortran_order": False, "shape": (length,)}
    np.lib.format.write_array_header_1_0(handle, header)
    assert handle.tell() == NPY_HEADER, handle.tell()


def _map_chunks(chunks: Iterator[tuple[int, list]], init: tuple, workers: int
                ) -> Iterator[tuple]:
    """`_encode_chunk` over chunks, in order, with at most 2 chunks per worker in flight."""
    if workers == 1:
        _init_worker(*init)
        yield from map(_encode_chunk, chunks)
        return
    with ProcessPoolExecutor(workers, initializer=_init_worker, initargs=init) as pool:
        pending: deque = deque()
        for chunk in chunks:
            pending.append(pool.submit(_encode_chunk, chunk))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


_WORKER: dict = {}


def _init_worker(src_bytes: bytes, tgt_bytes: bytes, rule: FilterRule,
                 sampling: Sampling | None) -> None:
    _WORKER.update(src=Tokenizer(src_bytes), tgt=Tokenizer(tgt_bytes), rule=rule,
                   sampling=sampling)


def _encode_chunk(
    numbered: tuple[int, list[tuple[str, str]]],
) -> tuple[FilterStats, tuple[tuple, tuple]]:
    """Encode and filter chunk number `numbered[0]` -> (stats, ((src ids, src lengths),
    (tgt ids, tgt lengths))); segmentations are sampled if the worker has a `Sampling`."""
    chunk, pairs = numbered
    stats = FilterStats(read=len(pairs))
    src_ids, tgt_ids = _encode_texts([s for s, _ in pairs], [t for _, t in pairs], chunk)
    kept_src, kept_tgt = [], []
    for (src_text, tgt_text), src, tgt in zip(pairs, src_ids, tgt_ids):
        if reason := _WORKER["rule"].reason_to_drop(src_text, tgt_text, src, tgt):
            stats.drop(reason)
            continue
        kept_src.append(src)
        kept_tgt.append(tgt)
    stats.kept = len(kept_src)
    return stats, (_flatten(kept_src), _flatten(kept_tgt))


def _encode_texts(sources: list[str], targets: list[str], chunk: int) -> tuple[list, list]:
    src_tok, tgt_tok, sampling = _WORKER["src"], _WORKER["tgt"], _WORKER["sampling"]
    if sampling is None:
        return src_tok.encode_batch(sources), tgt_tok.encode_batch(targets)
    seed_sampling(sampling.chunk_seed(chunk))
    return src_tok.sample_batch(sources, sampling.alpha), tgt_tok.sample_batch(targets,
                                                                                sampling.alpha)


def _flatten(sequences: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """All ids in one int32 array, and each sequence's length (compact to pickle)."""
    lengths = np.fromiter(map(len, sequences), np.int64, len(sequences))
    flat = np.fromiter(chain.from_iterable(sequences), np.int32, int(lengths.sum()))
    return flat, lengths


def _chunks(pairs: Iterator[tuple[str, str]], size: int) -> Iterator[list[tuple[str, str]]]:
    while chunk := list(islice(pairs, size)):
        yield chunk


def _load_cache(cache_dir: Path, fingerprint: str) -> EncodedCorpus | None:
    meta_path = cache_dir / "meta.json"
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError):
        return None
    if meta.get("fingerprint") != fingerprint:
        return None
    stats = FilterStats(**meta["stats"])
    arrays = {}
    for side in ("src", "tgt"):
        arrays[f"{side}_offsets"] = np.load(cache_dir / f"{side}.offsets.npy", mmap_mode="r")
        arrays[f"{side}_tokens"] = _memmap(cache_dir / f"{side}.bin", meta["dtype"])
    return EncodedCorpus(**arrays, stats=stats)


def _memmap(path: Path, dtype: str) -> np.ndarray:
    if path.stat().st_size == 0:
        return np.zeros(0, dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="r")


def _fingerprint(src: Path, tgt: Path, src_tok: Tokenizer, tgt_tok: Tokenizer,
                 rule: FilterRule) -> str:
    parts = [str(CACHE_FORMAT), repr(rule)]
    for path in (src, tgt):
        st = path.stat()
        parts += [str(path.resolve()), str(st.st_size), str(st.st_mtime_ns)]
    for tok in (src_tok, tgt_tok):
        parts.append(hashlib.sha256(tok.model_bytes).hexdigest())
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()
