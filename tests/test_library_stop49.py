"""The library scores volume tables in the voxels the command line reads from them; a recipe run keys its file
digests by content, not by a stat a copy can keep; a one-pixel-high image is refused in one wording whatever
its length-1 axes."""

import hashlib
import os
import re
import shutil

import numpy as np
import pandas as pd
import pytest
import tifffile
import zarr

from napari_particle_detect import detect, evaluate_volumes, read_image
from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning.recipes import FileDigests, load_recipe, phase_inputs

# ---- evaluate_volumes reads the voxel size the command line reads -------------------------------------------
VOXEL_UM = (2.0, 0.5, 0.5)  # a z voxel 4 y voxels long


def centres_with_microns(points: list[list[float]], voxel_um=VOXEL_UM, **columns) -> pd.DataFrame:
    """A volume table as detect writes it for a volume of a known voxel size: z,y,x and z_um,y_um,x_um."""
    table = pd.DataFrame(points, columns=["z", "y", "x"]).assign(frame=0, **columns)
    return table.assign(**{f"{axis}_um": table[axis] * size for axis, size in zip("zyx", voxel_um)})


TRUTH = [[5, 10, 10], [10, 30, 30], [15, 50, 50]]
# One z voxel off (4 y voxels: beyond the tolerance of 3), one y voxel off, one x voxel off.
PREDICTED = [[6, 10, 10], [10, 31, 30], [15, 50, 51]]


def pooled_f1(table: pd.DataFrame) -> float:
    return float(table.loc[table["frame"].astype(str) == "all", "f1"].iloc[0])


def test_evaluate_volumes_matches_in_the_voxels_the_tables_columns_give_as_evaluate_does(tmp_path, capsys):
    predicted, truth = centres_with_microns(PREDICTED), centres_with_microns(TRUTH)
    predicted.to_csv(tmp_path / "pred.csv", index=False)
    truth.to_csv(tmp_path / "truth.csv", index=False)
    assert main(["-q", "evaluate", str(tmp_path / "pred.csv"), str(tmp_path / "truth.csv")]) == 0
    [pooled] = [line.split() for line in capsys.readouterr().out.splitlines() if line.split()[:1] == ["all"]]
    command_line_f1 = float(pooled[6])

    # The library matched in cubic voxels (F1 1.0) where the command line matched in the columns' (2/3).
    assert pooled_f1(evaluate_volumes(predicted, truth)) == pytest.approx(command_line_f1, abs=1e-4)
    assert command_line_f1 == pytest.approx(2 / 3, abs=1e-4)
    # scale= overrides the columns.
    assert pooled_f1(evaluate_volumes(predicted, truth, scale=(1.0, 1.0, 1.0))) == 1.0


def test_evaluate_volumes_reads_each_files_voxel_size_and_refuses_tables_that_disagree():
    # Two files of one table: a.tif's voxels 4 y voxels deep, b.tif's cubes; each is matched in its own.
    predicted = pd.concat([centres_with_microns(PREDICTED, file="a.tif"),
                           centres_with_microns(PREDICTED, (0.5, 0.5, 0.5), file="b.tif")])
    truth = pd.concat([centres_with_microns(TRUTH, file="a.tif"),
                       centres_with_microns(TRUTH, (0.5, 0.5, 0.5), file="b.tif")])
    scores = evaluate_volumes(predicted, truth).set_index("file")
    assert scores.loc["a.tif", "f1"] == pytest.approx(2 / 3) and scores.loc["b.tif", "f1"] == 1.0

    # Predictions of another voxel size than the truth's: refused in one line naming both, not matched.
    wrong = centres_with_microns(PREDICTED, (0.5, 0.5, 0.5))
    with pytest.raises(ParticleDetectError) as refused:
        evaluate_volumes(wrong, centres_with_microns(TRUTH))
    said = str(refused.value)
    assert "\n" not in said
    assert re.match(r"^predicted's z_um,y_um,x_um columns \(0\.5 x 0\.5 x 0\.5 µm\) disagree with truth's "
                    r"\(2 x 0\.5 x 0\.5 µm\)", said), said


