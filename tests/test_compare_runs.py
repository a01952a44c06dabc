"""Tests for scripts/compare_runs.py on a real training run's metrics.jsonl."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "compare_runs.py"


def run(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)],
                          capture_output=True, text=True, timeout=60)


def test_compare_runs_matches_each_runs_dev_evaluations(trained: Path, tmp_path: Path) -> None:
    run_dir = trained.parent
    dev = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    dev = [entry for entry in dev if entry["kind"] == "dev"]
    shorter = tmp_path / "shorter"  # the same run, cut after its first evaluation
    shorter.mkdir()
    (shorter / "metrics.jsonl").write_text(json.dumps({"kind": "dev", **dev[0]}) + "\n")
    result = run(run_dir, shorter)
    assert result.returncode == 0, result.stderr
    rows = {line.split(" | ")[0].strip("| "): line for line in result.stdout.splitlines()}
    first, last = dev[0], dev[-1]
    assert f"| {first['loss']:.3f} / {first['bleu']:.2f} | {first['loss']:.3f} / " in rows[
        str(first["step"])]
    assert rows[str(last["step"])].endswith(f"{last['loss']:.3f} / {last['bleu']:.2f} | - |")
    best = max(dev, key=lambda entry: (entry["bleu"], entry["step"]))
    assert f"{best['bleu']:.2f} (step {best['step']})" in rows["best BLEU"]


def test_compare_runs_bad_metrics_line_is_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "metrics.jsonl").write_text('{"kind": "dev", "step": 5, "loss": 1.0}\nnot json\n')
    result = run(tmp_path)
    assert result.returncode == 2
    path = tmp_path / "metrics.jsonl"
    assert result.stderr == f"compare_runs.py: {path}:2: not a metrics entry: 'not json'\n"
    missing = run(tmp_path / "nowhere")
    assert missing.returncode == 2 and "nowhere/metrics.jsonl: cannot read" in missing.stderr
