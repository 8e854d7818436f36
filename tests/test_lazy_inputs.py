"""Big inputs read lazily: zarr, OME-Zarr and dask arrays give the same centres as the same data in TIFF."""

import numpy as np
import pytest
import tifffile
import torch

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files.io import LazyTiffStack, ZarrStack, read_image
from napari_particle_detect.models import load_model
from napari_particle_detect.detection.prediction import detect
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

from helpers import tiny_model_file

zarr = pytest.importorskip("zarr")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return load_model(tiny_model_file(tmp_path_factory.mktemp("tiny")))


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    return np.stack([synthesize(benchmark_config("fluorescent", 0.4, shape=(72, 88)), seed=s).image for s in range(3)])


def test_zarr_stack_gives_the_same_centres_as_tiff(tmp_path, frames, tiny_model):
    torch.set_num_threads(1)
    tifffile.imwrite(tmp_path / "stack.tif", frames, photometric="minisblack")
    array = zarr.open(str(tmp_path / "stack.zarr"), mode="w", shape=frames.shape, chunks=(1, 40, 40),
                      dtype=frames.dtype)
    array[:] = frames
    lazy = read_image(tmp_path / "stack.zarr", lazy=True)
    assert isinstance(lazy, ZarrStack) and lazy.shape == frames.shape
    assert np.array_equal(lazy[1], frames[1])
    assert np.array_equal(read_image(tmp_path / "stack.zarr"), frames)
    from_tiff = detect(read_image(tmp_path / "stack.tif", lazy=True), tiny_model, device="cpu", threshold=0.0,
                       diameter=12)
    from_zarr = detect(lazy, tiny_model, device="cpu", threshold=0.0, diameter=12)
    assert len(from_tiff) > 0 and from_zarr.equals(from_tiff)


def test_ome_zarr_reads_its_full_resolution_plane(tmp_path, frames, tiny_model):
    group = zarr.open_group(str(tmp_path / "image.ome.zarr"), mode="w")
    group.attrs["multiscales"] = [{"version": "0.4", "axes": [{"name": n} for n in "tczyx"],
                                   "datasets": [{"path": "0"}, {"path": "1"}]}]
    full = group.create_array("0", shape=(1, 1, 1, 72, 88), chunks=(1, 1, 1, 36, 44), dtype=frames.dtype)
    full[0, 0, 0] = frames[0]
    group.create_array("1", shape=(1, 1, 1, 36, 44), dtype=frames.dtype)
    image = read_image(tmp_path / "image.ome.zarr", lazy=True)
    assert image.shape == (72, 88) and image.ndim == 2
    found = detect(image, tiny_model, device="cpu", threshold=0.0, diameter=12)
    assert found.equals(detect(frames[0], tiny_model, device="cpu", threshold=0.0, diameter=12))


def test_dask_arrays_are_read_frame_by_frame(frames, tiny_model):
    da = pytest.importorskip("dask.array")
    frames = frames.astype(np.float32)  # float32 frames need no conversion: the caller's memory is read as is
    before = frames.copy()
    lazy = da.from_array(frames, chunks=(1, 72, 88))
    working = tiny_model.card.canonical_diameter  # particles already at the model's size: no resampling
    assert detect(lazy, tiny_model, device="cpu", threshold=0.0, diameter=working).equals(
        detect(frames, tiny_model, device="cpu", threshold=0.0, diameter=working))
    single = da.from_array(frames[0], chunks=frames[0].shape)
    detect(single, tiny_model, device="cpu", threshold=0.0, diameter=working)
    assert np.array_equal(frames, before)  # never normalised in place


def test_a_zarr_array_opened_by_the_user_is_detected_as_a_stack(tmp_path, frames, tiny_model):
    # zarr 3 arrays have a shape but no len(): the stack's length comes from its shape.
    array = zarr.open(str(tmp_path / "user.zarr"), mode="w", shape=frames.shape, chunks=(1, 72, 88),
                      dtype=frames.dtype)
    array[:] = frames
    reopened = zarr.open(str(tmp_path / "user.zarr"), mode="r")
    found = detect(reopened, tiny_model, device="cpu", threshold=0.0, diameter=12)
    assert sorted(found["frame"].unique()) == [0, 1, 2]
    assert found.equals(detect(frames, tiny_model, device="cpu", threshold=0.0, diameter=12))


