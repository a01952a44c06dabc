"""Crash safety of `seq2seq train`: SIGKILL at any point leaves only loadable checkpoints,
`--resume` reproduces an uninterrupted run bit for bit, and SIGTERM/SIGINT stop cleanly.

Every run is a real `python -m seq2seq train` subprocess on a tiny corpus and model.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from conftest import write_reversal_corpus

from seq2seq.checkpoint import load_checkpoint

MAX_STEPS = 30
CONFIG = """\
data: {{src_lang: src, tgt_lang: tgt, train: {train}, dev: {dev}}}
tokenizer: {{type: bpe, vocab_size: 40}}
model: {{emb_dim: 16, enc_hidden: 16, dec_hidden: 32, attention_dim: 16, dropout: 0.3}}
train:
  out_dir: {out}
  batch_tokens: 120
  max_steps: {max_steps}
  eval_every: 3
  log_every: 1
  early_stopping_patience: 0
  seed: 7
  threads: 1
decode: {{method: greedy, batch_size: 32}}
"""


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict:
    directory = tmp_path_factory.mktemp("crash_corpus")
    return {"train": write_reversal_corpus(directory, 150, seed=1, prefix="train"),
            "dev": write_reversal_corpus(directory, 8, seed=2, prefix="dev")}


def write_config(data: dict, directory: Path, max_steps: int = MAX_STEPS) -> tuple[Path, Path]:
    out = directory / "run"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "config.yaml"
    path.write_text(CONFIG.format(out=out, max_steps=max_steps, **data), encoding="utf-8")
    return path, out


def start(config: Path, *flags: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "seq2seq", "train", str(config), *flags],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run(config: Path, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "seq2seq", "train", str(config), *flags],
                          capture_output=True, text=True, timeout=120)


def logged_step(out: Path) -> int:
    """The last training step written to metrics.jsonl (0 if none yet)."""
    try:
        lines = (out / "metrics.jsonl").read_text().splitlines()
    except FileNotFoundError:
        return 0
    steps = [int(line.split('"step": ')[1].split(",")[0]) for line in lines if '"step": ' in line]
    return max(steps, default=0)


def checkpoint_being_written(out: Path) -> bool:
    return any(out.glob(".*.pt.*.tmp"))


def kill_when(config: Path, resume: bool, condition: Callable[[], bool]) -> bool:
    """Start training, SIGKILL it as soon as `condition()` holds. False if it finished first."""
    process = start(config, *(["--resume"] if resume else []))
    try:
        while process.poll() is None:
            if condition():
                process.send_signal(signal.SIGKILL)
                process.wait()
                return True
            time.sleep(0.0005)
        return False
    finally:
        process.kill()
        process.communicate()


def assert_every_checkpoint_loads(out: Path) -> None:
    for path in out.glob("*.pt"):
        payload = load_checkpoint(path)  # raises CheckpointError if damaged
        assert payload["model"], path


def final_weights(out: Path) -> dict[str, torch.Tensor]:
    payload = load_checkpoint(out / "last.pt")
    assert payload["train_state"]["step"] == MAX_STEPS
    return payload["model"]


def test_sigkill_anywhere_then_resume_gives_identical_weights(data, tmp_path):
    reference_config, reference_out = write_config(data, tmp_path / "reference")
    done = run(reference_config)
    assert done.returncode == 0, done.stderr
    reference = final_weights(reference_out)

    config, out = write_config(data, tmp_path / "crashed")
    kill_points = [
        ("during data preparation", lambda: (out / "tokenizer.src.model").exists()),
        ("before the first checkpoint", lambda: logged_step(out) >= 2),
        ("while a checkpoint is written", lambda: checkpoint_being_written(out)),
        ("between checkpoints", lambda: logged_step(out) >= logged_step_at_start + 2),
        ("while a checkpoint is written", lambda: checkpoint_being_written(out)),
    ]
    caught_mid_write = 0
    for what, condition in kill_points:
        resume = (out / "last.pt").exists()
        logged_step_at_start = logged_step(out)  # noqa: F841 (read by the lambda above)
        killed = kill_when(config, resume, condition)
        assert killed, f"training finished before the kill point '{what}'"
        caught_mid_write += what.startswith("while") and any(out.glob(".*.tmp"))
        assert_every_checkpoint_loads(out)
    assert caught_mid_write >= 1, "never killed while a checkpoint temp file existed"
    assert (out / "last.pt").exists()

    finished = run(config, "--resume")
    assert finished.returncode == 0, finished.stderr
    assert_every_checkpoint_loads(out)
    resumed = final_weights(out)
    # Bitwise on CPU: same seed, same threads (1), RNG and data position restored.
    assert resumed.keys() == reference.keys()
    differing = [name for name, tensor in reference.items()
                 if not torch.equal(resumed[name], tensor)]
    assert differing == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_sigint_stop_gracefully_with_last_checkpoint(data, tmp_path, signum):
    config, out = write_config(data, tmp_path, max_steps=100_000)
    process = start(config)
    deadline = time.monotonic() + 90
    while logged_step(out) < 4 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert "--resume" in stderr.strip().splitlines()[-1]
    payload = load_checkpoint(out / "last.pt")
    assert payload["train_state"]["step"] >= 4
    assert not list(out.glob(".*.tmp"))


def test_train_refuses_to_overwrite_an_existing_run(data, tmp_path):
    config, out = write_config(data, tmp_path, max_steps=3)
    assert run(config).returncode == 0
    before = {p.name: p.read_bytes() for p in out.glob("*.pt")}
    again = run(config)
    assert again.returncode == 2
    (line,) = again.stderr.splitlines()
    assert "last.pt exists" in line and "--resume" in line
    assert {p.name: p.read_bytes() for p in out.glob("*.pt")} == before


def test_resume_without_a_checkpoint_is_one_line_error(data, tmp_path):
    config, out = write_config(data, tmp_path)
    result = run(config, "--resume")
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert "nothing to resume" in line and str(out / "last.pt") in line
