#!/usr/bin/env bash
# The quick start's first run, timed: a fresh clone of this repository's HEAD in a temporary
# folder, `make serve` there until `oneiros health` says SERVING, then Ctrl-C (SIGINT) and the
# drain. Prints the install and load times with the CPU and load average. Ports: PORT (50951)
# and the next two, so that it runs beside a server on the defaults.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
PORT="${PORT:-50951}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
git clone -q "$REPO" "$WORK/oneiros"
cd "$WORK/oneiros"
now() { date +%s.%N; }
start=$(now)
ONEIROS_PORT=$PORT ONEIROS_HTTP_PORT=$((PORT + 1)) ONEIROS_METRICS_PORT=$((PORT + 2)) \
  make serve > "$WORK/serve.log" 2>&1 &
make_pid=$!
installed=""
until [ -n "$installed" ] && ONEIROS_TARGET="localhost:$PORT" .venv/bin/oneiros health > /dev/null 2>&1; do
  if [ -z "$installed" ] && [ -f .venv/.installed ]; then installed=$(now); fi
  if ! kill -0 "$make_pid" 2> /dev/null; then cat "$WORK/serve.log"; exit 1; fi
  sleep 1
done
serving=$(now)
kill -INT "$(pgrep -P "$make_pid")"  # Ctrl-C, to the server make started
wait "$make_pid" || true
printf 'CPU: %s, %s cores, flags: %s\n' "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" "$(nproc)" \
  "$(grep -m1 -o -w -e avx512f -e avx512_bf16 -e amx_bf16 /proc/cpuinfo | sort -u | xargs)"
printf 'install %.0f s, then SERVING after %.1f s more: %.0f s in all; load average %s\n' \
  "$(echo "$installed - $start" | bc)" "$(echo "$serving - $installed" | bc)" "$(echo "$serving - $start" | bc)" \
  "$(cut -d' ' -f1-3 /proc/loadavg)"
grep -q '"msg": "stopped"' "$WORK/serve.log" && echo "Ctrl-C: drained and stopped"
