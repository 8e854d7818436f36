"""The starting weights of recipes/unet-thin8-distilled.toml: the 16-32-64-112 sphere UNet (shipped until
2026-12-05, now weights/unet-wide.pt) with its full-resolution layers thinned from 16 to 8 channels, every
deeper layer kept.

Why: OpenVINO bfloat16 on a 640 px tile (a 512 px image at d = 12) spends 17 of its 37-40 ms in the five
full-resolution layers; channels (8, 32, 64, 112) take 31.6 ms against 44.0 ms for the shipped (16, 32, 64,
112) in one interleaved run (1.39x), with only 1.22x fewer multiply-adds, since those layers are bound by
memory traffic. The deeper layers keep their weights; at full resolution each layer keeps the 8 channels
the next layer reads most (the L2 norm of its weights on them, batch norm folded in).

    .venv/bin/python scripts/thin_top_init.py            # writes weights/history/unet-thin8-init.pt
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import torch
from torch.nn.utils.fusion import fuse_conv_bn_eval

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from napari_particle_detect.models import load_model, save_model  # noqa: E402
from napari_particle_detect.models.registry import DetectorModel, build_network  # noqa: E402


def used_most(weight: torch.Tensor, keep: int) -> torch.Tensor:
    """Indices of the ``keep`` input channels a convolution's weight (out, in, ...) reads most, in order."""
    return torch.sort(weight.detach().flatten(2).norm(dim=(0, 2)).argsort(descending=True)[:keep]).values


def thinned(model: DetectorModel, width: int) -> DetectorModel:
    net = model.network.eval()
    d0, m2, up2 = net.down[0], net.merge[-1], net.up[-1]
    wide = net.channels[0]
    folded = lambda block, i: fuse_conv_bn_eval(block[i], block[i + 1]).weight  # noqa: E731
    # The skip's channels: those read most by the next level down and by the last merge (its skip half).
    reads = torch.cat([net.down[1][0].weight.flatten(2), folded(m2, 0)[:, wide:].flatten(2)]).norm(dim=(0, 2))
    skip = torch.sort(reads.argsort(descending=True)[:width]).values
    first = used_most(folded(d0, 3)[skip], width)  # down.0's first conv: the channels its second reads most
    upsampled = used_most(folded(m2, 0)[:, :wide], width)
    merged = used_most(folded(m2, 3), width)  # the merge's first conv: what its second reads most
    last = used_most(net.head.weight, width)  # the merge's second conv: what the head reads most

    card = replace(model.card, channels=(width, *net.channels[1:]))
    small = build_network(card).eval()
    state = net.state_dict()
    # Every tensor the thinning leaves its shape keeps its weights (the deeper layers); the rest are cut below.
    out = {k: (state[k] if state[k].shape == v.shape else v).clone() for k, v in small.state_dict().items()}

    def take(prefix: str, outs: torch.Tensor | None, ins: torch.Tensor | None) -> None:
        for k in [k for k in out if k.startswith(prefix)]:
            v = state[k]
            if outs is not None and v.dim() >= 1 and v.shape[0] == wide:
                v = v[outs]
            if ins is not None and v.dim() >= 2:
                v = v[:, ins]
            out[k] = v.clone()

    take("down.0.0.", first, None)
    take("down.0.1.", first, None)
    take("down.0.3.", skip, first)
    take("down.0.4.", skip, None)
    take("down.1.0.", None, skip)
    last_up = f"up.{len(net.up) - 1}."
    out[last_up + "weight"] = state[last_up + "weight"][:, upsampled].clone()  # ConvTranspose: (in, out, ...)
    out[last_up + "bias"] = state[last_up + "bias"][upsampled].clone()
    merge = f"merge.{len(net.merge) - 1}."
    out[merge + "0.weight"] = state[merge + "0.weight"][merged][:, torch.cat([upsampled, wide + skip])].clone()
    take(merge + "1.", merged, None)
    take(merge + "3.", last, merged)
    take(merge + "4.", last, None)
    out["head.weight"] = state["head.weight"][:, last].clone()
    out["head.bias"] = state["head.bias"].clone()
    small.load_state_dict(out)
    card.training = {**model.card.training, "note": f"the shipped UNet with its full-resolution layers thinned to {width} "
                     "channels by scripts/thin_top_init.py (not trained since)"}
    return DetectorModel(network=small, card=card, path=None, criterion=None)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", type=Path, default=ROOT / "napari_particle_detect" / "weights" / "unet-wide.pt")
    p.add_argument("--width", type=int, default=8)
    p.add_argument("-o", "--out", type=Path, default=ROOT / "weights" / "history" / "unet-thin8-init.pt")
    args = p.parse_args(argv)
    model = thinned(load_model(args.model), args.width)
    print(f"wrote {save_model(model, args.out)}: channels {model.card.channels}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
