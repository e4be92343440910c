#!/usr/bin/env bash
# Remake the painting gallery (README, docs/stylize.md, docs/dream.md) with the CLI against a
# local server started from this tree. From the repository root:
#   bash docs/stylize_gallery.sh                     the defaults: 100 L-BFGS steps, 20 Dream steps per octave
#   STEPS=50 COARSE=1 DREAM_STEPS=10 bash docs/stylize_gallery.sh     what made the committed pictures
# Content: scikit-image's coffee (600x400, worked at 512 px). Styles: the public-domain paintings
# in docs/img/style-*.jpg. Prints each command with its wall time; writes docs/img/gallery-*.jpg.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
export PYTHONPATH="$PWD:$PWD/clients/python${PYTHONPATH:+:$PYTHONPATH}"
OUT=docs/img
PORT="${PORT:-50777}"
SIDE="${SIDE:-512}"
STEPS="${STEPS:-100}"
DREAM_STEPS="${DREAM_STEPS:-20}"
"$PY" - "$OUT" <<'PYEOF'
import sys
from PIL import Image
from skimage import data
Image.fromarray(data.coffee()).save(f"{sys.argv[1]}/gallery-coffee.jpg", quality=92)
PYEOF
WORK="$(mktemp -d)"
mkdir -p "$WORK/models"
cp -r models/vgg19-imagenet "$WORK/models/"
"$PY" -m oneiros_server --port "$PORT" --metrics-port -1 --model-repository "$WORK/models" --no-log-json \
  --log-level WARNING &
SERVER=$!
trap 'kill $SERVER; rm -rf "$WORK"' EXIT
oneiros() { "$PY" -m oneiros_client -a "localhost:$PORT" "$@"; }
for _ in $(seq 180); do oneiros health oneiros.v1.Oneiros/Stylize >/dev/null 2>&1 && break; sleep 1; done
oneiros models vgg19-imagenet | grep -E "device|precision"
run() {
  local start end
  echo "\$ oneiros $*"
  start=$(date +%s.%N)
  oneiros "$@"
  end=$(date +%s.%N)
  printf '  wall %.0f s\n' "$(echo "$end - $start" | bc)"
}
C="$OUT/gallery-coffee.jpg"
S=(--max-side "$SIDE" --steps "$STEPS" --seed 0 -q ${COARSE:+--coarse-to-fine})
run stylize "$C" "$OUT/style-starry-night.jpg" "${S[@]}" -o "$OUT/gallery-starry-night.jpg"
run stylize "$C" "$OUT/style-the-scream.jpg" "${S[@]}" --preserve-color -o "$OUT/gallery-the-scream-color.jpg"
run dream "$C" --max-side "$SIDE" --steps "$DREAM_STEPS" --seed 0 -q -o "$OUT/gallery-dream-coffee.jpg"
run stylize "$C" "$OUT/style-starry-night.jpg" "${S[@]}" --preserve-color -o "$OUT/gallery-starry-night-color.jpg"
