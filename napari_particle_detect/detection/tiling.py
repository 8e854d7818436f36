"""Where each tile of a frame goes, and the frame's heatmap decoded band by band as tiles arrive.

A frame is cut into overlapping windows that start on multiples of the network's stride; each keeps
only its interior, ``margin`` away from cuts (tiles on the image border keep their outer side too),
and where interiors overlap the first tile in raster order owns the pixels. Tiles arrive row by row,
so once a row of tiles is in, every heatmap row far enough above the next row's first pixel is
final: peaks are found there and those rows are let go. Memory holds one band of rows, not the
heatmap of the whole frame (a 16384² image would need a gigabyte for it, several times over).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scipy.spatial import cKDTree

from ..kinds.heatmap import DEFAULT_SIGMA, ResidualRule, one_per_plateau, refine


@dataclass(frozen=True)
class Tile:
    y: int  # window origin in the working frame (the window may reach past it into padding)
    x: int
    row: int  # index of the tile row; a row's tiles finish one band of the heatmap
    keep: tuple[slice, slice]  # the part of the window's output this tile owns
    dest: tuple[slice, slice]  # where that part lies in the working frame


@dataclass(frozen=True)
class TilePlan:
    shape: tuple[int, int]  # working frame
    window: tuple[int, int]  # every tile's size (a multiple of the stride)
    pad_mode: str  # how windows reaching past the frame are filled (as a whole-image pass would)
    tiles: tuple[Tile, ...]
    band_ends: tuple[int, ...]  # last row (exclusive) each tile row finishes


def _starts(length: int, window: int, step: int) -> list[int]:
    if length <= window:
        return [0]
    starts = list(range(0, length - window, step))
    starts.append(length - window)
    return starts


def _owned(starts: list[int], window: int, padded: int, margin: int, length: int) -> list[tuple[int, int, int]]:
    """Per tile start along one axis: (start, first owned, end owned) in frame coordinates."""
    spans, end_before = [], 0
    for start in starts:
        first = start if start == 0 else start + margin
        end = start + window if start + window >= padded else start + window - margin
        first = max(first, end_before)  # the earlier tile keeps what both hold
        spans.append((start, first, min(end, length)))
        end_before = end
    return spans


def _core(window: int, stride: int, margin: int) -> int:
    core = window - 2 * margin
    return core - core % stride


def _balanced(length: int, tile: int, stride: int, margin: int) -> int:
    """The smallest window (a multiple of the stride, at most ``tile``) that covers ``length`` in as
    few tiles as ``tile`` would: equal tiles overlap less than full ones plus a last, mostly shared one
    (a 2560 px side takes three 920 px tiles instead of three of 1024, 19 % fewer pixels each way)."""
    if length <= tile:
        return length
    count = len(_starts(length, tile, _core(tile, stride, margin)))
    for window in range(-(-(2 * margin + stride) // stride) * stride, tile + 1, stride):
        if len(_starts(length, window, _core(window, stride, margin))) <= count:
            return window
    return tile


def plan_tiles(shape: tuple[int, int], stride: int, tile: int, margin: int) -> TilePlan:
    """Tiles of at most ``tile`` px covering a frame of ``shape`` for a network of ``stride``."""
    h, w = int(shape[0]), int(shape[1])
    ph, pw = -(-h // stride) * stride, -(-w // stride) * stride
    tile = max(-(-int(tile) // stride) * stride, 2 * margin + stride)
    win_h, win_w = _balanced(ph, tile, stride, margin), _balanced(pw, tile, stride, margin)
    rows = _owned(_starts(ph, win_h, _core(win_h, stride, margin)), win_h, ph, margin, h)
    cols = _owned(_starts(pw, win_w, _core(win_w, stride, margin)), win_w, pw, margin, w)
    tiles = []
    for r, (y, y0, y1) in enumerate(rows):
        for x, x0, x1 in cols:
            if y1 > y0 and x1 > x0:
                tiles.append(Tile(y, x, r, (slice(y0 - y, y1 - y), slice(x0 - x, x1 - x)),
                                  (slice(y0, y1), slice(x0, x1))))
    pad_mode = "reflect" if min(h, w) > stride else "replicate"
    return TilePlan((h, w), (win_h, win_w), pad_mode, tuple(tiles), tuple(end for _, _, end in rows))


@dataclass
class BandDecoder:
    """A frame's heatmap put together from its tiles; peaks found band by band as rows finish.

    ``steps`` supplies the array operations (NumPy on the host or torch on a device). With
    ``keep_heatmap`` the whole heatmap is kept as well (for display); peaks are found the same way.
    """

    steps: Any
    plan: TilePlan
    threshold: float
    min_distance: int
    keep_heatmap: bool = False
    # With a rule, the particles the peaks leave unexplained are found too (heatmap.ResidualRule),
    # their peaks drawn as Gaussians of the rule's width times ``sigma`` (the model card's).
    residual: ResidualRule | None = None
    sigma: float = DEFAULT_SIGMA
    heatmap: Any = None
    _band: Any = None
    _band_start: int = 0  # first frame row the band holds
    _decided: int = 0  # rows above this have had their peaks found
    _waiting: dict[int, int] = field(default_factory=dict)  # tiles still missing per tile row
    _peaks: list = field(default_factory=list)
    _values: list = field(default_factory=list)
    _more_peaks: list = field(default_factory=list)  # found in the residual (see ``residual``)
    _more_values: list = field(default_factory=list)

    def __post_init__(self) -> None:
        for t in self.plan.tiles:
            self._waiting[t.row] = self._waiting.get(t.row, 0) + 1
        self._halo = max(int(self.min_distance), 1)  # context rows a peak test and its stencil need
        if self.residual is not None:
            # ... and the drawings of the peaks that far out, which reach into the rows decided.
            self._halo += self.residual.reach(self.sigma) + 1
        if self.keep_heatmap:
            self.heatmap = self.steps.empty(self.plan.shape)

    @property
    def done(self) -> bool:
        return not self._waiting

    def add(self, tile: Tile, output) -> None:
        """Place one tile's network output (the whole window) and decode whatever rows it finishes."""
        part = output[tile.keep]
        if self._band is None or tile.dest[0].stop > self._band_start + self._band.shape[0]:
            self._new_band(self.plan.band_ends[tile.row])
        rows = slice(tile.dest[0].start - self._band_start, tile.dest[0].stop - self._band_start)
        self._band[rows, tile.dest[1]] = part
        if self.heatmap is not None:
            self.heatmap[tile.dest] = part
        self._waiting[tile.row] -= 1
        if self._waiting[tile.row] == 0:
            del self._waiting[tile.row]
            last = not self._waiting
            self._decide(self.plan.shape[0] if last else self.plan.band_ends[tile.row] - self._halo)

    def _new_band(self, end: int) -> None:
        start = max(self._decided - self._halo, 0)
        band = self.steps.empty((end - start, self.plan.shape[1]))
        if self._band is not None:
            held = self._band_start + self._band.shape[0]
            band[: held - start] = self._band[start - self._band_start :]
        self._band, self._band_start = band, start

    def _decide(self, until: int) -> None:
        """Find the peaks in rows [decided, until), reading ``halo`` rows of context on either side."""
        if until <= self._decided:
            return
        lo = max(self._decided - self._halo, self._band_start)
        hi = min(until + self._halo, self._band_start + self._band.shape[0])
        view = self._band[lo - self._band_start : hi - self._band_start]
        rows = (self._decided - lo, until - lo)
        if self.residual is None:
            found, values = self.steps.maxima_and_stencils(view, self.threshold, self.min_distance, rows)
        else:
            found, values = self._with_residual(view, rows, lo)
        self._values.append(values)
        found[:, 0] += lo
        self._peaks.append(found)
        self._decided = until

    def _with_residual(self, view, rows: tuple[int, int], lo: int) -> tuple[np.ndarray, np.ndarray]:
        """The peaks in ``rows`` of ``view`` as :meth:`_decide` finds them; the residual's peaks there
        (see ``residual``) go to ``_more_peaks`` (frame rows) and ``_more_values``.

        What is drawn and what counts as more depend on the rule's level, not on ``threshold``, so a
        frame scored at a low threshold (a round's held-out tiles) finds the particles detection
        finds at a higher one (those of them that score above it)."""
        rule = self.residual
        floor = min(self.threshold, rule.level)
        everywhere, values = self.steps.maxima_and_stencils(view, floor, self.min_distance, (0, view.shape[0]))
        centres = refine(everywhere, values)
        drawn = values[0] > rule.level
        more, more_values = self.steps.residual_maxima(view, centres[drawn], values[0][drawn], rule.width * self.sigma,
                                                       max(rule.level, self.threshold), self.min_distance, rows)
        if len(more) and drawn.any():
            # Apart from the peaks drawn: a weaker peak within ``apart`` would not be a local maximum
            # beside a pixel above the level, so none is left out of this.
            apart = cKDTree(centres[drawn]).query(refine(more, more_values))[0] >= rule.apart
            more, more_values = more[apart], more_values[:, apart]
        more[:, 0] += lo
        self._more_peaks.append(more)
        self._more_values.append(more_values)
        found = (everywhere[:, 0] >= rows[0]) & (everywhere[:, 0] < rows[1]) & (values[0] > self.threshold)
        return everywhere[found], values[:, found]

    def peaks(self) -> tuple[np.ndarray, np.ndarray]:
        """Integer peaks of the whole frame (one per plateau) and their stencil values (5, N): the
        heatmap's, then (with ``residual``) the residual's, whose values are the residual's."""
        peaks, values = self._one_per_plateau(self._peaks, self._values)
        if self.residual is not None:
            more, more_values = self._one_per_plateau(self._more_peaks, self._more_values)
            peaks, values = np.concatenate([peaks, more]), np.concatenate([values, more_values], axis=1)
        self._band = None
        return peaks, values

    def _one_per_plateau(self, parts: list, value_parts: list) -> tuple[np.ndarray, np.ndarray]:
        peaks = np.concatenate(parts) if parts else np.zeros((0, 2), np.intp)
        values = np.concatenate(value_parts, axis=1) if value_parts else np.zeros((5, 0), np.float32)
        kept = one_per_plateau(peaks)
        if len(kept) < len(peaks):
            keys = peaks[:, 0] * self.plan.shape[1] + peaks[:, 1]
            values = values[:, np.searchsorted(keys, kept[:, 0] * self.plan.shape[1] + kept[:, 1])]
        return kept, values
