"""A lightweight UNet: three poolings, batch norm, sigmoid centre heatmap at full resolution."""

from __future__ import annotations

import torch
from torch import nn


def conv_block(in_ch: int, out_ch: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_ch, out_ch, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_ch),
        nn.ReLU(inplace=True),
        nn.Conv2d(out_ch, out_ch, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_ch),
        nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    """Encoder-decoder with skip connections; input side must be a multiple of 2**len(channels)-1."""

    def __init__(self, channels: tuple[int, ...] = (16, 32, 64, 112)) -> None:
        super().__init__()
        self.channels = tuple(channels)
        self.down = nn.ModuleList()
        in_ch = 1
        for ch in self.channels:
            self.down.append(conv_block(in_ch, ch))
            in_ch = ch
        self.up = nn.ModuleList()
        self.merge = nn.ModuleList()
        for ch in reversed(self.channels[:-1]):
            self.up.append(nn.ConvTranspose2d(in_ch, ch, 2, stride=2))
            self.merge.append(conv_block(2 * ch, ch))
            in_ch = ch
        self.head = nn.Conv2d(in_ch, 1, 1)

    @property
    def stride(self) -> int:
        return 2 ** (len(self.channels) - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.head(self.features(x)))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The full-resolution features the head reads (the encoder-decoder without its last 1x1)."""
        skips = []
        for i, block in enumerate(self.down):
            if i:
                x = nn.functional.max_pool2d(x, 2)
            x = block(x)
            skips.append(x)
        for up, merge, skip in zip(self.up, self.merge, reversed(skips[:-1])):
            x = merge(torch.cat([up(x), skip], dim=1))
        return x
