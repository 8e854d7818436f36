"""The UNet with several output maps (heads), for the kinds of object beyond round particles.

Same body as :class:`unet.UNet`, so a sphere model's weights start it; only the last 1x1 convolution
has one output channel per head. Each head's name says its activation: heatmaps (``centre``,
``tips``, ``bond``) through a sigmoid, the doubled-angle orientation (``cos2``, ``sin2``) through a
tanh, log sizes (``log_length``, ``log_width``) as they are.
"""

from __future__ import annotations

import torch
from torch import nn

from .unet import UNet

HEATMAP_HEADS = ("centre", "tips", "bond")
ORIENTATION_HEADS = ("cos2", "sin2")
LINEAR_HEADS = ("log_length", "log_width")
KNOWN_HEADS = HEATMAP_HEADS + ORIENTATION_HEADS + LINEAR_HEADS


class HeadsUNet(UNet):
    def __init__(self, channels: tuple[int, ...] = (16, 32, 64, 112), heads: tuple[str, ...] = ("centre",)) -> None:
        super().__init__(channels)
        unknown = [h for h in heads if h not in KNOWN_HEADS]
        if unknown:
            raise ValueError(f"unknown heads {unknown}; known: {', '.join(KNOWN_HEADS)}")
        self.heads = tuple(heads)
        self.head = nn.Conv2d(self.channels[0], len(self.heads), 1)
        # Masks as buffers: forward stays one traceable expression (torch.fx fuses it for inference).
        self.register_buffer("sigmoid_mask", torch.tensor([h in HEATMAP_HEADS for h in heads]).view(1, -1, 1, 1),
                             persistent=False)
        self.register_buffer("tanh_mask", torch.tensor([h in ORIENTATION_HEADS for h in heads]).view(1, -1, 1, 1),
                             persistent=False)
        self.one_sigmoid = False  # the export form's activations (export_form)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raw = self.head(self.features(x))
        if self.one_sigmoid:
            # tanh(r) = 2 sigmoid(2 r) - 1, the 2 inside folded into the head's orientation channels
            return torch.where(self.sigmoid_mask | self.tanh_mask,
                               torch.sigmoid(raw) * self._doubled() - self.tanh_mask.float(), raw)
        return torch.where(self.sigmoid_mask, torch.sigmoid(raw), torch.where(self.tanh_mask, torch.tanh(raw), raw))

    def export_form(self) -> HeadsUNet:
        """UNet.export_form, with one sigmoid over every channel where there were a sigmoid, a tanh and a
        choice between them: OpenVINO computed both activations over all channels (a third of a rods pass
        over a 256 px tile went on them), and this pass is about 10 % faster. The same maps to float rounding."""
        network = super().export_form()
        twice = network._doubled().view(-1)
        with torch.no_grad():
            network.head.weight.mul_(twice.view(-1, 1, 1, 1))
            network.head.bias.mul_(twice)
        network.one_sigmoid = True
        return network

    def _doubled(self) -> torch.Tensor:
        """2 for the orientation channels, 1 for the others (1, C, 1, 1)."""
        return 1.0 + self.tanh_mask.float()

    def start_from_spheres(self, state: dict) -> None:
        """Take a sphere UNet's weights: the whole body, and its centre heatmap for every heatmap head
        named ``centre`` (other heads start at zero, heatmaps near 0)."""
        own = self.state_dict()
        body = {k: v for k, v in state.items() if not k.startswith("head.") and k in own and own[k].shape == v.shape}
        own.update(body)
        weight = torch.zeros_like(own["head.weight"])
        bias = torch.zeros_like(own["head.bias"])
        for i, name in enumerate(self.heads):
            if name == "centre":
                weight[i] = state["head.weight"][0]
                bias[i] = state["head.bias"][0]
            elif name in HEATMAP_HEADS:
                bias[i] = -4.0
        own["head.weight"], own["head.bias"] = weight, bias
        self.load_state_dict(own)
