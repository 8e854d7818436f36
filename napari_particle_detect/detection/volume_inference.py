"""The 3D network over a whole volume on its working grid, tile by tile with overlap, so memory
holds the volume, its heatmap and one tile's activations, never the network over the whole volume."""

from __future__ import annotations

import itertools

import numpy as np
import torch
from torch import nn

DEFAULT_WINDOW = 96  # working voxels per tile side (a multiple of the network's stride)
DEFAULT_MARGIN = 8  # working voxels of context on every side, dropped from each tile's output


def _starts(length: int, core: int) -> list[int]:
    return list(range(0, max(length - core, 0) + 1, core)) + ([length - core] if length > core and (length - core) % core else [])


def predict_heatmap3d(network: nn.Module, volume: np.ndarray, stride: int = 4, window: int = DEFAULT_WINDOW,
                      margin: int = DEFAULT_MARGIN, device: torch.device | str = "cpu") -> np.ndarray:
    """The network's heatmap of a normalised working-grid ``volume`` (Z, Y, X), same shape."""
    volume = np.asarray(volume, dtype=np.float32)
    shape = np.array(volume.shape)
    # Each tile: ``core`` voxels kept, ``margin`` of context around; windows as small as the volume allows.
    windows = [min(window, int(np.ceil((n + 2 * margin) / stride)) * stride) for n in shape]
    cores = [w - 2 * margin for w in windows]
    pad = [(margin, w) for w in windows]  # generous padding: every window fits
    # One mirror whatever the tiling: the mode once depended on whether the volume outgrew a tile, so the same volume
    # found other spheres at its faces under another window or cropped smaller. "symmetric" is what volumes smaller
    # than a tile (most) always had; "reflect" found more spheres cut by a face, centres outside included (strict
    # F1 0.963 -> 0.952 on 48x128x128 volumes, while those inside gained 0.994 -> 0.999).
    padded = np.pad(volume, pad, mode="symmetric")
    heat = np.zeros(volume.shape, dtype=np.float32)
    starts = [_starts(int(n), c) if n > c else [0] for n, c in zip(shape, cores)]
    network.eval()
    with torch.inference_mode():
        for z0, y0, x0 in itertools.product(*starts):
            tile = padded[z0:z0 + windows[0], y0:y0 + windows[1], x0:x0 + windows[2]]
            out = network(torch.from_numpy(np.ascontiguousarray(tile))[None, None].to(device))[0, 0].float().cpu().numpy()
            core = out[margin:margin + cores[0], margin:margin + cores[1], margin:margin + cores[2]]
            ends = [min(s + c, int(n)) for s, c, n in zip((z0, y0, x0), cores, shape)]
            heat[z0:ends[0], y0:ends[1], x0:ends[2]] = core[:ends[0] - z0, :ends[1] - y0, :ends[2] - x0]
    return heat
