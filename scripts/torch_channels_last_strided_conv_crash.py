"""Minimal reproduction, for PyTorch's issue tracker, of a heap corruption in plain torch (no plugin
imported): the weight gradient of a channels-last ``Conv2d`` whose kernel is smaller than its stride
(a 1x1 convolution of stride 2, as in a ResNet's downsampling shortcut) on a CPU ends the process with
"double free or corruption (!prev)" or a segmentation fault. Seen with torch 2.13.0+cpu (oneDNN) on
an AVX-512 CPU, in float32 and under bfloat16 autocast, with one or more threads; not with the
weight and input in the usual (contiguous) layout, not with oneDNN off
(``torch.backends.mkldnn.enabled = False``), not for kernels as large as the stride (2x2 or 3x3 of
stride 2), and not for every size (64 px passes, 66, 72 and 96 px crash with 12 channels).

    .venv/bin/python scripts/torch_channels_last_strided_conv_crash.py channels-last  # crashes
    .venv/bin/python scripts/torch_channels_last_strided_conv_crash.py contiguous     # does not
"""

import sys

import torch

layout = torch.channels_last if sys.argv[1:] == ["channels-last"] else torch.contiguous_format
torch.set_num_threads(1)
conv = torch.nn.Conv2d(12, 12, 1, stride=2, bias=False).to(memory_format=layout)
for _ in range(3):
    conv(torch.randn(1, 12, 96, 96).contiguous(memory_format=layout)).sum().backward()
print(f"torch {torch.__version__}: no crash")
