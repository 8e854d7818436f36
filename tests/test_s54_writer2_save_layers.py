"""File > Save of the plugin's layers as napari saves them: a chains image's beads and paths selected together, a
rods table's lines after a tip is dragged with no dock open, and a table's micrometre columns saved back."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from napari._qt.qt_viewer import _npe2_decode_selected_filter
from napari.plugins import _npe2
from npe2 import PluginManager

from napari_particle_detect._napari.kind_layers import ROD_GEOMETRY, chain_layers_data
from napari_particle_detect._napari.reader import get_reader
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.kinds.registry import write_kind_table
from napari_particle_detect.synthetic.rods import rod_table

PLUGIN = "napari-particle-detect"
CHAINS = pd.DataFrame({"frame": 0, "y": [10.0, 14, 40, 44, 48], "x": [10.0, 10, 40, 40, 40], "score": 0.9,
                       "chain": [0, 0, 1, 1, 1], "index": [0, 1, 0, 1, 2], "closed": 0, "source": "model"})


def _open(viewer, path) -> list:
    return viewer.open(str(path), plugin=PLUGIN)


def test_a_chains_beads_and_paths_saved_together_write_the_beads_chains_csv(make_napari_viewer, tmp_path):
    """napari found no writer for the pair: 'No data written', or from the dialog 'napari-svg ... did not return
    any written paths'."""
    viewer = make_napari_viewer()
    for data, kwargs, kind in chain_layers_data(CHAINS, "img"):
        getattr(viewer, f"add_{kind}")(data, **kwargs)
    viewer.layers.selection = {viewer.layers["img beads"]}
    [alone] = viewer.layers.save(str(tmp_path / "alone.csv"), selected=True)
    viewer.layers.selection = set(viewer.layers)
    assert viewer.layers.save(str(tmp_path / "any.csv"), selected=True) == [str(tmp_path / "any.csv")]
    assert viewer.layers.save(str(tmp_path / "ours.csv"), selected=True, plugin=PLUGIN) == [str(tmp_path / "ours.csv")]
    # As File > Save Selected Layer(s) does: the dialog's first file type, a name typed with .csv.
    filters, writers = _npe2.file_extensions_string_for_layers(list(viewer.layers.selection))
    writer = _npe2_decode_selected_filter(filters, filters.split(";;")[0], writers)
    assert viewer.layers.save(str(tmp_path / "dialog.csv"), selected=True, _writer=writer) == [str(tmp_path / "dialog.csv")]
    for name in ("any", "ours", "dialog"):
        assert (tmp_path / f"{name}.csv").read_text() == (tmp_path / "alone.csv").read_text()
    assert list(pd.read_csv(alone)["chain"]) == [0, 0, 1, 1, 1]


def test_single_layers_keep_their_writers_and_a_pair_not_of_beads_is_refused(make_napari_viewer, tmp_path):
    manager = PluginManager.instance()
    for types, command in ((["points"], "write_points"), (["shapes"], "write_rods")):
        for plugin in (None, PLUGIN):
            assert manager.get_writer("x.csv", types, plugin_name=plugin)[0].command == f"{PLUGIN}.{command}"
        assert [w.command for w in manager.iter_compatible_writers(types) if w.plugin_name == PLUGIN] == \
            [f"{PLUGIN}.{command}"]
    viewer = make_napari_viewer()
    viewer.add_points([[5.0, 5.0]], name="centres", features=pd.DataFrame({"score": [0.9], "source": ["model"]}))
    viewer.add_shapes([np.array([[0.0, 0], [9, 9]])], shape_type="rectangle", name="regions")
    viewer.layers.selection = set(viewer.layers)
    with pytest.raises(ParticleDetectError, match="'centres' holds no chains' beads.*save each layer on its own"):
        viewer.layers.save(str(tmp_path / "both.csv"), selected=True, plugin=PLUGIN)
    assert not (tmp_path / "both.csv").exists()


def _rods_csv(path) -> None:
    table = rod_table(np.array([20.0, 50]), np.array([20.0, 50]), np.array([30.0, 120]), np.array([20.0, 16]),
                      np.array([5.0, 5]))
    write_kind_table(table.assign(score=0.9, source="model"), path, "rods")


def test_a_dragged_rod_tip_leaves_no_old_geometry_in_the_features_table(make_napari_viewer, tmp_path):
    """Opened with no dock, a line whose tip was dragged kept its old y, x, angle, length in napari's features
    table (what was saved was recomputed), a rod beside a line elsewhere."""
    _rods_csv(tmp_path / "rods.csv")
    viewer = make_napari_viewer()
    [layer] = _open(viewer, tmp_path / "rods.csv")
    lines = [np.array(v) for v in layer.data]
    lines[0][1] += [5.0, 5.0]
    layer.data = lines
    (y1, x1), (y2, x2) = lines[0]
    now = {"y": (y1 + y2) / 2, "x": (x1 + x2) / 2, "angle": np.degrees(np.arctan2(y2 - y1, x2 - x1)),
           "length": np.hypot(y2 - y1, x2 - x1)}
    for column in (c for c in ROD_GEOMETRY if c in layer.features.columns):
        assert layer.features[column].iloc[0] == pytest.approx(now[column]), column
    # The rod left alone is saved as read, also once the line before it is gone.
    layer.selected_data = {0}
    layer.remove_selected()
    [saved] = layer.save(str(tmp_path / "out.csv"), plugin=PLUGIN)
    lines_read = (tmp_path / "rods.csv").read_text().splitlines()
    assert open(saved).read().splitlines() == [lines_read[0], lines_read[2]]


def test_micrometre_columns_opened_and_saved_back_come_out_as_written(make_napari_viewer, tmp_path):
    """y_um 5.25 and x_um 20 came back 5.250000000000001 and 19.999999999999993 (the offset read back as 8e-16)."""
    text = ("frame,y,x,score,source,y_um,x_um\n0,10.500,20.250,0.910,model,5.25,10.125\n"
            "0,30.000,40.000,0.800,added,15.0,20.0\n0,0.000,0.000,0.700,model,0.0,0.0\n")
    (tmp_path / "um.csv").write_text(text)
    viewer = make_napari_viewer()
    [layer] = _open(viewer, tmp_path / "um.csv")
    [saved] = layer.save(str(tmp_path / "out.csv"), plugin=PLUGIN)
    assert open(saved).read() == text
    assert get_reader(saved) is not None
