#!/usr/bin/env bash
# Speed comparison with JoeyNMT 2.3.0 on Multi30k en->de, same machine, same run.
#
#   bash scripts/compare_joeynmt.sh [--steps 200 | --minutes M] [--test-sentences 0]
#                                   [--threads 0] [--no-benchmark]
#
# Makes .bench/joeynmt-venv (torch==2.13.0 first, then joeynmt==2.3.0,
# importlib_metadata, sentencepiece==0.2.0), decompresses Multi30k into .bench/compare/data,
# trains ONE joint SentencePiece BPE 8k model with our toolkit (`seq2seq prepare`) and
# gives the same .model file to both toolkits. Then, alternating between the two:
#   train JoeyNMT, ours with JoeyNMT's architecture (input feeding, untied 512-wide output,
#   attention dim 512, fp32), ours with configs/multi30k_en_de.yaml as shipped (fused decoder,
#   tied 256-wide output, bf16 autocast) -- each for --steps steps with 4096-token batches;
#   or, with --minutes M, each for M minutes of wall clock (stopped by SIGINT, on which both
#   toolkits save their current weights; constant learning rate 2e-3 for both, since a
#   decay schedule needs a known length), which gives trained models to decode and the BLEU
#   each toolkit reaches in the same time;
#   decode the test set greedy (JoeyNMT, ours), then beam 5 (JoeyNMT, ours), 64 sentences
#   per batch, timing each command by wall clock (process start-up and model load included).
# Tokens are counted the same way on both sides: non-padding target tokens, end-of-sentence
# included, BOS excluded (JoeyNMT's batch.ntokens, our Batch.target_tokens).
# Nothing here is committed: everything lands in .bench/ (add `.bench/` to .gitignore).
set -euo pipefail
cd "$(dirname "$0")/.."

STEPS=200
MINUTES=0        # > 0: train for this wall time instead of --steps
NTEST=0          # 0 = the whole test_2016_flickr (1,000 sentences)
THREADS=0        # 0 = each toolkit's torch default
BENCHMARK=1
while [ $# -gt 0 ]; do
  case "$1" in
    --steps) STEPS=$2; shift 2 ;;
    --minutes) MINUTES=$2; shift 2 ;;
    --test-sentences) NTEST=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --no-benchmark) BENCHMARK=0; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ "$THREADS" -gt 0 ]; then
  export OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS
fi

PY=${PYTHON:-python}                       # the Python with seq2seq installed
VENV=.bench/joeynmt-venv
JPY=$VENV/bin/python
B=.bench/compare
SRC=../shared/data/multi30k
CONFIG=configs/multi30k_en_de.yaml
if [ "$MINUTES" -gt 0 ]; then STEPS=10000000; LOGFREQ=50  # the clock stops training
else LOGFREQ=$(( STEPS / 10 > 5 ? STEPS / 10 : 5 )); fi
JOEY_CKPT=$STEPS.ckpt
[ "$MINUTES" -gt 0 ] && JOEY_CKPT=latest.ckpt   # the weights saved on SIGINT
mkdir -p "$B"

# ---------------------------------------------------------------- JoeyNMT environment
if [ ! -f "$VENV/.installed" ]; then
  echo "== installing JoeyNMT 2.3.0 into $VENV" >&2
  python3 -m venv "$VENV"
  "$JPY" -m pip install --quiet --disable-pip-version-check torch==2.13.0
  "$JPY" -m pip install --quiet --disable-pip-version-check joeynmt==2.3.0
  "$JPY" -m pip install --quiet --disable-pip-version-check importlib_metadata sentencepiece==0.2.0
  touch "$VENV/.installed"
fi
# torch 2.13's ReduceLROnPlateau has no `verbose` argument; JoeyNMT 2.3.0 passes it.
# (`scheduling: null` is rejected by 2.3.0, so we use plateau with a patience that never fires.)
BUILDERS=$("$JPY" -c 'import joeynmt.builders as b; print(b.__file__)')
sed -i '/^ *"verbose": False,$/d' "$BUILDERS"

# ---------------------------------------------------------------- data and SentencePiece
D=$B/data
mkdir -p "$D"
for split in train val test_2016_flickr; do
  for lang in en de; do
    [ -s "$D/$split.$lang" ] || gzip -dc "$SRC/$split.$lang.gz" > "$D/$split.$lang"
  done
