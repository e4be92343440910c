"""A torch generator for ``oneiros-export torch tests.export.byo_torch_models:make_generator``:
NCHW, tanh, grayscale 12x12, latent size read from its first Linear."""

from __future__ import annotations

import torch
from torch import nn


class Generator(nn.Module):
    def __init__(self, latent: int = 5):
        super().__init__()
        self.project = nn.Linear(latent, 8 * 6 * 6)
        self.up = nn.ConvTranspose2d(8, 1, 4, stride=2, padding=1)
        self.out = nn.Tanh()

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.project(z)).view(-1, 8, 6, 6)  # (B, 8, 6, 6)
        return self.out(self.up(x))  # (B, 1, 12, 12)


def make_generator() -> nn.Module:
    torch.manual_seed(0)
    return Generator()


def make_two_inputs() -> nn.Module:
    class TwoInputs(nn.Module):
        def forward(self, z: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
            return z + w

    return TwoInputs()
