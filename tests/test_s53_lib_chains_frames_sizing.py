"""Chains detected on part of a stack are sized as the whole stack is, so the parts join into the whole's table."""

import numpy as np
import pandas as pd

from napari_particle_detect import SynthConfig, detect
from napari_particle_detect.synthetic.chains import ChainConfig, synthesize_chains


def _beads(radius: float, seed: int) -> np.ndarray:
    optics = SynthConfig(shape=(128, 128), look="fluorescent", radius_range=(radius, radius))
    return synthesize_chains(ChainConfig(optics=optics, area_fraction=0.3), seed=seed).image


def test_chains_frames_are_sized_on_the_stacks_first_frame():
    # Frame 0's large beads are resampled for the model; frame 1's would be detected as they come if sized alone.
    stack = np.stack([_beads(11, 1), _beads(6, 2)])
    whole = detect(stack, kind="chains", tile=128)
    part = detect(stack, kind="chains", frames=[1], tile=128)
    assert part.attrs["diameter"] == whole.attrs["diameter"]
    assert part.attrs["scale"] == whole.attrs["scale"] != 1.0
    pd.testing.assert_frame_equal(part, whole[whole["frame"] == 1].reset_index(drop=True))
