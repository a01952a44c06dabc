"""Hostile text through `seq2seq translate` and the Python API: one output line per input
line, in order, whatever the script or bytes; bounded memory on a long stream."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from seq2seq.translate import Translator

HOSTILE = [
    "red cat 😀🐈‍⬛ 👩🏽‍💻",
    "مرحبا بالعالم red",  # Arabic (RTL)
    "שלום עולם blue dog",  # Hebrew (RTL)
    "\u202eblue\u202c dog \u200f",  # bidi override, RLM
    "猫 犬 漢字 かな カナ 한국어",  # CJK
    "e\u0301 a\u0308\u0308\u0308 Z\u0351\u0352\u0353\u0354 ﬁ Ａ",  # combining, NFKC-changing
    "".join(chr(c) for c in range(0x20) if c != 0x0A) + "\x7f red cat",  # control chars
    "\r",
    "",
    "   \t ",
    "\u2028\u2029\x85\x0b\x0c\x1c\x1d\x1e tree house",  # what str.splitlines splits on
    "\ufeffsun moon \ufffd \udcff".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
    "red",
]
NO_PIECES = "\x01\u200b\ufeff"  # not blank, but SentencePiece normalises it all away
# One torch thread per subprocess: on this 2-core machine, next to a training job, default
# intra-op threads spin on tiny ops and make decoding ~15x slower (not a correctness issue).
ONE_THREAD = {**os.environ, "OMP_NUM_THREADS": "1"}
LONG_LINE = " ".join(["red", "green", "cat", "dog", "tree"] * 1000)  # 5,000 words


def translate_cli(checkpoint, text: str, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "seq2seq", "translate", "-c", str(checkpoint), *flags],
        input=text.encode("utf-8"), capture_output=True, timeout=300, env=ONE_THREAD,
    )


def output_lines(stdout: bytes) -> list[str]:
    """Lines split on \\n only (str.splitlines would also split on \\x1c, \\u2028, ...)."""
    text = stdout.decode("utf-8")
    assert text.endswith("\n")
    return text[:-1].split("\n")


def test_every_hostile_line_gives_one_output_line_in_order(trained):
    markers = ["red cat", "blue dog", "sun moon"]  # translated recognisably: alignment check
    lines = [line for h in [*HOSTILE, NO_PIECES] for line in (h, markers[len(h) % 3])]
    result = translate_cli(trained, "\n".join(lines) + "\n", "--method", "greedy")
    assert result.returncode == 0, result.stderr.decode()
    outputs = output_lines(result.stdout)
    assert len(outputs) == len(lines)
    for source, output in zip(lines, outputs):
        if source in markers:
            assert output == " ".join(reversed(source.split())), (source, output)
        if not source.strip() or source == NO_PIECES:
            assert output == "", repr(source)
    api = Translator.from_checkpoint(trained, method="greedy").translate(lines)
    assert api == outputs


def test_no_trailing_newline_and_beam_search(trained):
    result = translate_cli(trained, "red cat\n\nblue dog", "--method", "beam")
    assert result.returncode == 0, result.stderr.decode()
    assert output_lines(result.stdout) == ["cat red", "", "dog blue"]


def test_a_line_of_no_pieces_scores_like_an_empty_line(trained, tmp_path):
    """Forced decoding: a source or target that encodes to nothing is scored as an empty
    one (a lone EOS), not an error."""
    src, tgt = tmp_path / "src.txt", tmp_path / "tgt.txt"
    src.write_text(f"{NO_PIECES}\n\nred cat\nred cat\n", encoding="utf-8")
    tgt.write_text(f"cat red\ncat red\n{NO_PIECES}\n\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "seq2seq", "score", "-c", str(trained), "--src", str(src),
         "--tgt", str(tgt)], capture_output=True, text=True, timeout=300, env=ONE_THREAD)
    assert result.returncode == 0, result.stderr
    scores = result.stdout.splitlines()
    assert len(scores) == 4 and scores[0] == scores[1] and scores[2] == scores[3]
    assert scores[2].endswith("\t1")  # the target is EOS alone


def test_a_5000_word_line(trained):
    lines = ["red cat", LONG_LINE, "blue dog"]
    started = time.monotonic()
    result = translate_cli(trained, "\n".join(lines) + "\n", "--method", "greedy")
    assert result.returncode == 0, result.stderr.decode()
    outputs = output_lines(result.stdout)
    assert len(outputs) == 3 and outputs[0] == "cat red" and outputs[2] == "dog blue"
    assert time.monotonic() - started < 120
    api = Translator.from_checkpoint(trained, method="greedy", max_len_ratio=0.1,
                                     max_len_extra=0).translate_full(lines)
    assert len(api) == 3 and len(api[1][0].tgt_pieces) <= -(-len(api[1][0].src_pieces) // 10)


STREAM_LINES = 100_000
# Observed ~350 MB (torch + model); the bound leaves room for allocator noise and would
# catch per-line state being kept (e.g. translations or attention tensors piling up).
RSS_BOUND_MB = 768


def test_streaming_memory_is_bounded(trained, tmp_path):
    """100,000 lines piped from a generator process; peak RSS of the translator is bounded."""
    generator = subprocess.Popen(
        [sys.executable, "-c",
         "import sys\nw = 'red green blue cat dog bird tree house'.split()\n"
         f"for i in range({STREAM_LINES}):\n"
         "    sys.stdout.write(f'{w[i % 8]} {w[i * 7 % 8]} {w[i * 3 % 8]}\\n')\n"],
        stdout=subprocess.PIPE,
    )
    out_path = tmp_path / "out.txt"
    with open(out_path, "wb") as out:
        translator = subprocess.Popen(
            [sys.executable, "-m", "seq2seq", "translate", "-c", str(trained),
             "--method", "greedy", "--batch-size", "500"],
            stdin=generator.stdout, stdout=out, stderr=subprocess.PIPE, env=ONE_THREAD,
        )
        generator.stdout.close()  # the translator holds the only read end
        _, status, usage = os.wait4(translator.pid, 0)  # rusage of this child alone
        translator.returncode = os.waitstatus_to_exitcode(status)
    stderr = translator.stderr.read().decode()
    translator.stderr.close()
    assert generator.wait() == 0
    assert translator.returncode == 0, stderr
    peak_mb = usage.ru_maxrss / 1024  # KiB on Linux
    assert peak_mb < RSS_BOUND_MB, f"peak RSS {peak_mb:.0f} MB"
    with open(out_path, "rb") as f:
        assert sum(1 for _ in f) == STREAM_LINES


@pytest.mark.parametrize("text", [*HOSTILE, NO_PIECES, LONG_LINE[:2000]])
def test_api_beam_search_survives_each_hostile_line(trained, text):
    translator = Translator.from_checkpoint(trained, method="beam", beam_size=2)
    (nbest,) = translator.translate_full([text])
    assert "\n" not in nbest[0].text
