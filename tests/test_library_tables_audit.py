"""A notebook user's tables: a volume's tracks linked and measured in the voxel size its own z_um,y_um,x_um
columns give (as ``particle-detect link`` does), and write_centres writing every digit it has no reason to round,
a frame index as its column, and a folder refused in one line."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files.centre_csv import read_centres, write_centres
from napari_particle_detect.files.tables import table_voxel_size
from napari_particle_detect.files.tracks import ensemble_msd, link_centres

VOXEL_UM = (0.5, 0.1, 0.1)  # z, y, x
STEP_UM = 0.1  # per axis per frame: an MSD of 3 x 0.01 µm² at one frame
CUBES = "as if the voxels were cubes"


def _volume_walk(particles: int = 40, frames: int = 6) -> pd.DataFrame:
    """Particles diffusing alike along z, y and x, in voxels of VOXEL_UM, with the z_um,y_um,x_um columns that
    detect of volumes writes beside them."""
    rng = np.random.default_rng(0)
    start = rng.uniform([0, 0, 0], [10, 20, 20], (particles, 3))
    microns = start + np.cumsum(np.vstack([np.zeros((1, particles, 3)),
                                           rng.normal(0, STEP_UM, (frames - 1, particles, 3))]), axis=0)
    voxels = microns / np.asarray(VOXEL_UM)
    return pd.DataFrame({"frame": np.repeat(np.arange(frames), particles), "z": voxels[..., 0].ravel(),
                         "y": voxels[..., 1].ravel(), "x": voxels[..., 2].ravel(), "score": 0.9,
                         "z_um": microns[..., 0].ravel(), "y_um": microns[..., 1].ravel(),
                         "x_um": microns[..., 2].ravel()})


def test_a_volumes_tracks_are_linked_and_measured_in_the_voxel_size_of_its_micrometre_columns(caplog):
    # Linked and measured in raw voxels, as if cubes, unsaid: 0.0199 µm² where the truth is 0.030 (link: 0.0302).
    table = _volume_walk()
    given = ensemble_msd(link_centres(table, 5, voxel_size=VOXEL_UM), 0.1, voxel_size=VOXEL_UM)
    with caplog.at_level(logging.INFO, logger="napari_particle_detect"):
        msd = ensemble_msd(link_centres(table, 5), microns_per_pixel=0.1, max_lag=2)
    np.testing.assert_allclose(msd["msd"], given["msd"].iloc[:2], rtol=1e-9)
    assert msd["msd"].iloc[0] == pytest.approx(3 * STEP_UM**2, rel=0.1)
    assert [r.getMessage() for r in caplog.records] == [
        f"the table: voxel size 0.5 x 0.1 x 0.1 from its z_um,y_um,x_um columns; {done} in units of the y voxel"
        for done in ("linked", "measured")]

    # A voxel size of other proportions than the columns' is refused, as link --voxel-size is.
    with pytest.raises(ParticleDetectError) as refused:
        link_centres(table, 5, voxel_size=(0.2, 0.1, 0.1))
    assert str(refused.value) == ("voxel_size=(0.2, 0.1, 0.1) (Z Y X) disagrees with the table's z_um,y_um,x_um "
                                  "columns (0.5 x 0.1 x 0.1 µm): one of them is another image's, or in another "
                                  "order; leave voxel_size out to use the table's")

    # Without the columns: cubes, warned; voxel_size=None chooses them and is not warned of.
    plain = table.drop(columns=["z_um", "y_um", "x_um"])
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="napari_particle_detect"):
        link_centres(plain, 5)
        link_centres(plain, 5, voxel_size=None)
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", "the table: no voxel size (no voxel_size, no z_um,y_um,x_um columns): linked as if the voxels "
                    "were cubes; give voxel_size=(z, y, x) if the z step differs from the pixel")]


def test_link_says_its_voxel_size_once(tmp_path, capsys):
    # link resolves the voxel size itself and passes it on: the library says nothing more.
    table = _volume_walk()
    table.to_csv(tmp_path / "um.csv", index=False)
    table.drop(columns=["z_um", "y_um", "x_um"]).to_csv(tmp_path / "plain.csv", index=False)
    for name in ("um", "plain"):
        assert main(["link", str(tmp_path / f"{name}.csv"), "-o", str(tmp_path / f"{name}.t.csv"), "--msd",
                     str(tmp_path / f"{name}.m.csv"), "--max-lag", "2"]) == 0
        lines = capsys.readouterr().err.strip().splitlines()
        assert not [line for line in lines if line.startswith("the table:")], lines
        assert sum(CUBES in line for line in lines) == (name == "plain"), lines
    assert pd.read_csv(tmp_path / "um.m.csv")["msd"].iloc[0] == pytest.approx(3 * STEP_UM**2, rel=0.1)


def test_write_centres_rounds_only_the_columns_of_fixed_precision(tmp_path):
    # Every float column was written to 3 decimals: an MSD of 0.00041 µm² as 0.000, y_um 0.0001234 as 0.000.
    centres = pd.DataFrame({"frame": [0, 1], "y": [1.23456, 2.5], "x": [4.0, 5.123456], "score": [0.51234, np.nan],
                            "y_um": [0.0001234, 0.00025], "mass": [123.456789, 0.1 + 0.2]})
    write_centres(centres, tmp_path / "c.csv")
    assert (tmp_path / "c.csv").read_text().splitlines() == [
        "frame,y,x,score,y_um,mass", "0,1.235,4.000,0.512,0.0001234,123.456789", f"1,2.500,5.123,,0.00025,{0.1 + 0.2!r}"]
    msd = pd.DataFrame({"lagt": [0.01, 0.02], "msd": [0.00041, 0.00083], "N": [100.0, 50.0]})
    write_centres(msd, tmp_path / "msd.csv")
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "msd.csv"), msd)
    # float_format None: the fixed columns too.
    write_centres(centres, tmp_path / "exact.csv", float_format=None)
    pd.testing.assert_frame_equal(read_centres(tmp_path / "exact.csv"), centres)
    # Micrometres with every digit beside voxels to 3 decimals still give the voxel size itself, not 0.20000037.
    write_centres(_volume_walk(), tmp_path / "volume.csv")
    assert table_voxel_size(read_centres(tmp_path / "volume.csv")) == VOXEL_UM


def test_write_centres_writes_a_named_index_as_its_column(tmp_path):
    # t.set_index("frame") was written without its frames: every centre read back in frame 0.
    table = pd.DataFrame({"frame": [0, 2, 2], "y": [1.5, 2.5, 3.5], "x": [4.5, 5.5, 6.5], "score": [0.5, 0.6, 0.7],
                          "particle": [0, 0, 1]})
    for indexed in (table.set_index("frame"), table.set_index(["frame", "particle"]),
                    table.set_index("frame", drop=False)):
        write_centres(indexed, tmp_path / "c.csv")
        pd.testing.assert_frame_equal(read_centres(tmp_path / "c.csv"), table)
    write_centres(table.iloc[[2, 0, 1]], tmp_path / "rows.csv")  # an unnamed index: row numbers, not written
    assert list(pd.read_csv(tmp_path / "rows.csv").columns) == list(table.columns)
    for indexed, says in ((table.rename_axis("row"), "its index 'row' is no column of a centre table"),
                          (table.set_index("frame", drop=False).assign(frame=1),
                           "its index 'frame' differs from its frame column")):
        with pytest.raises(ParticleDetectError, match=f"^{tmp_path / 'new.csv'} \\(not written\\): {says}"):
            write_centres(indexed, tmp_path / "new.csv")
    assert not (tmp_path / "new.csv").exists()


def test_write_centres_into_a_folder_is_one_line(tmp_path):
    table = pd.DataFrame({"frame": [0], "y": [1.0], "x": [2.0]})
    with pytest.raises(ParticleDetectError) as refused:
        write_centres(table, tmp_path)
    assert str(refused.value) == f"{tmp_path}: is a folder; give the table a file name inside it"
    assert list(tmp_path.iterdir()) == []


def test_a_rods_angle_that_rounds_to_180_is_written_as_the_same_rod_at_0(tmp_path):
    # write_centres (link's writer) wrote 179.9996 as 180.000, and the rods reader refused the file.
    from napari_particle_detect.kinds.registry import read_kind_table
    from napari_particle_detect.synthetic.rods import rod_table

    rods = rod_table([20.0], [30.0], [179.9996], [12.0], [4.0]).assign(frame=0, score=0.9)
    write_centres(rods, tmp_path / "rods.csv")
    back = read_kind_table(tmp_path / "rods.csv", "rods")
    assert back["angle"].tolist() == [0.0]
    assert back[["y", "x", "length"]].values.tolist() == [[20.0, 30.0, 12.0]]
