"""The `seq2seq` command end to end on tiny data, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import yaml
from conftest import BASE


def run(*args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-m", "seq2seq", *args], input=stdin, text=True,
                            capture_output=True, env=env, timeout=300)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_prepare_train_translate_score_evaluate(corpus, tmp_path):
    raw = {**BASE, "data": {**BASE["data"], "train": corpus["train"], "dev": corpus["dev"]},
           "train": {**BASE["train"], "out_dir": str(tmp_path / "run"), "max_steps": 200,
                     "eval_every": 100}}
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(raw))

    assert "2,000 training" in run("prepare", str(config)).stdout
    trained = run("train", str(config))
    assert "trained 200 steps" in trained.stdout
    checkpoint = str(tmp_path / "run" / "best.pt")

    sources = (corpus["dir"] / "dev.src").read_text().splitlines()[:20]
    references = (corpus["dir"] / "dev.tgt").read_text().splitlines()[:20]
    (tmp_path / "src.txt").write_text("\n".join(sources) + "\n")
    (tmp_path / "ref.txt").write_text("\n".join(references) + "\n")
    out = run("translate", "-c", checkpoint, "--method", "beam", "--beam-size", "3",
              "-i", str(tmp_path / "src.txt"), "-o", str(tmp_path / "hyp.txt"))
    assert out.stdout == ""
    hyps = (tmp_path / "hyp.txt").read_text().splitlines()
    assert len(hyps) == 20

    from_stdin = run("translate", "-c", checkpoint, "--method", "beam", "--beam-size", "3",
                     stdin="\n".join(sources) + "\n").stdout.splitlines()
    assert from_stdin == hyps

    nbest = run("translate", "-c", checkpoint, "--method", "beam", "--nbest", "2",
                "--beam-size", "3", stdin="red cat\n").stdout.splitlines()
    assert len(nbest) == 2 and all(line.startswith("0 ||| ") for line in nbest)

    evaluation = json.loads(run("evaluate", "--hyp", str(tmp_path / "hyp.txt"),
                                "--ref", str(tmp_path / "ref.txt"), "--json").stdout)
    assert evaluation["BLEU"]["score"] > 50
    assert evaluation["BLEU"]["signature"].startswith("nrefs:1|case:mixed")
    assert "case:lc" in evaluation["BLEU_lc"]["signature"]
    assert "chrF" in evaluation

    scores = run("score", "-c", checkpoint, "--src", str(tmp_path / "src.txt"),
                 "--tgt", str(tmp_path / "hyp.txt")).stdout.splitlines()
    assert len(scores) == 20 and all(len(line.split("\t")) == 3 for line in scores)

    plots = tmp_path / "plots"
    run("translate", "-c", checkpoint, "--plot-attention", str(plots), stdin="red cat\nsun\n")
    assert sorted(p.name for p in plots.iterdir()) == ["000001.png", "000002.png"]
    bf16_plots = tmp_path / "bf16_plots"  # bf16 decoding: attention comes back as float
    out = run("translate", "-c", checkpoint, "--bf16", "--method", "beam",
              "--plot-attention", str(bf16_plots), stdin="red cat\nsun\n").stdout
    assert len(out.splitlines()) == 2 and len(list(bf16_plots.iterdir())) == 2
    both = run("translate", "-c", checkpoint, "--bf16", "--int8", stdin="sun\n", check=False)
    assert both.returncode == 2 and "not allowed with argument" in both.stderr


def test_user_errors_are_one_line_with_exit_status_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: {src_lang: en}\n")
    result = run("train", str(bad), check=False)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert str(bad) in result.stderr and "missing required key" in result.stderr

    result = run("translate", "-c", str(tmp_path / "missing.pt"), stdin="x\n", check=False)
    assert result.returncode == 2 and "checkpoint not found" in result.stderr
    assert result.stderr.strip().count("\n") == 0


def test_help_explains_every_subcommand():
    for command in ["prepare", "train", "translate", "score", "contrast", "average", "evaluate"]:
        assert "usage: seq2seq " + command in run(command, "--help").stdout
