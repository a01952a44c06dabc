#!/usr/bin/env bash
# One Multi30k direction end to end: get the data, train, beam-decode test_2016_flickr,
# and print cased detokenised sacreBLEU (with signature) and the Multi30k-paper score.
#
#   bash scripts/run_multi30k.sh en_de                                 # download the data
#   bash scripts/run_multi30k.sh en_de --from ../shared/data/multi30k  # copy a local copy
#
# val is used for model selection only (best.pt by dev BLEU); test is decoded once.
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

seq2seq translate -c "$run/best.pt" --method beam -i "$data/test_2016_flickr.$src.gz" \
  -o "$run/test_2016_flickr.hyp.$tgt"
seq2seq evaluate --hyp "$run/test_2016_flickr.hyp.$tgt" --ref "$data/test_2016_flickr.$tgt.gz" \
  --paper-lang "$tgt" | tee "$run/test_2016_flickr.scores"
