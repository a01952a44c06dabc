"""Multi-process training (torchrun, gloo on CPU) and preparation under a memory limit.

Every torchrun launch costs a few seconds of process start-up, so each test runs
as few of them as it can and on tiny data.
"""

from __future__ import annotations

import json
import os
import random
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
import yaml
from conftest import make_config, write_reversal_corpus, write_swap_suite

from seq2seq.checkpoint import load_checkpoint
from seq2seq.train import train

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone",
            "--nproc_per_node", "2"]


def _write_config(path: Path, config) -> Path:  # noqa: ANN001 (a seq2seq Config)
    path.write_text(yaml.safe_dump(config.to_dict()), encoding="utf-8")
    return path


def _torchrun(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(TORCHRUN + args, cwd=cwd, env=ENV, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(path)["model"]


def _metrics(out_dir: Path, kind: str) -> list[dict]:
    lines = (out_dir / "metrics.jsonl").read_text().splitlines()
    return [e for e in map(json.loads, lines) if e["kind"] == kind]


def test_two_process_run_resumes_exactly_and_only_rank_zero_writes(corpus, tmp_path):
    """With the contrastive loss on, whose backward each rank keeps local (no_sync) until
    the translation loss's backward reduces both."""
    suite = write_swap_suite(tmp_path / "suite.tsv", 40, seed=4)
    settings = {"max_steps": 8, "eval_every": 4, "batch_tokens": 300, "threads": 1,
                "contrastive": str(suite)}
    whole = _write_config(tmp_path / "whole.yaml",
                          make_config(corpus, tmp_path / "whole", train=settings))
    first = _write_config(tmp_path / "first.yaml",
                          make_config(corpus, tmp_path / "parts", train={**settings,
                                                                          "max_steps": 4}))
    rest = _write_config(tmp_path / "rest.yaml",
                         make_config(corpus, tmp_path / "parts", train=settings))

    result = _torchrun(["-m", "seq2seq", "train", str(whole)], tmp_path)
    assert result.stdout.count("trained 8 steps") == 1  # rank 0 alone reports
    assert result.stderr.count("trained bpe SentencePiece") == 1  # rank 0 alone prepares
    _torchrun(["-m", "seq2seq", "train", str(first)], tmp_path)
    _torchrun(["-m", "seq2seq", "train", str(rest), "--resume"], tmp_path)

    a, b = _weights(tmp_path / "whole" / "last.pt"), _weights(tmp_path / "parts" / "last.pt")
    assert all(torch.equal(a[name], b[name]) for name in a)
    assert [e["step"] for e in _metrics(tmp_path / "whole", "dev")] == [4, 8]
    losses = [[(e["step"], e["train_loss"]) for e in _metrics(tmp_path / d, "train")]
              for d in ("whole", "parts")]
    assert losses[0] == losses[1] and len(losses[0]) == 8
    assert all(e["contrastive_loss"] > 0 for e in _metrics(tmp_path / "whole", "train"))
    state = load_checkpoint(tmp_path / "parts" / "last.pt")
    assert state["train_state"]["world_size"] == 2 and len(state["rng_by_rank"]) == 2
    left_over = {p.name for p in (tmp_path / "parts").iterdir()} - {
        "cache", "metrics.jsonl", "last.pt", "best.pt", "tokenizer.src.model",
        "tokenizer.tgt.model", "tokenizer.json"} - {
        p.name for p in (tmp_path / "parts").glob("best-step*.pt")}
    assert not left_over  # no per-rank or temporary files

    single = make_config(corpus, tmp_path / "parts", train=settings)
    with pytest.raises(Exception, match="same number"):  # 1 process cannot resume a 2-rank run
        train(single, resume=True, log=lambda m: None)


# Run under torchrun: train through the library, then every rank saves the weights it
# ended with (the model that `distributed.wrap` received), so the test can compare them.
RANK_WEIGHTS = """
import sys
import torch
from seq2seq import distributed
from seq2seq.config import load_config
from seq2seq.train import train

models = []
wrap = distributed.wrap
distributed.wrap = lambda model: models.append(model) or wrap(model)
distributed.init_from_env()
train(load_config(sys.argv[1]), log=lambda message: None)
torch.save(models[0].state_dict(), f"{sys.argv[2]}/rank{distributed.rank()}.pt")
distributed.shutdown()
"""


def _full_batch_corpus(directory: Path, pairs: int) -> dict:
    """Pairs of four three-letter words: with a character vocabulary every pair has the
    same length (16 pieces), so a token budget of k * 17 makes batches of exactly k pairs."""
    words = "red cat dog sun old new big".split()
    rng = random.Random(5)
    for prefix in ("train", "dev"):
        lines = [" ".join(rng.choice(words) for _ in range(4)) for _ in range(pairs)]
        (directory / f"{prefix}.src").write_text("\n".join(lines) + "\n", encoding="utf-8")
        reversed_lines = [" ".join(line.split()[::-1]) for line in lines]
        (directory / f"{prefix}.tgt").write_text("\n".join(reversed_lines) + "\n",
                                                 encoding="utf-8")
    return {"train": str(directory / "train"), "dev": str(directory / "dev")}


def test_ranks_end_identical_and_match_one_process_on_the_same_global_batch(tmp_path):
    """16 pairs; 2 ranks x 8 pairs per batch vs 1 process x 16 pairs per batch.

    Every step of both runs is one full-batch step over the same 16 pairs, and the
    loss is summed over tokens and divided by the tokens of all ranks, so the two runs
    compute the same gradients up to float summation order (DDP averages two partial
    gradients where one process sums one). We compare the final weights with
    rtol 1e-4 / atol 1e-5 and the final dev loss to 1e-4 relative; measured
    differences are around 1e-7. The ranks' own weights must be bitwise identical.
    """
    corpus = _full_batch_corpus(tmp_path, 16)
    common = {"tokenizer": {"type": "char", "vocab_size": 30},
              "model": {"dropout": 0.0}}
    settings = {"max_steps": 5, "eval_every": 5, "threads": 1, "eval_metric": "loss",
                "clip_norm": 1.0}
    two = _write_config(tmp_path / "two.yaml", make_config(
        corpus, tmp_path / "two", train={**settings, "batch_tokens": 8 * 17}, **common))
    script = tmp_path / "rank_weights.py"
    script.write_text(textwrap.dedent(RANK_WEIGHTS), encoding="utf-8")
    _torchrun([str(script), str(two), str(tmp_path)], tmp_path)

    rank0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    rank1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    saved = _weights(tmp_path / "two" / "last.pt")
    assert all(torch.equal(rank0[n], rank1[n]) and torch.equal(rank0[n], saved[n])
               for n in rank0)

    one = make_config(corpus, tmp_path / "one", train={**settings, "batch_tokens": 16 * 17},
                      **common)
    train(one, log=lambda message: None)
    reference = _weights(tmp_path / "one" / "last.pt")
    for name, tensor in reference.items():
        torch.testing.assert_close(saved[name], tensor, rtol=1e-4, atol=1e-5)
    dev_two, dev_one = (_metrics(tmp_path / d, "dev")[-1]["loss"] for d in ("two", "one"))
    assert dev_two == pytest.approx(dev_one, rel=1e-4)
    epochs = [e["epoch"] for e in _metrics(tmp_path / "two", "train")]
    assert epochs == [e["epoch"] for e in _metrics(tmp_path / "one", "train")]


# Run under a memory limit: prepare a corpus (or, as a control, read it into a list).
# The limit is RLIMIT_DATA (private writable memory: heap and anonymous mappings) set
# to what the process uses after its imports plus LIMIT_SLACK, from inside the child:
# `import seq2seq` pulls in torch (~190 MB of data segment, ~600 MB of address space,
# varying by build), so a fixed limit set before exec would mostly measure torch.
# RLIMIT_AS is unsuitable: glibc reserves 64 MB of address space per thread arena
# and SentencePiece trains with threads, so address space says little about use.
PREPARE_UNDER_LIMIT = """
import resource, sys
from seq2seq.config import load_config
from seq2seq.prepare import prepare
from seq2seq.corpus import read_parallel, corpus_path

mode, config_path, slack = sys.argv[1], sys.argv[2], int(sys.argv[3])
config = load_config(config_path)
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
used = int(status["VmData"].split()[0]) * 1024
resource.setrlimit(resource.RLIMIT_DATA, (used + slack, used + slack))
if mode == "prepare":
    print(len(prepare(config, log=lambda message: None).train))
else:  # what a non-streaming reader would do
    data = config.data
    pairs = list(read_parallel(corpus_path(data.train, data.src_lang),
                               corpus_path(data.train, data.tgt_lang)))
    print(len(pairs))
"""
PAIRS = 300_000
LIMIT_SLACK = 80 * 2**20  # data segment allowed beyond what the imports use


def _write_long_corpus(directory: Path, pairs: int) -> dict:
    """`pairs` pairs of 12-20 words (~100 characters a side), written in chunks."""
    rng = random.Random(7)
    words = [f"{w}{i}" for i in range(50) for w in ("alpha", "beta", "gamma", "delta")]
    with open(directory / "train.src", "w") as src, open(directory / "train.tgt", "w") as tgt:
        for _ in range(pairs):
            line = [rng.choice(words) for _ in range(rng.randint(12, 20))]
            src.write(" ".join(line) + "\n")
            tgt.write(" ".join(reversed(line)) + "\n")
    return {"train": str(directory / "train"),
            "dev": write_reversal_corpus(directory, 20, seed=2, prefix="dev")}


def _run_limited(mode: str, config: Path, script: Path) -> subprocess.CompletedProcess:
    def no_core_dumps() -> None:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return subprocess.run([sys.executable, str(script), mode, str(config), str(LIMIT_SLACK)],
                          env=ENV, capture_output=True, text=True, timeout=600,
                          preexec_fn=no_core_dumps)


def test_prepare_streams_a_corpus_larger_than_its_memory_budget(tmp_path):
    """300,000 pairs, 72 MB of text. Measured without a limit (growth of VmData after
    the imports): reading them into a list of (str, str) takes 127 MB; `prepare` takes
    38 MB (peak RSS +24 MB), since it streams 10,000-pair chunks into the cache and
    SentencePiece samples `max_training_sentences` of the lines. The budget is 80 MB."""
    corpus = _write_long_corpus(tmp_path, PAIRS)
    config = _write_config(tmp_path / "cfg.yaml", make_config(
        corpus, tmp_path / "out", tokenizer={"vocab_size": 300, "max_training_sentences": 20_000},
        data={"max_len": 200}))
    script = tmp_path / "prepare_limited.py"
    script.write_text(textwrap.dedent(PREPARE_UNDER_LIMIT), encoding="utf-8")

    lists = _run_limited("lists", config, script)
    assert lists.returncode != 0 and "MemoryError" in lists.stderr  # the budget is real
    streamed = _run_limited("prepare", config, script)
    assert streamed.returncode == 0, streamed.stderr[-2000:]
    assert int(streamed.stdout.split()[-1]) == PAIRS
