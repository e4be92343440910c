#!/usr/bin/env bash
# The README's DeepDream gallery, made with the oneiros CLI against a local server:
# scikit-image's chelsea and astronaut, the model's default layers and a second set.
# Writes docs/img/dream-*.png and prints the commands with their wall times.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"  # the venv make serve made (the server, the SDK and scikit-image)
PORT="${PORT:-50077}"
SIDE="${SIDE:-320}"
WORK="$(mktemp -d)"
mkdir -p "$WORK/models" docs/img
cp -r models/vgg19-imagenet "$WORK/models/"
"$PY" -m oneiros_server --port "$PORT" --metrics-port -1 --model-repository "$WORK/models" --no-log-json \
  > "$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null; rm -rf "$WORK"' EXIT
oneiros() { "$PY" -m oneiros_client -a "localhost:$PORT" "$@"; }
for _ in $(seq 120); do oneiros health oneiros.v1.Oneiros/Dream >/dev/null 2>&1 && break; sleep 1; done
"$PY" - "$WORK" <<'PY'
import sys
from PIL import Image
from skimage import data
for name in ("chelsea", "astronaut"):
    Image.fromarray(getattr(data, name)()).save(f"{sys.argv[1]}/{name}.png")
PY
run() {
  local start end
  echo "\$ oneiros $*"
  start=$(date +%s.%N)
  oneiros "$@"
  end=$(date +%s.%N)
  printf '  wall %.1f s\n' "$(echo "$end - $start" | bc)"
}
for photo in chelsea astronaut; do
  run dream "$WORK/$photo.png" -o "docs/img/dream-$photo.png" --max-side "$SIDE" --seed 0 -q
  run dream "$WORK/$photo.png" -o "docs/img/dream-$photo-block4.png" --max-side "$SIDE" --seed 0 -q \
    --layer block4_conv2=1 --layer block4_conv4=1 --step-size 0.004
done
