"""Particles as blobs in scale space: round maxima, over position and scale, of the
scale-normalised Laplacian of Gaussian, weighed against the response the image's own pixel noise
gives at each scale.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache, partial

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import ndimage
from scipy.spatial import cKDTree

from .gaussian_laplacians import GaussianLaplacians
from .percentiles import percentiles

# Scale-normalised LoG of a disc of radius r peaks near sigma = r / sqrt(2).
DISC_SIGMA_TO_DIAMETER = 2.0 * np.sqrt(2.0)
# A ridge (a ring's arc, a line) is no particle: its Hessian has one large eigenvalue.
BLOB_MAX_ELONGATION = 4.0


@dataclass(frozen=True)
class Blobs:
    """Particle-like blobs, strongest first: centres (px), scale (px, refined between scales) and
    the scale-normalised |LoG| response there."""

    y: np.ndarray
    x: np.ndarray
    sigma: np.ndarray
    response: np.ndarray

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, keep) -> Blobs:
        return Blobs(self.y[keep], self.x[keep], self.sigma[keep], self.response[keep])

    def centres(self) -> np.ndarray:
        return np.stack([self.y, self.x], axis=1)


@dataclass
class ScaleSpace:
    """Scale-normalised Laplacian-of-Gaussian responses of one image at several scales, and their
    local maxima at least ``min_contrast`` times the pixel noise's response.

    Large scales are computed on a reduced copy (``factors``): same answer, far less time.

    Each scale is kept as its float32 Laplacian and its normaliser, not as their float64 product: the product
    rounds each float32 value to a distinct float64 in the same order, so maxima, comparisons and order statistics
    read from the float32 values are the product's, with half the memory traffic of each scale's arrays.
    """

    image: np.ndarray
    sigmas: np.ndarray
    factors: list[int]
    unnormalised: list[np.ndarray]  # the Laplacian on each scale's grid, float32; signed: bright blobs negative
    normalisers: np.ndarray  # per scale: the reduced sigma squared (float64), the response over the Laplacian
    peaks: list[np.ndarray]  # (y, x) on each scale's grid
    neighbourhoods: list[np.ndarray]  # largest |Laplacian| in each 3 x 3 neighbourhood, float32
    noise: np.ndarray  # per scale: the response's standard deviation for the image's pixel noise
    strengths: np.ndarray  # per scale: the 99th percentile of |response|
    laplacians: GaussianLaplacians | None = None  # the image's (not reduced), for :meth:`laplacian`

    @classmethod
    def of(cls, image: np.ndarray, sigmas: np.ndarray, min_contrast: float,
           noise: np.ndarray | None = None) -> ScaleSpace:
        """``noise``: each scale's noise response (:func:`noise_responses`), where not the image's own pixel noise's."""
        # SciPy's filters and transforms release the GIL, so the scales run side by side on the host's cores.
        pool = _scale_pool()
        pixel_noise = pool.submit(pixel_noise_level, image) if noise is None else None
        reductions = [reduction_factor(s) for s in sigmas]
        laplacians = {f: GaussianLaplacians(image[::f, ::f], max(s / f for s, g in zip(sigmas, reductions) if g == f))
                      for f in sorted(set(reductions))}
        if pixel_noise is not None:
            noise = noise_responses(pixel_noise.result(), sigmas)
        parts = _side_by_side(pool, partial(_scale_response, laplacians, min_contrast), list(zip(sigmas, noise)),
                              _POOL_WORKERS)
        return cls(image, np.asarray(sigmas), [p.factor for p in parts], [p.laplacian for p in parts],
                   np.array([p.normaliser for p in parts]), [p.peaks for p in parts], [p.neighbourhood for p in parts],
                   np.array([p.noise for p in parts]), np.array([p.strength for p in parts]), laplacians.get(1))

    def response(self, i: int) -> np.ndarray:
        """The scale-normalised response at scale ``i`` on its grid (float64)."""
        return self.unnormalised[i] * self.normalisers[i]

    def laplacian(self, sigma: float) -> np.ndarray:
        """``ndimage.gaussian_laplace(image, sigma)`` (not scale-normalised), from the transform the
        scale space keeps where its mirrored margin reaches that far."""
        if self.laplacians is not None and self.laplacians.reaches(sigma):
            return self.laplacians(sigma)
        return ndimage.gaussian_laplace(self.image, sigma)

    def percentile_sigma(self) -> float:
        """The scale whose 99th percentile of |response| is highest (crowded particles, not
        background, dominate it), refined by a parabola in log-sigma."""
        strengths = self.strengths
        best = int(np.argmax(strengths))
        if 0 < best < len(self.sigmas) - 1:
            return self._refined(best, parabola_vertex(*strengths[best - 1 : best + 2]))
        return float(self.sigmas[best])

    def _refined(self, index, shift):
        log_s = np.log(self.sigmas)
        return np.exp(log_s[index] + shift * (log_s[1] - log_s[0]))

    def busyness(self, sigma: float) -> float:
        """Spread of the response at the scale nearest ``sigma`` over the pixel noise's alone: about
        1 where particles sit apart on a flat background, far more where structure is everywhere."""
        i = int(np.argmin(np.abs(np.log(self.sigmas / sigma))))
        response = self.response(i)
        spread = 1.4826 * _median(np.abs(response - _median(response)))
        return float(spread / max(self.noise[i], 1e-12))

    def blobs(self) -> Blobs:
        """The peaks that are maxima over scale too and blob-like (not a ridge), strongest first,
        none inside a stronger one's radius."""
        mirrored = self._mirrored()
        parts = [part for i in range(len(self.factors)) if (part := self._scale_blobs(mirrored, i)) is not None]
        if not parts:
            return Blobs(*(np.zeros(0) for _ in range(4)))
        found = Blobs(*(np.concatenate(column).astype(float) for column in zip(*parts)))
        return _prune(found[np.argsort(-found.response, kind="stable")])

    def _mirrored(self) -> dict[int, tuple[np.ndarray, int]]:
        """Per reduction factor: the reduced image mirrored out once by the widest Hessian kernel of its scales, and
        that reach (a narrower kernel's mirrored image is the middle of it: :func:`_blob_like`)."""
        reaches: dict[int, int] = {}
        for s, f in zip(self.sigmas, self.factors):
            reaches[f] = max(reaches.get(f, 0), _hessian_radius(s / f))
        return {f: (np.pad(self.image[::f, ::f], r, mode="symmetric"), r) for f, r in reaches.items()}

    def _scale_blobs(self, mirrored: dict[int, tuple[np.ndarray, int]], i: int) -> tuple | None:
        """Scale ``i``'s peaks that are maxima over scale too and blob-like: (y, x, refined sigma, response), or None."""
        f = self.factors[i]
        ys, xs = self.peaks[i].T
        if len(ys) == 0:
            return None
        full_y, full_x = ys * f, xs * f
        values = np.abs(self.unnormalised[i][ys, xs] * self.normalisers[i])
        keep = np.ones(len(ys), bool)
        for j in (i - 1, i + 1):
            if 0 <= j < len(self.factors):
                keep &= values >= self._sample(self.neighbourhoods, j, full_y, full_x)
        keep[keep] = _blob_like(self.image[::f, ::f], self.sigmas[i] / f, ys[keep], xs[keep], mirrored[f])
        full_y, full_x, values = full_y[keep], full_x[keep], values[keep]
        shift = np.zeros(len(values))
        if 0 < i < len(self.factors) - 1:
            lower = np.abs(self._sample(self.unnormalised, i - 1, full_y, full_x))
            upper = np.abs(self._sample(self.unnormalised, i + 1, full_y, full_x))
            shift = parabola_vertices(lower, values, upper)
        return full_y, full_x, self._refined(i, shift), values

    def _sample(self, arrays: list[np.ndarray], j: int, y: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Scale ``j``'s ``arrays`` (Laplacians or their neighbourhoods) at full-grid (y, x), scale-normalised."""
        f, a = self.factors[j], arrays[j]
        return a[np.minimum(y // f, a.shape[0] - 1), np.minimum(x // f, a.shape[1] - 1)] * self.normalisers[j]


def _prune(blobs: Blobs) -> Blobs:
    """From the strongest down, a blob whose centre lies inside a kept one's radius (or whose radius
    holds a kept one's centre) goes."""
    if len(blobs) < 2:
        return blobs
    radius = blobs.sigma * DISC_SIGMA_TO_DIAMETER / 2
    centres = blobs.centres()
    pairs = cKDTree(centres).query_pairs(float(radius.max()), output_type="ndarray")
    if len(pairs):
        d = np.linalg.norm(centres[pairs[:, 0]] - centres[pairs[:, 1]], axis=1)
        pairs = pairs[d < np.maximum(radius[pairs[:, 0]], radius[pairs[:, 1]])]
    # Blobs are sorted strongest first, so in each pair the smaller index is the stronger. Python lists, not
    # NumPy rows and scalars, in the loops: a quarter less time (886 blobs of a crowded 384 px crop: 0.6 ms, not 0.8).
    weaker = [[] for _ in range(len(blobs))]
    for a, b in np.sort(pairs, axis=1).tolist():
        weaker[a].append(b)
    gone = [False] * len(blobs)
    for i, others in enumerate(weaker):
        if others and not gone[i]:
            for b in others:
                gone[b] = True
    return blobs[~np.array(gone, dtype=bool)]


def reduction_factor(sigma: float) -> int:
    """How many times the image is reduced (by taking every so many pixels) for the scale ``sigma``:
    the scale stays at least 3 px on the reduced grid."""
    return max(1, int(sigma // 3))


@dataclass(frozen=True)
class _Scale:
    """One scale of a :class:`ScaleSpace`."""

    factor: int  # the reduction
    laplacian: np.ndarray  # the LoG on the reduced grid (float32; not scale-normalised)
    normaliser: np.float64  # the reduced sigma squared: the response is the laplacian times it
    peaks: np.ndarray  # (y, x) on the reduced grid of the response's local maxima that stand out of the noise
    neighbourhood: np.ndarray  # the |laplacian|'s 3 x 3 neighbourhood maximum
    noise: float  # the pixel noise's response
    strength: float  # the response magnitude's 99th percentile


def noise_responses(pixel_noise: float, sigmas: np.ndarray) -> np.ndarray:
    """Per scale: the response of white pixel noise of ``pixel_noise`` on the grid the scale is read on
    (:func:`reduction_factor`; taking every f-th pixel keeps the noise's, so it weighs f times more)."""
    return np.array([pixel_noise * _white_noise_gain(np.float64(s / reduction_factor(s))) for s in sigmas])


def _scale_response(laplacians: dict[int, GaussianLaplacians], min_contrast: float, sigma: float,
                    noise: float) -> _Scale:
    """The scale ``sigma``: peaks stand at least ``min_contrast`` times its ``noise`` response.
    ``laplacians``: the image's, reduced by each factor (1: not reduced)."""
    factor = reduction_factor(sigma)
    s = np.float64(sigma / factor)
    laplacian = laplacians[factor].view(s)
    magnitude = np.abs(laplacian)
    neighbourhood = maximum_3x3(magnitude)
    maxima = np.flatnonzero(magnitude == neighbourhood)
    found = maxima[magnitude.ravel()[maxima] * (s * s) >= min_contrast * noise]
    return _Scale(factor, laplacian, s * s, np.stack(np.divmod(found, magnitude.shape[1]), axis=1), neighbourhood,
                  noise, percentiles(magnitude, (99.0,), scale=s * s)[0])


def maximum_3x3(values: np.ndarray) -> np.ndarray:
    """``ndimage.maximum_filter(values, size=3)`` (its 'reflect' edges: a border pixel's outside neighbour
    is itself) from shifted views: the same values, 14x faster on a 384 px image (0.12 against 1.7 ms)."""
    out = values.copy()
    np.maximum(out[:, 1:], values[:, :-1], out=out[:, 1:])
    np.maximum(out[:, :-1], values[:, 1:], out=out[:, :-1])
    rows = out.copy()
    np.maximum(out[1:], rows[:-1], out=out[1:])
    np.maximum(out[:-1], rows[1:], out=out[:-1])
    return out


def _blob_like(image: np.ndarray, sigma: float, ys: np.ndarray, xs: np.ndarray,
               mirrored: tuple[np.ndarray, int] | None = None) -> np.ndarray:
    """Whether the Hessian at scale ``sigma`` is a blob's at each (y, x): eigenvalues of one sign, at
    most BLOB_MAX_ELONGATION apart (a ridge, such as a ring's arc, has one large eigenvalue).
    Computed at those points only, with the Gaussian derivative kernels SciPy's filters use. ``mirrored``:
    ``image`` mirrored out ('symmetric') by a reach at least the kernels', and that reach."""
    if len(ys) == 0:
        return np.zeros(0, bool)
    radius = _hessian_radius(sigma)
    padded, reach = mirrored if mirrored is not None else (np.pad(image, radius, mode="symmetric"), radius)
    g, g1, g2, columns_kernel = _hessian_kernels(float(sigma))
    side = 2 * radius + 1
    # A strided view gathers the windows 10x faster than index arithmetic, and contracting the columns by
    # matrix product before the rows, 4x faster than einsum: 0.3 ms against 3.4 for 300 windows of 43 px.
    windows = sliding_window_view(padded, (side, side))[ys + (reach - radius), xs + (reach - radius)]
    columns = windows @ columns_kernel  # (points, rows, kernel)
    hyy, hxx, hxy = columns[:, :, 0] @ g2, columns[:, :, 1] @ g, columns[:, :, 2] @ g1
    trace, det = hyy + hxx, hyy * hxx - hxy**2
    # Eigenvalue ratio at most r: tr^2 / det <= (r + 1)^2 / r, with det > 0.
    r = BLOB_MAX_ELONGATION
    return (det > 0) & (trace**2 * r <= det * (r + 1) ** 2)


@lru_cache(maxsize=64)
def _hessian_kernels(sigma: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The Gaussian, first and second derivative kernels of :func:`_blob_like` at ``sigma``, and the three stacked as
    its columns are contracted with: made once per scale (the size estimate reads the same scales in every frame;
    making them cost a sixth of the blob test)."""
    radius = _hessian_radius(sigma)
    t = np.arange(-radius, radius + 1, dtype=float)
    g = np.exp(-0.5 * (t / sigma) ** 2)
    g /= g.sum()
    g1 = -t / sigma**2 * g
    g2 = (t**2 / sigma**4 - 1 / sigma**2) * g
    g2 -= g2.mean()  # a flat image has no curvature
    kernels = (g, g1, g2, np.stack([g, g2, g1], axis=1))
    for kernel in kernels:
        kernel.flags.writeable = False  # shared by every call at this scale
    return kernels


def _hessian_radius(sigma: float) -> int:
    """The reach of :func:`_blob_like`'s kernels at scale ``sigma``."""
    return int(4.0 * sigma + 0.5)


def pixel_noise_level(image: np.ndarray) -> float:
    """Standard deviation of white pixel noise, from a mask blind to planes (Immerkaer), robustly."""
    # The mask is the outer product of second differences with themselves.
    filtered = _second_difference(_second_difference(np.asarray(image, dtype=np.float32), 0), 1)
    return float(_median(np.abs(filtered)) / (0.6745 * 6.0))


def _second_difference(values: np.ndarray, axis: int) -> np.ndarray:
    """``ndimage.correlate1d(values, [1, -2, 1], axis, mode="reflect")`` of float32 ``values``, bit for bit: the
    same float64 sums in the same order (SciPy adds a symmetric kernel's outer pair first), rounded to float32
    once. 3x faster down the columns, which SciPy reads strided (0.14 ms against 0.5 on a 384 px crop)."""
    along = np.moveaxis(np.asarray(values, dtype=np.float64), axis, 0)
    padded = np.concatenate([along[:1], along, along[-1:]])  # 'reflect': an edge pixel's outer neighbour is itself
    total = along * -2.0
    total += padded[:-2] + padded[2:]
    return np.moveaxis(total.astype(np.float32), 0, axis)


def _median(values: np.ndarray) -> float:
    """``np.median`` of a big array, to float rounding (``percentiles``': NumPy's 50th percentile, faster)."""
    return float(percentiles(values, (50.0,))[0])


_GAINS: dict[float, float] = {}


def _white_noise_gain(sigma: float) -> float:
    """Standard deviation of the scale-normalised LoG response to unit white noise at ``sigma``."""
    key = round(sigma, 4)
    if key not in _GAINS:
        half = int(np.ceil(4 * sigma)) + 2
        delta = np.zeros((2 * half + 1, 2 * half + 1))
        delta[half, half] = 1.0
        kernel = ndimage.gaussian_laplace(delta, sigma) * sigma**2
        _GAINS[key] = float(np.sqrt(np.sum(kernel**2)))
    return _GAINS[key]


def parabola_vertices(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """:func:`parabola_vertex` of many triples at once."""
    denom = a - 2 * b + c
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(denom != 0, 0.5 * (a - c) / denom, 0.0)
    return np.clip(np.nan_to_num(shift), -0.5, 0.5)


def parabola_vertex(a: float, b: float, c: float) -> float:
    """Offset of the vertex of the parabola through (-1, a), (0, b), (1, c), clipped to [-0.5, 0.5]."""
    denom = a - 2 * b + c
    return float(np.clip(0.5 * (a - c) / denom, -0.5, 0.5)) if denom != 0 else 0.0


_POOL: list[ThreadPoolExecutor] = []
_POOL_WORKERS = 1  # the pool's threads
_POOL_STARTING = threading.Lock()


def _scale_pool() -> ThreadPoolExecutor:
    """The threads scale spaces are computed on, started once: a pool started per scale space cost 0.24 ms of CPU
    and 0.6 ms of wall time each (the size estimate reads one or two per frame)."""
    global _POOL_WORKERS
    with _POOL_STARTING:
        if not _POOL:
            _POOL_WORKERS = _usable_cores()
            _POOL.append(ThreadPoolExecutor(max_workers=_POOL_WORKERS, thread_name_prefix="scale-space"))
        return _POOL[0]


def _side_by_side(pool: ThreadPoolExecutor, work, items: list[tuple], threads: int) -> list:
    """``work(*item)`` of each item, in order, on up to ``threads`` threads: the calling thread (which would only wait)
    and ``threads - 1`` of the pool's, each taking the next item left until none is (a thread the host leaves waiting
    holds up no share of them). A task per scale cost a hand-over each way per scale (the size estimate's 12 scales:
    4 % of the scale space's CPU on 2 loaded cores)."""
    results = [None] * len(items)
    order = iter(range(len(items)))
    taking = threading.Lock()

    def take_until_done() -> None:
        while True:
            with taking:
                i = next(order, None)
            if i is None:
                return
            results[i] = work(*items[i])

    helpers = [pool.submit(take_until_done) for _ in range(min(threads, len(items)) - 1)]
    take_until_done()
    for helper in helpers:
        if not helper.cancel():  # one that never started has nothing left to take
            helper.result()
    return results


def _forget_pool() -> None:
    """In a forked child, which has none of the parent's threads (nor its lock's holder): it starts its own."""
    global _POOL_STARTING
    _POOL.clear()
    _POOL_STARTING = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def _usable_cores() -> int:
    """Cores this process may run on (affinity and container limits included where the OS says)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1
