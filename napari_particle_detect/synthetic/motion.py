"""A synthetic movie: the generator's particles diffusing (and drifting) from frame to frame, with
their true trajectories, for the linking tests and the tracks screenshot.

The stacks of :func:`synthetic.synthesize` draw every frame afresh, so nothing in them moves; here
the same particles are placed once and moved by Gaussian steps of ``step`` px per axis plus a
steady ``drift`` per frame, each frame rendered with the generator's optics and camera.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .spheres import (SynthConfig, _background, _camera, check_config_argument, check_number, check_seed,
                      check_synth_config, place_particles, render_particles)


def diffusing_stack(config: SynthConfig | None = None, n_frames: int = 10, step: float = 1.0,
                    drift: tuple[float, float] = (0.0, 0.0), seed: int = 0) -> tuple[np.ndarray, pd.DataFrame]:
    """(T x H x W stack, truth ``frame, y, x, particle`` of the centres inside each frame)."""
    config = SynthConfig() if config is None else config
    check_config_argument("diffusing_stack", config, SynthConfig)
    check_synth_config(config)
    check_number("diffusing_stack", "n_frames", n_frames, 1, whole=True)
    check_number("diffusing_stack", "step", step, 0.0, note=" (px per axis per frame)")
    if not (isinstance(drift, (tuple, list, np.ndarray)) and len(drift) == 2):
        raise ValueError(f"diffusing_stack.drift must be two numbers (y, x px per frame), got {drift!r}")
    for value in drift:
        check_number("diffusing_stack", "drift", value, note=" (y, x px per frame)")
    check_seed("diffusing_stack", seed)
    rng = np.random.default_rng(seed)
    centres, radii = place_particles(config.shape, config.radius_range, config.area_fraction,
                                     config.min_separation, rng)
    looks_seed = int(rng.integers(2**31))
    background = _background(config, np.random.default_rng(looks_seed + 1))
    frames, rows = [], []
    h, w = config.shape
    for frame in range(n_frames):
        if frame:
            centres = centres + rng.normal(0.0, step, centres.shape) + np.asarray(drift, dtype=float)
        # The same seed each frame: every particle keeps its brightness.
        signal = render_particles(config, centres, radii, np.random.default_rng(looks_seed))
        if config.look == "opaque":
            signal = 1.0 - signal
        signal = signal + background
        signal = config.background_level + (1.0 - config.background_level) * signal / max(float(signal.max()), 1e-9)
        frames.append(_camera(signal, config, rng))
        inside = (centres[:, 0] >= 0) & (centres[:, 0] <= h - 1) & (centres[:, 1] >= 0) & (centres[:, 1] <= w - 1)
        index = np.flatnonzero(inside)
        rows.append(pd.DataFrame({"frame": frame, "y": centres[index, 0], "x": centres[index, 1], "particle": index}))
    return np.stack(frames), pd.concat(rows, ignore_index=True)
