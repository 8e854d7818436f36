"""Frame numbers in runs of consecutive ones, as messages list them ("2-4, 7"): shared by the command line and the
docks, without the Qt or torch either brings."""

from __future__ import annotations

from collections.abc import Iterable


def frame_runs(frames: Iterable[int]) -> list[tuple[int, int]]:
    """``[7, 2, 3, 4]`` as ``[(2, 4), (7, 7)]``: each run's first and last frame, in order."""
    runs: list[list[int]] = []
    for frame in sorted(frames):
        if runs and frame == runs[-1][1] + 1:
            runs[-1][1] = frame
        else:
            runs.append([frame, frame])
    return [(first, last) for first, last in runs]


def runs_text(frames: list[int], dash: str = "-", most: int = 4) -> str:
    """``[2, 3, 4, 7]`` as "2-4, 7" (``dash`` between a run's ends); after ``most`` runs, "…" and how many frames."""
    runs = frame_runs(frames)
    text = ", ".join(f"{first}" if first == last else f"{first}{dash}{last}" for first, last in runs[:most])
    return text + (f" … ({len(frames)} frames)" if len(runs) > most else "")