# ---- a recipe run's file digests follow the files' content ---------------------------------------------------
def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_runs_digest_sees_a_same_size_edit_whose_modification_time_was_put_back(tmp_path):
    path = tmp_path / "validation.tif"
    path.write_bytes(b"A" * 64)
    before = path.stat().st_mtime_ns
    # Known from its first hashing on (racy_ns 0): the file just written would otherwise be hashed again at each
    # call whatever its key, and the test could not tell a key of size and time alone from the file's identity.
    digests = FileDigests(racy_ns=0)
    assert digests(path) == sha256(b"A" * 64)
    # An editor or a script that keeps the time: size and modification time as they were, other bytes.
    path.write_bytes(b"B" * 64)
    os.utime(path, ns=(before, before))
    assert digests(path) == sha256(b"B" * 64)


def test_a_later_phase_records_the_validation_file_copied_over_with_its_time_kept(tmp_path):
    (tmp_path / "tiny.toml").write_text('name = "tiny"\n[validation]\ndata = ["val.tif"]\n'
                                        '[[phase]]\nname = "one"\n[[phase]]\nname = "two"\n')
    (tmp_path / "val.csv").write_text("y,x\n1,2\n")
    (tmp_path / "val.tif").write_bytes(b"v" * 32)
    (tmp_path / "other.tif").write_bytes(b"w" * 32)
    os.utime(tmp_path / "other.tif", ns=((tmp_path / "val.tif").stat().st_mtime_ns,) * 2)
    recipe = load_recipe(tmp_path / "tiny.toml")
    digests = FileDigests(racy_ns=0)  # cached from the first phase on, as a file settled long before the run
    assert phase_inputs(recipe, 0, digests)["val.tif"] == sha256(b"v" * 32)
    shutil.copy2(tmp_path / "other.tif", tmp_path / "val.tif")  # cp -p: same size, same time
    # The second phase trains on the new bytes: its record says so (it said the first phase's).
    assert phase_inputs(recipe, 1, digests)["val.tif"] == sha256(b"w" * 32)


# ---- a one-pixel-high image: one refusal, whatever its length-1 axes ---------------------------------------
TOO_SMALL = r"image is too small \({shape}\); need at least 8x8 pixels"


@pytest.mark.parametrize("shape", [(1, 1, 128), (1, 128), (1, 128, 1), (128, 1, 1), (1, 1, 1)])
def test_detect_refuses_a_one_pixel_high_array_as_too_small_whatever_its_length_1_axes(shape):
    # (1, 1, 128) was "expected a 2D image or a 3D T/Z stack, got shape (128,) once the length-1 axes ...".
    said = TOO_SMALL.format(shape=re.escape(str(shape)))
    with pytest.raises(ParticleDetectError, match=rf"^image: {said}$"):
        detect(np.random.default_rng(0).random(shape))


def write_zarr(path, pixels: np.ndarray) -> None:
    array = zarr.open(str(path), mode="w", shape=pixels.shape, dtype=pixels.dtype)
    array[:] = pixels


@pytest.mark.parametrize("shape", [(1, 1, 128), (1, 128, 1)])
@pytest.mark.parametrize("suffix", [".tif", ".zarr"])
def test_a_one_pixel_high_file_is_read_and_refused_as_a_1_by_128_file_is(tmp_path, capsys, shape, suffix):
    pixels = np.random.default_rng(0).random(shape).astype(np.float32)
    path, plain = tmp_path / f"thin{suffix}", tmp_path / f"plain{suffix}"
    (tifffile.imwrite if suffix == ".tif" else write_zarr)(path, pixels)
    (tifffile.imwrite if suffix == ".tif" else write_zarr)(plain, pixels.reshape(1, 128))
    # It was "expected a 2D image or a 3D stack, got shape (128,)" (a zarr: "... got zarr shape (1, 1, 128)").
    read = read_image(path)
    assert read.ndim == 2 and read.size == 128
    for image in (path, plain):
        assert main(["-q", "detect", str(image), "-o", str(tmp_path / "out.csv"), "--device", "cpu"]) == 2
        [line] = capsys.readouterr().err.strip().splitlines()
        assert re.match(rf"^particle-detect: error: {re.escape(str(image))}: "
                        + TOO_SMALL.format(shape=r"(\(1, \d+\)|\(\d+, 1\)|\(1, 1, 128\))") + "$", line), line
    assert not (tmp_path / "out.csv").exists()