def test_detect_refuses_what_the_command_line_refuses(frames, tiny_model):
    with pytest.raises(ParticleDetectError, match=r"threshold must be a number in \[0, 1\), got 2"):
        detect(frames[0], tiny_model, device="cpu", threshold=2)
    with pytest.raises(ParticleDetectError, match="not a file name .'image.tif'."):
        detect("image.tif", tiny_model, device="cpu")
    with pytest.raises(TypeError, match="detect.. got an unexpected keyword argument 'foo'; .*batch_size"):
        detect(frames[0], tiny_model, device="cpu", foo=1)
    with pytest.raises(ParticleDetectError, match="batch_size is an option of sphere detection; not with kind='rods'"):
        detect(frames[0], kind="rods", device="cpu", batch_size=2)
    with pytest.raises(ParticleDetectError, match="diameter must be a positive number, got nan"):
        detect(frames[0], tiny_model, device="cpu", diameter=float("nan"))
    from napari_particle_detect.detection.kinds_prediction import shipped_model_path

    with pytest.raises(ParticleDetectError,
                       match=r"finds rods, not spheres; give a sphere model, or kind='rods' \(--kind rods\)"):
        detect(frames[0], shipped_model_path("rods"), device="cpu")


def test_big_frames_take_the_same_percentiles_without_a_copy():
    from napari_particle_detect.detection.percentiles import percentiles

    rng = np.random.default_rng(4)
    for values in (rng.random(200_003).astype(np.float32), rng.integers(0, 30, 150_000).astype(np.float32)):
        for qs in ((1.0, 99.8), (0.0, 100.0), (42.0,)):
            assert percentiles(values, qs, chunked_above=1000) == list(np.percentile(values, qs))
    # A 512 px frame at the working size takes the chunked path by default, with the same values.
    frame = (rng.gamma(2.0, 300.0, (640, 640)) + 100 * (rng.random((640, 640)) < 0.01)).astype(np.float32)
    for qs in ((1.0, 99.8), (0.0, 100.0), (50.0,)):
        assert percentiles(frame, qs) == list(np.percentile(frame, qs))
    # The size estimate's strongest scale: the 99th percentile of a 384 px crop's |response|.
    response = np.abs(rng.normal(0, 1, (384, 384)).astype(np.float32) * rng.random((384, 384), dtype=np.float32))
    assert percentiles(response, (99.0,)) == list(np.percentile(response, (99.0,)))


def test_bad_zarr_is_one_clear_error(tmp_path):
    group = zarr.open_group(str(tmp_path / "two.zarr"), mode="w")
    group.create_array("a", shape=(8, 8), dtype="u1")
    group.create_array("b", shape=(8, 8), dtype="u1")
    with pytest.raises(ParticleDetectError, match="two.zarr: zarr group with 2 arrays"):
        read_image(tmp_path / "two.zarr")
    zarr.open(str(tmp_path / "4d.zarr"), mode="w", shape=(2, 3, 16, 16), dtype="u1")
    with pytest.raises(ParticleDetectError, match="4d.zarr: expected a 2D image or a 3D stack"):
        read_image(tmp_path / "4d.zarr")


def _cut(path, fraction: float):
    """A copy of ``path`` that stops part way, as a copy or a write that was interrupted leaves it."""
    data = path.read_bytes()
    cut = path.with_name(path.stem + "-cut.tif")
    cut.write_bytes(data[:int(len(data) * fraction)])
    return cut


def _write_stack(path, stack: np.ndarray, how: str):
    if how == "imagej":
        tifffile.imwrite(path, stack, imagej=True, metadata={"axes": "TYX"})
    elif how == "zlib":
        tifffile.imwrite(path, stack, compression="zlib", photometric="minisblack")
    elif how == "appended":
        for frame in stack:
            tifffile.imwrite(path, frame, append=True, photometric="minisblack")
    elif how == "bigtiff":
        tifffile.imwrite(path, stack, bigtiff=True, photometric="minisblack")
    elif how == "ome":
        tifffile.imwrite(path, stack, ome=True, metadata={"axes": "TYX"})
    elif how == "memmap":
        mapped = tifffile.memmap(path, shape=stack.shape, dtype=stack.dtype, photometric="minisblack")
        mapped[:] = stack
        mapped.flush()
        del mapped
    return path


