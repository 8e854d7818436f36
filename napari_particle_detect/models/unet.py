"""A lightweight UNet: three poolings, batch norm, sigmoid centre heatmap at full resolution."""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval


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
            x = merge(up(x), skip) if isinstance(merge, SplitMerge) else merge(torch.cat([up(x), skip], dim=1))
        return x

    def export_form(self) -> UNet:
        """An inference copy (eval mode) computing the same function in the form the CPU runtimes run fastest:
        its merges convolve the upsampled and the skipped features apart and add them (SplitMerge) instead
        of concatenating them first. OpenVINO runs a channels-last bfloat16 concatenation with a reference
        kernel (about 4 ms of a 37 ms pass over a 640 px tile); without it the pass is 3-4 % faster there
        and in ONNX Runtime."""
        network = copy.deepcopy(self).eval()
        network.merge = nn.ModuleList(SplitMerge(merge, up.out_channels) for merge, up in zip(network.merge, network.up))
        return network


class SplitMerge(nn.Module):
    """A merge block (conv_block over [upsampled, skip]) whose first convolution, its batch norm folded in,
    is split by input channels into one over the upsampled features and one over the skip's."""

    def __init__(self, block: nn.Sequential, upsampled_channels: int) -> None:
        super().__init__()
        first = fuse_conv_bn_eval(block[0].eval(), block[1].eval())
        self.from_skip = nn.Conv2d(first.in_channels - upsampled_channels, first.out_channels, 3, padding=1, bias=False)
        self.from_upsampled = nn.Conv2d(upsampled_channels, first.out_channels, 3, padding=1)
        with torch.no_grad():
            self.from_upsampled.weight.copy_(first.weight[:, :upsampled_channels])
            self.from_upsampled.bias.copy_(first.bias)
            self.from_skip.weight.copy_(first.weight[:, upsampled_channels:])
        self.rest = block[2:]

    def forward(self, upsampled: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        # The skip's convolution first: OpenVINO then adds the other into it without reordering memory.
        return self.rest(self.from_skip(skip) + self.from_upsampled(upsampled))
