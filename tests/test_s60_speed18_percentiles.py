"""Percentiles of a frame the size the network reads are selected from narrow bands a sample brackets, not from a
copy of every pixel (5 ns a value on this project's CPU: the largest host step of detect() after the network),
and are still NumPy's, bit for bit, where the sample could mislead (columns read at the sample's step)."""

import numpy as np
import pytest

from napari_particle_detect.detection import percentiles as P
from napari_particle_detect.detection.preprocessing import PERCENTILES


def _same(found, expected):
    return len(found) == len(expected) and all(
        type(a) is type(b) and (a == b or (np.isnan(a) and np.isnan(b))) for a, b in zip(found, expected))


@pytest.fixture
def selections(monkeypatch):
    """The sizes of the arrays percentiles selects order statistics from."""
    sizes = []
    select = P._order_stats

    def recorded(values, k):
        sizes.append(values.size)
        return select(values, k)

    monkeypatch.setattr(P, "_order_stats", recorded)
    return sizes


def test_a_working_frames_range_is_selected_from_a_few_percent_of_its_pixels(selections):
    rng = np.random.default_rng(60)
    frame = (rng.gamma(2.0, 30.0, (672, 672)) + np.linspace(0, 50, 672)).astype(np.float32)
    assert _same(P.percentiles(frame, PERCENTILES), list(np.percentile(frame, PERCENTILES)))
    assert len(selections) == len(PERCENTILES)
    assert max(selections) < 0.05 * frame.size  # HEAD: the whole frame's copy, twice
    # The size estimate's crop and the 99th percentile of its scale space's responses, too.
    selections.clear()
    crop = frame[:384, :384]
    assert _same(P.percentiles(crop, (5.0, 50.0, 95.0)), list(np.percentile(crop, (5.0, 50.0, 95.0))))
    assert len(selections) == 3 and max(selections) < 0.2 * crop.size
    selections.clear()
    reduced = np.ascontiguousarray(crop[::2, ::2])
    assert _same(P.percentiles(reduced, (99.0,)), list(np.percentile(reduced, (99.0,))))
    assert selections[0] < 0.1 * reduced.size


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8, np.uint16])
def test_bands_give_numpys_values_on_frames_a_strided_sample_misreads(dtype):
    rng = np.random.default_rng(61)
    qs_sets = ((1.0, 99.8), (99.0,), (50.0,), (5.0, 50.0, 95.0), (0.0, 100.0), (0.1, 99.9))
    for side in (135, 384, 640, 672):
        y, x = np.mgrid[:side, :side]
        step = P._sample_step(side * side)
        frames = (rng.normal(100, 20, (side, side)), 50 + 0.3 * x, 50 + 0.3 * y,
                  np.where(x % step == 0, 200.0, 10.0) + rng.normal(0, 1, (side, side)),  # the sampled columns bright
                  np.where(x % 5 == 0, 200.0, 10.0), rng.integers(0, 3, (side, side)).astype(float))
        for frame in frames:
            frame = np.clip(frame, 0, 250).astype(dtype)
            for qs in qs_sets:
                assert _same(P.percentiles(frame, qs), list(np.percentile(frame, qs))), (side, qs)
        own = rng.random((side, side)) < 0.7
        assert _same(P.percentiles(frames[1].astype(dtype), (1.0, 99.8), where=own),
                     list(np.percentile(frames[1].astype(dtype)[own], (1.0, 99.8))))
    values = rng.normal(size=(300, 300)).astype(np.float32)
    scale = np.float64(1.1249999999999998)
    assert _same(P.percentiles(values, (1.0, 99.8), scale=scale), list(np.percentile(values * scale, (1.0, 99.8))))
    values[3, 3] = np.nan
    assert _same(P.percentiles(values, (1.0, 99.8)), list(np.percentile(values, (1.0, 99.8))))


def test_the_sample_step_is_prime():
    for n in (16385, 36864, 147456, 409600, 451584, 4 << 20, 1 << 28):
        step = P._sample_step(n)
        assert step >= 2 and all(step % d for d in range(2, int(step**0.5) + 1)), (n, step)
        assert P.SMALLEST_SAMPLE // 2 <= n // step <= max(n // P.SAMPLE_SHARE, P.SMALLEST_SAMPLE)