NOISE = (np.random.default_rng(2).random((10, 96, 112)) * 4000).astype(np.uint16)  # incompressible: zlib cuts frames


@pytest.mark.parametrize("how, says", [("imagej", "the file says 10 frames, only 1 readable"),
                                       ("zlib", "the file says 10 frames, only 5 readable"),
                                       ("appended", "only 5 frames readable, the rest of the file is missing")])
def test_a_truncated_tiff_stack_is_one_error_not_fewer_frames(tmp_path, how, says):
    whole = _write_stack(tmp_path / "stack.tif", NOISE, how)
    cut = _cut(whole, 0.2 if how == "imagej" else 0.55)
    for lazy in (True, False):
        with pytest.raises(ParticleDetectError, match=f"stack-cut.tif: corrupt or truncated: {says}"):
            read_image(cut, lazy=lazy)
    from napari_particle_detect.cli.main import main

    assert main(["-q", "detect", str(cut), "-o", str(tmp_path / "t.csv")]) == 2
    assert not (tmp_path / "t.csv").exists()


def test_a_single_image_cut_short_is_not_said_as_frames(tmp_path):
    # It said "the file says 1 frame, only 0 readable" of a 2D image.
    path = tmp_path / "one.tif"
    tifffile.imwrite(path, NOISE[0], compression="zlib")
    cut = _cut(path, 0.5)
    for lazy in (True, False):
        with pytest.raises(ParticleDetectError) as refused:
            read_image(cut, lazy=lazy)
        assert str(refused.value) == f"{cut}: corrupt or truncated: the file is cut short inside its one image"


@pytest.mark.parametrize("how", ["imagej", "zlib", "appended", "bigtiff", "ome", "memmap"])
def test_whole_tiff_stacks_are_read_page_by_page(tmp_path, how):
    path = _write_stack(tmp_path / "stack.tif", NOISE, how)
    lazy = read_image(path, lazy=True)
    # Frames appended one by one (one series each) were read whole before: a long stack filled memory.
    assert isinstance(lazy, LazyTiffStack) and lazy.shape == NOISE.shape and lazy.dtype == NOISE.dtype
    assert np.array_equal(lazy[7], NOISE[7]) and np.array_equal(np.asarray(lazy), NOISE)
    assert np.array_equal(read_image(path), NOISE)


def test_frames_appended_in_different_shapes_are_still_refused(tmp_path):
    path = tmp_path / "mixed.tif"
    tifffile.imwrite(path, NOISE[0], append=True, photometric="minisblack")
    tifffile.imwrite(path, NOISE[1, :50], append=True, photometric="minisblack")
    for lazy in (True, False):
        with pytest.raises(ParticleDetectError, match="mixed.tif: its 2 images differ in shape"):
            read_image(path, lazy=lazy)


def test_a_lazy_tiff_stack_closes_its_file(tmp_path):
    import gc

    path = _write_stack(tmp_path / "stack.tif", NOISE, "imagej")
    with read_image(path, lazy=True) as stack:
        handle = stack._tif.filehandle
        assert np.array_equal(stack[2], NOISE[2]) and not stack.closed
    assert stack.closed and handle.closed
    with pytest.raises(ValueError, match="stack.tif: the stack is closed"):
        stack[0]
    stack.close()  # again: nothing
    # Dropped without closing: closed when collected, not left open to the end (a ResourceWarning).
    stack = read_image(path, lazy=True)
    handle = stack._tif.filehandle
    del stack
    gc.collect()
    assert handle.closed
    with read_image(tmp_path / "stack.tif", lazy=True) as stack:
        assert np.array_equal(np.asarray(stack), NOISE)
    # A zarr stack closes alike (nothing to close), so either lazy kind can be used the same way.
    array = zarr.open(str(tmp_path / "s.zarr"), mode="w", shape=NOISE[:2].shape, chunks=(1, 96, 112),
                      dtype=NOISE.dtype)
    array[:] = NOISE[:2]
    with read_image(tmp_path / "s.zarr", lazy=True) as lazy:
        assert np.array_equal(lazy[1], NOISE[1])
