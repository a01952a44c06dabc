#!/usr/bin/env python3
"""Fetch the Multi30k task 1 raw files, or copy them from a local directory.

Files: {train,val,test_2016_flickr}.{en,de,fr,cs}.gz from the multi30k/dataset
GitHub repository (data/task1/raw/).  Every file must be gzip and have the
expected number of lines (train 29000, val 1014, test_2016_flickr 1000), so
the languages of a split are line-aligned.  Files are written atomically
(temporary file in the output directory, then rename); files already present
and valid are left alone.  Nothing is renamed into place unless every
requested file validated.

Usage:

    python scripts/fetch_multi30k.py                          # download to data/multi30k
    python scripts/fetch_multi30k.py --from ../shared/data/multi30k
    python scripts/fetch_multi30k.py --out /tmp/m30k --splits val --langs en cs

Standard library only.  Errors are reported in one line on stderr with exit
status 1.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
import zlib
from collections.abc import Sequence
from pathlib import Path

BASE_URL = "https://raw.githubusercontent.com/multi30k/dataset/master/data/task1/raw/"
EXPECTED_LINES = {"train": 29000, "val": 1014, "test_2016_flickr": 1000}
LANGS = ("en", "de", "fr", "cs")
TIMEOUT = 60


class FetchError(Exception):
    """A problem with one file; the message is a single line."""


def file_name(split: str, lang: str) -> str:
    return f"{split}.{lang}.gz"


def count_gzip_lines(path: Path) -> int:
    """Number of lines in a gzip file; FetchError if it is not valid gzip."""
    try:
        with open(path, "rb") as f:
            if f.read(2) != b"\x1f\x8b":
                raise FetchError(f"{path}: not a gzip file")
        lines = 0
        last = b"\n"
        with gzip.open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                lines += chunk.count(b"\n")
                last = chunk[-1:]
        return lines + (last != b"\n")
    except (OSError, EOFError, zlib.error) as e:
        if isinstance(e, FetchError):
            raise
        raise FetchError(f"{path}: corrupt gzip file ({e})") from None


def check_lines(path: Path, split: str, label: str | None = None) -> int:
    """Validate gzip and line count of one file; return the count."""
    n = count_gzip_lines(path)
    if n != EXPECTED_LINES[split]:
        raise FetchError(f"{label or path}: {n} lines, expected {EXPECTED_LINES[split]} "
                         f"(line counts must match across languages of split {split!r})")
    return n


def is_valid(path: Path, split: str) -> bool:
    """Is `path` an existing gzip file with the expected line count?"""
    if not path.is_file():
        return False
    try:
        check_lines(path, split)
    except FetchError:
        return False
    return True


def _temp_in(out: Path, name: str) -> Path:
    """An empty temporary file next to the destination, with umask permissions."""
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=out)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    return Path(tmp)


def download(url: str, dest: Path) -> None:
    """Stream `url` into `dest`."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as resp, open(dest, "wb") as f:
            shutil.copyfileobj(resp, f)
    except urllib.error.HTTPError as e:
        raise FetchError(f"cannot download {url}: HTTP {e.code} {e.reason}") from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", None) or e
        raise FetchError(f"cannot download {url}: {reason}") from None


def copy_local(src: Path, dest: Path) -> None:
    """Copy a local file into `dest`."""
    if not src.is_file():
        raise FetchError(f"{src}: no such file")
    try:
        shutil.copyfile(src, dest)
    except OSError as e:
        raise FetchError(f"cannot copy {src}: {e.strerror}") from None


def stage_file(split: str, lang: str, out: Path, source_dir: Path | None) -> Path:
    """Obtain one file into a temporary path in `out` and validate it."""
    name = file_name(split, lang)
    if source_dir is not None:
        origin = str(source_dir / name)
        if not (source_dir / name).is_file():
            raise FetchError(f"{origin}: no such file")
        check_lines(source_dir / name, split)  # errors name the source file
    else:
        origin = BASE_URL + name
    tmp = _temp_in(out, name)
    try:
        if source_dir is not None:
            copy_local(source_dir / name, tmp)
        else:
            download(origin, tmp)
        check_lines(tmp, split, label=origin)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def fetch(out: Path, splits: Sequence[str], langs: Sequence[str],
          source_dir: Path | None) -> dict[str, str]:
    """Make every requested file present and valid in `out`; return a status per file."""
    out.mkdir(parents=True, exist_ok=True)
    staged: dict[Path, Path] = {}
    status: dict[str, str] = {}
    try:
        for split in splits:
            for lang in langs:
                dest = out / file_name(split, lang)
                if is_valid(dest, split):
                    status[dest.name] = "present"
                    continue
                staged[dest] = stage_file(split, lang, out, source_dir)
                status[dest.name] = "copied" if source_dir else "downloaded"
    except BaseException:
        for tmp in staged.values():
            tmp.unlink(missing_ok=True)
        raise
    for dest, tmp in staged.items():
        os.replace(tmp, dest)
    return status


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Download Multi30k task 1 raw files ({train,val,test_2016_flickr}."
                    "{en,de,fr,cs}.gz) from GitHub, or copy them from a local directory, "
                    "validating gzip format and line counts.",
        epilog="Example: python scripts/fetch_multi30k.py --from ../shared/data/multi30k")
    p.add_argument("--out", type=Path, default=Path("data/multi30k"),
                   help="output directory (default: %(default)s)")
    p.add_argument("--from", dest="source_dir", type=Path, default=None, metavar="DIR",
                   help="copy from this local directory instead of downloading")
    p.add_argument("--splits", nargs="+", choices=tuple(EXPECTED_LINES),
                   default=list(EXPECTED_LINES), help="splits to fetch (default: all)")
    p.add_argument("--langs", nargs="+", choices=LANGS, default=list(LANGS),
                   help="languages to fetch (default: all)")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.source_dir is not None and not args.source_dir.is_dir():
        sys.exit(f"error: --from {args.source_dir}: not a directory")
    try:
        status = fetch(args.out, args.splits, args.langs, args.source_dir)
    except FetchError as e:
        sys.exit(f"error: {e}")
    except OSError as e:
        sys.exit(f"error: {e.filename or args.out}: {e.strerror}")
    for name, state in status.items():
        print(f"{state:10s} {args.out / name}", file=sys.stderr)


if __name__ == "__main__":
    main()