done
for lang in en de; do
  head -n 100 "$D/val.$lang" > "$D/dev100.$lang"     # validation at the last step only
  if [ "$NTEST" -gt 0 ]; then head -n "$NTEST" "$D/test_2016_flickr.$lang" > "$D/test.$lang"
  else cp "$D/test_2016_flickr.$lang" "$D/test.$lang"; fi
done
if [ ! -f "$B/spm/tokenizer.src.model" ]; then
  "$PY" -m seq2seq prepare "$CONFIG" --set "train.out_dir=$B/spm" >&2
fi
SPM=$(realpath "$B/spm/tokenizer.src.model")   # joint model: src == tgt
"$PY" - "$SPM" "$B/spm/joey.vocab" <<'EOF'
import sys
import sentencepiece as spm
sp = spm.SentencePieceProcessor(model_file=sys.argv[1])
# ids 0-3 are pad/unk/bos/eos in our model; JoeyNMT adds its own four specials in front
pieces = [sp.id_to_piece(i) for i in range(4, sp.get_piece_size())]
open(sys.argv[2], "w", encoding="utf-8").write("".join(p + "\n" for p in pieces))
EOF

# ---------------------------------------------------------------- JoeyNMT config
joey_config() {  # $1 = beam size for testing; prints the YAML
  local side
  cat <<EOF
name: "multi30k_en_de_joey"
joeynmt_version: "2.3.0"
use_cuda: False
data:
  train: "$D/train"
  dev: "$D/dev100"
  test: "$D/test"
  dataset_type: "plain"
EOF
  for side in src trg; do
    local lang=en; [ $side = trg ] && lang=de
    cat <<EOF
  $side:
    lang: "$lang"
    level: "bpe"
    lowercase: False
    normalize: False
    max_length: 80
    min_length: 1
    voc_file: "$B/spm/joey.vocab"
    tokenizer_type: "sentencepiece"
    tokenizer_cfg:
      model_file: "$SPM"
EOF
  done
  cat <<EOF
testing:
  n_best: 1
  beam_size: $1
  beam_alpha: 0.6
  batch_size: 64
  batch_type: "sentence"
  max_output_length: 100
  eval_metrics: ["bleu"]
  sacrebleu_cfg:
    tokenize: "13a"
    lowercase: False
  load_model: "$B/joey/model/$JOEY_CKPT"
training:
  random_seed: 1
  optimizer: "adam"
  normalization: "tokens"
  learning_rate: 0.002
  scheduling: "plateau"   # steps only at validation (once, at the end): constant rate
  patience: 1000
  clip_grad_norm: 1.0
  label_smoothing: 0.1
  loss: "crossentropy"
  batch_size: 4096
  batch_type: "token"
  batch_multiplier: 1
  early_stopping_metric: "bleu"
  epochs: 100
  updates: $STEPS
  validation_freq: $STEPS
  logging_freq: $LOGFREQ
  model_dir: "$B/joey/model"
  overwrite: True
  shuffle: True
  use_cuda: False
  print_valid_sents: []
  keep_best_ckpts: 1
model:
  initializer: "xavier_uniform"
  bias_initializer: "zeros"
  tied_embeddings: True
  tied_softmax: False
  encoder:
    type: "recurrent"
    rnn_type: "gru"
    embeddings:
      embedding_dim: 256
    hidden_size: 256
    bidirectional: True
    dropout: 0.3
    num_layers: 1
  decoder:
    type: "recurrent"
    rnn_type: "gru"
    embeddings:
      embedding_dim: 256
    hidden_size: 512
    dropout: 0.3
    hidden_dropout: 0.3
    num_layers: 1
    input_feeding: True
    init_hidden: "bridge"
    attention: "bahdanau"
EOF
}
mkdir -p "$B/joey"
joey_config 1 > "$B/joey/greedy.yaml"
joey_config 5 > "$B/joey/beam5.yaml"

# ---------------------------------------------------------------- runs
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
TIMES=$B/times.tsv
: > "$TIMES"
rm -f "$B"/ours_default.benchmark.*  # a previous run's, which the report would print
record() { echo -e "$1\t$2" >> "$TIMES"; }
# tokenizer.sampling=0: the same fixed segmentation as JoeyNMT's
OURS_COMMON=(--set tokenizer.sampling=0 --set "train.max_steps=$STEPS" --set "train.eval_every=$STEPS"
             --set "train.log_every=$LOGFREQ" --set "data.dev=$D/dev100"
             --set "data.test=$D/test" --set "train.early_stopping_patience=0")
