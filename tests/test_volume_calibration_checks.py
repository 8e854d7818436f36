"""A confocal user's calibration and shape mistakes, said rather than run through: a --voxel-size that
disagrees with a table's z_um,y_um,x_um columns is refused and one that disagrees with a file's metadata is
said; y and x voxels of different sizes size x by its own; a volume of one slice, a shallow volume and a ZCYX
array read as a series are refused or said to be of low confidence; a 3D array given to detect, a bare 4D
zarr and a file without a z step say what they are read as and what to give."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile
import zarr
from scipy import ndimage

from napari_particle_detect import detect, detect_volumes
from napari_particle_detect.cli.main import main
from napari_particle_detect.detection.volume_detection import volume_sizing
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files.io import read_image
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

from test_cli_refusals import files_in, refused, run_cli

# The audit's confocal voxel: 0.5 µm slices of 0.2 µm pixels.
VOXEL_UM = (0.5, 0.2, 0.2)


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    """A small volume of spheres 10 px across (4 slices deep)."""
    return synthesize_volume(VolumeConfig(shape=(16, 48, 48), volume_fraction=0.35, diameter=10.0, z_step=2.5),
                             seed=1).image


@pytest.fixture(scope="module")
def volume(tmp_path_factory, image) -> Path:
    """``image`` as an ImageJ ZYX file calibrated 0.5 x 0.2 x 0.2 µm."""
    path = tmp_path_factory.mktemp("calibrated-volume") / "volume.tif"
    tifffile.imwrite(path, image, imagej=True, resolution=(1 / VOXEL_UM[1], 1 / VOXEL_UM[2]),
                     metadata={"axes": "ZYX", "spacing": VOXEL_UM[0], "unit": "um"})
    return path


def calibrated_table(frames: int = 3) -> pd.DataFrame:
    """Two particles drifting over ``frames`` frames, with the z_um,y_um,x_um columns detect writes."""
    rows = [{"frame": t, "z": 4.0 + 0.2 * t + 6 * p, "y": 10.0 + t + 20 * p, "x": 12.0 + 0.5 * t, "score": 0.9}
            for t in range(frames) for p in range(2)]
    table = pd.DataFrame(rows)
    for axis, size in zip("zyx", VOXEL_UM):
        table[f"{axis}_um"] = table[axis] * size
    return table


def test_link_refuses_a_voxel_size_in_other_proportions_than_the_tables_columns(tmp_path, capsys):
    series = tmp_path / "series.csv"
    calibrated_table().to_csv(series, index=False)
    before = files_in(tmp_path)
    # Z Y X given as X Y Z: the MSD came out 66 % larger, without a word.
    line = refused(capsys, "link", series, "-o", tmp_path / "t.csv", "--search-range", 3, "--msd", tmp_path / "m.csv",
                   "--fps", 1, "--voxel-size", 0.2, 0.2, 0.5)
    assert line == (f"particle-detect: error: --voxel-size 0.2 0.2 0.5 (Z Y X) disagrees with {series}'s "
                    "z_um,y_um,x_um columns (0.5 x 0.2 x 0.2 µm): one of them is another image's, or in another "
                    "order; leave --voxel-size out to use the table's")
    assert files_in(tmp_path) == before
    # Only the proportions count: the same voxel in nanometres agrees.
    code, _, err = run_cli(capsys, "link", series, "-o", tmp_path / "t.csv", "--search-range", 3, "--msd",
                           tmp_path / "m.csv", "--fps", 1, "--voxel-size", 500, 200, 200)
    assert code == 0, err
    assert (tmp_path / "m.csv").exists()


def test_evaluate_refuses_a_voxel_size_in_other_proportions_than_either_tables_columns(tmp_path, capsys):
    truth = calibrated_table(1)
    predicted = truth[["frame", "z", "y", "x", "score"]]
    predicted.to_csv(tmp_path / "p.csv", index=False)
    truth.to_csv(tmp_path / "t.csv", index=False)
    line = refused(capsys, "evaluate", tmp_path / "p.csv", tmp_path / "t.csv", "--voxel-size", 0.2, 0.2, 0.5)
    assert line.startswith(f"particle-detect: error: --voxel-size 0.2 0.2 0.5 (Z Y X) disagrees with "
                           f"{tmp_path / 't.csv'}'s z_um,y_um,x_um columns (0.5 x 0.2 x 0.2 µm)")
    assert run_cli(capsys, "evaluate", tmp_path / "p.csv", tmp_path / "t.csv", "--voxel-size", *VOXEL_UM)[0] == 0


def test_detect_uses_a_voxel_size_that_disagrees_with_the_files_metadata_and_says_so(tmp_path, capsys, volume):
    common = ("--diameter", 10, "--device", "cpu", "--runtime", "torch")
    code, _, err = run_cli(capsys, "detect", volume, "-o", tmp_path / "swapped.csv", "--voxel-size", 0.2, 0.2, 0.5,
                           *common)
    assert code == 0, err
    # Used (the user may be correcting the metadata), and said with both in their order.
    assert (f"{volume}: --voxel-size 0.2 x 0.2 x 0.5 µm (Z Y X) is used, not its metadata's 0.5 x 0.2 x 0.2 µm "
            "(Z Y X)") in err.splitlines()
    table = pd.read_csv(tmp_path / "swapped.csv")
    assert np.allclose(table["z_um"], table["z"] * 0.2, atol=1e-3)
    code, _, err = run_cli(capsys, "detect", volume, "-o", tmp_path / "same.csv", "--voxel-size", *VOXEL_UM, *common)
    assert code == 0 and err == ""


def test_x_is_sized_by_its_own_voxel_where_y_and_x_differ(image):
    assert volume_sizing(image, (10.0,), (0.5, 0.2, 0.5)).diameter == pytest.approx((4.0, 10.0, 4.0))
    # The same spheres sampled 2.5 times more coarsely along x than along y.
    coarse_x = ndimage.zoom(image.astype(np.float32), (1, 1, 0.4), order=1)
    square = volume_sizing(image, None, VOXEL_UM).diameter
    for voxel, volume in (((0.5, 0.2, 0.5), coarse_x), ((0.5, 0.5, 0.2), np.swapaxes(coarse_x, 1, 2))):
        z, y, x = volume_sizing(volume, None, voxel).diameter
        fine, coarse = (y, x) if voxel[1] < voxel[2] else (x, y)
        assert fine == pytest.approx(square[1], rel=0.1) and coarse == pytest.approx(0.4 * fine)
        assert z == pytest.approx(0.4 * fine)


def test_a_volume_of_one_slice_is_refused(image):
    for array, shape in ((image[8:9], "1x48x48"), (image[None, 8:9], "1x1x48x48")):
        with pytest.raises(ParticleDetectError) as refusal:
            detect_volumes(array, diameter=10, device="cpu", runtime="torch")
        assert str(refusal.value) == (f"volume: a volume needs at least 2 slices along z, this one has 1 (shape "
                                      f"{shape}); detect 2D images with detect()")


def test_a_z_size_measured_on_too_few_slices_is_of_low_confidence(image):
    assert volume_sizing(image, None, None).confident
    for depth in (2, 3, 5):
        sizing = volume_sizing(image[6 : 6 + depth], None, None)
        assert not sizing.confident and sizing.reason.startswith(f"z: {depth} slices, too few to measure the z size")
    # Given the xy diameter only, z is still estimated, and still in doubt.
    assert not volume_sizing(image[6:9], (10.0,), None).confident


def test_a_zcyx_array_read_as_a_series_is_said_and_of_low_confidence(image, caplog):
    zcyx = np.stack([image[:8, 16:32, 16:32], image[8:, 16:32, 16:32]], axis=1)  # 8 slices of 2 channels
    with caplog.at_level(logging.WARNING, logger="napari_particle_detect"):
        table = detect_volumes(zcyx, diameter=10, device="cpu", runtime="torch")
    assert ("volume: shape 8x2x16x16 is read as 8 volumes of 2 slices (t, z, y, x); if it is one volume of 2 "
            "channels (z, c, y, x), pick one channel: array[:, c]") in caplog.messages
    assert table.attrs["diameter_confidence"] == "low" and table.attrs["diameter_reason"].startswith("z: 2 slices")


def test_a_zcyx_file_read_as_a_series_is_said_on_the_command_line_with_the_option_to_give(tmp_path, capsys, image):
    # The warning was the library's only: detect on a file read as TZYX said nothing of channels.
    path = tmp_path / "zcyx.tif"
    tifffile.imwrite(path, np.stack([image[:8, 16:32, 16:32], image[8:, 16:32, 16:32]], axis=1))
    assert main(["detect", str(path), "--axes", "TZYX", "--diameter", "10", "-o", str(tmp_path / "z.csv")]) == 0
    assert (f"{path}: shape 8x2x16x16 is read as 8 volumes of 2 slices (t, z, y, x); if it is one volume of 2 "
            "channels (z, c, y, x), save it with its axes (ImageJ ZCYX, OME-TIFF) and give --channel N (channel=N)"
            ) in capsys.readouterr().err


def test_a_file_without_a_z_step_says_so_and_a_shallow_one_is_of_low_confidence(tmp_path, capsys, image):
    path = tmp_path / "three.tif"
    tifffile.imwrite(path, image[6:9], imagej=True, resolution=(5.0, 5.0), metadata={"axes": "ZYX", "unit": "um"})
    code = main(["detect", str(path), "-o", str(tmp_path / "c.csv"), "--device", "cpu", "--runtime", "torch"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert (f"{path}: z step unknown (no z spacing in its metadata): no z_um,y_um,x_um columns; give --voxel-size "
            "Z Y X (micrometres) for them") in err.splitlines()
    assert ("low confidence: z: 3 slices, too few to measure the z size on" in err
            and err.rstrip().splitlines()[-2].endswith("; give --diameter Z Y X or --voxel-size Z Y X"))
    assert "z_um" not in pd.read_csv(tmp_path / "c.csv").columns


def test_detect_says_a_3d_array_is_read_as_2d_frames(image, caplog):
    with caplog.at_level(logging.INFO, logger="napari_particle_detect"):
        detect(image, diameter=10, device="cpu", frames=[0])
        said = list(caplog.messages)
        caplog.clear()
        detect([image[0], image[1]], diameter=10, device="cpu", frames=[0])  # a list is frames by its making
    assert ("image: read as a stack of 16 2D frames; if it is one volume (z, y, x), detect_volumes finds its "
            "centres in 3D") in said
    assert not any("detect_volumes" in message for message in caplog.messages)


def test_a_bare_4d_zarr_is_told_to_give_axes_tzyx(tmp_path, capsys):
    path = tmp_path / "series.zarr"
    zarr.open(str(path), mode="w", shape=(2, 4, 16, 16), dtype="u2")
    hint = ("expected a 2D image or a 3D stack, got zarr shape (2, 4, 16, 16): give --axes TZYX if it is a time "
            "series of volumes")
    with pytest.raises(ParticleDetectError) as refusal:
        read_image(path)
    assert str(refusal.value) == f"{path}: {hint}"
    assert refused(capsys, "detect", path, "-o", tmp_path / "c.csv") == f"particle-detect: error: {path}: {hint}"
    assert not (tmp_path / "c.csv").exists()
