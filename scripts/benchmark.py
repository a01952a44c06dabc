#!/usr/bin/env python
"""Speed benchmark: training throughput, MFU, memory, decoding speed, latency and BLEU.

    python scripts/benchmark.py [CONFIG] [--set section.key=value ...] [--checkpoint CKPT]
                                [--train-steps 100] [--decode-sentences N] [--json-out F]

Training is measured on a freshly initialised model built from CONFIG with the
library's own pieces (`prepare`, `epoch_batches`/`collate`, `Seq2Seq`, `train.train_step`,
i.e. the same loss, clipping and Adam step as `seq2seq train`). Throughput counts
target tokens as `Batch.target_tokens` (non-padding, end-of-sentence included) and
skips the first `--warmup-steps` steps. Decoding uses the test set of the config
(`data.test`) with a fresh model, or with `--checkpoint` (its own config and
tokenizers) for a meaningful BLEU. Data preparation writes to `.bench/benchmark/NAME`
unless `--set train.out_dir=...` says otherwise (never into `runs/`).

Under `torchrun --nproc_per_node N` the training part runs data-parallel like
`seq2seq train` (each rank trains on its shard of every epoch's batches) and reports
the tokens/s of all ranks together; the fp32/bf16 matmul throughput is then measured
by all ranks at once and summed, so MFU is against what the same processes and
threads can reach. Rank 0 alone measures decoding and prints.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import resource
import statistics
import sys
import time
from pathlib import Path

import torch

from seq2seq import distributed as dist
from seq2seq.batching import collate, epoch_batches
from seq2seq.config import Config, ModelConfig, load_config
from seq2seq.corpus import corpus_path, read_parallel
from seq2seq.environment import describe_environment
from seq2seq.metrics import bleu
from seq2seq.model import Seq2Seq
from seq2seq.prepare import prepare
from seq2seq.train import adam, train_step
from seq2seq.translate import Translator

ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- FLOPs

def flops_per_target_token(model: ModelConfig, tgt_vocab: int, avg_src_len: float,
                           avg_tgt_len: float, training: bool = True) -> float:
    """Analytic matmul FLOPs per target token (one multiply-add = 2 FLOPs).

    avg_src_len: source tokens per sentence; avg_tgt_len: target tokens per sentence
    counted like `Batch.target_tokens` (pieces + EOS, i.e. decoder positions).
    G = 3 gates for GRU, 4 for LSTM; E = emb_dim, He = enc_hidden (per direction),
    M = 2·He (memory width), H = dec_hidden, A = attention_dim, O = output width
    (E if tie_output else H), V = target vocabulary, r = avg_src_len / avg_tgt_len.

      encoder   r · Σ_layers 2 directions · 2·G·(in·He + He·He)   (in = E, then M)
      keys      r · 2·M·A (bahdanau) | r · 2·M·H (luong_general) | 0 (luong_dot)
      bridge    2·M·H / avg_tgt_len                                (once per sentence)
      decoder   Σ_layers 2·G·(in·H + H·H)       (in = E [+ O with input feeding], then H)
                [+ 2·G·((H + M)·H + H·H) for the context RNN]
      attention bahdanau: 2·H·A (query) + 2·S·A (energy); luong: 2·S·M (scores);
                both: 2·S·M (weighted sum of memory), S = avg_src_len
      target    with target attention: 2·H·H (keys) + 2·2·T·H (scores and weighted sum),
                T = (avg_tgt_len + 1) / 2 positions seen on average
      combine   2·(H + M [+ E with readout_embedding] [+ H with target attention])·O
      output    2·O·V
    Embedding lookups, element-wise ops (gates, tanh, softmax) and the loss are free.
    Training = 3 × forward (the backward pass costs about twice the forward).
    """
    g = 4 if model.rnn == "lstm" else 3
    e, he, h, a = model.emb_dim, model.enc_hidden, model.dec_hidden, model.attention_dim
    m = 2 * he
    o = e if model.tie_output else h
    s, r = avg_src_len, avg_src_len / avg_tgt_len
    encoder = sum(2 * 2 * g * ((e if i == 0 else m) * he + he * he)
                  for i in range(model.enc_layers))
    keys = {"bahdanau": 2 * m * a, "luong_general": 2 * m * h, "luong_dot": 0}[model.attention]
    bridge = 2 * m * h / avg_tgt_len
    dec_in = e + (o if model.input_feeding else 0)
    decoder = sum(2 * g * ((dec_in if i == 0 else h) * h + h * h) for i in range(model.dec_layers))
    if model.context_rnn:
        decoder += 2 * g * ((h + m) * h + h * h)
    if model.attention == "bahdanau":
        attention = 2 * h * a + 2 * s * a + 2 * s * m
    else:
        attention = 2 * s * m + 2 * s * m
    readout = h + m + (e if model.readout_embedding else 0)
    target = 0.0
    if model.target_attention:
        readout += h
        target = 2 * h * h + 2 * 2 * (avg_tgt_len + 1) / 2 * h
    forward = (r * (encoder + keys) + bridge + decoder + attention + target + 2 * readout * o
               + 2 * o * tgt_vocab)
    return forward * (3 if training else 1)


def matmul_flops_per_s(dtype: torch.dtype, n: int = 2048, seconds: float = 2.0) -> float:
    """Sustained FLOP/s of an n×n @ n×n matmul loop at the current thread count."""
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    torch.mm(a, b)  # warm-up
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds or done < 3:
        torch.mm(a, b)
        done += 1
    return 2 * n ** 3 * done / (time.perf_counter() - start)


# --------------------------------------------------------------------------- measurements

def machine_info() -> dict:
    """What `seq2seq train` logs about the machine and libraries, plus what a timing
    also depends on: usable cores, OMP_NUM_THREADS, the load average, the date."""
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        **describe_environment(), "cpu_count": os.cpu_count(), "usable_cores": affinity,
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "load_average_1_5_15": list(os.getloadavg()),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
    }


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def measure_training(config: Config, steps: int, warmup: int, log,
                     compile_model: bool = False) -> dict:
    data = dist.rank_zero_first(lambda: prepare(config, log))
    torch.manual_seed(config.train.seed)
    random.seed(config.train.seed)
    model = Seq2Seq.for_tokenizers(config.model, data.src_tok, data.tgt_tok)
    ddp_model = dist.wrap(model)
    if compile_model:  # inductor, shapes dynamic (every batch has its own lengths)
        ddp_model = torch.compile(ddp_model, dynamic=True)
    optimizer = adam(model, config.train.lr)
    cfg, train = config.train, data.train
    batches, epoch, position = [], 0, 0
    times, tokens, src_tokens, sentences = [], [], [], []
    for step in range(steps):
        if position >= len(batches):
            batches = dist.shard(epoch_batches(train.src_lengths, train.tgt_lengths,
                                               cfg.batch_tokens, cfg.seed, epoch))
            epoch, position = epoch + 1, 0
        indices = batches[position]
        position += 1
        ramp = min(1.0, (step + 1) / cfg.warmup_steps) if cfg.warmup_steps else 1.0
        start = time.perf_counter()
        batch = collate(train, indices)  # collation is part of a training step
        n = train_step(ddp_model, optimizer, batch, lr=cfg.lr * ramp,
                       label_smoothing=cfg.label_smoothing, clip_norm=cfg.clip_norm,
                       params=model.parameters(), bf16=cfg.bf16, rdrop=cfg.rdrop).tokens
        times.append(time.perf_counter() - start)
        tokens.append(n)
        src_tokens.append(int(batch.src_len.sum()))
        sentences.append(len(indices))
    keep = slice(min(warmup, max(steps - 1, 0)), None)
    t, n = sum(times[keep]), dist.sum_int(sum(tokens[keep]))  # n: target tokens of all ranks
    avg_src = sum(src_tokens[keep]) / sum(sentences[keep])  # this rank's batches
    avg_tgt = sum(tokens[keep]) / sum(sentences[keep])
    flops = flops_per_target_token(config.model, len(data.tgt_tok), avg_src, avg_tgt)
    flops *= 2 if cfg.rdrop > 0 else 1  # R-Drop: every batch passes through the model twice
    return {
        "parameters": model.num_parameters(), "steps": steps, "warmup_steps_skipped": keep.start,
        "measured_steps": len(times[keep]), "target_tokens": n,
        "target_tokens_per_s": n / t, "ms_per_step": 1000 * t / len(times[keep]),
        "avg_src_len": avg_src, "avg_tgt_len": avg_tgt,
        "flops_per_target_token": flops, "model_flops_per_s": flops * n / t,
        "peak_rss_mb": peak_rss_mb(), "processes": dist.world_size(),
        "compiled": compile_model,
    }


def measure_decoding(translator: Translator, sources: list[str], references: list[str],
                     method: str, beam_size: int, batch_size: int) -> dict:
    translator.decode = dataclasses.replace(translator.decode, method=method,
                                            beam_size=beam_size, batch_size=batch_size, nbest=1)
    translator.translate_full(sources[:8])  # warm-up
    start = time.perf_counter()
    results = translator.translate_full(sources)
    elapsed = time.perf_counter() - start
    hyps = [r[0].text for r in results]
    out_tokens = sum(len(r[0].tgt_pieces) + 1 for r in results)  # pieces + EOS
    return {"sentences": len(sources), "seconds": elapsed,
            "sentences_per_s": len(sources) / elapsed, "target_tokens_per_s": out_tokens / elapsed,
            "target_tokens": out_tokens, "bleu": bleu(hyps, references),
            "peak_rss_mb": peak_rss_mb()}, hyps


def measure_latency(translator: Translator, sources: list[str], method: str,
                    beam_size: int) -> dict:
    translator.decode = dataclasses.replace(translator.decode, method=method,
                                            beam_size=beam_size, batch_size=1, nbest=1)
    translator.translate(sources[:3])  # warm-up
    times = []
    for sentence in sources:
        start = time.perf_counter()
        translator.translate([sentence])
        times.append(time.perf_counter() - start)
    times.sort()
    p95 = times[min(len(times) - 1, max(0, round(0.95 * len(times)) - 1))]
    return {"sentences": len(times), "median_ms": 1000 * statistics.median(times),
            "p95_ms": 1000 * p95, "mean_ms": 1000 * statistics.fmean(times)}


def make_translator(config: Config, checkpoint: str | None, precision: str, log) -> Translator:
    """The trained model of `checkpoint` (its own config), or a fresh one built from
    `config`, decoding in `precision` (fp32, bf16 or int8)."""
    if precision not in ("fp32", "bf16", "int8"):
        raise SystemExit(f"benchmark.py: unknown precision {precision!r} (fp32, bf16, int8)")
    options = {"int8": precision == "int8", "bf16": precision == "bf16"}
    if checkpoint:
        return Translator.from_checkpoint(checkpoint, **options)
    data = prepare(config, log)  # tokenizers (cached by the training part)
    torch.manual_seed(config.train.seed)
    model = Seq2Seq.for_tokenizers(config.model, data.src_tok, data.tgt_tok)
    payload = {"model": model.state_dict(),
               "tokenizers": {"src": data.src_tok.model_bytes, "tgt": data.tgt_tok.model_bytes}}
    return Translator.from_payload(payload, config, **options)


# --------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("config", nargs="?", default=str(ROOT / "configs/multi30k_en_de.yaml"))
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="SECTION.KEY=VALUE", help="config override (repeatable)")
    parser.add_argument("--checkpoint", help="decode with this trained model (its own config)")
    parser.add_argument("--train-steps", type=int, default=100, help="0 skips training")
    parser.add_argument("--warmup-steps", type=int, default=10, help="steps not timed")
    parser.add_argument("--decode-sentences", type=int, default=0,
                        help="first N test sentences (0 = all; -1 skips decoding)")
    parser.add_argument("--latency-sentences", type=int, default=100, help="0 skips latency")
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64, help="decoding batch (sentences)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = default)")
    parser.add_argument("--matmul-seconds", type=float, default=2.0)
    parser.add_argument("--precision", default="fp32",
                        help="comma-separated decoding precisions to measure, each as in "
                             "`seq2seq translate`: fp32, bf16, int8 (e.g. fp32,bf16,int8)")
    parser.add_argument("--compile", action="store_true",
                        help="train through torch.compile (the first steps compile)")
    parser.add_argument("--hyp-dir", help="write the decoded test sentences here")
    parser.add_argument("--json-out", help="write all numbers here as JSON")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    dist.init_from_env()
    rank_zero = dist.is_rank_zero()
    log = lambda msg: print(msg, file=sys.stderr, flush=True) if rank_zero else None  # noqa: E731

    overrides = list(args.overrides)
    config = load_config(args.config, overrides)
    if not any(o.startswith("train.out_dir=") for o in overrides):
        out_dir = ROOT / ".bench" / "benchmark" / config.name
        config = load_config(args.config, [*overrides, f"train.out_dir={out_dir}"])
    results: dict = {"machine": machine_info(), "config": args.config, "overrides": overrides,
                     "checkpoint": args.checkpoint}

    log(f"matmul throughput ({dist.world_size()} process(es) x {torch.get_num_threads()} "
        "threads) ...")
    results["matmul_gflops"] = {  # all ranks at once, summed
        kind: dist.broadcast_object(sum(dist.gather_object(
            matmul_flops_per_s(dtype, seconds=args.matmul_seconds)))) / 1e9
        for kind, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16))
    }

    if args.train_steps > 0:
        log(f"training {args.train_steps} steps on a fresh model ...")
        tr = measure_training(config, args.train_steps, args.warmup_steps, log, args.compile)
        tr["mfu_fp32"] = tr["model_flops_per_s"] / (results["matmul_gflops"]["fp32"] * 1e9)
        results["training"] = tr
    if not rank_zero:  # the other ranks have helped measure training; rank 0 goes on
        dist.shutdown()
        return 0

    if args.decode_sentences >= 0:
        test_prefix = config.data.test
        pairs = list(read_parallel(corpus_path(test_prefix, config.data.src_lang),
                                   corpus_path(test_prefix, config.data.tgt_lang)))
        if args.decode_sentences:
            pairs = pairs[:args.decode_sentences]
        sources, references = [s for s, _ in pairs], [t for _, t in pairs]
        results["decoding"] = {"test": str(test_prefix), "batch_size": args.batch_size}
        for precision in args.precision.split(","):
            translator = make_translator(config, args.checkpoint, precision, log)
            suffix = "" if precision == "fp32" else f"_{precision}"
            for name, method, k in (("greedy", "greedy", 1), (f"beam{args.beam_size}", "beam",
                                                              args.beam_size)):
                log(f"decoding {len(sources)} sentences, {name}, {precision}, "
                    f"batch {args.batch_size} ...")
                numbers, hyps = measure_decoding(translator, sources, references, method, k,
                                                 args.batch_size)
                results["decoding"][name + suffix] = numbers
                if args.hyp_dir:
                    Path(args.hyp_dir).mkdir(parents=True, exist_ok=True)
                    (Path(args.hyp_dir) / f"test.{name}{suffix}.{config.data.tgt_lang}"
                     ).write_text("".join(h + "\n" for h in hyps), encoding="utf-8")
                if args.latency_sentences > 0:
                    log(f"latency, {name}, {precision}, batch size 1, "
                        f"{args.latency_sentences} sentences ...")
                    results["decoding"][f"{name}{suffix}_latency"] = measure_latency(
                        translator, sources[:args.latency_sentences], method, k)

    results["peak_rss_mb"] = peak_rss_mb()
    print_report(results)
    if args.json_out:
        Path(args.json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_out).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    dist.shutdown()
    return 0


def print_report(r: dict) -> None:
    m = r["machine"]
    print(f"machine: {m['cpu']}; {m['cpu_count']} logical CPUs ({m['usable_cores']} usable); "
          f"torch {m['torch']} ({m['cpu_capability']}); python {m['python']}")
    print(f"threads: torch {m['threads']}, OMP_NUM_THREADS={m['OMP_NUM_THREADS']}; "
          f"load average at start {m['load_average_1_5_15'][0]:.2f}; {m['date']}")
    print(f"config: {r['config']} {' '.join(r['overrides'])}"
          + (f"; checkpoint {r['checkpoint']}" if r["checkpoint"] else ""))
    g = r["matmul_gflops"]
    print(f"matmul 2048x2048: fp32 {g['fp32']:.1f} GFLOP/s, bf16 {g['bf16']:.1f} GFLOP/s")
    print("tokens = target tokens, non-padding, end-of-sentence included (Batch.target_tokens)")
    rows = []
    if "training" in r:
        t = r["training"]
        rows += [
            ("train: parameters", f"{t['parameters']:,}"),
            ("train: processes (data-parallel)", f"{t['processes']}"),
            ("train: steps timed (warm-up skipped)",
             f"{t['measured_steps']} ({t['warmup_steps_skipped']})"),
            ("train: target tokens/s", f"{t['target_tokens_per_s']:.0f}"),
            ("train: ms/step", f"{t['ms_per_step']:.1f}"),
            ("train: avg src / tgt tokens per sentence",
             f"{t['avg_src_len']:.1f} / {t['avg_tgt_len']:.1f}"),
            ("train: model MFLOP per target token (fwd+bwd)",
             f"{t['flops_per_target_token'] / 1e6:.2f}"),
            ("train: model GFLOP/s", f"{t['model_flops_per_s'] / 1e9:.2f}"),
            ("train: MFU vs fp32 matmul", f"{100 * t['mfu_fp32']:.1f}%"),
            ("train: peak RSS after training (MB)", f"{t['peak_rss_mb']:.0f}"),
        ]
    for name, d in r.get("decoding", {}).items():
        if not isinstance(d, dict):
            continue
        if "sentences_per_s" in d:
            rows += [(f"decode {name} (batch {r['decoding']['batch_size']}): sentences/s",
                      f"{d['sentences_per_s']:.1f}"),
                     (f"decode {name}: target tokens/s", f"{d['target_tokens_per_s']:.0f}"),
                     (f"decode {name}: BLEU (cased, {d['sentences']} sentences)",
                      f"{d['bleu']:.2f}")]
        else:
            rows.append((f"decode {name.replace('_latency', '')}: latency batch 1 "
                         f"median / p95 ms ({d['sentences']} sent.)",
                         f"{d['median_ms']:.1f} / {d['p95_ms']:.1f}"))
    decoding = r.get("decoding", {})
    for name, d in decoding.items():
        base = decoding.get(name.rsplit("_", 1)[0]) if "_" in name else None
        if isinstance(d, dict) and "sentences_per_s" in d and base:
            rows.append((f"decode {name}: speed / BLEU vs fp32",
                         f"{d['sentences_per_s'] / base['sentences_per_s']:.2f}x / "
                         f"{d['bleu'] - base['bleu']:+.2f}"))
    rows.append(("peak RSS of the whole run (MB)", f"{r['peak_rss_mb']:.0f}"))
    width = max(len(k) for k, _ in rows)
    print(f"| {'measure':<{width}} | value |")
    print(f"|{'-' * (width + 2)}|-------|")
    for k, v in rows:
        print(f"| {k:<{width}} | {v} |")


if __name__ == "__main__":
    sys.exit(main())
