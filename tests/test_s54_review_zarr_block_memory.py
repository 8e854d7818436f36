"""A zarr stack whose chunks hold several frames keeps their decoded frames only while they are read: read to its
end it holds none of them, and a chunk of 80 MiB is read frame by frame, not kept whole for the stack's life."""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np

from napari_particle_detect.files.io import ZarrStack


def _held_after(read) -> int:
    """Bytes (numpy's allocations included) still held once ``read`` has run and its results are dropped."""
    gc.collect()
    tracemalloc.start()
    try:
        read()
        gc.collect()
        return tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()


def test_a_stack_read_to_its_end_keeps_no_frames(tmp_path):
    import zarr

    data = np.random.default_rng(0).random((8, 512, 512)).astype(np.float32)  # 8 MiB, one chunk
    array = zarr.open_array(str(tmp_path / "m.zarr"), mode="w", shape=data.shape, dtype=data.dtype,
                            chunks=data.shape)
    array[:] = data
    stack = ZarrStack(tmp_path / "m.zarr", array)

    def read_all() -> None:
        for frame in range(len(stack)):
            np.testing.assert_array_equal(stack[frame], data[frame])

    assert _held_after(read_all) < 2**20


def test_a_chunk_of_80_mib_is_not_kept(tmp_path):
    import zarr

    # Never written: every chunk reads as its fill value, as cheap to make as to decode.
    array = zarr.open_array(str(tmp_path / "big.zarr"), mode="w", shape=(20, 1024, 1024), dtype=np.float32,
                            chunks=(20, 1024, 1024), fill_value=0)
    stack = ZarrStack(tmp_path / "big.zarr", array)

    assert _held_after(lambda: stack[0]) < 8 * 2**20
