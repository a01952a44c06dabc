#!/usr/bin/env bash
# One Multi30k direction end to end: get the data, train, beam-decode test_2016_flickr,
# and print cased detokenised sacreBLEU (with signature) and the Multi30k-paper score;
# for Czech and German targets also the agreement accuracy on contrastive suites.
#
#   bash scripts/run_multi30k.sh en_de                                 # download the data
#   bash scripts/run_multi30k.sh en_de --from ../shared/data/multi30k  # copy a local copy
#   bash scripts/run_multi30k.sh en_de --distill [--from DIR]          # and distil (below)
#   bash scripts/run_multi30k.sh en_fr --distill --student-epochs 20   # a longer student
#   bash scripts/run_multi30k.sh en_fr --distill --rounds 2 --teacher-epochs 20 --student-epochs 10
#   bash scripts/run_multi30k.sh en_fr --distill --teachers 2 --teacher-epochs 16 --student-epochs 16
#   bash scripts/run_multi30k.sh en_fr --distill --back-translate      # and back-translate
#
# val is used for model selection only (best.pt by dev BLEU, then best.pt or the average of
# the kept checkpoints by val beam BLEU); test is decoded once.
#
# --distill (sequence-level knowledge distillation, `data.distill_from`): the chosen model
# beam-translates the training sources, and a second model of the same config learns from
# the training pairs plus these translations for half the epochs (so as many steps; or
# --student-epochs N), in runs/multi30k_SRC_TGT_distilled; that student is the model tested.
# --rounds N distils N times, each student teaching the next (runs/..._distilled2, ...);
# --teacher-epochs N trains the first model for N epochs instead of the config's.
# --teachers N trains N first models side by side (seeds 1..N, the cores shared out; seed
# k > 1 in runs/multi30k_SRC_TGT_seedk, each logging to its run directory + .log), each
# chosen on val, and the student learns from their ensemble's translations.
# --back-translate also trains a model of the opposite direction (the same config with the
# languages swapped, runs/multi30k_SRC_TGT_reverse) side by side with the teacher(s), chosen
# on val the same way, and the student learns from its beam translations of the training
# references too (`data.back_translate_from`), for a third of the epochs (or --student-epochs N).
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: run_multi30k.sh SRC_TGT [--teacher-epochs N] [--distill [--teachers N] [--back-translate] [--student-epochs N] [--rounds N]] [--from DIR]"
pair=${1:?$usage}
shift
distill=false
back_translate=false
student_epochs=
teacher_epochs=
rounds=
teachers=
fetch=(--out data/multi30k)
fail() { echo "run_multi30k.sh: $1; $usage" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --distill) distill=true; shift ;;
    --back-translate) back_translate=true; shift ;;
    --student-epochs) [ -n "${2:-}" ] || fail "--student-epochs needs a number"
      student_epochs=$2; shift 2 ;;
    --teacher-epochs) [ -n "${2:-}" ] || fail "--teacher-epochs needs a number"
      teacher_epochs=$2; shift 2 ;;
    --rounds) [ -n "${2:-}" ] || fail "--rounds needs a number"
      rounds=$2; shift 2 ;;
    --teachers) [ -n "${2:-}" ] || fail "--teachers needs a number"
      teachers=$2; shift 2 ;;
    --from) [ -n "${2:-}" ] || fail "--from needs a directory"
      fetch+=(--from "$2"); shift 2 ;;
    *) fail "unknown argument $1" ;;
  esac
done
for flag in student-epochs rounds teachers; do
  var=${flag/-/_}
  [ -z "${!var}" ] || $distill || fail "--$flag needs --distill"
done
$back_translate && ! $distill && fail "--back-translate needs --distill"
for flag in student-epochs teacher-epochs rounds teachers; do
  var=${flag/-/_}
  [[ -z ${!var} || ${!var} =~ ^[1-9][0-9]*$ ]] ||
    fail "--$flag needs a positive whole number, got '${!var}'"
