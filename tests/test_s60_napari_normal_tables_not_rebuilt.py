"""A dock's detection of one stack normalised its tables some thirty times (files.tables.normalise_table), each
rebuilt column by column though already normal, and a save of every frame normalised each frame's rows apart. A
table already normal is now copied, not rebuilt, and the arrays napari is given stay writable (pandas'
copy-on-write hands out read-only views of a copied table's blocks, and napari writes into the points it holds)."""

import numpy as np
import pandas as pd
from napari.components import ViewerModel


def test_a_normal_table_is_not_rebuilt_and_napari_gets_writable_points(monkeypatch):
    from napari_particle_detect._napari.layers import points_data
    from napari_particle_detect._napari.volume_panel import volume_points_kwargs
    from napari_particle_detect.files.tables import normalise_table

    normal = normalise_table(pd.DataFrame({"frame": [0, 1], "y": [5.0, 6.0], "x": [7.0, 8.0]}))
    converted = []
    real_astype = pd.DataFrame.astype
    monkeypatch.setattr(pd.DataFrame, "astype", lambda *a, **k: converted.append(a[1:]) or real_astype(*a, **k))
    again = normalise_table(normal)
    monkeypatch.undo()
    assert converted == []  # copied, not converted column by column again
    pd.testing.assert_frame_equal(again, normal)
    again.loc[0, "y"] = 99.0
    assert normal.loc[0, "y"] == 5.0  # a copy: the caller's table stays as it was
    assert normalise_table(normal, frame=3)["frame"].tolist() == [3, 3]  # another frame: rebuilt, as before
    # One block of floats (as DataFrame.copy leaves it): its to_numpy is a read-only view under copy-on-write.
    consolidated = pd.DataFrame({"y": [1.0, 2.0], "x": [3.0, 4.0]}).copy()
    assert points_data(consolidated, 2).flags.writeable
    volume = pd.DataFrame({"frame": [0], "z": [1.0], "y": [2.0], "x": [3.0], "score": [0.5]}).copy()
    data, _ = volume_points_kwargs(volume, "vol", 3, 10.0)
    assert data.flags.writeable


def test_saving_every_frame_normalises_the_layers_table_once(tmp_path, monkeypatch, qapp):
    from napari_particle_detect._napari import annotation as annotation_module
    from napari_particle_detect.projects.project import Project

    viewer = ViewerModel()
    image = viewer.add_image(np.zeros((6, 32, 32), np.float32), name="img")
    project = Project.open(tmp_path / "img.tif", n_frames=6, frame_shape=(32, 32))
    annotation = annotation_module.Annotation(viewer, image, project)
    annotation.replace_frames({frame: pd.DataFrame({"y": [5.0 + frame], "x": [6.0]}) for frame in range(6)})
    calls = []
    real = annotation_module.normalise_table
    monkeypatch.setattr(annotation_module, "normalise_table", lambda *a, **k: calls.append(a) or real(*a, **k))
    assert annotation.flush() == []  # nothing changed since each frame was written
    assert len(calls) == 1  # the layer's table once, not each frame's rows apart
    annotation.points.data[0, 1] += 1.0  # napari's own move of a point writes into the array it holds
    assert annotation.flush() == [0] and project.load_frame(0)["y"].tolist() == [6.0]
