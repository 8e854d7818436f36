"""Two frames of a stack with the same pixels, both reviewed: the round learns one (finetune.distinct_frames leaves
the other out, with a warning naming both), but its record listed both among the frames it trained on, and the
dock's and `rounds`' counts said one frame more than was learned."""

import logging
from dataclasses import replace

import torch

from napari_particle_detect.learning.finetune import FINE_TUNE
from napari_particle_detect.learning.rounds import commit, run_round

from helpers import four_detected_frames

TINY_TUNE = replace(FINE_TUNE, steps_per_epoch=1, batch_size=2, crop=32, threads=1, learn_criterion=False)


def test_a_twin_frame_left_out_of_a_round_is_not_listed_as_trained_on(tmp_path, light_model, caplog):
    torch.set_num_threads(1)
    project, stack = four_detected_frames(tmp_path, light_model)
    stack[2], stack[3] = stack[0], stack[1]  # frames saved twice in the movie
    for twin, first in ((2, 0), (3, 1)):
        project.save_frame(twin, project.load_frame(first).assign(frame=twin))
    project.accept_frame(1, project.load_frame(1))
    project.accept_frame(2, project.load_frame(2))
    project.accept_region(3, (0.5, 0.5, 30.5, 30.5), project.load_frame(3))  # a region of a twin: not learned either
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        info = commit(project, run_round(project, stack, TINY_TUNE, "cpu"))
    assert "frame 2 has the pixels of frame 0; frame 3 has the pixels of frame 1: a round learns and scores each " \
           "frame once, so the copies are left out" in caplog.text
    assert (info.trained_frames, info.trained_regions) == ([0, 1], 0)
    assert project.rounds[-1].trained_frames == [0, 1]
