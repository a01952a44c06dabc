"""Training loop: loss, optimiser and schedule, validation, early stopping, checkpoints.

`train(config)` runs an experiment into `train.out_dir`:
  last.pt              full state for `--resume` (model, optimiser, schedule, RNG, data position)
  best-stepN.pt        the best `keep_best` models by the dev metric (weights + config)
  best.pt              the best of those
  metrics.jsonl        one JSON object per log/eval event, and one describing the machine
                       and library versions each time training starts or resumes
Every checkpoint alone can translate. With `train.ema_decay` the weights evaluated and
saved are the exponential moving average of the trained ones; last.pt keeps both.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import random
import shutil
import signal
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from tqdm import tqdm

from seq2seq import distributed as dist
from seq2seq.average import ema_decay, update_moving_average
from seq2seq.batching import Batch, collate, epoch_batches
from seq2seq.checkpoint import load_checkpoint, save_checkpoint
from seq2seq.config import Config, config_from_dict, describe_differences
from seq2seq.contrast import EncodedSuite, contrastive_loss, read_suite
from seq2seq.corpus import EncodedCorpus
from seq2seq.environment import describe_environment
from seq2seq.errors import first_line
from seq2seq.loss import linear_cross_entropy
from seq2seq.metrics import bleu
from seq2seq.model import Seq2Seq, target_log_probs
from seq2seq.prepare import PreparedData, make_out_dir, prepare, sampled_train
from seq2seq.tokenizer import PAD
from seq2seq.translate import Translator


class TrainError(RuntimeError):
    """A problem found before or during training; one line for the user."""


# Settings `--resume` accepts changed (see `_may_change_on_resume`): the run's length,
# how often it logs, evaluates and keeps checkpoints, where and how fast it runs, and
# what training does not use (the test set; decode settings that dev evaluation replaces
# or ignores, and its batch size). Anything else would change the data, the model, what
# a step computes, or how dev scores compare with the ones the run has kept.
RESUMABLE_CHANGES = frozenset({
    "name", "data.test", "data.encode_workers", "train.out_dir", "train.max_steps",
    "train.max_epochs", "train.eval_every", "train.log_every", "train.early_stopping_patience",
    "train.keep_best", "train.threads", "train.device", "decode.method", "decode.nbest",
    "decode.temperature", "decode.top_k", "decode.batch_size",
})


@dataclass
class TrainState:
    """Progress that `--resume` restores besides weights, optimiser and RNG."""

    step: int = 0
    epoch: int = 0
    batch_in_epoch: int = 0  # batches of `epoch` already trained on
    lr_scale: float = 1.0  # reduce-on-plateau factor so far
    best_score: float | None = None  # higher is better (BLEU, or -loss)
    evals_without_improvement: int = 0
    plateau_count: int = 0
    kept: list[list] = field(default_factory=list)  # [[score, step], ...] of best-stepN.pt
    world_size: int = 1  # processes of the run; `batch_in_epoch` counts this rank's shard
    epoch_steps: int = 0  # this rank's batches in epoch 0 (0 = not counted yet); kept so
    #                       resume need not rebuild (or re-sample) epoch 0 to learn it
    evaluated_step: int = 0  # step of the last dev evaluation (0 = none, or not recorded)


class StepResult(NamedTuple):
    """What one `train_step` reports."""

    loss: float  # mean translation loss per target token on this rank
    tokens: int  # its target tokens
    contrastive: float | None  # mean pairwise loss per row, if the step had contrastive rows


class GracefulStop:
    """SIGINT/SIGTERM set a flag; the loop saves a checkpoint and stops."""

    def __init__(self) -> None:
        self.requested = False
        self._previous = {s: signal.signal(s, self._handle) for s in (signal.SIGINT,
                                                                      signal.SIGTERM)}

    def _handle(self, signum: int, frame: Any) -> None:
        self.requested = True

    def restore(self) -> None:
        for s, handler in self._previous.items():
            signal.signal(s, handler)


def train(config: Config, resume: bool = False, log: Any = None) -> TrainState:
    """Train the experiment described by `config`; returns the final progress."""
    rank_zero = dist.is_rank_zero()
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True) if rank_zero else None)
    out = Path(config.train.out_dir)
    if config.train.threads:
        torch.set_num_threads(config.train.threads)
    _check_out_dir(out, resume)
    device = dist.device(config.train.device)  # before any work: no GPU is a one-line error
    last = _resumable_checkpoint(out / "last.pt", config) if resume else None
    _check_disk_space(out, config)
    suite = read_suite(config.train.contrastive) if config.train.contrastive else None
    data = dist.rank_zero_first(lambda: prepare(config, log))
    torch.manual_seed(config.train.seed)
    random.seed(config.train.seed)
    model = Seq2Seq.for_tokenizers(config.model, data.src_tok, data.tgt_tok)
    model.to(device)
    optimizer = adam(model, config.train.lr)
    state = TrainState(world_size=dist.world_size())
    if last is not None:
        state = _restore(out / "last.pt", last, model, optimizer)
        log(f"resumed from {out / 'last.pt'} at step {state.step}")
    elif config.train.init_from:
        _initialise(config, data, model)
        log(f"weights from {config.train.init_from}")
    log(f"model: {model.num_parameters():,} parameters; {len(data.train):,} training pairs")
    encoded = EncodedSuite.from_rows(suite, data.src_tok, data.tgt_tok) if suite else None
    trainer = _Trainer(config, data, model, dist.wrap(model), optimizer, state, log, encoded,
                       _moving_average(config, model, last))
    with _flush_denormals():
        trainer.run()
    return trainer.state


@contextmanager
def _flush_denormals() -> Iterator[None]:
    """Denormal floats can slow CPU kernels many times over: flush them to zero while
    training, and restore the process-wide default afterwards."""
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)


def _check_out_dir(out: Path, resume: bool) -> None:
    if out.exists() and not out.is_dir():
        raise TrainError(f"{out}: train.out_dir exists and is not a directory")
    make_out_dir(out)
    try:
        probe = out / f".write-test-{dist.rank()}"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as e:
        raise TrainError(f"{out}: train.out_dir is not writable ({e.strerror})") from None
    for stale in out.glob(".*.pt.*.tmp"):  # left by a run killed while writing
        stale.unlink(missing_ok=True)
    last = out / "last.pt"
    if resume and not last.exists():
        raise TrainError(f"{last}: nothing to resume (no checkpoint there)")
    if not resume and last.exists():
        raise TrainError(f"{last} exists: pass --resume to continue that run, "
                         "or set another train.out_dir")


def _check_disk_space(out: Path, config: Config) -> None:
    """Fail before data preparation if the checkpoints cannot fit on the disk."""
    vocab = config.tokenizer.vocab_size  # an upper bound of the trained vocabulary
    with torch.device("meta"):  # counts parameters without allocating them
        params = Seq2Seq(config.model, vocab, vocab).num_parameters()
    copies = 4 if config.train.ema_decay else 3  # weights (+ their average) + Adam moments
    full_checkpoint = params * 4 * copies
    needed = full_checkpoint * 2 + params * 4 * (config.train.keep_best + 2)
    free = shutil.disk_usage(out).free
    if free < needed:
        raise TrainError(f"{out}: {free / 1e6:.0f} MB free, checkpoints need about "
                         f"{needed / 1e6:.0f} MB")


def _resumable_checkpoint(path: Path, config: Config) -> dict[str, Any]:
    """The payload of `last.pt`, if it holds a training state saved with `config`'s
    settings, or ones `--resume` may change."""
    payload = load_checkpoint(path)
    if "train_state" not in payload:
        raise TrainError(f"{path}: holds no training state to resume from")
    stored = _stored_config(path, payload)
    may_change = _may_change_on_resume(stored)
    differ = describe_differences(_flat_settings(stored), _flat_settings(config), may_change)
    if differ:
        raise TrainError(f"{path}: --resume with a different config: {', '.join(differ)}; "
                         "resume with the run's own settings or start a new out_dir")
    return payload


def _may_change_on_resume(run: Config) -> frozenset[str]:
    """`RESUMABLE_CHANGES` for the run saved with `run`: under a cosine schedule its
    length sets the lr of every step; greedy dev decoding uses no beam settings."""
    keys = set(RESUMABLE_CHANGES)
    if run.train.lr_schedule == "cosine":
        keys -= {"train.max_steps", "train.max_epochs"}
    if run.train.dev_decode == "greedy":
        keys |= {"decode.beam_size", "decode.alpha"}
    return frozenset(keys)


def _flat_settings(config: Config) -> dict[str, Any]:
    """{"section.key": value} of every setting, e.g. {"model.dec_hidden": 512, ...}."""
    flat: dict[str, Any] = {}
    for section, values in config.to_dict().items():
        if isinstance(values, dict):
            flat.update({f"{section}.{key}": value for key, value in values.items()})
        else:
            flat[section] = values
    return flat


def _stored_config(path: str | Path, payload: dict[str, Any]) -> Config:
    return config_from_dict(payload.get("config"), source=f"{path} (stored config)")


def _restore(path: Path, payload: dict[str, Any], model: Seq2Seq,
             optimizer: torch.optim.Optimizer) -> TrainState:
    """Weights, optimiser, progress and RNG from `payload` (read from `path`)."""
    try:
        model.load_state_dict(payload.get("train_weights", payload["model"]))
        optimizer.load_state_dict(payload["optimizer"])
        state = TrainState(**payload["train_state"])
        if state.world_size == dist.world_size():
            _set_rng_state(payload.get("rng_by_rank", [payload["rng"]])[dist.rank()])
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        raise TrainError(f"{path}: training state does not fit this model/config "
                         f"({first_line(e, 150)})") from None
    if state.world_size != dist.world_size():
        raise TrainError(f"{path}: saved by a run of {state.world_size} process(es); resume "
                         f"it with the same number (this run has {dist.world_size()})")
    return state


def _initialise(config: Config, data: PreparedData, model: Seq2Seq) -> None:
    """Fine-tuning: the weights of `train.init_from`, which must be the same model (its
    dropout settings may differ) with the same tokenizers as this run."""
    path, model_config = config.train.init_from, config.model
    payload = load_checkpoint(path)
    stored = _stored_config(path, payload).model
    if dataclasses.replace(stored, dropout=model_config.dropout,
                           word_dropout=model_config.word_dropout,
                           word_dropout_side=model_config.word_dropout_side) != model_config:
        raise TrainError(f"{path}: train.init_from holds another model than this config's "
                         "'model' section")
    if (payload["tokenizers"]["src"], payload["tokenizers"]["tgt"]) != (
            data.src_tok.model_bytes, data.tgt_tok.model_bytes):
        raise TrainError(f"{config.train.out_dir}: holds other tokenizers than train.init_from "
                         f"{path}; fine-tune into a fresh train.out_dir")
    model.load_state_dict(payload["model"])


def _moving_average(config: Config, model: Seq2Seq, last: dict[str, Any] | None,
                    ) -> Seq2Seq | None:
    """The moving average of `model`'s weights for `train.ema_decay` (None if 0): a copy
    of the model as it starts, or on resume the average saved in last.pt."""
    if not config.train.ema_decay:
        return None
    average = copy.deepcopy(model)
    if last is not None:
        average.load_state_dict(last["model"])
    return average


def _rng_state() -> dict[str, Any]:
    """This process's random state: CPU torch, Python, and its current GPU's if used."""
    rng = {"torch": torch.get_rng_state(), "python": random.getstate()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        rng["cuda"] = torch.cuda.get_rng_state()
    return rng


def _set_rng_state(rng: dict[str, Any]) -> None:
    torch.set_rng_state(rng["torch"])
    random.setstate(rng["python"])
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state(rng["cuda"])


class _Trainer:
    """The loop and its bookkeeping; one instance per `train` call."""

    def __init__(self, config: Config, data: PreparedData, model: Seq2Seq,
                 ddp_model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                 state: TrainState, log: Any, suite: EncodedSuite | None = None,
                 average: Seq2Seq | None = None) -> None:
        self.config, self.cfg, self.data = config, config.train, data
        self.model, self.ddp_model, self.optimizer = model, ddp_model, optimizer
        self.average = average  # the moving average of `model`'s weights, if `ema_decay`
        self.state, self.log = state, log
        self.out = Path(self.cfg.out_dir)
        self.rank_zero = dist.is_rank_zero()
        self.device = model.device
        self.stop = GracefulStop()
        self.stopping = False  # a stop agreed by all ranks
        self.window = _fresh_window()
        self._epoch: tuple[int, EncodedCorpus, list] = (-1, data.train, [])
        self.suite = suite  # contrastive rows of `train.contrastive`
        # the run's length in steps: batches per epoch are (nearly) the same every epoch
        state.epoch_steps = state.epoch_steps or len(self._epoch_data(0)[1])
        self.total_steps = min(self.cfg.max_steps, self.cfg.max_epochs * state.epoch_steps)

    def run(self) -> None:
        state = self.state
        bar = tqdm(total=self.total_steps, initial=state.step, disable=None if self.rank_zero
                   else True, dynamic_ncols=True, desc="train")
        if not self._finished():  # a resumed run may be on another machine
            self._write_metrics("environment", {"step": state.step, **describe_environment()})
        try:
            while not self._should_stop():
                corpus, batches = self._epoch_data(state.epoch)
                while state.batch_in_epoch < len(batches) and not self._should_stop():
                    result = self._train_step(corpus, batches[state.batch_in_epoch])
                    state.step += 1
                    state.batch_in_epoch += 1
                    self._after_step(result, bar)
                if state.batch_in_epoch >= len(batches):
                    state.epoch, state.batch_in_epoch = state.epoch + 1, 0
            if not self.stopping:
                if state.evaluated_step != state.step:  # final state not evaluated yet
                    self._evaluate_and_checkpoint()
                else:
                    self._save_last()
            else:
                self._save_last()
                self.log(f"stopped by signal at step {state.step}; checkpoint "
                         f"{self.out / 'last.pt'} (continue with --resume)")
        finally:
            bar.close()
            self.stop.restore()

    @property
    def kept_model(self) -> Seq2Seq:
        """The weights dev evaluation scores and checkpoints hold: the average, if any."""
        return self.model if self.average is None else self.average

    def _should_stop(self) -> bool:
        return self._stop_requested() or self._finished()

    def _finished(self) -> bool:
        s, cfg = self.state, self.cfg
        return s.step >= cfg.max_steps or s.epoch >= cfg.max_epochs or self._early_stopped()

    def _stop_requested(self) -> bool:
        """True once any rank got SIGINT/SIGTERM: all ranks stop before the same step."""
        if not self.stopping:
            self.stopping = dist.sum_int(int(self.stop.requested)) > 0
        return self.stopping

    def _early_stopped(self) -> bool:
        patience = self.cfg.early_stopping_patience
        return patience > 0 and self.state.evals_without_improvement >= patience

    def _epoch_data(self, epoch: int) -> tuple[EncodedCorpus, list]:
        """The training corpus of `epoch` (its subwords re-sampled if `tokenizer.sampling`)
        and this rank's batches of it. The last epoch's are kept: building them takes
        seconds at 10M pairs, and the run's length needs epoch 0's before it starts."""
        if self._epoch[0] != epoch:
            train = self.data.train
            if self.config.tokenizer.sampling > 0:
                train = sampled_train(self.config, self.data, epoch)
            batches = epoch_batches(train.src_lengths, train.tgt_lengths,
                                    self.cfg.batch_tokens, self.cfg.seed, epoch)
            self._epoch = (epoch, train, dist.shard(batches))
        return self._epoch[1:]

    def _lr(self) -> float:
        warmup = self.cfg.warmup_steps
        ramp = min(1.0, (self.state.step + 1) / warmup) if warmup else 1.0
        return max(self.cfg.lr * self._decay(), self.cfg.min_lr) * ramp

    def _decay(self) -> float:
        """Multiplier of the peak lr after warm-up: the plateau factor so far, or a cosine
        from 1 at the end of warm-up to 0 at the last step of the run."""
        if self.cfg.lr_schedule == "plateau":
            return self.state.lr_scale
        warmup = self.cfg.warmup_steps
        progress = (self.state.step - warmup) / max(1, self.total_steps - warmup)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, max(0.0, progress))))

    def _train_step(self, corpus: EncodedCorpus, indices: Any) -> StepResult:
        cfg = self.cfg
        batch = collate(corpus, indices).to(self.device)
        pairs = None
        if self.suite is not None:  # rows drawn per (seed, step, rank): resume stays exact
            seed = (cfg.seed, self.state.step, dist.rank())
            pairs = self.suite.sample(cfg.contrastive_rows, seed).to(self.device)
        result = train_step(self.ddp_model, self.optimizer, batch, lr=self._lr(),
                            label_smoothing=cfg.label_smoothing, clip_norm=cfg.clip_norm,
                            params=self.model.parameters(), bf16=cfg.bf16, rdrop=cfg.rdrop,
                            contrastive=pairs, contrastive_weight=cfg.contrastive_weight)
        if self.average is not None:
            decay = ema_decay(cfg.ema_decay, self.state.step)
            update_moving_average(self.average, self.model, decay)
        return result

    def _after_step(self, result: StepResult, bar: tqdm) -> None:
        w, step = self.window, self.state.step
        w["loss"] += result.loss * result.tokens
        w["tokens"] += result.tokens
        w["steps"] += 1
        w["contrastive"] += result.contrastive or 0.0
        bar.update(1)
        if step % self.cfg.log_every == 0 or step % self.cfg.eval_every == 0:
            elapsed = time.perf_counter() - w["start"]
            entry = {"step": step, "epoch": self.state.epoch, "train_loss": w["loss"] / w["tokens"],
                     "tokens_per_s": w["tokens"] * dist.world_size() / max(elapsed, 1e-9),
                     "lr": self._lr()}
            if self.suite is not None:
                entry["contrastive_loss"] = w["contrastive"] / w["steps"]
            bar.set_postfix(loss=f"{entry['train_loss']:.3f}",
                            tok_s=f"{entry['tokens_per_s']:.0f}", lr=f"{entry['lr']:.2e}")
            self._write_metrics("train", entry)
            self.window = _fresh_window()
        if step % self.cfg.eval_every == 0:
            self._evaluate_and_checkpoint()
            self.window["start"] = time.perf_counter()

    def _evaluate_and_checkpoint(self) -> None:
        """Dev loss and BLEU on rank 0; every rank applies the same decisions."""
        metrics = self._validate() if self.rank_zero else {}
        metrics = dist.broadcast_object(metrics)
        score = metrics["bleu"] if self.cfg.eval_metric == "bleu" else -metrics["loss"]
        improved = self._update_schedule(score)
        self.state.evaluated_step = self.state.step
        self.log(f"step {self.state.step}: dev loss {metrics['loss']:.3f} ppl "
                 f"{metrics['ppl']:.2f} BLEU {metrics['bleu']:.2f}"
                 f"{' (best)' if improved else ''} lr {self._lr():.2e}")
        self._write_metrics("dev", {"step": self.state.step, **metrics, "improved": improved})
        if self.rank_zero:
            self._keep_best(score)
        self._save_last()
        dist.barrier()

    def _update_schedule(self, score: float) -> bool:
        s = self.state
        improved = s.best_score is None or score > s.best_score
        if improved:
            s.best_score, s.evals_without_improvement, s.plateau_count = score, 0, 0
            return True
        s.evals_without_improvement += 1
        s.plateau_count += 1
        if self.cfg.lr_schedule == "plateau" and s.plateau_count > self.cfg.plateau_patience:
            s.lr_scale *= self.cfg.plateau_factor
            s.plateau_count = 0
        return False

    @torch.no_grad()
    def _validate(self) -> dict[str, float]:
        loss = dev_loss(self.kept_model, self.data.dev, self.cfg.batch_tokens)
        decode = dataclasses.replace(self.config.decode, method=self.cfg.dev_decode, nbest=1)
        translator = Translator(self.kept_model, self.data.src_tok, self.data.tgt_tok, decode)
        hypotheses = translator.translate(self.data.dev_sources)
        return {"loss": loss, "ppl": math.exp(min(loss, 50.0)),
                "bleu": bleu(hypotheses, self.data.dev_references)}

    def _payload(self, with_train_state: bool) -> dict[str, Any]:
        payload = {
            "config": self.config.to_dict(),
            "tokenizers": {"src": self.data.src_tok.model_bytes,
                           "tgt": self.data.tgt_tok.model_bytes},
            "model": self.kept_model.state_dict(),
            "step": self.state.step,
        }
        if with_train_state:
            if self.average is not None:
                payload["train_weights"] = self.model.state_dict()
            payload["optimizer"] = self.optimizer.state_dict()
            payload["train_state"] = dataclasses.asdict(self.state)
            payload["rng"] = _rng_state()
        return payload

    def _save_last(self) -> None:
        """Rank 0 writes last.pt with every rank's RNG state; all ranks must call this."""
        rngs = dist.gather_object(_rng_state())
        if self.rank_zero:
            payload = self._payload(with_train_state=True)
            if len(rngs) > 1:
                payload["rng_by_rank"] = rngs
            save_checkpoint(self.out / "last.pt", payload)

    def _keep_best(self, score: float) -> None:
        kept, k = self.state.kept, self.cfg.keep_best
        if len(kept) >= k and score <= min(s for s, _ in kept):
            return
        payload = self._payload(with_train_state=False)
        save_checkpoint(self.out / f"best-step{self.state.step}.pt", payload)
        kept.append([score, self.state.step])
        kept.sort(key=lambda entry: -entry[0])
        for _, step in kept[k:]:
            (self.out / f"best-step{step}.pt").unlink(missing_ok=True)
        del kept[k:]
        if kept[0][1] == self.state.step:
            save_checkpoint(self.out / "best.pt", payload)

    def _write_metrics(self, kind: str, entry: dict[str, Any]) -> None:
        if self.rank_zero:
            with open(self.out / "metrics.jsonl", "a", encoding="utf-8") as f:
                f.write(json.dumps({"kind": kind, **entry}) + "\n")


