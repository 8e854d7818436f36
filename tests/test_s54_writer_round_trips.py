"""The plugin's reader and writer as a user meets them through File > Open and File > Save: a chains image's paths
refused as rods, a volume's extra columns written in the export's one pass, a rods table saved back as it was
read, a source no dock knows said on opening (an empty one read as 'added'), and link's tracks of detect's own
table read as the model's, as that table is."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from napari.layers import Shapes

from napari_particle_detect._napari.kind_layers import chain_layers_data
from napari_particle_detect._napari.reader import get_reader
from napari_particle_detect._napari.writer import write_rod_lines
from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files.file_detection import table_digests
from napari_particle_detect.kinds.registry import write_kind_table
from napari_particle_detect.projects.volume_review import export_volume_table
from napari_particle_detect.synthetic.rods import rod_table

from helpers import notification_count, notifications_since


def _read(path) -> list[tuple]:
    return get_reader(str(path))(str(path))


def _save_lines(layer: Shapes, path) -> str:
    """File > Save of a Shapes layer through the plugin's rods writer, with what napari hands it."""
    return write_rod_lines(str(path), layer.data, layer.as_layer_data_tuple()[1])[0]


def test_a_chains_paths_layer_is_refused_as_rods_naming_the_beads_to_save(make_napari_viewer, tmp_path):
    """Saved through the rods writer, its 2-bead chain became a rod and the 3-bead one was left out: a plausible
    rods table of the wrong thing."""
    table = pd.DataFrame({"frame": 0, "y": [10.0, 14, 40, 44, 48], "x": [10.0, 10, 40, 40, 40], "score": 0.9,
                          "chain": [0, 0, 1, 1, 1], "index": [0, 1, 0, 1, 2], "closed": 0, "source": "model"})
    viewer = make_napari_viewer()
    for data, kwargs, kind in chain_layers_data(table, "img"):
        getattr(viewer, f"add_{kind}")(data, **kwargs)
    with pytest.raises(ParticleDetectError, match="save 'img beads'"):
        viewer.layers["img chains"].save(str(tmp_path / "paths.csv"), plugin="napari-particle-detect")
    assert not (tmp_path / "paths.csv").exists()
    viewer.layers["img beads"].save(str(tmp_path / "beads.csv"), plugin="napari-particle-detect")
    assert list(pd.read_csv(tmp_path / "beads.csv")["chain"]) == [0, 0, 1, 1, 1]


def test_a_volume_export_writes_extra_columns_sorted_with_their_rows(tmp_path):
    table = pd.DataFrame({"frame": [1, 0, 0], "z": [1.0, 5.0, 2.0], "y": 3.0, "x": 4.0, "score": 0.5,
                          "source": "model"})
    extras = pd.DataFrame({"particle": [7, 8, 9], "mass": [1.5, 2.5, 3.5]})
    written = pd.read_csv(export_volume_table(table, tmp_path / "vol.csv", (2.0, 1.0, 1.0), extras=extras))
    assert list(written.columns) == ["frame", "z", "y", "x", "score", "z_um", "y_um", "x_um", "source", "particle",
                                     "mass"]
    assert list(written["particle"]) == [9, 8, 7] and list(written["z_um"]) == [4.0, 10.0, 2.0]


def _rods_table(path) -> None:
    rng = np.random.default_rng(1)
    n = 6
    geometry = rod_table(rng.uniform(10, 90, n), rng.uniform(10, 90, n), rng.uniform(-90, 90, n),
                         rng.uniform(8, 30, n), rng.uniform(4, 8, n))
    table = pd.concat([pd.DataFrame({"frame": np.zeros(n, int)}), geometry,
                       pd.DataFrame({"score": rng.uniform(0, 1, n), "source": "model"})], axis=1)
    write_kind_table(table, path, "rods")


