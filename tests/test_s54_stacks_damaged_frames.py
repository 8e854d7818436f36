"""Stacks with a damaged frame, and stacks read lazily: a rods or chains stack with one garbled frame is detected but
for that frame, which is named, recorded and left out of evaluate's scores (the run stopped there, and a rerun at the
same frame); chains sized on an earlier frame pass over one that cannot be read; a zarr stack whose chunks hold many
frames decodes each chunk once, not once per frame; a grey + alpha PNG's --channel 0 is its grey."""

import json

import numpy as np
import pandas as pd
import pytest
import tifffile

from helpers import garble_tiff_frames
from napari_particle_detect import SynthConfig, detect
from napari_particle_detect.cli.main import main
from napari_particle_detect.files.io import UnreadableFrameError, ZarrStack, read_image
from napari_particle_detect.synthetic.chains import ChainConfig, synthesize_chains


def _chain_frames(count: int) -> np.ndarray:
    optics = SynthConfig(shape=(128, 128), look="fluorescent", radius_range=(6, 6))
    return np.stack([synthesize_chains(ChainConfig(optics=optics, area_fraction=0.3), seed=seed).image
                     for seed in range(count)])


def _damaged_stack(path, frames: np.ndarray, damaged: int):
    """``frames`` as a zlib-compressed TIFF stack whose frame ``damaged`` no longer decompresses."""
    tifffile.imwrite(path, frames, compression="zlib", photometric="minisblack")
    return garble_tiff_frames(path, [damaged])


def test_a_chains_stack_is_detected_but_for_its_damaged_frame_which_is_named(tmp_path, capsys):
    path = _damaged_stack(tmp_path / "beads.tif", _chain_frames(4), damaged=1)
    out = tmp_path / "beads.csv"

    assert main(["detect", str(path), "--kind", "chains", "-o", str(out)]) == 0
    assert "cannot read frame 1" in capsys.readouterr().err
    record = json.loads(out.with_suffix(".json").read_text())["inputs"][0]
    assert record["unreadable_frames"] == [1] and record["frames_detected"] == [0, 2, 3]
    table = pd.read_csv(out)
    assert set(table["frame"]) == {0, 2, 3}

    truth = tmp_path / "truth.csv"
    pd.concat([table, table[table["frame"] == 0].assign(frame=1)]).to_csv(truth, index=False)
    assert main(["evaluate", str(out), str(truth), "--kind", "chains"]) == 0
    # Scored against frame 1's truth, the damaged frame read as every bead missed.
    assert "(frame 1 unreadable): the truth's frame 1 left out" in capsys.readouterr().err


def test_chains_of_a_later_frame_are_sized_past_an_unreadable_first_frame(tmp_path):
    path = _damaged_stack(tmp_path / "beads.tif", _chain_frames(3), damaged=0)
    with read_image(path, lazy=True) as stack:
        part = detect(stack, kind="chains", frames=[2], tile=128)
        whole = detect(stack, kind="chains", tile=128)
    assert whole.attrs["unreadable_frames"] == [0]
    assert part.attrs["diameter"] == whole.attrs["diameter"]  # both sized on frame 1, the first readable
    pd.testing.assert_frame_equal(part, whole[whole["frame"] == 2].reset_index(drop=True))


def _counting_zarr(path, data: np.ndarray, chunk_frames: int):
    """A zarr array of ``data`` whose store counts the chunks read from it."""
    import zarr
    from zarr.storage import LocalStore

    zarr.open_array(str(path), mode="w", shape=data.shape, dtype=data.dtype,
                    chunks=(chunk_frames, *data.shape[1:]))[:] = data

    class CountingStore(LocalStore):
        chunk_reads: list = []

        async def get(self, key, prototype=None, byte_range=None):
            if key.startswith("c/"):  # a chunk's, not the metadata's
                self.chunk_reads.append(key)
            return await super().get(key, prototype, byte_range)

    store = CountingStore(path, read_only=True)
    return zarr.open_array(store=store, mode="r"), store


def test_a_zarr_stack_decodes_each_chunk_of_frames_once(tmp_path):
    data = np.random.default_rng(0).integers(0, 4000, (8, 64, 64), dtype=np.uint16)
    array, store = _counting_zarr(tmp_path / "movie.zarr", data, chunk_frames=4)
    stack = ZarrStack(tmp_path / "movie.zarr", array)

    for frame in range(len(stack)):
        np.testing.assert_array_equal(stack[frame], data[frame])
    assert len(store.chunk_reads) == 2  # each frame decoded its chunk of 4 again: 8 reads
    frame = stack[5]
    frame[:] = 0  # the caller's own copy: the frames kept are not changed through it
    np.testing.assert_array_equal(stack[5], data[5])
    np.testing.assert_array_equal(stack[1, 2:4, -3:], data[1, 2:4, -3:])


def test_a_garbled_zarr_chunk_names_its_frame_and_leaves_the_others_readable(tmp_path):
    import zarr

    data = np.random.default_rng(0).integers(0, 4000, (6, 32, 32), dtype=np.uint16)
    zarr.open_array(str(tmp_path / "m.zarr"), mode="w", shape=data.shape, dtype=data.dtype,
                    chunks=(2, 32, 32))[:] = data
    (tmp_path / "m.zarr" / "c" / "1" / "0" / "0").write_bytes(b"garbled")
    stack = read_image(tmp_path / "m.zarr", lazy=True)

    with pytest.raises(UnreadableFrameError, match="m.zarr: cannot read frame 3") as failure:
        stack[3]
    assert failure.value.frame == 3
    np.testing.assert_array_equal(stack[4], data[4])


def test_channel_0_of_a_grey_and_alpha_png_is_its_grey(tmp_path):
    from PIL import Image

    from napari_particle_detect.errors import ParticleDetectError

    grey = np.random.default_rng(0).integers(0, 255, (40, 30), dtype=np.uint8)
    Image.fromarray(np.stack([grey, np.full_like(grey, 255)], axis=-1), "LA").save(tmp_path / "la.png")

    np.testing.assert_array_equal(read_image(tmp_path / "la.png", channel=0), grey)
    with pytest.raises(ParticleDetectError, match=r"has 1 channel \(0-0\) \(LA: its alpha channel"):
        read_image(tmp_path / "la.png", channel=1)  # the opacity is no channel to choose