def adam(model: torch.nn.Module, lr: float) -> torch.optim.Adam:
    """Adam over `model`'s parameters (on CPU or CUDA), fused: one kernel updates every
    tensor, where the CPU default loops over them. A training step of the en->fr config
    is about 20 ms (6-9%) shorter for it (docs/performance.md)."""
    return torch.optim.Adam(model.parameters(), lr=lr, fused=True)


def _fresh_window() -> dict[str, float]:
    """Sums over the steps since the last log line."""
    return {"loss": 0.0, "tokens": 0, "steps": 0, "contrastive": 0.0,
            "start": time.perf_counter()}


def train_step(
    model: torch.nn.Module, optimizer: torch.optim.Optimizer, batch: Batch, *, lr: float,
    label_smoothing: float, clip_norm: float, params: Iterable[torch.nn.Parameter],
    bf16: bool = False, rdrop: float = 0.0, contrastive: Batch | None = None,
    contrastive_weight: float = 0.0,
) -> StepResult:
    """One optimisation step on `batch`: token-summed label-smoothed cross-entropy
    (`loss.linear_cross_entropy`, or on full logits with R-Drop), divided by the target
    tokens of all ranks, backward, clipping, Adam update.

    `model` may be the DDP wrapper; `params` are the ones clipped (those of the model
    it wraps). `bf16` runs the forward pass under bfloat16 autocast (weights, gradients
    and the loss stay float32). `rdrop` > 0 runs the batch twice in one forward pass (see
    `consistency_loss`). `contrastive` (from `EncodedSuite.sample`) adds each of
    its rows' `contrastive_loss` times `contrastive_weight` to the token-summed loss, so
    a row weighs as much as `contrastive_weight` target tokens. Target tokens are
    `Batch.target_tokens`: non-padding, end-of-sentence included.
    """
    model.train()
    tokens = batch.target_tokens
    scale = dist.world_size() / dist.sum_int(tokens)  # per global token; DDP averages ranks
    pairwise = None
    autocast = partial(torch.autocast, batch.src.device.type, dtype=torch.bfloat16,
                       enabled=bf16)
    if contrastive is not None:  # gradients kept locally, reduced with the main backward
        with getattr(model, "no_sync", nullcontext)(), autocast():
            pairwise = contrastive_loss(model, contrastive)  # (rows,)
        (pairwise.sum() * contrastive_weight * scale).backward()
    if rdrop > 0:
        loss_sum, objective = rdrop_objective(model, batch, label_smoothing, rdrop, autocast)
    else:
        with autocast():
            vectors = model(batch.src, batch.src_len, batch.tgt_in, features=True)  # (b, t, d)
        generator = getattr(model, "module", model).generator  # model may be DDP
        loss_sum = objective = linear_cross_entropy(
            vectors.float().flatten(0, 1), generator.weight, batch.tgt_out.flatten(),
            label_smoothing=label_smoothing, ignore_index=PAD,
            matmul_dtype=torch.bfloat16 if bf16 else torch.float32)
    (objective * scale).backward()
    if clip_norm > 0:
        torch.nn.utils.clip_grad_norm_(params, clip_norm)
    for group in optimizer.param_groups:
        group["lr"] = lr
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return StepResult(loss_sum.item() / tokens, tokens,
                      None if pairwise is None else pairwise.mean().item())


