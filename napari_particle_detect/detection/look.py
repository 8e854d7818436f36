"""Whether the particles are ringed (a bright-field look: a core inside an opposite-signed rim), read
around the network's own detections when the user has given the diameter.

The look decides one step of decoding (ringed particles' rims draw weak responses, which are dropped:
prediction.SHADOW_RATIO), so it is needed only once the first frame's peaks are found. Reading it
there, from the mean radial profile around the strongest peaks, replaces a scale-space search for
particle-like blobs that cost 0.06-0.07 s of CPU on every call, beside the network (0.04 s on a 512 px
image), for the same answer where it matters: on 500 random images of the generator's spread
(benchmarks/look_check.py) it reads 80 of 130 rimmed ones as ringed against the blob search's 55,
and none of 370 plain ones (none), at the same F1 (the rule moves little where the reads differ).
"""

from __future__ import annotations

import numpy as np
import torch

from .sizing import MIN_CONVINCING_BLOBS, GreyLevels, central_corner, radial_profile, ring_diameter, ring_reach

# The strongest peaks whose mean profile is read: hundreds of particles, bounded time.
LOOK_PEAKS = 200
# The profile is read in a central square this many particle diameters wide (about the 384 px the
# blob search read on 12 px particles); the whole frame where it holds too few peaks.
LOOK_CROP_DIAMETERS = 32
# Only peaks scoring this much tell the look: a frame of camera noise alone draws a few weaker ones
# (0.3-0.5), enough to count as a frame with particles and lock a stack's look as plain.
LOOK_MIN_SCORE = 0.5


# A user who gives a ringed particle's core as its diameter (its bright spot, as trackpy's diameter would
# measure it) puts the core at the whole diameter and the rim beyond it: the ring is looked for there too.
# On the generator's random bright-field images with half their diameter given, it was found so in 38 of 80
# (at the usual half diameter in none); given their true diameter, so in 1 of 80 (57 at the half diameter);
# on its random plain images given their true diameter, in none of 280.
CORE_GIVEN = 1.0


def ringed_around(image: np.ndarray | torch.Tensor, peaks: np.ndarray, scores: np.ndarray,
                  diameter: float) -> bool | None:
    """Whether particles of ``diameter`` px at integer ``peaks`` (y, x) of ``image`` (what the network
    read: a NumPy array or a device tensor) sit in opposite-signed rings; None where fewer than
    MIN_CONVINCING_BLOBS peaks scoring at least LOOK_MIN_SCORE leave nothing to tell."""
    profile = _strongest_peaks(image, peaks, scores, diameter)
    return None if profile is None else _ring(*profile, 0.5 * diameter) is not None


def _strongest_peaks(image: np.ndarray | torch.Tensor, peaks: np.ndarray, scores: np.ndarray,
                     diameter: float) -> tuple[np.ndarray, np.ndarray] | None:
    """The crop whose profile is read around the strongest confident peaks, and those peaks in it (see
    :func:`ringed_around`); None where too few peaks tell."""
    side = int(LOOK_CROP_DIAMETERS * diameter)
    y0, x0 = central_corner(image.shape, (side, side))
    scores = np.asarray(scores).reshape(-1)
    confident = scores >= LOOK_MIN_SCORE
    peaks, scores = np.asarray(peaks).reshape(-1, 2)[confident], scores[confident]
    inside = (peaks[:, 0] >= y0) & (peaks[:, 0] < y0 + side) & (peaks[:, 1] >= x0) & (peaks[:, 1] < x0 + side)
    if inside.sum() < MIN_CONVINCING_BLOBS:
        y0, x0, side, inside = 0, 0, max(image.shape[-2:]), np.ones(len(peaks), bool)
    if inside.sum() < MIN_CONVINCING_BLOBS:
        return None
    strongest = np.argsort(-np.asarray(scores)[inside], kind="stable")[:LOOK_PEAKS]
    centres = peaks[inside][strongest] - np.array([y0, x0])
    crop = image[y0 : y0 + side, x0 : x0 + side]
    crop = crop.float().cpu().numpy() if isinstance(crop, torch.Tensor) else np.asarray(crop)
    return crop, centres


def _ring(crop: np.ndarray, centres: np.ndarray, core: float, levels: GreyLevels | None = None,
          profile: np.ndarray | None = None) -> float | None:
    # A ringed particle's blob is its core, about half its diameter (sizing.RING_MAX_REACH). The grey
    # levels it is judged against are the crop's every other pixel: the same levels in a quarter of the time;
    # ``levels`` and ``profile`` given where the same crop is read twice (a core's ring after the particles'),
    # read once.
    return ring_diameter(crop, core, centres, levels if levels is not None else GreyLevels.of(crop[::2, ::2]),
                         profile)


class StackLook:
    """The look of one stack, read once: on the first frame that has enough confident peaks to tell
    (frames before it, with fewer than MIN_CONVINCING_BLOBS, have no rims to drop). ``core_ring``: where the
    particles' rims were found only beyond the given diameter (CORE_GIVEN), their diameter (the network's px):
    the diameter given was their cores'."""

    def __init__(self, diameter: float):
        self.diameter = float(diameter)  # in the pixels the network reads
        self.ringed: bool | None = None
        self.core_ring: float | None = None

    def __call__(self, image: np.ndarray | torch.Tensor, peaks: np.ndarray, scores: np.ndarray) -> bool:
        if self.ringed is None:
            profile = _strongest_peaks(image, peaks, scores, self.diameter)
            if profile is not None:
                levels = GreyLevels.of(profile[0][::2, ::2])
                # Read once to the core's reach, the further one: most particles are plain, and read at both
                # (the rings out to the particles' reach are the same bit for bit, 0.3 ms less on 12 px ones).
                rings = radial_profile(*profile, ring_reach(CORE_GIVEN * self.diameter))
                self.ringed = _ring(*profile, 0.5 * self.diameter, levels, rings) is not None
                if not self.ringed:
                    self.core_ring = _ring(*profile, CORE_GIVEN * self.diameter, levels, rings)
                    self.ringed = self.core_ring is not None
        return bool(self.ringed)

    def state(self) -> dict:
        """What a stack stopped partway keeps of its look (JSON), so that going on reads it where the
        uninterrupted run read it (:meth:`of_state`): ``ringed`` null is not told yet, which a later frame may
        tell, unlike told plain (false)."""
        return {"diameter": self.diameter, "ringed": self.ringed, "core_ring": self.core_ring}

    @classmethod
    def of_state(cls, state: object) -> StackLook | None:
        """The look :meth:`state` kept; None where ``state`` is not one (absent, or written otherwise)."""
        if not isinstance(state, dict) or set(state) != {"diameter", "ringed", "core_ring"}:
            return None
        diameter, ringed, core_ring = state["diameter"], state["ringed"], state["core_ring"]
        if (not _positive_number(diameter) or not (ringed is None or isinstance(ringed, bool))
                or not (core_ring is None or _positive_number(core_ring))):
            return None
        if core_ring is not None and ringed is not True:  # a core's ring is found only where the look is ringed
            return None
        look = cls(diameter)
        look.ringed, look.core_ring = ringed, None if core_ring is None else float(core_ring)
        return look


def _positive_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value) and value > 0
