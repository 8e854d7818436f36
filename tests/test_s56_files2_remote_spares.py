"""A remote round reads from the stack only the unreviewed frames it sends: it read twice as many candidates for its
spares and dropped those it did not send (a lazy stack on a network share, read for nothing). Which frames it sends,
first and spare, stays as it was: pinned here, spread and confident alike."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect.learning.finetune import FINE_TUNE
from napari_particle_detect.learning.remote import unreviewed_to_send
from napari_particle_detect.learning.rounds import prepare_round
from napari_particle_detect.projects.project import Project
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

from helpers import tiny_model_file
from test_s56_remote_unreviewed_read_once import CountedStack

FRAMES = 30
# (first, spares) as the round chose them before it read only those, for 3 and 8 frames asked.
SPREAD = {3: ([1, 16, 29], [6, 18, 24]),
          8: ([1, 5, 10, 14, 17, 21, 25, 29], [3, 9, 11, 15, 16, 20, 22, 27])}
CONFIDENT = ([11, 23, 25, 29], [9, 17, 19, 27])  # 4 asked, of the detections the test saves


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory):
    """A project of FRAMES frames, frames 0 and 7 reviewed, and its stack."""
    folder = tmp_path_factory.mktemp("spares")
    samples = [synthesize(benchmark_config("fluorescent", 0.4, (48, 48)), seed=s) for s in range(FRAMES)]
    stack = np.stack([s.image for s in samples])
    project = Project.open(folder / "img.tif", n_frames=FRAMES, frame_shape=(48, 48))
    project.ensure_initial_round(tiny_model_file(folder))
    project.remember_detection(12.0, "auto")
    for frame in (0, 7):
        centres = samples[frame].centres
        project.accept_frame(frame, pd.DataFrame({"y": centres[:, 0], "x": centres[:, 1]}))
    return project, stack


def sent_and_read(project: Project, stack: np.ndarray, count: int, how: str) -> tuple[list[int], list[int], list[int]]:
    """(first, spares, frames read) of a remote round asking ``count`` unreviewed frames chosen ``how``."""
    counted = CountedStack(stack)
    _, _, examples = prepare_round(project, stack)
    sent = unreviewed_to_send(project, counted, examples, replace(FINE_TUNE, unlabelled_frames=count,
                                                                  pseudo_choice=how))
    numbers = [[int(example.name.removeprefix("frame ")) for example in part] for part in (sent.first, sent.spares)]
    for example in sent.first + sent.spares:
        assert np.array_equal(example.image, stack[int(example.name.removeprefix("frame "))])
    return numbers[0], numbers[1], sorted(counted.reads)


@pytest.mark.parametrize("count", sorted(SPREAD))
def test_only_the_frames_sent_are_read_and_the_choice_is_kept(reviewed, count):
    project, stack = reviewed
    first, spares, read = sent_and_read(project, stack, count, "spread")
    assert (first, spares) == SPREAD[count]
    assert read == sorted(first + spares)  # 3 asked read 7 frames (13 too), 8 asked 20


def test_confident_frames_are_chosen_as_before_and_read_alone(reviewed):
    project, stack = reviewed
    project.remember_threshold(0.5)
    rng = np.random.default_rng(0)
    for frame in range(1, FRAMES, 2):  # detections to rank (not of frame 7, reviewed): scores near 0.5 are unsure
        if frame == 7:
            continue
        scores = np.clip(0.5 + rng.normal(0, 0.05 + 0.02 * frame, 6), 0.01, 0.99)
        project.save_frame(frame, pd.DataFrame({"y": rng.uniform(5, 40, 6), "x": rng.uniform(5, 40, 6),
                                                "score": scores, "source": "model"}))
    first, spares, read = sent_and_read(project, stack, 4, "confident")
    assert (first, spares) == CONFIDENT
    assert read == sorted(first + spares)

