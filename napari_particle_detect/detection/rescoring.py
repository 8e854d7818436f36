"""The user's criterion: which of the network's candidates a person keeps, learned from their corrections.

The network proposes centres; people then keep or drop them by rules the network was never told:
a brightness cut (trackpy's ``minmass``), a minimum separation, out-of-focus particles left out.
A round learns such a rule as a classifier over a few measurements of each candidate (its
heatmap score, its integrated brightness at three radii, its contrast and size, and how close it is
to a stronger neighbour), trained on the candidates of the user's reviewed areas: kept (matched to
a corrected centre) or not. Its probability replaces the heatmap score, so the threshold slider
still works. Everything is measured at the model's working scale, so the rule carries over to
images of other magnifications once they are rescaled like the training frames.

The classifier is saved beside the network's weights with skops, which runs no code from the file.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

FEATURES = ("score", "mass_half", "mass", "mass_wide", "peak", "contrast", "size", "stronger_near",
            "stronger_mass_ratio", "heavier_near", "crowding")
# Candidates' integrated brightness is taken in discs of these multiples of the particle radius.
MASS_RADII = (0.5, 1.0, 1.5)


def candidate_features(image: np.ndarray, centres: np.ndarray, scores: np.ndarray, diameter: float) -> np.ndarray:
    """(N, len(FEATURES)) measurements of candidates at (y, x) in ``image`` (normalised, working scale).

    ``diameter`` is the particles' size in ``image``'s pixels (the model's working size).
    """
    centres = np.asarray(centres, dtype=float).reshape(-1, 2)
    scores = np.asarray(scores, dtype=float)
    n = len(centres)
    if n == 0:
        return np.zeros((0, len(FEATURES)), dtype=np.float32)
    image = np.asarray(image, dtype=np.float32)
    # trackpy's bandpass: a light blur against the local mean over about two diameters.
    band = ndimage.gaussian_filter(image, 1.0) - ndimage.uniform_filter(image, size=int(2 * round(diameter)) + 1)
    noise = 1.4826 * float(np.median(np.abs(band - np.median(band)))) + 1e-6
    radius = diameter / 2.0
    iy = np.clip(np.rint(centres[:, 0]).astype(int), 0, image.shape[0] - 1)
    ix = np.clip(np.rint(centres[:, 1]).astype(int), 0, image.shape[1] - 1)
    masses = [_disc_sums(band, iy, ix, max(1.0, k * radius)) / noise for k in MASS_RADII]
    peak = band[iy, ix] / noise
    ring = _disc_sums(band, iy, ix, 1.5 * radius) - _disc_sums(band, iy, ix, radius)
    ring_area = np.pi * ((1.5 * radius) ** 2 - radius**2)
    contrast = (masses[1] * noise / (np.pi * radius**2) - ring / ring_area) / noise
    size = _gyration(band, iy, ix, radius) / radius
    near, ratio, crowding = _neighbours(centres, scores, masses[1], diameter)
    # trackpy-like separation rules keep the heavier of two close features, whatever the network says.
    heavier_near, _, _ = _neighbours(centres, np.abs(masses[2]), masses[1], diameter)
    columns = [scores, *masses, peak, contrast, size, near, ratio, heavier_near, crowding]
    return np.nan_to_num(np.stack(columns, axis=1), nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)


def _disc_offsets(radius: float) -> tuple[np.ndarray, np.ndarray]:
    reach = int(np.ceil(radius))
    dy, dx = np.mgrid[-reach : reach + 1, -reach : reach + 1]
    inside = dy**2 + dx**2 <= radius**2
    return dy[inside], dx[inside]


def _disc_sums(image: np.ndarray, iy: np.ndarray, ix: np.ndarray, radius: float) -> np.ndarray:
    dy, dx = _disc_offsets(radius)
    ys = np.clip(iy[:, None] + dy[None], 0, image.shape[0] - 1)
    xs = np.clip(ix[:, None] + dx[None], 0, image.shape[1] - 1)
    return image[ys, xs].sum(axis=1)


def _gyration(image: np.ndarray, iy: np.ndarray, ix: np.ndarray, radius: float) -> np.ndarray:
    """Radius of gyration of the brightness of each candidate's disc (its absolute value, so dark
    and bright particles alike)."""
    dy, dx = _disc_offsets(radius)
    ys = np.clip(iy[:, None] + dy[None], 0, image.shape[0] - 1)
    xs = np.clip(ix[:, None] + dx[None], 0, image.shape[1] - 1)
    weight = np.abs(image[ys, xs])
    return np.sqrt((weight * (dy**2 + dx**2)[None]).sum(axis=1) / np.maximum(weight.sum(axis=1), 1e-9))


def _neighbours(centres: np.ndarray, scores: np.ndarray, mass: np.ndarray, diameter: float):
    """Distance (in diameters, capped at 3) to the nearest candidate that is stronger, its mass ratio,
    and the number of candidates within one diameter."""
    n = len(centres)
    near = np.full(n, 3.0)
    ratio = np.zeros(n)
    crowding = np.zeros(n)
    if n < 2:
        return near, ratio, crowding
    k = min(8, n)
    distances, indices = cKDTree(centres).query(centres, k=k)
    for i in range(n):
        others = indices[i, 1:]
        stronger = np.flatnonzero(scores[others] > scores[i])
        if len(stronger):
            j = others[stronger[0]]
            near[i] = min(distances[i, 1 + stronger[0]] / diameter, 3.0)
            ratio[i] = abs(mass[i]) / max(abs(mass[j]), 1e-6)
        crowding[i] = np.sum(distances[i, 1:] < diameter)
    return near, np.minimum(ratio, 10.0), crowding


class Criterion:
    """Which candidates the user keeps: gradient-boosted trees over :func:`candidate_features`.

    Trees, not a small network: users' rules are cuts (a brightness floor, a separation), which
    trees express exactly; on bulk water they matched the user's choices clearly better (F1 0.84
    against 0.82 on unseen frames). Saved with skops, which reads back only the types listed in
    TRUSTED_TYPES and never runs code from the file.
    """

    TRUSTED_TYPES = ["sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"]

    def __init__(self, classifier) -> None:
        self.classifier = classifier

    @classmethod
    def fit(cls, features: np.ndarray, kept: np.ndarray, seed: int = 0) -> "Criterion":
        from sklearn.ensemble import HistGradientBoostingClassifier

        classifier = HistGradientBoostingClassifier(max_iter=150, learning_rate=0.1, max_leaf_nodes=15,
                                                    min_samples_leaf=10, random_state=seed)
        return cls(classifier.fit(np.asarray(features, dtype=np.float32), np.asarray(kept, dtype=int)))

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        if not len(features):
            return np.zeros(0)
        return self.classifier.predict_proba(np.asarray(features, dtype=np.float32))[:, 1].astype(np.float64)

    def to_bytes(self) -> bytes:
        import skops.io

        return skops.io.dumps(self.classifier)

    @classmethod
    def from_bytes(cls, data: bytes, source: str = "criterion") -> "Criterion":
        import skops.io

        from ..errors import ParticleDetectError

        try:
            untrusted = skops.io.get_untrusted_types(data=data)
            unexpected = [t for t in untrusted if t not in cls.TRUSTED_TYPES]
            if unexpected:
                raise ParticleDetectError(f"{source}: refused: it holds types that are not a criterion "
                                          f"({', '.join(unexpected[:3])})")
            classifier = skops.io.loads(data, trusted=untrusted)
        except ParticleDetectError:
            raise
        except Exception as exc:  # corrupt or truncated files
            raise ParticleDetectError(f"{source}: cannot read the criterion ({type(exc).__name__})") from None
        from sklearn.ensemble import HistGradientBoostingClassifier

        if not isinstance(classifier, HistGradientBoostingClassifier) or not hasattr(classifier, "n_features_in_"):
            raise ParticleDetectError(f"{source}: not a criterion (a fitted classifier of candidates)")
        if classifier.n_features_in_ != len(FEATURES):
            raise ParticleDetectError(f"{source}: a criterion of {classifier.n_features_in_} measurements, "
                                      f"this version makes {len(FEATURES)}")
        return cls(classifier)
