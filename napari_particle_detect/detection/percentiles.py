"""Percentiles of big arrays, exactly NumPy's, faster than ``np.percentile`` and, on huge ones, without its copy.

Normalising a frame and reading the size estimate's scale space each take percentiles of hundreds of
thousands of values; ``np.percentile`` partitions its copy at two places at once, which NumPy does 10x slower
than at one (its vectorised selection takes a single place), and that cost more than the rest of the step.
"""

from __future__ import annotations

import numpy as np

# Up to this many values percentiles are selected from a copy, one place at a time; above it from what a sample
# brackets: the values in a narrow band around each place gathered, chunk by chunk, and selected there (the same
# values, no copy of a huge frame). On this project's 2-core CPU (AMD EPYC, NumPy 2.4, CPU ms, host loaded ~5x,
# float32, stop 60) a copy's selection costs ~5 ns a value, a compare-and-gather pass ~0.7: the frame the network
# reads at 672 px, 1 / 99.8 %: 5.9 ms from a copy against 0.68 bracketed; the size estimate's 384 px crop 2.1 against
# 0.22; its 192 px copy, 99 %: 0.18 against 0.07; 5 / 50 / 95 % at 384 px 2.9 against 1.2. From 2^14 values on the
# brackets are the faster (one place of 135 x 135 values: 0.12 ms against 0.07).
CHUNKED_PERCENTILES_ABOVE = 1 << 14
# Where a copy is still affordable, a NaN among the values gives NumPy's answer (NaN) as np.percentile does.
NAN_CHECKED_UP_TO = 1 << 20
# The sample: one value in SAMPLE_SHARE, at least SMALLEST_SAMPLE and at most PERCENTILE_SAMPLE of them, taken
# at a prime step (a step that divides the rows' width would read the same few columns of every row). Each place
# is bracketed 8 binomial standard deviations of the sample either side (and 16 values more): a sample a tenth of
# a copy's cost, bands a few % of the values wide; where the sample misjudges, a copy's selection answers.
SAMPLE_SHARE = 64
SMALLEST_SAMPLE = 4096
PERCENTILE_SAMPLE = 1 << 20
PERCENTILE_CHUNK = 1 << 22


def percentiles(values: np.ndarray, qs: tuple[float, ...], chunked_above: int = CHUNKED_PERCENTILES_ABOVE,
                where: np.ndarray | None = None, scale: float | None = None) -> list:
    """``np.percentile(values, qs)`` (linear), bit for bit; on big arrays without copying them: each
    percentile's neighbours are bracketed from a sample, counted and gathered chunk by chunk. ``where``: a mask of
    ``values``' shape, true at the values to read (a frame's pixels outside a mosaic's filled gaps), so the others
    move no percentile; one selecting nothing reads them all. ``scale``: a positive float64: those of
    ``values * scale`` instead (float32 ``values`` times it map to distinct float64s in the same order, so their
    order statistics are the products'), without making the product."""
    flat = selected(np.ascontiguousarray(values), where)
    n = flat.size
    if n <= chunked_above or (n <= NAN_CHECKED_UP_TO and flat.dtype.kind == "f" and np.isnan(flat.max())):
        return _from_copy(flat, qs, scale)
    virtuals = [_virtual_index(q, n) for q in qs]
    sample = np.sort(flat[:: _sample_step(n)])
    brackets = [_sample_bracket(n, len(sample), int(np.floor(v))) for v in virtuals]
    out = []
    for virtual, (first, last) in zip(virtuals, brackets):
        low = int(np.floor(virtual))
        lo = sample[first] if first > 0 else -np.inf
        hi = sample[last] if last < len(sample) - 1 else np.inf
        a, b = _order_pair(flat, lo, hi, low)
        out.append(np.float64(_lerp(*_scaled(a, b, scale), virtual - low)))
    return out


def _sample_step(n: int) -> int:
    """Every how many of ``n`` values one goes into the sample: a prime (the sample's size as SAMPLE_SHARE,
    SMALLEST_SAMPLE and PERCENTILE_SAMPLE have it, or a little smaller)."""
    step = max(n // min(max(n // SAMPLE_SHARE, SMALLEST_SAMPLE), PERCENTILE_SAMPLE), 1)
    while step > 2 and any(step % d == 0 for d in range(2, int(step**0.5) + 1)):
        step += 1
    return step


def _from_copy(flat: np.ndarray, qs: tuple[float, ...], scale: float | None) -> list:
    """``np.percentile(flat * scale, qs)``, each selected from one copy of ``flat`` in turn."""
    if flat.size == 0 or (flat.dtype.kind == "f" and np.isnan(flat.max())):
        return list(np.percentile(flat if scale is None else flat * scale, qs))  # NumPy's answer: an error, or NaN
    part = flat.copy()
    out = []
    for q in qs:
        virtual = _virtual_index(q, flat.size)
        low = int(np.floor(virtual))
        out.append(np.float64(_lerp(*_scaled(*_order_stats(part, low), scale), virtual - low)))
    return out


def _scaled(a, b, scale: float | None) -> tuple:
    """Two of the values as the product with ``scale`` has them (the values themselves without one)."""
    return (a, b) if scale is None else (a * scale, b * scale)


def _virtual_index(q: float, n: int):
    """Where percentile ``q`` of ``n`` sorted values lies between them, as NumPy computes it."""
    return np.asarray(q / 100) * (n - 1)


def _order_stats(values: np.ndarray, k: int) -> tuple:
    """The k-th and (k+1)-th smallest of ``values`` (the last twice at the end), partitioning them in place.
    One place at a time: NumPy partitions at a single place with its vectorised selection, 10x faster than at
    two (a 384 px crop: 0.09 ms against 1.1); the next value is then the smallest above it (NaN counted last)."""
    values.partition(k)
    return values[k], (np.fmin.reduce(values[k + 1 :]) if k + 1 < values.size else values[k])


def selected(values: np.ndarray, where: np.ndarray | None) -> np.ndarray:
    """``values`` flat, only those at ``where`` (a mask of their shape; one selecting nothing: all of them), as
    :func:`percentiles` reads them."""
    flat = np.ravel(values)
    return flat[np.ravel(where)] if where is not None and np.any(where) else flat  # a copy only of frames with gaps


def _sample_bracket(n: int, samples: int, k: int) -> tuple[int, int]:
    """Places in the sorted sample (of ``samples`` of ``n`` values) that bracket the k-th smallest value
    with a wide margin: 8 binomial standard deviations of the sample's count below it, and 16 places more."""
    share = k / max(n - 1, 1)
    where = share * (samples - 1)
    margin = int(8 * np.sqrt(samples * share * (1 - share))) + 16
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
        return _order_stats(flat.copy(), k)
    return _order_stats(inside, picks[0])


def _lerp(a, b, t):
    """NumPy's percentile interpolation (``_lerp``), in the same types and order of operations."""
    diff = b - a
    return b - diff * (1 - t) if t >= 0.5 else a + diff * t
