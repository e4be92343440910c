"""Peer servers for the benchmarks, each in a virtual environment of its own made on first use.

python -m bench.peers mlserver     # just build .venv-peers/mlserver (pip, from PyPI)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.common import REPO

VENVS = REPO / ".venv-peers"
PEERS = {
    "mlserver": ["mlserver==1.7.1", "uvloop<0.22", "onnxruntime", "numpy"],  # uvloop 0.22 breaks its workers
}


def peer_python(name: str) -> Path:
    """The python of peer ``name``'s venv, built (``python -m venv`` + pip) if missing."""
    venv = VENVS / name
    python = venv / "bin" / "python"
    stamp = venv / ".installed"
    if not stamp.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *PEERS[name]], check=True)
        stamp.touch()
    return python


if __name__ == "__main__":
    for peer in sys.argv[1:] or list(PEERS):
        print(peer_python(peer))
