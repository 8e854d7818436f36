"""A small 3D UNet for volumes: two poolings, batch norm, sigmoid centre heatmap at full resolution.

It works on volumes resampled so particles are about the same size along every axis (see
volume_detection), so its poolings and kernels are isotropic.
"""

from __future__ import annotations

import torch
from torch import nn


def conv_block3d(in_ch: int, out_ch: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv3d(in_ch, out_ch, 3, padding=1, bias=False),
        nn.BatchNorm3d(out_ch),
        nn.ReLU(inplace=True),
        nn.Conv3d(out_ch, out_ch, 3, padding=1, bias=False),
        nn.BatchNorm3d(out_ch),
        nn.ReLU(inplace=True),
    )


class UNet3D(nn.Module):
    """Encoder-decoder with skip connections; each input side must be a multiple of ``stride``."""

    def __init__(self, channels: tuple[int, ...] = (8, 16, 32)) -> None:
        super().__init__()
        self.channels = tuple(channels)
        self.down = nn.ModuleList()
        in_ch = 1
        for ch in self.channels:
            self.down.append(conv_block3d(in_ch, ch))
            in_ch = ch
        self.up = nn.ModuleList()
        self.merge = nn.ModuleList()
        for ch in reversed(self.channels[:-1]):
            self.up.append(nn.ConvTranspose3d(in_ch, ch, 2, stride=2))
            self.merge.append(conv_block3d(2 * ch, ch))
            in_ch = ch
        self.head = nn.Conv3d(in_ch, 1, 1)

    @property
    def stride(self) -> int:
        return 2 ** (len(self.channels) - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, block in enumerate(self.down):
            if i:
                x = nn.functional.max_pool3d(x, 2)
            x = block(x)
            skips.append(x)
        for up, merge, skip in zip(self.up, self.merge, reversed(skips[:-1])):
            x = merge(torch.cat([up(x), skip], dim=1))
        return torch.sigmoid(self.head(x))
