"""A 3D round's volumes are refused, as detect's are, when the voxel size makes their particles under half a voxel
deep (a voxel size in mixed units: z in nm, y and x in µm): in one line, before the volume is resampled."""

import time
from pathlib import Path

import pandas as pd
import pytest
import tifffile

from napari_particle_detect.cli.main import main
from napari_particle_detect.models.registry import default_model_path
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume


@pytest.fixture(scope="module")
def sample():
    return synthesize_volume(VolumeConfig(shape=(16, 48, 48), volume_fraction=0.3), seed=3)


@pytest.mark.parametrize("voxel", [("300", "0.1", "0.1"), ("25", "1", "1")])
def test_a_voxel_size_making_particles_under_half_a_slice_deep_is_refused_in_one_line(tmp_path, sample, capsys,
                                                                                     voxel):
    image = tmp_path / "vol.tif"
    tifffile.imwrite(image, sample.image)
    c = sample.centres
    pd.DataFrame({"frame": 0, "z": c[:, 0], "y": c[:, 1], "x": c[:, 2]}).to_csv(tmp_path / "vol.csv", index=False)
    started = time.monotonic()
    code = main(["train", str(image), "--from", str(default_model_path("unet3d")), "--axes", "ZYX", "--diameter",
                 "10", "--voxel-size", *voxel, "-o", str(tmp_path / "m"), "--steps-per-epoch", "2", "--batch-size",
                 "2", "--crop", "16", "--threads", "1"])
    seconds = time.monotonic() - started
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0 and len(err) == 1, err
    assert "too small to find in 3D" in err[0] and "along z" in err[0]
    assert f"check the voxel size ({' x '.join(voxel)}: z, y, x in one unit)" in err[0]
    assert seconds < 20  # refused before any resampling or training
    assert not list(Path(tmp_path).glob("m*"))


def test_a_voxel_size_in_one_unit_still_trains_past_the_check(tmp_path, sample):
    """The refusal is of sub-voxel particles only: z 4 voxels deep (2 x 1 x 1) loads as before."""
    from napari_particle_detect.cli.volumes import load_volume_examples

    image = tmp_path / "vol.tif"
    tifffile.imwrite(image, sample.image)
    c = sample.centres
    pd.DataFrame({"frame": 0, "z": c[:, 0], "y": c[:, 1], "x": c[:, 2]}).to_csv(tmp_path / "vol.csv", index=False)
    examples = load_volume_examples([image], "ZYX", 6.0, 10.0, (2.0, 1.0, 1.0))
    assert len(examples) == 1
