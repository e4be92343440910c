#!/usr/bin/env bash
# One GPU run, from the repository root, in the GPU image (deploy/gpu/Dockerfile) or any
# environment that already has a CUDA torch and onnxruntime-gpu: installs nothing, reads no network.
#   1. correctness: every ONNX model must report device cuda, and Dream and Stylize on CUDA
#      (fp32 and bf16) must score within 3 % of the CPU's fp32 at equal steps; else exit 1;
#   2. timings: Dream and Stylize steps at 512 and 1024 px in fp32 and bf16, Gatys at 512 px
#      for 500 steps, Decode, each style network (STYLE_NETWORK, ONNX on CUDA) at 512 and 1024 px;
#      then the dream bench on CUDA.
# Writes bench/results/gpu.json and bench/results/dream_cuda.json.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python}"
export PYTHONPATH="$PWD:$PWD/clients/python${PYTHONPATH:+:$PYTHONPATH}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
"$PYTHON" - <<'PY'
import onnxruntime as ort, torch
print("torch", torch.__version__, "CUDA", torch.version.cuda, "cuDNN", torch.backends.cudnn.version())
print("onnxruntime", ort.__version__, ort.get_available_providers())
if not torch.cuda.is_available() or "CUDAExecutionProvider" not in ort.get_available_providers():
    raise SystemExit("torch or ONNX Runtime cannot see CUDA")
PY
"$PYTHON" -m bench.gpu_check --out bench/results/gpu.json "$@"
"$PYTHON" -m bench.dream_bench --device cuda --sizes 512 1024 --steps 10 --rounds 3 --out bench/results/dream_cuda.json
