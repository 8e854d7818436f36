"""The unreviewed frames a remote round sends with its examples are read from the stack once each: the frames it
labels first were read again with the spares (a lazy stack, a TIFF on a network share, read from disk twice)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np
import pandas as pd

from napari_particle_detect.learning.finetune import FINE_TUNE
from napari_particle_detect.learning.remote import unreviewed_to_send
from napari_particle_detect.learning.rounds import prepare_round
from napari_particle_detect.projects.project import Project
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

from helpers import tiny_model_file


class CountedStack:
    """A lazy (T, Y, X) stack that counts the reads of each frame, as a page-by-page TIFF would do them."""

    def __init__(self, frames: np.ndarray) -> None:
        self.frames, self.reads = frames, Counter()
        self.shape, self.ndim, self.dtype = frames.shape, frames.ndim, frames.dtype

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, frame: int) -> np.ndarray:
        self.reads[int(frame)] += 1
        return self.frames[frame].copy()


def test_each_unreviewed_frame_sent_is_read_once(tmp_path):
    samples = [synthesize(benchmark_config("fluorescent", 0.4, (64, 64)), seed=s) for s in range(12)]
    stack = np.stack([s.image for s in samples])
    project = Project.open(tmp_path / "img.tif", n_frames=len(stack), frame_shape=(64, 64))
    project.ensure_initial_round(tiny_model_file(tmp_path))
    project.remember_detection(12.0, "auto")
    for frame in (0, 1):
        centres = samples[frame].centres
        project.accept_frame(frame, pd.DataFrame({"y": centres[:, 0], "x": centres[:, 1]}))
    _, _, examples = prepare_round(project, stack)
    counted = CountedStack(stack)
    sent = unreviewed_to_send(project, counted, examples, replace(FINE_TUNE, unlabelled_frames=3))
    assert len(sent.first) == 3 and len(sent.spares) == 3
    assert {frame: n for frame, n in counted.reads.items() if n > 1} == {}  # was {2: 2, 6: 2, 11: 2}
    for example in sent.first + sent.spares:
        frame = int(example.name.removeprefix("frame "))
        assert np.array_equal(example.image, stack[frame])
