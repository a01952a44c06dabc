"""Contrastive suites: reading, accuracy per category, and the CLI's JSON."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from seq2seq.contrast import contrast_accuracy, read_suite
from seq2seq.corpus import CorpusError
from seq2seq.translate import Translator


def test_contrast_accuracy_per_category(trained, tmp_path):
    rows = ["red cat\tcat red\tred cat\torder",
            "big sun old tree\ttree old sun big\ttree old big sun\torder",
            "blue moon\tmoon blue\tmoon moon\twords",
            "blue moon\tmoon moon\tmoon blue\twords"]  # the "correct" one is wrong here
    suite = tmp_path / "suite.tsv"
    suite.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = contrast_accuracy(Translator.from_checkpoint(trained), read_suite(suite))
    assert result["order"] == {"accuracy": 1.0, "correct": 2, "rows": 2}
    assert result["words"] == {"accuracy": 0.5, "correct": 1, "rows": 2}
    assert result["overall"]["rows"] == 4 and result["overall"]["correct"] == 3

    cli = subprocess.run([sys.executable, "-m", "seq2seq", "contrast", "-c", str(trained),
                          str(suite), "--json"], capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout) == result


def test_malformed_suite_names_file_and_line(tmp_path):
    suite = tmp_path / "bad.tsv"
    suite.write_text("a\tb\tc\n\njust one field\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"bad.tsv: line 3: expected 3 or 4 tab-separated"):
        read_suite(suite)
    empty = tmp_path / "empty.tsv"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="no contrastive rows"):
        read_suite(empty)
