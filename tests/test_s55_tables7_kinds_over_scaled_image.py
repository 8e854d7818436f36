"""A rods or chains table (in pixels) opened with the plugin's reader over an image drawn at a scale (0.2 µm a pixel):
its lines, beads and paths were drawn at scale 1, 5x off the rods and beads they were found on, napari warning of
inconsistent units and no line saying why. They are drawn as a centre table is: in the pixels of that image, at its
scale and translate (by its y_um,x_um columns where it has them), said in one line; File > Save still writes pixels,
and a table saved unchanged is the same file."""

from __future__ import annotations

import numpy as np
import pandas as pd
from helpers import opened_with_messages

from napari_particle_detect.kinds.registry import write_kind_table
from napari_particle_detect.synthetic.rods import rod_table

PLUGIN = "napari-particle-detect"
SCALE, TRANSLATE = (0.2, 0.2), (1.0, 2.0)


def _rods(frames: bool = False) -> pd.DataFrame:
    n = 4
    table = rod_table(np.linspace(10.0, 40.0, n), np.linspace(12.0, 50.0, n), np.linspace(0.0, 120.0, n),
                      np.full(n, 10.0), np.full(n, 3.0)).assign(score=0.9, source="model")
    return table.assign(frame=[0, 0, 1, 1]) if frames else table


def _chains() -> pd.DataFrame:
    return pd.DataFrame({"y": [10.0, 10, 10, 40], "x": [10.0, 16, 22, 40], "score": [0.9, 0.8, 0.7, 0.6],
                         "chain": [0, 0, 0, 1], "index": [0, 1, 2, 0], "closed": 0, "source": "model"})


def _scaled_image(viewer, name: str, shape=(64, 64)):
    lead = len(shape) - 2
    return viewer.add_image(np.zeros(shape, np.float32), name=name, scale=(1.0,) * lead + SCALE,
                            translate=(0.0,) * lead + TRANSLATE, units=("pixel",) * lead + ("um", "um"))


def _on_image(layer, image) -> None:
    assert tuple(layer.scale) == tuple(image.scale) and tuple(layer.translate) == tuple(image.translate)
    assert tuple(layer.units) == tuple(image.units)


def test_rods_in_pixels_lie_on_an_image_drawn_in_micrometres(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    image = _scaled_image(viewer, "rods_img")
    path = tmp_path / "rods_img_rods.csv"
    write_kind_table(_rods(), path, "rods")
    [lines], said = opened_with_messages(viewer, path)
    _on_image(lines, image)
    tip = np.asarray(lines.data[0])[0]
    np.testing.assert_allclose(image.data_to_world(tip), lines.data_to_world(tip))  # the same pixel of the image
    assert not [line for line in said if "nconsistent units" in line]
    assert [line for line in said if "rods_img_rods.csv" in line] == [
        "rods_img_rods.csv: drawn in the pixels of 'rods_img' (at scale 0.2 x 0.2), as its y,x columns are, having "
        "no y_um,x_um columns to place it by"]
    saved = tmp_path / "saved.csv"
    lines.save(str(saved), plugin=PLUGIN)
    assert saved.read_text() == path.read_text()  # pixels, as read


def test_a_stack_of_rods_lies_on_its_frames_at_their_scale(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    image = _scaled_image(viewer, "movie", (2, 64, 64))
    path = tmp_path / "movie_rods.csv"
    write_kind_table(_rods(frames=True), path, "rods")
    [lines], _ = opened_with_messages(viewer, path)
    _on_image(lines, image)


def test_chains_beads_and_paths_lie_on_an_image_drawn_in_micrometres(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    image = _scaled_image(viewer, "beads_img")
    path = tmp_path / "beads_img_chains.csv"
    write_kind_table(_chains(), path, "chains")
    (beads, paths), said = opened_with_messages(viewer, path)
    _on_image(beads, image)
    _on_image(paths, image)
    assert any(line.startswith("beads_img_chains.csv: drawn in the pixels of 'beads_img'") for line in said)
    saved = tmp_path / "saved.csv"
    beads.save(str(saved), plugin=PLUGIN)
    assert saved.read_text() == path.read_text()


def test_rods_with_micrometre_columns_are_placed_by_them_as_centres_are(make_napari_viewer, tmp_path):
    """A rods table with y_um,x_um (0.5 µm a pixel) over an image drawn in µm: drawn by them, as a centre table is;
    saved unchanged, its columns are the same to the digit."""
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((64, 64), np.float32), name="um_img", scale=(0.5, 0.5), units=("um", "um"))
    rods = _rods()
    path = tmp_path / "um_img_rods.csv"
    write_kind_table(rods.assign(y_um=rods["y"] * 0.5 + 3.0, x_um=rods["x"] * 0.5 + 4.0), path, "rods")
    [lines], said = opened_with_messages(viewer, path)
    np.testing.assert_allclose(lines.scale, (0.5, 0.5))
    np.testing.assert_allclose(lines.translate, (3.0, 4.0))
    assert [str(u) for u in lines.units] == ["micrometer", "micrometer"]
    assert [line for line in said if "um_img_rods.csv" in line] == [
        "um_img_rods.csv: drawn by its y_um,x_um columns, as 'um_img' is drawn in micrometer"]
    saved = tmp_path / "saved.csv"
    lines.save(str(saved), plugin=PLUGIN)
    assert saved.read_text() == path.read_text()


def test_over_an_image_at_scale_1_rods_are_drawn_as_before(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((64, 64), np.float32), name="plain")
    write_kind_table(_rods(), tmp_path / "plain_rods.csv", "rods")
    [lines], said = opened_with_messages(viewer, tmp_path / "plain_rods.csv")
    assert tuple(lines.scale) == (1.0, 1.0) and not [line for line in said if "plain_rods.csv" in line]
