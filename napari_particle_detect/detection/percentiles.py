"""Percentiles of big arrays, exactly NumPy's, without the copy ``np.percentile`` partitions.

Normalising a frame and reading the size estimate's scale space each take percentiles of hundreds of
thousands of values; a partitioned copy of them all cost more than the rest of that step.
"""

from __future__ import annotations

import numpy as np

# Above this many pixels percentiles are selected from what a sample brackets, chunk by chunk, instead of
# from a partitioned copy of the frame: the same values, no copy, and faster (a 512 px frame at its working
# size, 640 px: 1.2 ms against 4.6; 2560 px: 18 ms against 54).
CHUNKED_PERCENTILES_ABOVE = 1 << 17
PERCENTILE_SAMPLE = 1 << 20
# At least every this many pixels go into the sample (a smaller frame's sample would be all of it).
PERCENTILE_SAMPLE_STEP = 8
PERCENTILE_CHUNK = 1 << 22


def percentiles(values: np.ndarray, qs: tuple[float, ...], chunked_above: int = CHUNKED_PERCENTILES_ABOVE,
                where: np.ndarray | None = None) -> list:
    """``np.percentile(values, qs)`` (linear), bit for bit; on big arrays without copying them: each
    percentile's neighbours are bracketed from a sample, counted and gathered chunk by chunk. ``where``: a mask of
    ``values``' shape, true at the values to read (a frame's pixels outside a mosaic's filled gaps), so the others
    move no percentile; one selecting nothing reads them all."""
    flat = selected(np.ascontiguousarray(values), where)
    n = flat.size
    if n <= chunked_above:
        return list(np.percentile(flat, qs))
    sample = flat[:: max(PERCENTILE_SAMPLE_STEP, n // PERCENTILE_SAMPLE)]
    virtuals = [np.asarray(q / 100) * (n - 1) for q in qs]  # as NumPy computes them
    brackets = [_sample_bracket(n, len(sample), int(np.floor(v))) for v in virtuals]
    # Only the sample's values at the brackets' ends are read: selecting them is 3x faster than sorting it.
    ends = sorted({i for bracket in brackets for i in bracket if 0 < i < len(sample) - 1})
    sample = np.partition(sample, ends) if ends else sample
    out = []
    for virtual, (first, last) in zip(virtuals, brackets):
        low = int(np.floor(virtual))
        lo = sample[first] if first > 0 else -np.inf
        hi = sample[last] if last < len(sample) - 1 else np.inf
        a, b = _order_pair(flat, lo, hi, low)
        out.append(np.float64(_lerp(a, b, virtual - low)))
    return out


def selected(values: np.ndarray, where: np.ndarray | None) -> np.ndarray:
    """``values`` flat, only those at ``where`` (a mask of their shape; one selecting nothing: all of them), as
    :func:`percentiles` reads them."""
    flat = np.ravel(values)
    return flat[np.ravel(where)] if where is not None and np.any(where) else flat  # a copy only of frames with gaps


def _sample_bracket(n: int, samples: int, k: int) -> tuple[int, int]:
    """Places in the sorted sample (of ``samples`` of ``n`` values) that bracket the k-th smallest value
    with a wide margin."""
    where = k / max(n - 1, 1) * (samples - 1)
    margin = int(8 * np.sqrt(samples)) + 16
    return int(where) - margin, int(where) + margin + 1


def _order_pair(flat: np.ndarray, lo: float, hi: float, k: int) -> tuple:
    """The k-th and (k+1)-th smallest values of ``flat`` (the last twice at the end), where ``lo`` and
    ``hi`` are thought to bracket them."""
    n = flat.size
    want = [k, min(k + 1, n - 1)]
    below, inside = 0, []
    for start in range(0, n, PERCENTILE_CHUNK):
        chunk = flat[start : start + PERCENTILE_CHUNK]
        below += int(np.count_nonzero(chunk < lo))
        inside.append(chunk[(chunk >= lo) & (chunk <= hi)])
    inside = np.concatenate(inside)
    picks = [w - below for w in want]
    if min(picks) < 0 or max(picks) >= len(inside):  # the sample misjudged: fall back to a full selection
        part = np.partition(flat.copy(), want)
        return part[want[0]], part[want[1]]
    part = np.partition(inside, picks)
    return part[picks[0]], part[picks[1]]


def _lerp(a, b, t):
    """NumPy's percentile interpolation (``_lerp``), in the same types and order of operations."""
    diff = b - a
    return b - diff * (1 - t) if t >= 0.5 else a + diff * t
