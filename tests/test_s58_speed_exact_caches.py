"""The size estimate's cheaper paths (issue 18, auto diameter) give the former paths' results bit for bit.

Each former implementation is kept here as the reference it replaced: the Laplacian's kernel transforms made at every
call, the blob test's kernels made at every call, the profile's and the shape's windows copied pixel by pixel before
summing, and the scale space's scales handed to the pool one task each."""

import threading

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from scipy import fft

from napari_particle_detect.detection import blobs
from napari_particle_detect.detection.blobs import ScaleSpace, _blob_like, _hessian_kernels, _scale_pool, _side_by_side
from napari_particle_detect.detection.gaussian_laplacians import (
    GaussianLaplacians, _kernel_spectra, _kernel_spectrum, gaussian_kernels, kernel_radius,
)
from napari_particle_detect.detection.sizing import elongation, radial_profile


def former_view(laplacians: GaussianLaplacians, sigma: float) -> np.ndarray:
    smooth, second = gaussian_kernels(float(sigma), kernel_radius(sigma))
    rows = [_kernel_spectrum(k, laplacians.size[0], fft.fft) for k in (smooth, second)]
    columns = [_kernel_spectrum(k, laplacians.size[1], fft.rfft) for k in (smooth, second)]
    transfer = np.outer(rows[1], columns[0])
    transfer += np.outer(rows[0], columns[1])
    full = fft.irfft2(laplacians.spectrum * transfer, s=laplacians.size)
    h, w = laplacians.shape
    return full[laplacians.reach : laplacians.reach + h, laplacians.reach : laplacians.reach + w]


def former_blob_like(image, sigma, ys, xs):
    radius = int(4.0 * sigma + 0.5)
    padded = np.pad(image, radius, mode="symmetric")
    t = np.arange(-radius, radius + 1, dtype=float)
    g = np.exp(-0.5 * (t / sigma) ** 2)
    g /= g.sum()
    g1 = -t / sigma**2 * g
    g2 = (t**2 / sigma**4 - 1 / sigma**2) * g
    g2 -= g2.mean()
    side = 2 * radius + 1
    windows = sliding_window_view(padded, (side, side))[ys, xs]
    columns = windows @ np.stack([g, g2, g1], axis=1)
    hyy, hxx, hxy = columns[:, :, 0] @ g2, columns[:, :, 1] @ g, columns[:, :, 2] @ g1
    trace, det = hyy + hxx, hyy * hxx - hxy**2
    return (det > 0) & (trace**2 * 4.0 <= det * 25.0)


def former_window_values(image, centres, reach, pixels):
    side, pad = 2 * reach + 1, 2 * reach
    h, w = image.shape
    padded = np.zeros((h + 2 * pad, w + 2 * pad), dtype=image.dtype)
    padded[pad : pad + h, pad : pad + w] = image
    windows = sliding_window_view(padded, (side, side))[centres[:, 0] + reach, centres[:, 1] + reach]
    values = windows.reshape(len(centres), side * side).take(pixels, axis=1)
    return np.ascontiguousarray(values, dtype=np.result_type(values.dtype, 0.0))


def former_mean_window(image, centres, reach):
    side = 2 * reach + 1
    return former_window_values(image, centres, reach, np.arange(side * side)).mean(axis=0).reshape(side, side)


def test_laplacians_from_kept_kernel_transforms_are_the_former_ones_for_every_size_and_scale():
    rng = np.random.default_rng(58)
    # Two images of one size share the transforms; one of another size, at the same scales, must not get theirs.
    for shape in ((192, 192), (192, 192), (150, 201)):
        image = rng.random(shape).astype(np.float32)
        laplacians = GaussianLaplacians(image, 5.31)
        for sigma in (0.84, 1.68, np.float64(3.35), 5.31):
            np.testing.assert_array_equal(laplacians.view(sigma), former_view(laplacians, sigma))
    rows, columns = _kernel_spectra(1.68, laplacians.size)
    assert all(not spectrum.flags.writeable for spectrum in rows + columns)  # one caller cannot spoil the next's


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_blob_test_with_kept_kernels_is_the_former_one(dtype):
    rng = np.random.default_rng(7)
    image = rng.random((120, 90)).astype(dtype)
    ys, xs = rng.integers(0, 120, 300), rng.integers(0, 90, 300)
    for sigma in (0.84, 1.33, np.float64(2.66), 5.3, 1.33):  # a scale read again reads the kept kernels
        found = _blob_like(image, sigma, ys, xs)
        np.testing.assert_array_equal(found, former_blob_like(image, sigma, ys, xs))
        assert 0 < found.sum() < len(found)
    assert all(not kernel.flags.writeable for kernel in _hessian_kernels(1.33))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint16])
