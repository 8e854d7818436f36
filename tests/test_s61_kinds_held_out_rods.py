"""A rods round holds out a rod by its centre; a rod longer than the guard band around its tile reached on into
the training area, so its maps were learnt there and then scored as unseen: the round's verdict flattered it.
The body of every held-out rod (and the guard band's width beyond it) is kept out of training now."""

import numpy as np
import pandas as pd
from scipy import ndimage

from napari_particle_detect.kinds.registry import get_kind
from napari_particle_detect.learning.finetune import split_for_scoring
from napari_particle_detect.learning.kinds_rounds import Reviewed, round_splits
from napari_particle_detect.learning.training import Example
from napari_particle_detect.projects.kinds_project import typical_size
from napari_particle_detect.synthetic.rods import rod_table

SHAPE = (192, 192)


def rods_with_a_long_one_in_each_held_tile(held: np.ndarray):
    """Five short rods (their median length sizes the tiles) and, centred in each held-out tile, a rod six times
    their length along the rows."""
    short = rod_table([20, 20, 170, 170, 100], [20, 170, 20, 170, 20], [0] * 5, [20] * 5, [6] * 5)
    labels, count = ndimage.label(held)
    centres = [np.argwhere(labels == k).mean(axis=0) for k in range(1, count + 1)]
    long = rod_table([c[0] for c in centres], [c[1] for c in centres], [0] * count, [120] * count, [6] * count)
    return short, long


def test_the_body_of_a_long_held_out_rod_is_kept_out_of_training():
    example = Example(image=np.zeros(SHAPE, np.float32), centres=np.zeros((0, 2)), name="frame 0")
    short = rods_with_a_long_one_in_each_held_tile(np.ones(SHAPE, bool))[0]
    size = typical_size("rods", short)
    first = split_for_scoring(example, size)  # the tiles and their guard band alone, as before
    short, long = rods_with_a_long_one_in_each_held_tile(first.held_area)
    assert len(long) >= 1
    table = pd.concat([short, long], ignore_index=True)
    yy, xx = np.mgrid[0:SHAPE[0], 0:SHAPE[1]]
    bodies = np.zeros(SHAPE, bool)
    for rod in long.itertuples():
        bodies |= (np.abs(yy - rod.y) <= 3) & (np.abs(xx - rod.x) <= 60)
    assert (bodies & first.train_area).sum() > 100  # what the tiles and their guard band left in training
    [split] = round_splits(get_kind("rods"), [Reviewed(example, table)], size)
    assert not (bodies & split.train_area).any()
    assert np.array_equal(split.held_area, first.held_area)
    # Rods trained on stay in training: the short ones away from the held tiles keep their bodies there.
    trained = [rod for rod in short.itertuples() if not split.held_area[int(rod.y), int(rod.x)]]
    assert trained and all(split.train_area[int(rod.y), int(rod.x)] for rod in trained if first.train_area[
        int(rod.y), int(rod.x)])
