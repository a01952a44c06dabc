"""Stopping and resuming gives exactly the run that never stopped."""

from __future__ import annotations

import dataclasses
import json
import platform

import pytest
import torch
from conftest import make_config, write_swap_suite

from seq2seq.checkpoint import load_checkpoint, save_checkpoint
from seq2seq.environment import cpu_model
from seq2seq.train import TrainError, train

QUIET = {"log": lambda message: None}


def _losses(out_dir) -> dict[int, float]:
    lines = (out_dir / "metrics.jsonl").read_text().splitlines()
    return {e["step"]: e["train_loss"] for e in map(json.loads, lines) if e["kind"] == "train"}


@pytest.mark.parametrize(("sampling", "extra"), [(0.0, None), (0.2, None), (0.0, "contrastive"),
                                               (0.0, "ema")],
                         ids=["fixed-subwords", "sampled-subwords", "contrastive-loss",
                              "moving-average"])
def test_resume_after_stop_matches_uninterrupted_run(corpus, tmp_path, sampling, extra):
    settings = {"model": {"dropout": 0.3}, "tokenizer": {"sampling": sampling}}
    steps = {"eval_every": 20, "batch_tokens": 1500}
    if extra == "contrastive":
        steps["contrastive"] = str(write_swap_suite(tmp_path / "suite.tsv", 50, seed=5))
    if extra == "ema":
        steps["ema_decay"] = 0.9
    whole = make_config(corpus, tmp_path / "whole", train={**steps, "max_steps": 60}, **settings)
    train(whole, **QUIET)
    first = make_config(corpus, tmp_path / "parts", train={**steps, "max_steps": 20}, **settings)
    train(first, **QUIET)
    rest = make_config(corpus, tmp_path / "parts", train={**steps, "max_steps": 60}, **settings)
    state = train(rest, resume=True, **QUIET)
    assert state.step == 60
    assert state.epoch >= 1  # the run crossed an epoch boundary after resuming
    assert _losses(tmp_path / "parts") == _losses(tmp_path / "whole")
    a = load_checkpoint(tmp_path / "whole" / "last.pt")
    b = load_checkpoint(tmp_path / "parts" / "last.pt")
    weights = ("model", "train_weights") if extra == "ema" else ("model",)
    for key in weights:
        assert all(torch.equal(a[key][name], b[key][name]) for name in a[key])


def test_subword_sampling_trains_on_other_segmentations(corpus, tmp_path):
    runs = {}
    for sampling in (0.0, 0.2):
        out = tmp_path / str(sampling)
        train(make_config(corpus, out, tokenizer={"sampling": sampling},
                          train={"max_steps": 3, "eval_every": 3}), **QUIET)
        runs[sampling] = _losses(out)
    assert runs[0.0].keys() == runs[0.2].keys() == {1, 2, 3}
    assert all(runs[0.0][step] != runs[0.2][step] for step in (1, 2, 3))


def test_existing_run_is_not_overwritten_and_resume_needs_a_checkpoint(corpus, tmp_path):
    config = make_config(corpus, tmp_path / "run", train={"max_steps": 5, "eval_every": 5})
    train(config, **QUIET)
    before = (tmp_path / "run" / "last.pt").read_bytes()
    with pytest.raises(TrainError, match="--resume"):
        train(config, **QUIET)
    assert (tmp_path / "run" / "last.pt").read_bytes() == before
    with pytest.raises(TrainError, match="nothing to resume"):
        train(make_config(corpus, tmp_path / "empty"), resume=True, **QUIET)


def test_best_checkpoints_are_kept_and_pruned(corpus, tmp_path):
    config = make_config(corpus, tmp_path, train={"max_steps": 50, "eval_every": 10,
                                                  "keep_best": 2, "eval_metric": "loss"})
    train(config, **QUIET)
    best = sorted(p.name for p in tmp_path.glob("best-step*.pt"))
    assert len(best) == 2
    assert (tmp_path / "best.pt").exists() and (tmp_path / "last.pt").exists()
    payload = load_checkpoint(tmp_path / "best.pt")
    assert "optimizer" not in payload and payload["config"]["model"]["emb_dim"] == 32


def test_average_of_checkpoints_is_the_mean_and_translates(corpus, tmp_path):
    from seq2seq.average import average_checkpoints
    from seq2seq.translate import Translator

    config = make_config(corpus, tmp_path, train={"max_steps": 40, "eval_every": 20,
                                                  "keep_best": 2, "eval_metric": "loss"})
    train(config, **QUIET)
    paths = sorted(tmp_path.glob("best-step*.pt"))
    averaged = average_checkpoints(paths)
    a, b = (load_checkpoint(p)["model"] for p in paths)
    for name, tensor in averaged["model"].items():
        assert torch.allclose(tensor, (a[name] + b[name]) / 2)
    save_checkpoint(tmp_path / "avg.pt", averaged)
    assert len(Translator.from_checkpoint(tmp_path / "avg.pt").translate(["red cat"])) == 1


def test_early_stopping_and_plateau_schedule_follow_the_dev_metric(corpus, tmp_path):
    # lr ~0: dev BLEU never moves from its first value, so every later evaluation is
    # "no improvement": the plateau halves the lr after each 1+1 such evaluations and
    # early stopping ends the run after 3 of them (at step 4 * 5)
    config = make_config(corpus, tmp_path, train={
        "lr": 1e-9, "min_lr": 0.0, "max_steps": 200, "eval_every": 5, "eval_metric": "bleu",
        "early_stopping_patience": 3, "plateau_patience": 1, "plateau_factor": 0.5},
        decode={"max_len_extra": 2})
    state = train(config, **QUIET)
    assert state.step == 20
    assert state.evals_without_improvement == 3
    assert state.lr_scale == 0.5
    dev = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()
           if '"dev"' in line]
    assert [entry["improved"] for entry in dev] == [True, False, False, False]