def rdrop_objective(model: torch.nn.Module, batch: Batch, label_smoothing: float,
                    rdrop: float, autocast: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """R-Drop: the batch twice in one forward pass, one dropout mask each. Returns the
    token-summed label-smoothed cross-entropy (the mean of the two passes') and that
    plus `rdrop` times `consistency_loss`."""
    *inputs, targets = (torch.cat([t, t]) for t in
                        (batch.src, batch.src_len, batch.tgt_in, batch.tgt_out))
    with autocast():
        logits = model(*inputs)  # (2 * b, t, vocab)
    logits = logits.float()
    loss_sum = F.cross_entropy(  # F.cross_entropy: faster than log_softmax + gather on CPU
        logits.flatten(0, 1), targets.flatten(), ignore_index=PAD,
        label_smoothing=label_smoothing, reduction="sum",
    ) / 2
    log_probs = F.log_softmax(logits, dim=-1)
    return loss_sum, loss_sum + rdrop * consistency_loss(*log_probs.chunk(2), batch.tgt_out)


def consistency_loss(log_p: torch.Tensor, log_q: torch.Tensor, tgt_out: torch.Tensor,
                     ) -> torch.Tensor:
    """R-Drop's term: the mean of KL(p||q) and KL(q||p) between two passes' output
    distributions, log-probabilities (batch, tgt_len, vocab) each, summed over
    non-padding tokens."""
    per_token = ((log_p.exp() - log_q.exp()) * (log_p - log_q)).sum(-1) / 2  # (b, t)
    return per_token.masked_fill(tgt_out == PAD, 0.0).sum()


@torch.no_grad()
def dev_loss(model: Seq2Seq, corpus: EncodedCorpus, batch_tokens: int) -> float:
    """Mean per-token negative log-likelihood (no label smoothing) over a corpus."""
    model.eval()
    total, tokens = 0.0, 0
    batches = epoch_batches(corpus.src_lengths, corpus.tgt_lengths, batch_tokens, 0, 0,
                            shuffle=False)
    for indices in batches:
        batch = collate(corpus, indices).to(model.device)
        total -= float(target_log_probs(model, batch).sum())  # padding contributes 0
        tokens += batch.target_tokens
    return total / max(tokens, 1)
