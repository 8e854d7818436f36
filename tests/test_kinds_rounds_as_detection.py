"""A rods or chains round sees a frame as detection does: its training examples, held-out maps and batch-norm
statistics read the network input detection makes (an uneven background flattened first); and the rods/chains dock
keeps no rod or bead drawn while the slider stood past the stack's last frame."""

import copy

import numpy as np
import pytest
import torch

from napari_particle_detect.detection.kinds_prediction import network_frame, predict_maps, shipped_model_path
from napari_particle_detect.detection.preprocessing import FrameRecord, check_frame, normalise
from napari_particle_detect.kinds.registry import get_kind
from napari_particle_detect.learning import kinds_rounds, kinds_training
from napari_particle_detect.learning.batch_norm_adaptation import with_frame_statistics
from napari_particle_detect.learning.finetune import split_for_scoring
from napari_particle_detect.learning.kinds_rounds import held_out_maps, reviewed_examples, statistics_candidate
from napari_particle_detect.models import load_model
from napari_particle_detect.projects.kinds_project import accept_kind_frame, open_kind_project, typical_size
from napari_particle_detect.synthetic.rods import benchmark_rod_config, synthesize_rods

from helpers import notification_count, notifications_since
from test_kinds_detect_audit import under_ramp

CPU = torch.device("cpu")


def rods_sample():
    return synthesize_rods(benchmark_rod_config("fluorescent", 0.15, shape=(128, 128)), seed=400_002)


def reviewed_frame(stack: np.ndarray, table):
    """(frame 0 of a rods project of ``stack``, reviewed with ``table``, as a round reads it; its split)."""
    project = open_kind_project("rods", name="ramp", data=stack)
    accept_kind_frame(project, 0, table.assign(score=0.9, source="model"))
    [reviewed] = reviewed_examples(project, stack)
    return reviewed, split_for_scoring(reviewed.example, typical_size("rods", reviewed.table))


def detection_input(frame: np.ndarray, flattened: int) -> np.ndarray:
    """What detection feeds the rods network for ``frame``, which it flattens ``flattened`` times (0 or 1)."""
    record = FrameRecord()
    prepared = network_frame(check_frame(frame), 1.0, False, record)[0]
    assert record.frames == flattened
    return prepared


def test_a_rods_rounds_verdict_and_statistics_read_an_unevenly_lit_frame_as_detection_does(project_home):
    # Before, the round normalised the frame without flattening it: its verdict judged the models on an input
    # detection never gives the network.
    sample = rods_sample()
    stack = under_ramp(sample.image, 8.5)[None]
    detected = detection_input(stack[0], flattened=1)
    reviewed, split = reviewed_frame(stack, sample.table)
    model = load_model(shipped_model_path("rods"), "cpu")
    [maps] = held_out_maps(model, [split], CPU, "parent", lambda event: None, None)
    np.testing.assert_array_equal(maps, predict_maps(copy.deepcopy(model.network).eval(), detected))

    adapted = statistics_candidate(model, [reviewed.example.image], CPU)
    expected = with_frame_statistics(model.network, [detected], CPU)
    for ours, theirs in zip(adapted.network.state_dict().values(), expected.state_dict().values()):
        torch.testing.assert_close(ours, theirs, rtol=0, atol=0)


def test_a_rods_round_and_kinds_training_learn_from_the_input_detection_makes(project_home):
    sample = rods_sample()
    for stack, flattened in ((under_ramp(sample.image, 8.5)[None], 1), (sample.image[None].astype(np.float32), 0)):
        reviewed, split = reviewed_frame(stack, sample.table)
        [(trained_on, _, _)] = kinds_rounds.training_examples([split], [reviewed.table])
        np.testing.assert_array_equal(trained_on, detection_input(stack[0], flattened))
        np.testing.assert_array_equal(kinds_training.detection_input(stack[0]), trained_on)
    # Evenly lit, bit for bit what the round and training fed the network before flattening.
    np.testing.assert_array_equal(trained_on, normalise(stack[0]))


def test_an_evenly_lit_frame_reaches_a_rounds_verdict_exactly_as_before(project_home):
    sample = rods_sample()
    stack = sample.image[None].astype(np.float32)
    _, split = reviewed_frame(stack, sample.table)
    model = load_model(shipped_model_path("rods"), "cpu")
    [maps] = held_out_maps(model, [split], CPU, "parent", lambda event: None, None)
    np.testing.assert_array_equal(maps, predict_maps(copy.deepcopy(model.network).eval(), normalise(stack[0])))


# ---- the dock ---------------------------------------------------------------------------------------------
def short_stack_dock(make_napari_viewer, kind: str):
    """The dock on a 2-frame stack 'short' beside a 6-frame one (so the slider reaches frame 5), with an empty
    detection on frame 0 so that the rods or beads layer is there: (viewer, the dock)."""
    viewer = make_napari_viewer()
    rng = np.random.default_rng(0)
    viewer.add_image(rng.random((2, 48, 48)).astype(np.float32), name="short")
    viewer.add_image(rng.random((6, 48, 48)).astype(np.float32), name="long")
    _, widget = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Rods and chains")
    widget.kind_combo.setCurrentText(kind)
    widget.image_combo.setCurrentText("short")
    spec = get_kind(kind)
    widget.session.set_detections(spec.decode(np.zeros((len(spec.heads), 8, 8), np.float32), 1.0), frames=[0])
    return viewer, widget


def draw(layer, kind: str, frame: int) -> None:
    if kind == "rods":
        layer.add_lines(np.array([[frame, 10.0, 10.0], [frame, 10.0, 30.0]]))
    else:
        layer.add(np.array([[frame, 20.0, 20.0]]))


@pytest.mark.parametrize("kind, said", [
    ("rods", "a rod drawn at frame index 5 not kept: 'short' has 2 frames (index 0-1) and the slider stood outside "
             "them; move it back onto the stack to add rods"),
    ("chains", "a bead placed at frame index 5 not kept: 'short' has 2 frames (index 0-1) and the slider stood "
               "outside them; move it back onto the stack to add beads"),
])
def test_a_rod_or_bead_drawn_past_the_stacks_last_frame_is_taken_off_and_later_edits_are_saved(
        make_napari_viewer, project_home, kind, said):
    # It stayed in the layer, saved nowhere, and every later save failed ("frame 5 is beyond the 2 frames").
    viewer, widget = short_stack_dock(make_napari_viewer, kind)
    session = widget.session
    layer = session.main_layer
    viewer.dims.set_current_step(0, 5)
    seen = notification_count()
    draw(layer, kind, 5)
    # Said on the dock's status line, as the spheres dock says it (a toast alone was cut to its first words).
    assert len(layer.data) == 0 and widget.status.text() == said and notifications_since(seen) == []

    viewer.dims.set_current_step(0, 1)
    draw(layer, kind, 1)
    assert len(layer.data) == 1 and session.project.saved_frames() == [0, 1]
    assert len(session.tables[1]) == 1 and session.tables[1]["source"].tolist() == ["added"]
    assert notifications_since(seen) == []