[ "$THREADS" -gt 0 ] && OURS_COMMON+=(--set "train.threads=$THREADS")
# constant rate in the timed mode, like JoeyNMT's (the plateau schedule never fires: no eval)
[ "$MINUTES" -gt 0 ] && OURS_COMMON+=(--set train.lr_schedule=plateau)
OURS_CKPT=best.pt
[ "$MINUTES" -gt 0 ] && OURS_CKPT=last.pt   # the weights saved on SIGINT
# Runs a training command, for MINUTES of wall clock if set (SIGINT then; exit 124 is that).
timed() {
  if [ "$MINUTES" -gt 0 ]; then timeout -s INT "${MINUTES}m" "$@" || [ $? -eq 124 ]
  else "$@"; fi
}
# JoeyNMT's architecture in fp32 (like JoeyNMT): the like-for-like row
EQUIV=(--set model.input_feeding=true --set model.tie_output=false --set model.attention_dim=512
       --set train.bf16=false)

ours_train() {  # $1 = name, rest = extra overrides
  local name=$1; shift
  rm -rf "${B:?}/$name"; mkdir -p "$B/$name"
  cp "$B/spm/tokenizer.src.model" "$B/spm/tokenizer.tgt.model" "$B/$name/"
  local t0; t0=$(now)
  timed "$PY" -m seq2seq train "$CONFIG" "${OURS_COMMON[@]}" --set "train.out_dir=$B/$name" \
    "$@" > "$B/$name.train.log" 2>&1
  record "train_$name" "$(since "$t0")"
}

LENGTH="$STEPS steps"; [ "$MINUTES" -gt 0 ] && LENGTH="$MINUTES minutes"
echo "== train JoeyNMT ($LENGTH)" >&2
rm -rf "$B/joey/model"
t0=$(now)
timed "$JPY" -m joeynmt train "$B/joey/greedy.yaml" --skip-test > "$B/joey.train.log" 2>&1
record train_joey "$(since "$t0")"
echo "== train ours, JoeyNMT's architecture ($LENGTH)" >&2
ours_train ours_equiv "${EQUIV[@]}"
echo "== train ours, shipped config ($LENGTH)" >&2
ours_train ours_default

T_EN=$D/test.en
for method in greedy beam5; do
  echo "== decode $method: JoeyNMT" >&2
  t0=$(now)
  # (stdout, not -o: JoeyNMT 2.3.0's translate -o fails with "no attribute 'n_best'")
  "$JPY" -m joeynmt translate "$B/joey/$method.yaml" \
    < "$T_EN" > "$B/joey.$method.de" 2> "$B/joey.$method.log"
  record "decode_${method}_joey" "$(since "$t0")"
  for name in ours_equiv ours_default; do
    echo "== decode $method: $name" >&2
    if [ $method = greedy ]; then args=(--method greedy); else args=(--method beam --beam-size 5 --alpha 0.6); fi
    t0=$(now)
    "$PY" -m seq2seq translate -c "$B/$name/$OURS_CKPT" -i "$T_EN" -o "$B/$name.$method.de" \
      "${args[@]}" --batch-size 64 ${THREADS:+--threads $THREADS} > "$B/$name.$method.log" 2>&1
    record "decode_${method}_$name" "$(since "$t0")"
  done
done

if [ "$BENCHMARK" = 1 ]; then
  echo "== scripts/benchmark.py on ours_default (in-process decoding numbers)" >&2
  bench_args=(--checkpoint "$B/ours_default/$OURS_CKPT" --train-steps 0 --latency-sentences 20
              --decode-sentences "$NTEST" --json-out "$B/ours_default.benchmark.json")
  [ "$THREADS" -gt 0 ] && bench_args+=(--threads "$THREADS")
  "$PY" scripts/benchmark.py "$CONFIG" "${OURS_COMMON[@]}" --set "train.out_dir=$B/spm" \
    "${bench_args[@]}" > "$B/ours_default.benchmark.txt" 2> "$B/ours_default.benchmark.log"
fi

# ---------------------------------------------------------------- report
"$PY" - "$B" "$STEPS" "$LOGFREQ" "$THREADS" "$MINUTES" <<'EOF'
import json, os, re, sys
from pathlib import Path
import sacrebleu
import torch
from seq2seq.environment import cpu_model

b, steps, logfreq, threads = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
minutes = int(sys.argv[5])
times = dict(line.split("\t") for line in (b / "times.tsv").read_text().splitlines())
times = {k: float(v) for k, v in times.items()}
refs = (b / "data/test.de").read_text(encoding="utf-8").splitlines()
src = (b / "data/test.en").read_text(encoding="utf-8").splitlines()

