"""The `seq2seq` command: parse arguments, call one library function, print.

Known input problems (config, corpus, checkpoint) and a missing optional package
end with one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from seq2seq.checkpoint import CheckpointError
from seq2seq.config import ConfigError, load_config
from seq2seq.corpus import CorpusError, read_lines, read_stream
from seq2seq.errors import first_line
from seq2seq.train import TrainError

# OSError covers missing or unwritable files and a full disk (ENOSPC) on output.
USER_ERRORS = (ConfigError, CorpusError, CheckpointError, TrainError, OSError)
# Optional packages (pyproject.toml extras): the option that needs each, and its extra.
OPTIONAL_PACKAGES = {"matplotlib": ("--plot-attention", "plot"),
                     "sacremoses": ("--paper-lang", "paper")}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args) or 0
    except BrokenPipeError:  # the reader went away (e.g. `| head`): not an error
        return 0
    except USER_ERRORS as e:
        return _fail(args.command, _one_line(e))
    except ModuleNotFoundError as e:
        if e.name not in OPTIONAL_PACKAGES:
            raise  # a required package: a broken installation, with its traceback
        return _fail(args.command, _missing_package(e.name))
    except KeyboardInterrupt:
        print(f"seq2seq {args.command}: interrupted", file=sys.stderr)
        return 130


def _fail(command: str, message: str) -> int:
    print(f"seq2seq {command}: error: {message}", file=sys.stderr)
    return 2


def _missing_package(name: str) -> str:
    option, extra = OPTIONAL_PACKAGES[name]
    return (f"{option} needs the package {name}, which is not installed: pip install {name} "
            f"(or install seq2seq with its [{extra}] extra)")


def _one_line(e: BaseException) -> str:
    if isinstance(e, OSError) and e.filename:
        return f"{e.filename}: {e.strerror}"
    return first_line(e)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seq2seq",
        description="Recurrent encoder-decoder translation with attention: prepare data, "
                    "train, translate, score and evaluate.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("prepare", help="train SentencePiece and encode the corpora of a config",
                       description="Train the SentencePiece model(s) on the training data and "
                                   "encode train/dev into the cache under train.out_dir.")
    p.add_argument("config", help="YAML config file")
    _add_overrides(p)
    p.set_defaults(run=cmd_prepare)

    p = sub.add_parser("train", help="train a model from a YAML config",
                       description="Train (preparing data first if needed). Checkpoints, "
                                   "metrics.jsonl and tokenizers go to train.out_dir.")
    p.add_argument("config", help="YAML config file")
    p.add_argument("--resume", action="store_true",
                   help="continue exactly where train.out_dir/last.pt stopped")
    _add_overrides(p)
    p.set_defaults(run=cmd_train)

    p = sub.add_parser("translate", help="translate text with a checkpoint",
                       description="Translate lines from --input (or stdin) to --output (or "
                                   "stdout), one output line per input line.")
    _add_checkpoint(p)
    p.add_argument("--input", "-i", help="input file (default: stdin)")
    p.add_argument("--output", "-o", help="output file (default: stdout)")
    p.add_argument("--method", choices=["greedy", "beam", "sample"],
                   help="search method (default: the checkpoint config's decode.method)")
    p.add_argument("--beam-size", type=int, help="beam width")
    p.add_argument("--alpha", type=float, help="length penalty exponent (0 = none)")
    p.add_argument("--nbest", type=int,
                   help="print the n best as 'line ||| text ||| score' (beam search)")
    p.add_argument("--max-len-ratio", type=float,
                   help="output limit: ratio * source pieces + --max-len-extra")
    p.add_argument("--max-len-extra", type=int, help="see --max-len-ratio")
    p.add_argument("--temperature", type=float, help="sampling temperature")
    p.add_argument("--top-k", type=int, help="sample from the k most likely pieces (0 = all)")
    p.add_argument("--batch-size", type=int, help="sentences per batch")
    p.add_argument("--seed", type=int, default=1, help="random seed for sampling")
    p.add_argument("--threads", type=int, default=0,
                   help="CPU threads for torch (0 = torch's default)")
    precision = p.add_mutually_exclusive_group()
    precision.add_argument("--int8", action="store_true",
                           help="decode with int8 dynamically quantised weights (faster on CPU)")
    precision.add_argument("--bf16", action="store_true",
                           help="decode in bfloat16 (faster on CPUs with AVX512-BF16 and GPUs)")
    p.add_argument("--device", choices=["cpu", "cuda", "auto"], default="cpu",
                   help="where to run the model (default: cpu; --int8 runs on the cpu only)")
    p.add_argument("--plot-attention", metavar="DIR",
                   help="write one attention heatmap PNG per sentence into DIR")
    p.set_defaults(run=cmd_translate)

    p = sub.add_parser("score", help="log-probability of given translations (forced decoding)",
                       description="Print 'total<TAB>per-token mean<TAB>tokens' per pair "
                                   "(natural log, EOS included).")
    _add_checkpoint(p)
    p.add_argument("--src", required=True, help="source file")
    p.add_argument("--tgt", required=True, help="target file, line-aligned with --src")
    p.add_argument("--json", action="store_true", help="JSON lines with per-token scores")
    p.add_argument("--batch-size", type=int, help="pairs per batch")
    p.set_defaults(run=cmd_score)

    p = sub.add_parser("contrast", help="accuracy on a contrastive test suite (TSV)",
                       description="Rows 'source<TAB>correct<TAB>contrastive[<TAB>category]'; "
                                   "a row is right when the correct target scores higher.")
    _add_checkpoint(p)
    p.add_argument("suite", help="TSV file")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--rows", metavar="FILE",
                   help="also write each row's result as TSV: suite line, category, margin "
                        "(log P(correct) - log P(contrastive)), right (1/0), swapped words")
    p.set_defaults(run=cmd_contrast)

    p = sub.add_parser("average", help="average the weights of several checkpoints",
                       description="Element-wise mean of the weights of checkpoints of one "
                                   "run (same model config and tokenizers).")
    p.add_argument("checkpoints", nargs="+", help="checkpoint files")
    p.add_argument("--output", "-o", required=True, help="averaged checkpoint to write")
    p.set_defaults(run=cmd_average)

    p = sub.add_parser("evaluate", help="BLEU and chrF with sacreBLEU signatures",
                       description="Cased detokenised BLEU (headline), lowercased BLEU and "
                                   "chrF of a hypothesis file against a reference file.")
    p.add_argument("--hyp", required=True, help="detokenised system output")
    p.add_argument("--ref", required=True, help="reference translations, line-aligned")
    p.add_argument("--paper-lang", metavar="LANG",
                   help="also the Multi30k-paper score: lowercased, punctuation-normalised, "
                        "Moses-tokenised for LANG (needs sacremoses)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=cmd_evaluate)
    return parser


def _add_overrides(p: argparse.ArgumentParser) -> None:
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override a config value (YAML syntax), e.g. --set train.max_steps=100;"
                        " repeatable")


def _add_checkpoint(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", "-c", required=True, action="append",
                   help="checkpoint file (.pt); give it again for each further model of an "
                        "ensemble (same tokenizers; their probabilities are averaged)")


def cmd_prepare(args: argparse.Namespace) -> None:
    from seq2seq.prepare import prepare

    data = prepare(load_config(args.config, args.set), log=_err)
    print(f"prepared {len(data.train):,} training and {len(data.dev):,} dev pairs")


def cmd_train(args: argparse.Namespace) -> None:
    from seq2seq import distributed
    from seq2seq.train import train

    config = load_config(args.config, args.set)
    distributed.init_from_env()
    rank_zero = distributed.is_rank_zero()  # before shutdown, after which every rank is 0
    try:
        state = train(config, resume=args.resume)
        distributed.barrier()  # no rank tears the group down while another still saves
    finally:
        distributed.shutdown()
    if rank_zero:
        print(f"trained {state.step} steps; best dev {config.train.eval_metric}: "
              f"{_best(state.best_score, config.train.eval_metric)}; "
              f"checkpoints in {config.train.out_dir}")


def _best(score: float | None, metric: str) -> str:
    if score is None:
        return "n/a"
    return f"{score:.2f}" if metric == "bleu" else f"{-score:.4f}"


def _translator(args: argparse.Namespace, **overrides: object):  # noqa: ANN202
    from seq2seq.translate import Translator

    return Translator.from_checkpoint(args.checkpoint, **overrides)


def cmd_translate(args: argparse.Namespace) -> None:
    import torch

    plot_dir = Path(args.plot_attention) if args.plot_attention else None
    if plot_dir:
        from seq2seq.plot import plot_attention  # needs matplotlib: checked before any work
    torch.manual_seed(args.seed)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    translator = _translator(
        args, method=args.method, beam_size=args.beam_size, alpha=args.alpha, nbest=args.nbest,
        max_len_ratio=args.max_len_ratio, max_len_extra=args.max_len_extra,
        temperature=args.temperature, top_k=args.top_k, batch_size=args.batch_size,
        int8=args.int8, bf16=args.bf16, device=args.device,
    )
    if plot_dir:
        plot_dir.mkdir(parents=True, exist_ok=True)
    nbest = translator.decode.nbest > 1
    with _output(args.output) as out:
        results = translator.translate_stream(_input_lines(args.input),
                                              return_attention=plot_dir is not None)
        for number, translations in enumerate(results, start=1):
            if nbest:
                for t in translations:
                    out.write(f"{number - 1} ||| {t.text} ||| {t.normalized_score:.4f}\n")
            else:
                out.write(translations[0].text + "\n")
            if plot_dir and translations[0].attention is not None:
                best = translations[0]
                plot_attention(best.attention, best.src_pieces, best.tgt_pieces,
                               plot_dir / f"{number:06d}.png", title=best.text[:80])


def _input_lines(path: str | None):  # noqa: ANN202 (iterator of str)
    return read_lines(path) if path else read_stream(sys.stdin.buffer, "<stdin>")


class _output:
    """stdout, or a file written to a temporary name and renamed at the end."""

    def __init__(self, path: str | None) -> None:
        self.path = Path(path) if path else None

    def __enter__(self) -> TextIO:
        if self.path is None:
            return sys.stdout
        self.tmp = self.path.with_name(f".{self.path.name}.tmp")
        self.handle = open(self.tmp, "w", encoding="utf-8")
        return self.handle

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if self.path is None:
            sys.stdout.flush()
            return
        self.handle.close()
        if exc_type is None:
            self.tmp.replace(self.path)
        else:
            self.tmp.unlink(missing_ok=True)


def cmd_score(args: argparse.Namespace) -> None:
    from seq2seq.corpus import read_parallel

    translator = _translator(args, batch_size=args.batch_size)
    pairs = list(read_parallel(Path(args.src), Path(args.tgt)))
    scores = translator.score([s for s, _ in pairs], [t for _, t in pairs])
    for s in scores:
        if args.json:
            print(json.dumps({"total": s.total, "normalized": s.normalized, "tokens": s.tokens,
                              "per_token": s.per_token}))
        else:
            print(f"{s.total:.4f}\t{s.normalized:.4f}\t{s.tokens}")


def cmd_contrast(args: argparse.Namespace) -> None:
    from seq2seq.contrast import (
        accuracy_by_category,
        contrast_margins,
        read_suite,
        write_row_report,
    )

    rows = read_suite(args.suite)
    margins = contrast_margins(_translator(args), rows)
    if args.rows:
        with _output(args.rows) as out:  # a failed write leaves an existing file intact
            write_row_report(out, rows, margins)
    result = accuracy_by_category(rows, margins)
    if args.json:
        print(json.dumps(result, indent=1))
        return
    for category, r in result.items():
        print(f"{category:20s} {100 * r['accuracy']:6.2f}%  ({r['correct']}/{r['rows']})")


def cmd_average(args: argparse.Namespace) -> None:
    from seq2seq.average import average_checkpoints
    from seq2seq.checkpoint import save_checkpoint

    save_checkpoint(args.output, average_checkpoints(args.checkpoints))
    print(f"averaged {len(args.checkpoints)} checkpoints into {args.output}")


def cmd_evaluate(args: argparse.Namespace) -> None:
    from seq2seq.metrics import evaluate, paper_bleu

    hyps, refs = list(read_lines(args.hyp)), list(read_lines(args.ref))
    if len(hyps) != len(refs):
        raise CorpusError(f"{args.hyp}: {len(hyps)} lines but {args.ref} has {len(refs)}")
    scores = evaluate(hyps, refs)
    if args.paper_lang:
        scores.append(paper_bleu(hyps, refs, args.paper_lang))
    if args.json:
        print(json.dumps({s.name: s.as_dict() for s in scores}, indent=1))
        return
    for s in scores:
        print(f"{s.name:10s} {s.score:6.2f}  {s.signature}")


def _err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