def test_profiles_and_shapes_summed_over_whole_windows_are_the_former_ones_bit_for_bit(dtype):
    rng = np.random.default_rng(11)
    for trial in range(60):
        h, w = (int(n) for n in rng.integers(8, 200, 2))
        image = (rng.random((h, w)) * 300).astype(dtype)
        count = int(rng.integers(1, 200))
        centres = np.stack([rng.integers(0, h, count), rng.integers(0, w, count)], axis=1)
        # Reach 1 (a single pixel a window, summed pairwise by NumPy as one run) and windows cut by the edges.
        reach = 1 if trial % 6 == 0 else int(rng.integers(2, 40))
        near = np.flatnonzero(np.hypot(*np.mgrid[-reach : reach + 1, -reach : reach + 1]) < reach)
        sums = former_window_values(image, centres, reach, near).sum(axis=0, dtype=float)
        found = radial_profile(image, centres, reach)
        ring = np.hypot(*np.mgrid[-reach : reach + 1, -reach : reach + 1]).ravel()[near].astype(int)
        counts = np.bincount(ring, minlength=reach).astype(float)
        whole = np.all((centres >= reach) & (centres < np.array([h, w]) - reach), axis=1)
        if whole.all():  # every window inside: the profile is the former sums over the former counts
            np.testing.assert_array_equal(found, np.bincount(ring, weights=sums, minlength=reach) / (counts * count))
        diameter = float(rng.uniform(2, 20))
        inside = centres[np.all((centres >= int(np.ceil(diameter)))
                                & (centres < np.array([h, w]) - int(np.ceil(diameter))), axis=1)]
        if len(inside) >= 4:
            shape = former_mean_window(image, inside, int(np.ceil(diameter)))
            assert shape.dtype == np.result_type(image.dtype, 0.0)
            assert elongation(image, inside, diameter) == former_elongation(image, inside, diameter, shape)


def former_elongation(image, centres, diameter, patch):
    from scipy import ndimage

    reach = int(np.ceil(diameter))
    offsets = np.arange(-reach, reach + 1, dtype=float)
    squared = offsets[:, None] ** 2 + offsets[None, :] ** 2
    core = patch - np.median(patch[squared > (reach - 1) ** 2])
    core *= np.sign(core[reach, reach])
    half = 0.5 * core[reach, reach]
    lobes, _ = ndimage.label(core >= half)
    weights = np.where(lobes == lobes[reach, reach], core - half, 0.0)
    along_y, along_x = (weights * offsets[:, None] ** 2).sum(), (weights * offsets[None, :] ** 2).sum()
    return float(np.sqrt(along_y / along_x)) if along_y > 0 and along_x > 0 else 1.0


def test_a_single_pixel_window_profile_is_summed_as_the_former_one():
    rng = np.random.default_rng(93)
    image = rng.random((255, 149)) * 1000  # float64: its sum over 20 centres differs in the last bit if not pairwise
    for count in (20, 110, 257):
        centres = np.stack([rng.integers(0, 255, count), rng.integers(0, 149, count)], axis=1)
        expected = former_window_values(image, centres, 1, np.array([4])).sum(axis=0, dtype=float)
        np.testing.assert_array_equal(radial_profile(image, centres, 1), expected / count)


def test_scales_shared_out_come_back_in_order_with_the_calling_thread_taking_part():
    pool = _scale_pool()
    caller = threading.get_ident()
    for threads in (1, 2, 3):
        for count in (0, 1, 2, 5, 12, 13):
            ran = {}
            caller_took = threading.Event()

            def work(i, j):
                # A pool thread waits for the caller's first share: however the threads are scheduled (a loaded CI's
                # pool threads took every item before the caller's turn), an item is left for a caller that works.
                if threading.get_ident() == caller:
                    caller_took.set()
                elif not caller_took.wait(10):
                    raise AssertionError("the calling thread took no share")
                ran[i] = threading.get_ident()
                return i * 10 + j

            items = [(i, i % 3) for i in range(count)]
            assert _side_by_side(pool, work, items, threads) == [i * 10 + i % 3 for i in range(count)]
            assert sorted(ran) == list(range(count))
            # The caller works, not only waits; alone, it does everything.
            assert count == 0 or caller in ran.values()
            assert threads > 1 or set(ran.values()) <= {caller}


def test_a_share_that_fails_fails_the_scale_space_as_one_task_did():
    def work(i):
        if i == 3:
            raise ValueError("scale 3")
        return i

    with pytest.raises(ValueError, match="scale 3"):
        _side_by_side(_scale_pool(), work, [(i,) for i in range(6)], 2)


def test_a_scale_space_shared_out_is_the_scale_by_scale_one(monkeypatch):
    image = np.random.default_rng(3).random((96, 96)).astype(np.float32)
    sigmas = np.geomspace(0.8, 6.0, 9)
    spaces = []
    for workers in (1, 2, 4):
        monkeypatch.setattr(blobs, "_POOL_WORKERS", workers)
        spaces.append(ScaleSpace.of(image, sigmas, 2.0))
    for space in spaces[1:]:
        for a, b in zip(spaces[0].peaks + spaces[0].unnormalised, space.peaks + space.unnormalised):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(spaces[0].strengths, space.strengths)
        assert len(space.blobs()) == len(spaces[0].blobs()) > 0
