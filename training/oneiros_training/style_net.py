"""Johnson et al.'s (2016) image transformation network, for one style per network.

As in pytorch/examples' ``fast_neural_style``: three convolutions down (9x9 stride 1,
then two 3x3 stride 2), residual blocks, two nearest-neighbour upsamplings each
followed by a 3x3 convolution, a 9x9 convolution back to RGB; reflection padding and
instance normalisation throughout. Input and output are RGB in [0, 1] (B, 3, H, W) with
H and W multiples of 4 (``StyleNet.MULTIPLE``); ``forward`` clamps the output, the
training loss sees ``raw`` (unclamped, so gradients never vanish at the edges).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class StyleNetConfig:
    width: int = 16  # channels after the first convolution; x2 and x4 after the downsamplings
    blocks: int = 3  # residual blocks at 1/4 resolution

    def to_dict(self) -> dict:
        return asdict(self)


class ConvLayer(nn.Sequential):
    """Reflection padding + convolution (+ instance norm + ReLU unless ``last``)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, last: bool = False):
        layers: list[nn.Module] = [nn.ReflectionPad2d(kernel // 2), nn.Conv2d(c_in, c_out, kernel, stride)]
        if not last:
            layers += [nn.InstanceNorm2d(c_out, affine=True), nn.ReLU(inplace=True)]
        super().__init__(*layers)


class ResidualBlock(nn.Module):
    """x + IN(conv(ReLU(IN(conv(x))))), channels unchanged."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            ConvLayer(channels, channels, 3),
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3),
            nn.InstanceNorm2d(channels, affine=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class UpsampleConv(nn.Module):
    """Nearest-neighbour x2 upsampling, then a 3x3 ConvLayer (no checkerboard artefacts)."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv = ConvLayer(c_in, c_out, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


class StyleNet(nn.Module):
    """The feed-forward stylisation network; see the module docstring."""

    MULTIPLE = 4  # two stride-2 convolutions

    def __init__(self, config: StyleNetConfig = StyleNetConfig()):
        super().__init__()
        self.config = config
        w = config.width
        self.down = nn.Sequential(ConvLayer(3, w, 9), ConvLayer(w, 2 * w, 3, 2), ConvLayer(2 * w, 4 * w, 3, 2))
        self.res = nn.Sequential(*[ResidualBlock(4 * w) for _ in range(config.blocks)])
        self.up = nn.Sequential(UpsampleConv(4 * w, 2 * w), UpsampleConv(2 * w, w), ConvLayer(w, 3, 9, last=True))

    def raw(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in [0, 1] -> (B, 3, H, W), unclamped."""
        h = self.down(x)  # (B, 4w, H/4, W/4)
        h = self.res(h)  # (B, 4w, H/4, W/4)
        return self.up(h)  # (B, 3, H, W)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.raw(x).clamp(0.0, 1.0)


def parameter_count(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


@torch.no_grad()
def grow(small: StyleNet, config: StyleNetConfig) -> StyleNet:
    """A wider and/or deeper network computing exactly what ``small`` computes.

    Each convolution keeps ``small``'s weights in its first channels; the weights from a new
    input channel to an old output channel are zero, so old channels never see new ones (and
    instance norm works per channel, so their statistics are unchanged). New output channels
    start at PyTorch's random initialisation and are read only by new channels. Extra residual
    blocks go last with their final norm's scale and shift at zero: each starts as the
    identity. Training then uses the new capacity from where ``small`` stopped.
    """
    old = small.config
    if config.width < old.width or config.blocks < old.blocks:
        raise ValueError(f"can only grow: {old} -> {config}")
    big = StyleNet(config)
    old_modules = dict(small.named_modules())
    for name, module in big.named_modules():
        source = old_modules.get(name)
        if isinstance(module, nn.Conv2d) and isinstance(source, nn.Conv2d):
            out_old, in_old = source.weight.shape[:2]
            module.weight[:out_old, in_old:] = 0
            module.weight[:out_old, :in_old] = source.weight
            module.bias[:out_old] = source.bias
        elif isinstance(module, nn.InstanceNorm2d) and isinstance(source, nn.InstanceNorm2d):
            module.weight[: source.num_features] = source.weight
            module.bias[: source.num_features] = source.bias
    for block in big.res[old.blocks :]:
        norm = block.body[-1]
        norm.weight.zero_()
        norm.bias.zero_()
    return big
