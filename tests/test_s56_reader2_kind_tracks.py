"""A rods or chains tracks CSV (``particle-detect link`` of a rods or chains table) opens in napari with its Tracks
layer, as a spheres' one does: the rods' centres, the beads (coloured by their ``chain_track``). Before, ``particle``
was only a feature of the lines or beads. Edited and saved with File > Save, the table keeps ``particle`` and
``chain_track``, whole numbers for the rows read, empty for a bead placed since."""

from __future__ import annotations

import numpy as np
import pandas as pd
from napari.layers import Points, Shapes, Tracks
from napari.plugins.io import save_layers

from napari_particle_detect.cli.main import main
from napari_particle_detect.synthetic.rods import rod_table

FRAMES = 4
PLUGIN = "napari-particle-detect"


def _linked(tmp_path, table: pd.DataFrame, name: str) -> pd.DataFrame:
    """``table`` linked by ``particle-detect link`` into NAME_tracks.csv, as read back; its path in ``attrs``."""
    source, tracks = tmp_path / f"{name}.csv", tmp_path / f"{name}_tracks.csv"
    table.to_csv(source, index=False)
    assert main(["-q", "link", str(source), "-o", str(tracks), "--search-range", "4", "--memory", "0"]) == 0
    linked = pd.read_csv(tracks)
    linked.attrs["path"] = tracks
    return linked


def _rods_movie() -> pd.DataFrame:
    frames = np.repeat(np.arange(FRAMES), 2)
    y = 30.0 + 1.5 * frames + np.tile([0.0, 40.0], FRAMES)
    table = rod_table(y, 40.0 + frames, np.tile([10.0, 120.0], FRAMES), 30.0, 6.0)
    return table.assign(score=0.8).assign(frame=frames)


def _chains_movie() -> pd.DataFrame:
    rows = []
    for frame in range(FRAMES):
        # Each frame numbers its chains in another order, as detect does; chain_track follows them.
        for chain, top in enumerate([30.0, 70.0] if frame % 2 == 0 else [70.0, 30.0]):
            rows += [{"frame": frame, "y": top + 1.5 * frame, "x": 20.0 + 10 * bead + frame, "score": 0.9,
                      "chain": chain, "index": bead, "closed": 0} for bead in range(3)]
    return pd.DataFrame(rows)


def _one(layers, kind):
    found = [layer for layer in layers if isinstance(layer, kind)]
    assert len(found) == 1, [type(layer).__name__ for layer in layers]
    return found[0]


def _expected_tracks(linked: pd.DataFrame) -> np.ndarray:
    return linked.sort_values(["particle", "frame"])[["particle", "frame", "y", "x"]].to_numpy(float)


def test_a_rods_tracks_csv_draws_the_rods_centres_as_tracks_and_saves_back_its_particles(make_napari_viewer, tmp_path):
    linked = _linked(tmp_path, _rods_movie(), "rods")
    viewer = make_napari_viewer()
    layers = viewer.open(str(linked.attrs["path"]), plugin=PLUGIN)
    tracks = _one(layers, Tracks)
    assert tracks.name == "rods tracks"
    np.testing.assert_allclose(tracks.data, _expected_tracks(linked), atol=1e-3)

    lines = _one(layers, Shapes)
    moved = [vertices.copy() for vertices in lines.data]
    moved[0][:, 1:] += 2.0
    lines.data = moved
    saved = tmp_path / "saved.csv"
    save_layers(str(saved), [lines], plugin=PLUGIN)
    back = pd.read_csv(saved)
    assert pd.api.types.is_integer_dtype(back["particle"])
    assert back.groupby("particle").size().to_dict() == linked.groupby("particle").size().to_dict()
    assert len(_one(make_napari_viewer().open(str(saved), plugin=PLUGIN), Tracks).data) == len(linked)


def test_a_chains_tracks_csv_draws_its_beads_as_tracks_and_keeps_chain_track_when_edited(make_napari_viewer,
                                                                                        tmp_path):
    linked = _linked(tmp_path, _chains_movie(), "beads")
    assert "chain_track" in linked.columns
    viewer = make_napari_viewer()
    layers = viewer.open(str(linked.attrs["path"]), plugin=PLUGIN)
    tracks = _one(layers, Tracks)
    assert tracks.name == "beads tracks"
    np.testing.assert_allclose(tracks.data, _expected_tracks(linked), atol=1e-3)
    ordered = linked.sort_values(["particle", "frame"])
    assert tracks.color_by == "chain_track"
    np.testing.assert_array_equal(tracks.features["chain_track"].to_numpy(), ordered["chain_track"].to_numpy())

    beads = _one(layers, Points)
    beads.selected_data = {0}
    beads.add(np.array([[1.0, 110.0, 110.0]]))  # placed while a bead is selected: not a copy of its track
    saved = tmp_path / "saved.csv"
    save_layers(str(saved), [beads, _one(layers, Shapes)], plugin=PLUGIN)
    back = pd.read_csv(saved)
    placed = back["particle"].isna()
    assert placed.sum() == 1 and back.loc[placed, "chain_track"].isna().all()
    kept = back[~placed]
    assert kept.sort_values(["particle", "frame"])[["particle", "chain_track"]].to_numpy().tolist() == \
        ordered[["particle", "chain_track"]].to_numpy().tolist()
    with open(saved) as text:
        assert ",0,0\n" in text.read()  # whole numbers stay whole (particle 0 of chain track 0), not 0.0
