#!/usr/bin/env bash
# The main job on the embedded default: generate the English->Czech agreement corpus,
# train a small model, translate a few sentences, and score the test set.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
source scripts/allocator.sh
run=runs/quickstart

# half the sentences put the relative clause on the object, after a subject of another
# gender (an attractor): "Starý muž sleduje dívku, která ráda čte."
python scripts/make_agreement_corpus.py --out data/agreement --attractors 0.5
if [ -f "$run/last.pt" ]; then
  seq2seq train configs/quickstart.yaml --resume   # continues, or stops at once when done
else
  seq2seq train configs/quickstart.yaml
fi

echo "== A few translations (beam 5) =="
printf '%s\n' \
  "A girl who likes to read is sitting on a bench." \
  "The old man who was standing in front of the red car was happy." \
  "The little dog that likes to swim is sleeping in the garden." \
  "The old man is watching a girl who likes to read." |
  seq2seq translate -c "$run/best.pt" --method beam | tee "$run/examples.cs"

echo "== Test set (data/agreement/test) =="
seq2seq translate -c "$run/best.pt" -i data/agreement/test.en -o "$run/test.hyp.cs"
seq2seq evaluate --hyp "$run/test.hyp.cs" --ref data/agreement/test.cs
echo "== Agreement: correct vs. wrong-gender contrastive targets =="
seq2seq contrast -c "$run/best.pt" data/agreement/test.contrast.cs.tsv
