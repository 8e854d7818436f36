"""A lightweight ResNet-style encoder-decoder: residual stages down, upsampling with skips back up."""

from __future__ import annotations

import torch
from torch import nn


class BasicBlock(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_ch)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.shortcut = (
            nn.Identity()
            if stride == 1 and in_ch == out_ch
            else nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride=stride, bias=False), nn.BatchNorm2d(out_ch))
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.shortcut(x))


class ResNetHeatmap(nn.Module):
    """Stem at full resolution, one residual stage per scale (stride 2 each), transposed-conv decoder."""

    def __init__(self, channels: tuple[int, ...] = (12, 24, 48, 96)) -> None:
        super().__init__()
        self.channels = tuple(channels)
        self.stem = nn.Sequential(
            nn.Conv2d(1, channels[0], 3, padding=1, bias=False), nn.BatchNorm2d(channels[0]), nn.ReLU(inplace=True)
        )
        self.stages = nn.ModuleList([BasicBlock(channels[0], channels[0])])
        for prev, ch in zip(channels[:-1], channels[1:]):
            self.stages.append(nn.Sequential(BasicBlock(prev, ch, stride=2), BasicBlock(ch, ch)))
        self.up = nn.ModuleList()
        self.fuse = nn.ModuleList()
        for deep, ch in zip(reversed(channels[1:]), reversed(channels[:-1])):
            self.up.append(nn.ConvTranspose2d(deep, ch, 2, stride=2))
            self.fuse.append(BasicBlock(ch, ch))
        self.head = nn.Conv2d(channels[0], 1, 1)

    @property
    def stride(self) -> int:
        return 2 ** (len(self.channels) - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        skips = []
        for stage in self.stages:
            x = stage(x)
            skips.append(x)
        for up, fuse, skip in zip(self.up, self.fuse, reversed(skips[:-1])):
            x = fuse(up(x) + skip)
        return torch.sigmoid(self.head(x))
