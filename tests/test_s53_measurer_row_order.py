"""The dock's measurer and --measure judge a stack's brightness on the same frame whatever the table's order."""
import numpy as np
import pandas as pd

from napari_particle_detect.detection.measurements import FrameMeasurer, measure_table, stack_inversion


def _spots(bright: bool) -> np.ndarray:
    yy, xx = np.mgrid[:64, :64]
    spots = sum(np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / 8.0) for y, x in [(16, 16), (16, 48), (48, 32)])
    return (100 + 80 * spots) if bright else (180 - 80 * spots)


def test_a_table_listing_a_later_frame_first_is_measured_as_the_stack_is():
    stack = np.stack([_spots(bright=True), _spots(bright=False)]).astype(np.float32)
    rows = [(1, 16, 16), (1, 16, 48), (1, 48, 32), (0, 16, 16), (0, 16, 48), (0, 48, 32)]
    table = pd.DataFrame(rows, columns=["frame", "y", "x"]).astype({"y": float, "x": float})
    assert stack_inversion(stack, table) is False  # frame 0's particles are bright
    measurer = FrameMeasurer(stack, diameter=7)
    dock = measurer.measure(table)
    assert measurer.invert is False
    cli = measure_table(stack, table, diameter=7)
    np.testing.assert_allclose(dock["mass"].to_numpy(), cli["mass"].to_numpy())