def steady(values):  # drop the first logging window (warm-up) when there are more
    values = values[1:] if len(values) > 1 else values
    return sum(values) / len(values) if values else float("nan")

joey_log = (b / "joey/model/train.log").read_text(encoding="utf-8", errors="replace")
joey_tok = [float(x) for x in re.findall(r"Tokens per Sec:\s*([0-9.]+)", joey_log)]
tok = {"joey": steady(joey_tok)}
trained = {key: steps for key in ("joey", "ours_equiv", "ours_default")}  # steps per system
if minutes:
    trained["joey"] = int(re.findall(r"Interrupt at epoch\s*\d+, step\s*(\d+)", joey_log)[-1])
for name in ("ours_equiv", "ours_default"):
    metrics = b / name / "metrics.jsonl"  # absent if stopped before the first log line
    entries = [json.loads(l) for l in metrics.read_text().splitlines()] if metrics.exists() else []
    tok[name] = steady([e["tokens_per_s"] for e in entries if e["kind"] == "train"])
    if minutes:
        trained[name] = torch.load(b / name / "last.pt", weights_only=False)["step"]

def bleu(path):
    hyps = path.read_text(encoding="utf-8").splitlines()
    if len(hyps) != len(refs):
        return float("nan")
    return sacrebleu.corpus_bleu(hyps, [refs]).score

names = {"joey": "JoeyNMT 2.3.0", "ours_equiv": "ours, JoeyNMT arch.",
         "ours_default": "ours, shipped config"}
print(f"machine: {cpu_model()}; {os.cpu_count()} logical CPUs; torch {torch.__version__}; "
      f"threads: {threads or 'torch default'} (OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')});"
      f" load average now {os.getloadavg()[0]:.2f}")
length = f"{minutes} minutes of training each" if minutes else f"{steps} training steps"
print(f"{length}, 4096-token batches, log every {logfreq} steps; test: {len(src)} "
      "sentences of test_2016_flickr, batches of 64 sentences, beam 5 alpha 0.6")
print("tokens/s = non-padding target tokens (EOS included, BOS not) per second of training, "
      "mean of the logged windows after the first (JoeyNMT's 'Tokens per Sec', our "
      "metrics.jsonl tokens_per_s); wall = whole command incl. start-up, data loading, "
      f"{'' if minutes else 'one validation on 100 dev sentences, '}checkpointing; "
      "decode wall includes start-up "
      "and model load. BLEU = sacreBLEU cased, 13a.")
rows = []
for key in ("joey", "ours_equiv", "ours_default"):
    row = [names[key], f"{trained[key]}", f"{tok[key]:.0f}",
           f"{1000 * times['train_' + key] / trained[key]:.0f}"]
    for m in ("greedy", "beam5"):
        t = times[f"decode_{m}_{key}"]
        row += [f"{t:.1f}", f"{len(src) / t:.1f}", f"{bleu(b / f'{key}.{m}.de'):.2f}"]
    rows.append(row)
for key in ("ours_equiv", "ours_default"):
    ratio = [f"ratio {names[key].split(', ')[1]} / JoeyNMT", "",
             f"{tok[key] / tok['joey']:.2f}x",
             f"{times['train_' + key] / trained[key] / (times['train_joey'] / trained['joey']):.2f}x"]
    for m in ("greedy", "beam5"):
        ratio += [f"{times[f'decode_{m}_{key}'] / times[f'decode_{m}_joey']:.2f}x",
                  f"{times[f'decode_{m}_joey'] / times[f'decode_{m}_{key}']:.2f}x", ""]
    rows.append(ratio)
print("ratio rows: tok/s and sent/s columns = ours / JoeyNMT (higher is better for us); "
      "wall and seconds columns = ours / JoeyNMT time (lower is better for us). JoeyNMT's "
      "token batches count max(src+1, trg+1) per sentence and are not length-bucketed, so "
      "its steps hold fewer target tokens: compare tok/s, not ms/step.")
head = ["system", "steps", "train tok/s", "wall ms/step", "greedy s", "greedy sent/s", "greedy BLEU",
        "beam5 s", "beam5 sent/s", "beam5 BLEU"]
widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
fmt = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"
print(fmt(head))
print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
for r in rows:
    print(fmt(r))
bench = b / "ours_default.benchmark.txt"
if bench.exists():
    print("\nscripts/benchmark.py, ours (shipped config, the checkpoint above), in-process:")
    print(bench.read_text(), end="")
EOF