def test_cosine_schedule_warms_up_then_decays_to_min_lr_by_the_last_step(corpus, tmp_path):
    config = make_config(corpus, tmp_path, train={
        "lr": 1e-3, "min_lr": 1e-5, "warmup_steps": 4, "lr_schedule": "cosine",
        "max_steps": 24, "log_every": 1, "eval_every": 24, "early_stopping_patience": 1})
    train(config, **QUIET)
    # lrs[i]: the lr logged after step i + 1, i.e. the one step i + 2 uses
    lrs = [json.loads(line)["lr"] for line in (tmp_path / "metrics.jsonl").read_text()
           .splitlines() if '"train"' in line]
    assert len(lrs) == 24
    assert lrs[:4] == pytest.approx([5e-4, 7.5e-4, 1e-3, 1e-3])  # linear warm-up to the peak
    assert all(a > b for a, b in zip(lrs[3:-1], lrs[4:-1]))  # then strictly decreasing
    assert lrs[13] == pytest.approx(5e-4)  # half-way through the decay: half the peak
    assert lrs[-1] == pytest.approx(1e-5)  # min_lr at the last step


def _run_files(out_dir) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in out_dir.iterdir() if p.is_file()}


def test_resume_refuses_another_model_or_seed_and_accepts_a_longer_run(corpus, tmp_path):
    steps = {"max_steps": 3, "eval_every": 3}
    train(make_config(corpus, tmp_path, train=steps), **QUIET)
    before = _run_files(tmp_path)
    # neither changes a weight's shape: both would load without a complaint
    changed = make_config(corpus, tmp_path, model={"dropout": 0.3},
                          train={**steps, "seed": 4, "max_steps": 5})
    with pytest.raises(TrainError, match="--resume with a different config") as error:
        train(changed, resume=True, **QUIET)
    (line,) = str(error.value).splitlines()
    assert line.startswith(f"{tmp_path / 'last.pt'}: ")
    assert "model.dropout (0.0 -> 0.3)" in line and "train.seed (3 -> 4)" in line
    assert "max_steps" not in line  # a longer run is a legitimate resume
    assert _run_files(tmp_path) == before
    longer = make_config(corpus, tmp_path, train={"max_steps": 5, "eval_every": 2,
                                                  "log_every": 2, "keep_best": 1},
                         decode={"beam_size": 3})  # dev decoding is greedy: unused
    assert train(longer, resume=True, **QUIET).step == 5


def test_resume_refuses_another_length_of_a_cosine_schedule(corpus, tmp_path):
    steps = {"max_steps": 2, "eval_every": 2, "lr_schedule": "cosine"}
    train(make_config(corpus, tmp_path, train=steps), **QUIET)
    longer = make_config(corpus, tmp_path, train={**steps, "max_steps": 4})
    with pytest.raises(TrainError, match=r"train\.max_steps \(2 -> 4\)"):
        train(longer, resume=True, **QUIET)


def test_resuming_a_finished_run_does_not_evaluate_it_again(corpus, tmp_path):
    # 5 steps, evaluated at 3 and at the end: a second evaluation of step 5 would add a
    # dev entry and count as one without improvement
    config = make_config(corpus, tmp_path, train={"max_steps": 5, "eval_every": 3})
    train(config, **QUIET)
    metrics = (tmp_path / "metrics.jsonl").read_text()
    assert [e["step"] for e in map(json.loads, metrics.splitlines()) if e["kind"] == "dev"] \
        == [3, 5]
    saved = load_checkpoint(tmp_path / "last.pt")
    state = train(config, resume=True, **QUIET)
    assert (tmp_path / "metrics.jsonl").read_text() == metrics
    assert load_checkpoint(tmp_path / "last.pt")["train_state"] == saved["train_state"]
    assert dataclasses.asdict(state) == saved["train_state"]

    # a checkpoint from before `evaluated_step` was saved still resumes
    del saved["train_state"]["evaluated_step"]
    save_checkpoint(tmp_path / "last.pt", saved)
    assert train(config, resume=True, **QUIET).step == 5


def test_each_stretch_of_training_logs_its_machine_and_library_versions(corpus, tmp_path):
    train(make_config(corpus, tmp_path, train={"max_steps": 4, "eval_every": 4}), **QUIET)
    train(make_config(corpus, tmp_path, train={"max_steps": 8, "eval_every": 4}),
          resume=True, **QUIET)
    entries = [json.loads(line) for line in (tmp_path / "metrics.jsonl").open()]
    described = [e for e in entries if e["kind"] == "environment"]
    assert [e["step"] for e in described] == [0, 4]  # the start and the resume
    assert entries[0] == described[0]  # before the first training step's entry
    for entry in described:
        assert entry["torch"] == torch.__version__
        assert entry["threads"] == torch.get_num_threads()
        assert entry["cpu"] and entry["cpu_capability"]


def test_cpu_model_names_the_first_processor_with_its_generation(tmp_path):
    block = "processor\t: {}\nmodel name\t: AMD EPYC\ncpu family\t: 25\nmodel\t\t: 17\n"
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(block.format(0) + "\n" + block.format(1).replace("17", "1"))
    assert cpu_model(cpuinfo) == "AMD EPYC (cpu family 25, model 17)"
    assert cpu_model(tmp_path / "absent") == (platform.processor() or platform.machine())
