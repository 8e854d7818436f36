"""The Rods and chains dock on a pyramid (multiscale) image: numpy reads napari's pyramid as its smallest level, so
its project was opened, its rods found and a drawn rod's width measured on the pixels of a level a fraction of the
size (a 2D pyramid gave other rods than the same plain image)."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect.synthetic.rods import benchmark_rod_config, synthesize_rods

from helpers import kinds_dock

pytestmark = pytest.mark.usefixtures("project_home")


def _rods():
    config = benchmark_rod_config("fluorescent", 0.15)
    return synthesize_rods(replace(config, optics=replace(config.optics, shape=(128, 128))), seed=702)


def _found(viewer, qtbot, name: str) -> pd.DataFrame:
    widget = kinds_dock(viewer, "rods", name)
    widget.detect()
    qtbot.waitUntil(lambda: widget.worker is None, timeout=60_000)
    return widget.session.tables[0]


def test_a_pyramids_rods_are_the_same_images_rods(make_napari_viewer, qtbot):
    image = _rods().image
    viewer = make_napari_viewer()
    viewer.add_image(image, name="flat")
    flat = _found(viewer, qtbot, "flat")[["y", "x", "length", "width"]].to_numpy(float)
    viewer.add_image([image, image[::2, ::2]], name="pyramid", multiscale=True)
    pyramid = _found(viewer, qtbot, "pyramid")[["y", "x", "length", "width"]].to_numpy(float)
    assert len(flat)
    np.testing.assert_allclose(pyramid, flat)


def test_a_rod_drawn_on_a_pyramid_is_measured_on_its_full_resolution(make_napari_viewer):
    sample = _rods()
    truth, image = sample.table, sample.image
    rod = truth.iloc[0]
    viewer = make_napari_viewer()
    widths = {}
    for name, data in (("flat", image), ("pyramid", [image, image[::2, ::2]])):
        viewer.add_image(data, name=name, multiscale=name == "pyramid")
        session = kinds_dock(viewer, "rods", name).session
        session.set_detections(truth.iloc[1:].assign(frame=0, score=0.9), [0])
        session.main_layer.add_lines(rod[["y1", "x1", "y2", "x2"]].to_numpy(float).reshape(2, 2))
        widths[name] = session.tables[0].query("source == 'added'")["width"].to_numpy(float)
    assert len(widths["flat"]) == 1 and np.isfinite(widths["flat"]).all()
    np.testing.assert_allclose(widths["pyramid"], widths["flat"])


def test_a_kinds_round_on_a_pyramid_trains_on_its_full_resolution(make_napari_viewer, qtbot):
    from napari_particle_detect.learning.kinds_rounds import round_config

    tiny = replace(round_config("rods"), steps_per_epoch=3, batch_size=2, crop=64)
    sample = _rods()
    viewer = make_napari_viewer()
    rounds = {}
    for name, data in (("flat", sample.image), ("pyramid", [sample.image, sample.image[::2, ::2]])):
        viewer.add_image(data, name=name, multiscale=name == "pyramid")
        widget = kinds_dock(viewer, "rods", name)
        widget.session.set_detections(sample.table.assign(frame=0, score=0.9), [0])
        widget.session.accept_frame(0)
        widget.rounds.run(tiny)
        qtbot.waitUntil(lambda: not widget.rounds.running(), timeout=120_000)
        rounds[name] = widget.session.project.rounds
    assert len(rounds["flat"]) == 2 and rounds["flat"][-1].f1 is not None
    assert [(r.f1, r.parent_f1, r.held_out) for r in rounds["pyramid"]] == \
        [(r.f1, r.parent_f1, r.held_out) for r in rounds["flat"]]
