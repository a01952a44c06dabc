"""Bad corpora, configs and checkpoints: one line on stderr and exit status 2, or a
documented, counted skip; never a traceback, never a half-started run.

Everything goes through the real `seq2seq` command in a subprocess.
"""

from __future__ import annotations

import gzip
import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from seq2seq.checkpoint import load_checkpoint
from seq2seq.config import load_config
from seq2seq.prepare import prepare

WORDS = "red green blue cat dog bird tree house".split()
CONFIG = """\
data: {{src_lang: src, tgt_lang: tgt, train: {train}, dev: {dev}, max_len: 50}}
tokenizer: {{type: bpe, vocab_size: 40}}
model: {{emb_dim: 8, enc_hidden: 8, dec_hidden: 16, attention_dim: 8, dropout: 0.1}}
train: {{out_dir: {out}, batch_tokens: 100, max_steps: 2, eval_every: 2, threads: 1}}
decode: {{method: greedy}}
"""


def seq2seq(*args: str, stdin: str | None = None, env: dict | None = None
            ) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "seq2seq", *map(str, args)], input=stdin,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def one_error_line(result: subprocess.CompletedProcess) -> str:
    """The single stderr line of a failed command (exit status 2)."""
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in lines[0]
    return lines[0]


def final_error_line(result: subprocess.CompletedProcess) -> str:
    """The error line ending a command that failed after logging its data preparation
    (exit status 2)."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr.splitlines()[-1]


def good_pairs(n: int = 120) -> list[tuple[str, str]]:
    rng = np.random.default_rng(0)
    pairs = []
    for _ in range(n):
        words = list(rng.choice(WORDS, size=int(rng.integers(2, 6))))
        pairs.append((" ".join(words), " ".join(reversed(words))))
    return pairs


def write_side(path: Path, lines: list[str], newline: str = "\n") -> None:
    path.write_bytes("".join(line + newline for line in lines).encode("utf-8"))


def write_corpus(directory: Path, prefix: str, pairs: list[tuple[str, str]],
                 newline: str = "\n") -> str:
    write_side(directory / f"{prefix}.src", [s for s, _ in pairs], newline)
    write_side(directory / f"{prefix}.tgt", [t for _, t in pairs], newline)
    return str(directory / prefix)


def write_config(directory: Path, train: str, text: str = CONFIG, **fields: str) -> Path:
    dev = write_corpus(directory, "dev", good_pairs(6))
    values = {"train": train, "dev": dev, "out": directory / "out", **fields}
    path = directory / "config.yaml"
    path.write_text(text.format(**values), encoding="utf-8")
    return path


# --- corpora ---------------------------------------------------------------------------


def test_differing_line_counts(tmp_path):
    prefix = write_corpus(tmp_path, "train", good_pairs())
    with open(f"{prefix}.tgt", "a", encoding="utf-8") as f:
        f.write("one line too many\n")
    config = write_config(tmp_path, prefix)
    for command in ("prepare", "train"):
        line = one_error_line(seq2seq(command, config))
        assert f"{prefix}.src: has 120 lines but {prefix}.tgt has more (line 121)" in line
    assert not (tmp_path / "out" / "last.pt").exists()


def test_invalid_utf8_names_file_line_and_byte(tmp_path):
    prefix = write_corpus(tmp_path, "train", good_pairs())
    lines = Path(f"{prefix}.src").read_bytes().split(b"\n")
    lines[41] = b"red \xff cat"
    Path(f"{prefix}.src").write_bytes(b"\n".join(lines))
    config = write_config(tmp_path, prefix)
    for command in ("prepare", "train"):
        line = one_error_line(seq2seq(command, config))
        assert f"{prefix}.src: line 42: invalid UTF-8 (byte 0xff at column 5)" in line


def test_empty_lines_are_dropped_and_counted(tmp_path):
    pairs = good_pairs()
    pairs[3:3] = [("", ""), ("red cat", ""), ("", "cat red"), ("   ", "\t")]
    config = write_config(tmp_path, write_corpus(tmp_path, "train", pairs))
    result = seq2seq("prepare", config)
    assert result.returncode == 0, result.stderr
    assert "120 of 124 pairs kept; dropped: 4 empty" in result.stderr
    assert "prepared 120 training" in result.stdout


# Characters SentencePiece normalises away (control, zero-width, BOM): the line is not
# blank, yet it encodes to no pieces, and an empty source cannot be encoded by the RNN.
NO_PIECES = ["\x01", "\u200b", "\ufeff", "\x01\u200b\ufeff"]


def test_lines_of_no_pieces_are_dropped_and_counted_in_train_and_dev(tmp_path):
    pairs = good_pairs()
    pairs[5:5] = [(NO_PIECES[0], "cat red"), ("red cat", NO_PIECES[1]),
                  (NO_PIECES[2], NO_PIECES[3])]
    dev = good_pairs(6) + [(NO_PIECES[3], "dog"), ("", "")]
    config = write_config(tmp_path, write_corpus(tmp_path, "train", pairs))
    write_corpus(tmp_path, "dev", dev)  # evaluated (loss and BLEU) at steps 10 and 20
    result = seq2seq("train", config, "--set", "train.max_steps=20",
                     "--set", "train.eval_every=10")  # 20 steps: more than an epoch
    assert result.returncode == 0, result.stderr
    assert "120 of 123 pairs kept; dropped: 3 no_pieces" in result.stderr
    assert "6 of 8 pairs kept; dropped: 1 empty, 1 no_pieces" in result.stderr
    assert "trained 20 steps" in result.stdout
    data = prepare(load_config(config), log=lambda message: None)  # reuses the run's files
    assert len(data.dev_sources) == len(data.dev_references) == len(data.dev) == 6


def test_a_100k_character_line_is_dropped_as_too_long(tmp_path):
    pairs = good_pairs()
    huge = " ".join(WORDS[i % len(WORDS)] for i in range(25_000))[:100_000]
    pairs.insert(7, (huge, huge))
    config = write_config(tmp_path, write_corpus(tmp_path, "train", pairs))
    result = seq2seq("prepare", config)
    assert result.returncode == 0, result.stderr
    assert "120 of 121 pairs kept; dropped: 1 too_long" in result.stderr


def test_crlf_line_endings_are_ordinary_lines(tmp_path):
    """A CRLF corpus gives the same tokenizer and encoded corpus as its LF twin."""
    encoded = {}
    for newline in ("\n", "\r\n"):
        directory = tmp_path / repr(newline).strip("'").replace("\\", "")
        directory.mkdir()
        config = write_config(directory, write_corpus(directory, "train", good_pairs(), newline))
        result = seq2seq("prepare", config)
        assert result.returncode == 0, result.stderr
        assert "120 of 120 pairs kept" in result.stderr
        cache = directory / "out" / "cache" / "train"
        encoded[newline] = [(directory / "out" / "tokenizer.src.model").read_bytes()] + [
            (cache / name).read_bytes() for name in ("src.bin", "tgt.bin", "src.offsets.npy")]
    assert encoded["\n"] == encoded["\r\n"]


def test_nonexistent_corpus_file(tmp_path):
    config = write_config(tmp_path, str(tmp_path / "missing"))
    for command in ("prepare", "train"):
        line = one_error_line(seq2seq(command, config))
        assert f"{tmp_path / 'missing'}.src: file not found" in line


def test_corpus_path_is_a_directory(tmp_path):
    prefix = write_corpus(tmp_path, "train", good_pairs())
    os.remove(f"{prefix}.tgt")
    os.mkdir(f"{prefix}.tgt")
    config = write_config(tmp_path, prefix)
    line = one_error_line(seq2seq("prepare", config))
    assert f"{prefix}.tgt: is a directory" in line


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_corrupt_gzip_corpus_names_the_file(tmp_path, damage):
    prefix = write_corpus(tmp_path, "train", good_pairs())
    packed = gzip.compress(Path(f"{prefix}.src").read_bytes())
    if damage == "truncated":
        packed = packed[:len(packed) // 2]
    else:  # a valid gzip header, then bytes that are no deflate stream
        packed = packed[:10] + bytes(range(256)) * 4
    os.remove(f"{prefix}.src")
    Path(f"{prefix}.src.gz").write_bytes(packed)
    config = write_config(tmp_path, prefix)
    line = one_error_line(seq2seq("prepare", config))
    assert re.search(rf"{re.escape(prefix)}\.src\.gz: line \d+: unreadable \(", line), line


@pytest.mark.parametrize("content", ["", "\n\n  \n"], ids=["zero-bytes", "blank-lines"])
def test_empty_corpus(tmp_path, content):
    for side in ("src", "tgt"):
        (tmp_path / f"train.{side}").write_text(content)
    config = write_config(tmp_path, str(tmp_path / "train"))
    for command in ("prepare", "train"):
        line = one_error_line(seq2seq(command, config))
        assert f"{tmp_path / 'train'}.src" in line and "no non-empty lines" in line


# --- configs ---------------------------------------------------------------------------


@pytest.mark.parametrize("edit, expected", [
    (("max_steps: 2", "max_steps: 2, colour: red"), "unknown key 'train.colour'"),
    (("src_lang: src, ", ""), "missing required key 'data.src_lang'"),
    (("emb_dim: 8", "emb_dim: eight"), "'model.emb_dim' must be int, got str 'eight'"),
    (("emb_dim: 8", "emb_dim: 8.5"), "'model.emb_dim' must be int, got float 8.5"),
    (("batch_tokens: 100", "batch_tokens: -100"), "'train.batch_tokens' must be >= 1, got -100"),
    (("vocab_size: 40", "vocab_size: 0"), "'tokenizer.vocab_size' must be >= 1, got 0"),
    (("dropout: 0.1", "dropout: 1.5"), "'model.dropout' must be < 1.0, got 1.5"),
    (("decode: {method: greedy}", "decode: {method: greedy"), "invalid YAML"),
    (("decode: {method: greedy}", "decode: [1, 2"), "line 6: invalid YAML"),
])
def test_bad_config_is_one_line_before_training(tmp_path, edit, expected):
    old, new = edit
    text = CONFIG.replace(old.replace("{", "{{").replace("}", "}}"),
                          new.replace("{", "{{").replace("}", "}}"))
    assert text != CONFIG
    prefix = write_corpus(tmp_path, "train", good_pairs())
    config = write_config(tmp_path, prefix, text=text)
    line = one_error_line(seq2seq("train", config))
    assert str(config) in line and expected in line, line
    assert not (tmp_path / "out").exists()


def test_out_dir_under_a_regular_file(tmp_path):
    (tmp_path / "plain-file").write_text("not a directory")
    config = write_config(tmp_path, write_corpus(tmp_path, "train", good_pairs()),
                          out=tmp_path / "plain-file" / "run")
    for command in ("prepare", "train"):
        line = one_error_line(seq2seq(command, config))
        assert f"{tmp_path / 'plain-file' / 'run'}: cannot create train.out_dir" in line


def test_too_little_disk_for_checkpoints_is_reported_before_training(tmp_path):
    # keep_best so large that its checkpoints cannot fit on any disk: the space check
    # compares the real free space with what checkpoints need, before the first step
    config = write_config(tmp_path, write_corpus(tmp_path, "train", good_pairs()))
    line = one_error_line(seq2seq("train", config, "--set", "train.keep_best=10000000000000"))
    assert "MB free, checkpoints need about" in line and str(tmp_path / "out") in line
    assert not (tmp_path / "out" / "cache").exists()  # checked before data preparation
    assert not (tmp_path / "out" / "metrics.jsonl").exists()
    assert not list((tmp_path / "out").glob("*.pt"))


def test_cuda_device_without_cuda(tmp_path):
    config = write_config(tmp_path, write_corpus(tmp_path, "train", good_pairs()))
    line = one_error_line(seq2seq("train", config, "--set", "train.device=cuda"))
    assert "device cuda: torch finds no CUDA GPU" in line, line
    assert not (tmp_path / "out" / "tokenizer.src.model").exists()  # refused before any work


# --- contrastive suites -----------------------------------------------------------------


def test_suite_row_of_no_pieces_names_file_and_line(trained, tmp_path):
    suite = tmp_path / "suite.tsv"
    suite.write_text(f"red cat\tcat red\tred cat\n{NO_PIECES[1]}\tcat red\tred cat\n"
                     f"blue dog\tdog blue\t{NO_PIECES[0]}\n", encoding="utf-8")
    line = one_error_line(seq2seq("contrast", "-c", trained, suite))
    assert f"{suite}: line 2: source field has no pieces" in line, line
    config = write_config(tmp_path, write_corpus(tmp_path, "train", good_pairs()))
    line = final_error_line(seq2seq("train", config, "--set", f"train.contrastive={suite}"))
    assert f"{suite}: line 2: source field has no pieces" in line, line
    assert not (tmp_path / "out" / "last.pt").exists()
    suite.write_text("red cat\tcat red\tred cat\nblue dog\tdog blue\t\x01\n")
    line = one_error_line(seq2seq("contrast", "-c", trained, suite))
    assert f"{suite}: line 2: contrastive field has no pieces" in line, line


# --- decoding options -------------------------------------------------------------------


@pytest.mark.parametrize("flags, expected", [
    (["--batch-size", "0"], "'decode.batch_size' must be >= 1, got 0"),
    (["--beam-size", "0"], "'decode.beam_size' must be >= 1, got 0"),
    (["--nbest", "0"], "'decode.nbest' must be >= 1, got 0"),
    (["--top-k", "-1"], "'decode.top_k' must be >= 0, got -1"),
    (["--method", "beam", "--beam-size", "2", "--nbest", "3"],
     "'decode.nbest' (3) must not exceed 'decode.beam_size' (2)"),
])
def test_bad_decoding_option_is_one_line(trained, flags, expected):
    line = one_error_line(seq2seq("translate", "-c", trained, *flags, stdin="red cat\n"))
    assert line.startswith("seq2seq translate: error: decoding options: ") and expected in line


def test_cuda_or_int8_on_a_machine_without_cuda(trained):
    line = one_error_line(seq2seq("translate", "-c", trained, "--device", "cuda",
                                  stdin="red cat\n"))
    assert "device cuda: torch finds no CUDA GPU" in line, line
    line = one_error_line(seq2seq("translate", "-c", trained, "--int8", "--device", "cuda",
                                  stdin="red cat\n"))
    assert "int8 decoding runs on the CPU only" in line, line


def missing(tmp_path: Path, package: str) -> dict:
    """An environment in which importing `package` fails as if it were not installed."""
    (tmp_path / f"{package}.py").write_text(
        f"raise ModuleNotFoundError(\"No module named '{package}'\", name='{package}')\n")
    return {"PYTHONPATH": str(tmp_path)}


def test_missing_optional_package_names_option_and_package(trained, tmp_path):
    (tmp_path / "hyp.txt").write_text("cat red\n")
    line = one_error_line(seq2seq("evaluate", "--hyp", tmp_path / "hyp.txt", "--ref",
                                  tmp_path / "hyp.txt", "--paper-lang", "en",
                                  env=missing(tmp_path, "sacremoses")))
    assert "--paper-lang needs the package sacremoses" in line and "[paper]" in line, line
    plots = tmp_path / "plots"
    line = one_error_line(seq2seq("translate", "-c", trained, "--plot-attention", plots,
                                  stdin="red cat\n", env=missing(tmp_path, "matplotlib")))
    assert "--plot-attention needs the package matplotlib" in line and "[plot]" in line, line
    assert not plots.exists()


# --- checkpoints ------------------------------------------------------------------------


class RunsCode:
    """Unpickling this calls os.system: a checkpoint must never get that far."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: ANN204
        return os.system, (f"touch {self.marker}",)


