"""The bundled bulk-water sample's pixel size, one source for the command line and napari's File > Open Sample;
and the inputs detection refuses in one line naming what the user gave (masked arrays, 1-pixel-high images,
empty PNGs, empty or half-written zarr stores)."""

import json
import re

import numpy as np
import pytest
import tifffile
import zarr

from napari_particle_detect import detect
from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files.io import read_image
from napari_particle_detect.shipped import SAMPLE_DATA_DIR

BULK_WATER = SAMPLE_DATA_DIR / "trackpy_bulk_water_3.tif"


def test_the_bulk_water_sample_opens_at_the_pixel_size_detect_records(make_napari_viewer, tmp_path, monkeypatch):
    # The sample loader drew it at 1/2.85 µm/px, a constant, while detect's .json recorded no pixel size: the
    # dock's and link's micrometres disagreed.
    monkeypatch.setenv("NAPARI_PARTICLE_DETECT_HOME", str(tmp_path / "home"))
    # A diameter the model works at without resampling, on torch (no ONNX export): a second, not four.
    assert main(["-q", "detect", str(BULK_WATER), "-o", str(tmp_path / "out") + "/", "--diameter", "24",
                 "--runtime", "torch", "--device", "cpu"]) == 0
    [record] = json.loads((tmp_path / "out" / "trackpy_bulk_water_3.json").read_text())["inputs"]
    viewer = make_napari_viewer()
    viewer.open_sample("napari-particle-detect", "bulk_water")
    [layer] = viewer.layers
    assert record["pixel_size_yx_um"] == pytest.approx([100 / 285] * 2, rel=1e-12)  # trackpy's walkthrough's
    assert tuple(layer.scale[-2:]) == pytest.approx(record["pixel_size_yx_um"], rel=1e-12)
    assert [str(unit) for unit in layer.units[-2:]] == ["micrometer"] * 2
    # The same pixels as before the pixel size was written into the file.
    assert tifffile.imread(BULK_WATER).sum(dtype=np.int64) == 103_461_308


def test_a_masked_array_with_masked_pixels_is_refused():
    # NumPy dropped its mask on reading it, and its masked pixels were detected as if valid.
    image = np.ma.masked_array(np.random.default_rng(0).random((64, 64)), mask=False)
    image[:8, :8] = np.ma.masked
    for given in (image, [image, image.filled(0.5)]):
        with pytest.raises(ParticleDetectError, match=r"^image: a masked array with 64 masked pixels, which "
                                                      r"detection would read as valid; fill them"):
            detect(given)


def test_a_masked_volume_is_refused_as_a_masked_image_is():
    from napari_particle_detect.detection.volume_detection import detect_volume, detect_volumes

    volume = np.ma.masked_array(np.random.default_rng(0).random((8, 32, 32)).astype(np.float32), mask=False)
    volume[:, :10, :10] = np.ma.masked
    # Its 800 masked voxels were detected as if valid (3 centres, no word).
    for call in (lambda: detect_volume(volume, name="vol"), lambda: detect_volumes(volume[None], name="vol")):
        with pytest.raises(ParticleDetectError, match=r"^vol: a masked array with 800 masked pixels"):
            call()


@pytest.mark.parametrize("shape", [(1, 128), (3, 1, 128)])
def test_a_too_small_image_is_refused_by_the_shape_given(shape):
    # (1, 128) was refused as "got shape (128,)": detect squeezed its own (1, 1, 128) of it again.
    said = re.escape(f"image: image is too small ({shape}); need at least 8x8 pixels")
    with pytest.raises(ParticleDetectError, match=f"^{said}$"):
        detect(np.random.default_rng(0).random(shape))


def write_ome_zarr_naming_a_missing_dataset(path):
    group = zarr.open_group(path, mode="w")
    group.attrs["multiscales"] = [{"datasets": [{"path": "0"}], "axes": [{"name": "y"}, {"name": "x"}]}]


def write_ome_zarr_with_an_empty_array_metadata(path):
    write_ome_zarr_naming_a_missing_dataset(path)
    zarr.open_group(path, mode="a").create_array("0", shape=(32, 32), dtype="u1")
    (path / "0" / "zarr.json").write_bytes(b"")


@pytest.mark.parametrize("write, said", [
    (lambda path: path.write_bytes(b""), "not a readable PNG file (empty file)"),
    (lambda path: path.mkdir(), "a .zarr folder with no zarr metadata (.zarray, .zgroup, zarr.json): an empty or "
                                "unfinished zarr store"),
    (lambda path: (path.mkdir(), (path / "zarr.json").write_bytes(b"")),
     "cannot read zarr (its metadata zarr.json is an empty file (0 bytes): the store was not written whole)"),
    (lambda path: (path.mkdir(), (path / ".zarray").write_text('{"shape": [')),
     "cannot read zarr (its metadata .zarray is not valid JSON: the store was not written whole)"),
    (write_ome_zarr_naming_a_missing_dataset,
     "its OME-Zarr multiscales name dataset '0', which it does not hold; the store was not written whole"),
    (write_ome_zarr_with_an_empty_array_metadata,
     "cannot read zarr (its metadata 0/zarr.json is an empty file (0 bytes): the store was not written whole)"),
], ids=["empty-png", "empty-zarr-folder", "empty-zarr-json", "garbled-zarray", "ome-missing-dataset",
        "ome-empty-array-metadata"])
def test_empty_and_half_written_files_are_refused_in_one_line_naming_them(tmp_path, write, said):
    path = tmp_path / ("image.png" if "PNG" in said else "image.zarr")
    write(path)
    with pytest.raises(ParticleDetectError) as refused:
        read_image(path, lazy=True)
    assert str(refused.value) == f"{path}: {said}"
