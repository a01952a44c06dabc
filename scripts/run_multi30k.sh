#!/usr/bin/env bash
# One Multi30k direction end to end: get the data, train, beam-decode test_2016_flickr,
# and print cased detokenised sacreBLEU (with signature) and the Multi30k-paper score;
# for Czech and German targets also the agreement accuracy on contrastive suites.
#
#   bash scripts/run_multi30k.sh en_de                                 # download the data
#   bash scripts/run_multi30k.sh en_de --from ../shared/data/multi30k  # copy a local copy
#
# val is used for model selection only (best.pt by dev BLEU, then best.pt or the average of
# the kept checkpoints by val beam BLEU); test is decoded once.
set -euo pipefail
cd "$(dirname "$0")/.."
pair=${1:?usage: run_multi30k.sh SRC_TGT [--from DIR]}
src=${pair%_*}
tgt=${pair#*_}
config=configs/multi30k_$pair.yaml
run=runs/multi30k_$pair
data=data/multi30k
[ -f "$config" ] || { echo "run_multi30k.sh: no config $config" >&2; exit 2; }
[ -x .venv/bin/seq2seq ] && export PATH="$PWD/.venv/bin:$PATH"

if [ "${2:-}" = "--from" ]; then
  python scripts/fetch_multi30k.py --from "${3:?--from needs a directory}" --out "$data"
else
  python scripts/fetch_multi30k.py --out "$data"
fi

overrides=(--set "data.train=$data/train" --set "data.dev=$data/val"
           --set "data.test=$data/test_2016_flickr")
resume=()
[ -f "$run/last.pt" ] && resume=(--resume)
start=$SECONDS
seq2seq train "$config" "${overrides[@]}" "${resume[@]}"
echo "training wall time: $((SECONDS - start)) s"

# Model selection on val only: best.pt, or the average of the kept best checkpoints
# (best-step*.pt), whichever scores the higher beam BLEU on val.
val_bleu() {  # $1 = checkpoint
  seq2seq translate -c "$1" --method beam -i "$data/val.$src.gz" -o "$run/val.hyp.$tgt"
  seq2seq evaluate --hyp "$run/val.hyp.$tgt" --ref "$data/val.$tgt.gz" --json |
    python -c 'import json, sys; print(json.load(sys.stdin)["BLEU"]["score"])'
}
chosen=$run/best.pt
if ls "$run"/best-step*.pt > /dev/null 2>&1; then
  seq2seq average "$run"/best-step*.pt -o "$run/averaged.pt"
  best_val=$(val_bleu "$run/best.pt")
  averaged_val=$(val_bleu "$run/averaged.pt")
  echo "val BLEU (beam): best.pt $best_val, averaged.pt $averaged_val"
  if python -c "import sys; sys.exit(not $averaged_val > $best_val)"; then
    chosen=$run/averaged.pt
  fi
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