def translate_with(checkpoint: Path) -> str:
    return one_error_line(seq2seq("translate", "-c", checkpoint, stdin="red cat\n"))


def test_truncated_checkpoint(trained, tmp_path):
    data = trained.read_bytes()
    for size in (0, 100, len(data) // 2, len(data) - 1):
        path = tmp_path / f"cut{size}.pt"
        path.write_bytes(data[:size])
        line = translate_with(path)
        assert f"{path}: not a readable checkpoint" in line or f"{path}: refused" in line


def test_random_bytes_checkpoint(tmp_path):
    path = tmp_path / "random.pt"
    path.write_bytes(np.random.default_rng(0).bytes(10_000))
    assert translate_with(path).startswith(f"seq2seq translate: error: {path}: ")


def test_foreign_torch_file(tmp_path):
    for name, obj in [("state_dict", {"weight": torch.zeros(2, 2)}), ("tensor", torch.ones(3))]:
        path = tmp_path / f"{name}.pt"
        torch.save(obj, path)
        assert translate_with(path).endswith(f"{path}: not a seq2seq checkpoint")


def test_format_and_version_mismatch(trained, tmp_path):
    payload = load_checkpoint(trained)
    path = tmp_path / "version.pt"
    torch.save({**payload, "version": 2}, path)
    assert translate_with(path).endswith(
        f"{path}: checkpoint format version 2, this seq2seq reads version 1")
    path = tmp_path / "format.pt"
    torch.save({**payload, "format": "fairseq"}, path)
    assert translate_with(path).endswith(f"{path}: not a seq2seq checkpoint")


def test_pickle_that_would_run_code_is_refused(tmp_path):
    marker = tmp_path / "code-was-run"
    for name in ("torch", "pickle"):
        path = tmp_path / f"{name}.pt"
        payload = {"format": "seq2seq-checkpoint", "version": 1, "model": RunsCode(marker)}
        if name == "torch":
            torch.save(payload, path)
        else:
            path.write_bytes(pickle.dumps(payload))
        assert f"{path}: refused to load" in translate_with(path)
    assert not marker.exists()
