#!/usr/bin/env bash
# Remake the Stylize gallery of docs/stylize.md with the CLI against a local server.
#   bash docs/stylize_gallery.sh        (from the repository root; about 10 minutes on 2 CPU cores)
set -euo pipefail
PY=${PYTHON:-python}
OUT=docs/img
PORT=${PORT:-50777}
mkdir -p "$OUT"
"$PY" - "$OUT" <<'PYEOF'
import sys
from PIL import Image
from skimage import data
out = sys.argv[1]
Image.fromarray(data.chelsea()).resize((256, 170), Image.Resampling.LANCZOS).save(f"{out}/stylize-content.png")
Image.fromarray(data.brick()).convert("RGB").resize((170, 170), Image.Resampling.LANCZOS).save(f"{out}/stylize-style-brick.png")
Image.fromarray(data.hubble_deep_field()).resize((256, 170), Image.Resampling.LANCZOS).save(f"{out}/stylize-style-hubble.png")
PYEOF
ONEIROS_PORT=$PORT ONEIROS_METRICS_PORT=-1 ONEIROS_LOG_LEVEL=WARNING "$PY" -m oneiros_server &
SERVER=$!
trap 'kill $SERVER' EXIT
for _ in $(seq 120); do "$PY" -m oneiros_client --target "localhost:$PORT" health >/dev/null 2>&1 && break; sleep 1; done
run() { "$PY" -m oneiros_client --target "localhost:$PORT" stylize -q --seed 0 --max-side 256 "$@"; }
run "$OUT/stylize-content.png" "$OUT/stylize-style-brick.png" -o "$OUT/stylize-brick.png"
run "$OUT/stylize-content.png" "$OUT/stylize-style-brick.png" --preserve-color -o "$OUT/stylize-brick-color.png"
run "$OUT/stylize-content.png" "$OUT/stylize-style-hubble.png" -o "$OUT/stylize-hubble.png"
run "$OUT/stylize-content.png" "$OUT/stylize-style-hubble.png" --preserve-color -o "$OUT/stylize-hubble-color.png"