done
src=${pair%_*}
tgt=${pair#*_}
config=configs/multi30k_$pair.yaml
run=runs/multi30k_$pair
data=data/multi30k
[ -f "$config" ] || { echo "run_multi30k.sh: no config $config" >&2; exit 2; }
[ -x .venv/bin/seq2seq ] && export PATH="$PWD/.venv/bin:$PATH"
source scripts/allocator.sh
python scripts/fetch_multi30k.py "${fetch[@]}"

# Beam BLEU of checkpoint $1 on val; the hypotheses go to $2.
val_bleu() {
  seq2seq translate -c "$1" --method beam -i "$data/val.$src.gz" -o "$2"
  seq2seq evaluate --hyp "$2" --ref "$data/val.$tgt.gz" --json |
    python -c 'import json, sys; print(json.load(sys.stdin)["BLEU"]["score"])'
}

# Train (or resume) into run $1 with the config and overrides "${@:2}", then choose on val:
# best.pt, or the average of the kept best checkpoints (best-step*.pt), whichever scores
# the higher beam BLEU. Sets $chosen and writes it to $1/chosen.
train_and_choose() {
  local out=$1 resume=() start=$SECONDS
  shift
  [ -f "$out/last.pt" ] && resume=(--resume)
  seq2seq train "$config" --set "data.dev=$data/val" --set "data.test=$data/test_2016_flickr" \
    --set "train.out_dir=$out" "$@" "${resume[@]}"
  echo "training wall time ($out): $((SECONDS - start)) s"
  chosen=$out/best.pt
  if ls "$out"/best-step*.pt > /dev/null 2>&1; then
    seq2seq average "$out"/best-step*.pt -o "$out/averaged.pt"
    local best_val averaged_val
    best_val=$(val_bleu "$out/best.pt" "$out/val.hyp.$tgt")
    averaged_val=$(val_bleu "$out/averaged.pt" "$out/val.hyp.$tgt")
    echo "val BLEU (beam): best.pt $best_val, averaged.pt $averaged_val"
    if python -c "import sys; sys.exit(not $averaged_val > $best_val)"; then
      chosen=$out/averaged.pt
    fi
  fi
  echo "$chosen" > "$out/chosen"
}

[ -n "$teacher_epochs" ] || teacher_epochs=$(python -c \
  "import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))['train']['max_epochs'])" "$config")
# The teacher(s), and with --back-translate the reverse model: one trains alone; several
# train side by side (the cores shared out, seed k > 1 of the teachers in
# runs/multi30k_SRC_TGT_seedk), each logging to its run directory + .log, and $chosen lists
# the teachers' choices.
teachers=${teachers:-1}
teacher_args=(--set "data.train=$data/train" --set "train.max_epochs=$teacher_epochs")
reverse=${run}_reverse
models=$teachers
! $back_translate || models=$((teachers + 1))
if [ "$models" = 1 ]; then
  train_and_choose "$run" "${teacher_args[@]}"
else
  pids=() outs=() threads=$(($(nproc) / models))
  ((threads > 0)) || threads=1
  mkdir -p "$(dirname "$run")"
  for seed in $(seq "$teachers"); do
    out=$run
    [ "$seed" = 1 ] || out=${run}_seed$seed
    outs+=("$out")
    echo "training teacher $seed of $teachers in $out (log: $out.log)"
    train_and_choose "$out" "${teacher_args[@]}" --set "train.seed=$seed" \
      --set "train.threads=$threads" > "$out.log" 2>&1 &
    pids+=($!)
  done
  if $back_translate; then
    echo "training the reverse model ($tgt->$src) in $reverse (log: $reverse.log)"
    (
      read -r src tgt <<< "$tgt $src"
      train_and_choose "$reverse" "${teacher_args[@]}" --set "data.src_lang=$src" \
        --set "data.tgt_lang=$tgt" --set "train.threads=$threads"
    ) > "$reverse.log" 2>&1 &
    pids+=($!)
  fi
  for pid in "${pids[@]}"; do
    wait "$pid" || { echo "run_multi30k.sh: a first model failed; see $run*.log" >&2; exit 1; }
  done
  chosen=$(for out in "${outs[@]}"; do cat "$out/chosen"; done | paste -sd,)
  echo "teachers: $chosen"
fi

if $distill; then
  # the student's corpus is the training pairs 2 times over (3 with back-translations), so
  # it trains for a half (a third) of the teacher's epochs, rounded: as many steps
  copies=2 student_args=()
  if $back_translate; then
    copies=3 student_args=(--set "data.back_translate_from=$(cat "$reverse/chosen")")
  fi
  if [ -z "$student_epochs" ]; then
    student_epochs=$(((2 * teacher_epochs + copies) / (2 * copies)))
    ((student_epochs > 0)) || student_epochs=1
  fi
  teacher_run=$run
  for round in $(seq "${rounds:-1}"); do
    teacher=$chosen
    run=${teacher_run}_distilled
    [ "$round" = 1 ] || run=$run$round
    train_and_choose "$run" --set "data.train=$data/train" --set "data.distill_from=$teacher" \
      "${student_args[@]}" --set "train.max_epochs=$student_epochs"
  done
fi

echo "decoding test_2016_flickr with $chosen"
seq2seq translate -c "$chosen" --method beam -i "$data/test_2016_flickr.$src.gz" \
  -o "$run/test_2016_flickr.hyp.$tgt"
seq2seq evaluate --hyp "$run/test_2016_flickr.hyp.$tgt" --ref "$data/test_2016_flickr.$tgt.gz" \
  --paper-lang "$tgt" | tee "$run/test_2016_flickr.scores"

# Agreement (Czech and German targets): contrastive rows built from the val and test
# references (a relative pronoun, adjective or article swapped for a wrong form), and
# the share the chosen model scores right.
case $tgt in
  cs | de)
    for split in val test_2016_flickr; do
      python scripts/build_contrastive_suite.py --src "$data/$split.$src.gz" \
        --ref "$data/$split.$tgt.gz" --lang "$tgt" --lexicon "$data/train.$tgt.gz" \
        --out "$run/$split.contrast.tsv"
      echo "agreement on $split:"
      seq2seq contrast -c "$chosen" "$run/$split.contrast.tsv"
    done 2>&1 | tee "$run/agreement.scores"
    ;;
esac
