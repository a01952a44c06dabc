"""Compare training runs by their dev evaluations at matched steps.

    python scripts/compare_runs.py runs/multi30k_en_de runs/exp_en_de_big

Reads each run's `metrics.jsonl` (written by `seq2seq train`) and prints one row per
step that any run evaluated: dev loss and dev BLEU of every run at that step ("-" where
a run has no evaluation there), then each run's best dev BLEU and the step it came at.
Use it to judge an experiment against a baseline before it finishes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DevPoint = tuple[float, float | None]  # (dev loss, dev BLEU or None)


class RunError(Exception):
    """A run directory without readable metrics; the message names the file and line."""


def read_dev_points(run: Path) -> dict[int, DevPoint]:
    """step -> (dev loss, dev BLEU) from `run/metrics.jsonl`; the last entry of a step wins
    (a resumed run may evaluate a step again)."""
    path = run / "metrics.jsonl"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise RunError(f"{path}: cannot read ({getattr(e, 'strerror', None) or e})") from None
    points: dict[int, DevPoint] = {}
    for number, line in enumerate(lines, 1):
        try:
            entry = json.loads(line)
            if entry.get("kind") == "dev":
                points[int(entry["step"])] = (float(entry["loss"]), entry.get("bleu"))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise RunError(f"{path}:{number}: not a metrics entry: {line[:60]!r}") from None
    return points


def comparison_table(runs: list[Path], points: list[dict[int, DevPoint]]) -> list[str]:
    """Markdown rows: step, then 'loss / BLEU' per run; then the best BLEU per run."""
    def cell(point: DevPoint | None) -> str:
        if point is None:
            return "-"
        loss, bleu = point
        return f"{loss:.3f} / {bleu:.2f}" if bleu is not None else f"{loss:.3f}"

    lines = ["| step | " + " | ".join(str(r) for r in runs) + " |",
             "|---" * (len(runs) + 1) + "|"]
    for step in sorted(set().union(*points)):
        lines.append(f"| {step} | " + " | ".join(cell(p.get(step)) for p in points) + " |")
    best = []
    for run_points in points:
        scored = [(bleu, step) for step, (_, bleu) in run_points.items() if bleu is not None]
        best.append("{:.2f} (step {})".format(*max(scored)) if scored else "-")
    lines.append("| best BLEU | " + " | ".join(best) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="train.out_dir of each run")
    args = parser.parse_args(argv)
    try:
        points = [read_dev_points(run) for run in args.runs]
    except RunError as e:
        print(f"compare_runs.py: {e}", file=sys.stderr)
        return 2
    print("\n".join(comparison_table(args.runs, points)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
