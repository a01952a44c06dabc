"""Scale benchmark: prepare and start training on a synthetic N-pair corpus.

Synthesises N pairs from Multi30k train (each copy's words shuffled and one word
duplicated, so lines differ), then measures `seq2seq prepare` (pairs/s, peak RSS,
cache size on disk) and `seq2seq train` on the prepared cache (seconds from process
start to the first logged step, RSS at step 100). Prints a table, writes JSON.

    OMP_NUM_THREADS=1 python scripts/scale_benchmark.py --work /tmp/scale --pairs 1000000
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", required=True, type=Path, help="work directory")
    parser.add_argument("--pairs", type=int, default=10_000_000)
    parser.add_argument("--source", default=str(HERE.parent.parent / "shared/data/multi30k"),
                        help="directory with train.{en,de}.gz and val.{en,de}.gz")
    parser.add_argument("--steps", type=int, default=100, help="training steps to run")
    parser.add_argument("--encode-workers", type=int, default=1)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    prefix = synthesise(Path(args.source), args.work, args.pairs)
    synth_s = time.perf_counter() - started
    config = write_config(args, prefix)
    prep = run_measured([sys.executable, "-m", "seq2seq", "prepare", str(config)])
    startup_s, rss_at_step = train_measured(config, args.work / "run", args.steps)
    results = {
        "pairs": args.pairs,
        "synthesise_s": round(synth_s, 1),
        "prepare_s": round(prep["seconds"], 1),
        "prepare_pairs_per_s": round(args.pairs / prep["seconds"]),
        "prepare_peak_rss_mb": round(prep["max_rss_mb"]),
        "cache_mb": round(du(args.work / "run" / "cache") / 2**20, 1),
        "train_startup_s": round(startup_s, 2),
        f"train_rss_at_step_{args.steps}_mb": round(rss_at_step),
        "threads": os.environ.get("OMP_NUM_THREADS", "unset"),
    }
    for key, value in results.items():
        print(f"{key:28s} {value:>12}")
    out = args.work / f"scale_benchmark_{args.pairs}.json"
    out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {out}")


def synthesise(source: Path, work: Path, pairs: int) -> str:
    """`pairs` variants of the Multi30k training pairs under `work/synth.{en,de}`."""
    base = [read_gz(source / f"train.{lang}.gz") for lang in ("en", "de")]
    rng = random.Random(1)
    with open(work / "synth.en", "w") as en, open(work / "synth.de", "w") as de:
        for i in range(pairs):
            j = i % len(base[0])
            en.write(vary(base[0][j], rng, i) + "\n")
            de.write(vary(base[1][j], rng, i) + "\n")
    for lang in ("en", "de"):
        (work / f"dev.{lang}").write_text("\n".join(read_gz(source / f"val.{lang}.gz")) + "\n")
    return str(work / "synth")


def vary(line: str, rng: random.Random, copy: int) -> str:
    """The first copy unchanged; later ones shuffled with one word duplicated."""
    words = line.split()
    if copy < 29_000 or not words:
        return line
    rng.shuffle(words)
    words.insert(rng.randrange(len(words) + 1), rng.choice(words))
    return " ".join(words)


def read_gz(path: Path) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return f.read().splitlines()


def write_config(args: argparse.Namespace, prefix: str) -> Path:
    config = {
        "data": {"src_lang": "en", "tgt_lang": "de", "train": prefix,
                 "dev": str(args.work / "dev"), "encode_workers": args.encode_workers},
        "tokenizer": {"type": "bpe", "vocab_size": 8000},
        "model": {"emb_dim": 256, "enc_hidden": 256, "dec_hidden": 512, "attention_dim": 256},
        "train": {"out_dir": str(args.work / "run"), "batch_tokens": 4096,
                  "max_steps": args.steps + 1000, "eval_every": 100_000, "log_every": 1,
                  "threads": 1},
    }
    path = args.work / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def run_measured(command: list[str]) -> dict[str, float]:
    """Run `command`; its wall time and peak resident memory (this child alone)."""
    start = time.perf_counter()
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        sys.exit(f"{' '.join(command)}: exit status {process.returncode}")
    return {"seconds": time.perf_counter() - start, "max_rss_mb": usage.ru_maxrss / 1024}


def train_measured(config: Path, out_dir: Path, steps: int) -> tuple[float, float]:
    """(seconds from process start to step 1 in metrics.jsonl, RSS in MB at `steps`).

    The run is then stopped with SIGTERM (it saves last.pt and exits)."""
    metrics = out_dir / "metrics.jsonl"
    metrics.unlink(missing_ok=True)
    (out_dir / "last.pt").unlink(missing_ok=True)
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "seq2seq", "train", str(config)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    startup = None
    while process.poll() is None:
        step = last_step(metrics)
        if startup is None and step >= 1:
            startup = time.perf_counter() - start
        if step >= steps:
            rss = rss_mb(process.pid)
            process.send_signal(signal.SIGTERM)
            process.wait()
            return startup, rss
        time.sleep(0.02)
    sys.exit(f"seq2seq train ended early with status {process.returncode}")


def last_step(metrics: Path) -> int:
    try:
        lines = metrics.read_text().splitlines()
    except FileNotFoundError:
        return 0
    steps = [json.loads(line).get("step", 0) for line in lines if line.endswith("}")]
    return max(steps, default=0)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def du(path: Path) -> int:
    return sum(p.stat().st_blocks * 512 for p in path.rglob("*") if p.is_file())


if __name__ == "__main__":
    main()