def test_a_rods_table_opened_and_saved_unchanged_is_the_same_file(tmp_path):
    """Recomputed from its tips (three decimals), every rod's centre, angle and length drifted by 0.001."""
    path = tmp_path / "rods.csv"
    _rods_table(path)
    [(data, kwargs, _)] = _read(path)
    layer = Shapes(data, **kwargs)
    assert open(_save_lines(layer, tmp_path / "saved.csv")).read() == path.read_text()

    moved = [np.array(line) for line in layer.data]
    moved[0][1, -2:] += 3.0  # a tip dragged: that rod's centre, angle and length follow its line
    layer.data = moved
    saved = pd.read_csv(_save_lines(layer, tmp_path / "moved.csv"))
    before = pd.read_csv(path)
    (y1, x1), (y2, x2) = moved[0][:, -2:]
    assert saved.at[0, "length"] == pytest.approx(np.hypot(y2 - y1, x2 - x1), abs=1e-3)
    assert saved.at[0, "y"] == pytest.approx((y1 + y2) / 2, abs=1e-3)
    pd.testing.assert_frame_equal(saved.iloc[1:], before.iloc[1:])


def test_a_source_no_dock_knows_is_said_on_opening(tmp_path):
    path = tmp_path / "img.csv"
    pd.DataFrame({"frame": 0, "y": [5.0, 10.0], "x": [5.0, 10.0], "score": 0.9,
                  "source": ["model", "weird"]}).to_csv(path, index=False)
    start = notification_count()
    _read(path)
    said = [line for line in notifications_since(start) if "weird" in line]
    assert len(said) == 1 and said[0].startswith("img.csv: unknown source 'weird'")


def test_an_empty_source_of_a_rods_table_reads_and_saves_as_added(tmp_path):
    """Read as NaN, it was saved back as the source 'nan', which a project refuses."""
    path = tmp_path / "rods.csv"
    path.write_text("frame,y,x,angle,length,width,y1,x1,y2,x2,score,source\n"
                    "0,10.000,10.000,0.000,10.000,4.000,10.000,5.000,10.000,15.000,0.500,\n")
    start = notification_count()
    [(data, kwargs, _)] = _read(path)
    assert not [line for line in notifications_since(start) if "unknown source" in line]
    saved = pd.read_csv(_save_lines(Shapes(data, **kwargs), tmp_path / "saved.csv"))
    assert list(saved["source"]) == ["added"]


def test_links_tracks_of_detects_own_table_read_as_the_models(tmp_path, monkeypatch, capsys):
    """Detect's own table read as the model's; link's tracks of it, as added by hand."""
    rows = pd.DataFrame({"frame": [0, 1, 2], "y": [10.0, 10.5, 11.0], "x": [12.0, 12.5, 13.0], "score": 0.9})
    monkeypatch.chdir(tmp_path)
    rows.to_csv("centres.csv", index=False)
    meta = {"kind": "spheres", "inputs": [{"file": "img.tif", "centres": 3}],
            "tables": table_digests(tmp_path / "centres.csv", "spheres")}
    (tmp_path / "centres.json").write_text(json.dumps(meta))
    (tmp_path / "out").mkdir()
    assert main(["link", "centres.csv", "-o", "out/tracks.csv", "--search-range", "3"]) == 0
    monkeypatch.chdir(tmp_path / "out")  # opened from elsewhere: its record's paths are the folder link ran in's
    layers = _read(tmp_path / "out" / "tracks.csv")
    assert list(layers[0][1]["features"]["source"]) == ["model"] * 3


def test_shapes_left_out_of_a_rods_csv_are_said_after_file_save(make_napari_viewer, tmp_path, monkeypatch):
    """napari's File > Save records the writer's Python warnings and shows them only when nothing was saved: the
    rectangle left out of the rods CSV went unsaid."""
    from qtpy.QtWidgets import QFileDialog

    viewer = make_napari_viewer()
    layer = viewer.add_shapes([np.array([[10.0, 5.0], [10.0, 25.0]])], shape_type="line", name="rods")
    layer.add_rectangles(np.array([[30.0, 30.0], [40.0, 50.0]]))
    viewer.layers.selection = {layer}
    target = tmp_path / "rods.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(target), ""))
    start = notification_count()
    viewer.window._qt_viewer._save_layers_dialog(selected=True)
    assert len(pd.read_csv(target)) == 1
    assert "1 rectangle left out of rods.csv: only lines are rods" in notifications_since(start)
