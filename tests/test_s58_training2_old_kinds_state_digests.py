"""A rods or chains resume state written before frames were named by file ("annotated frame i" and one digest, of
the frame at its detection scale) was matched by place and only its frame count compared: other files of as many
frames resumed silently. At scale 1 (rods always) that digest is today's digest of the frame as given, so it is
compared; a chains frame resampled then cannot be, and resumes as before."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.kinds.registry import get_kind
from napari_particle_detect.learning.kinds_training import _named_digests, load_kind_examples
from napari_particle_detect.learning.training import check_same_data, data_record, frames_digest

STATE = Path("rods-model.resume.pt")


def write_rods(folder: Path, names: list[str], seed: int) -> Path:
    folder.mkdir()
    kind = get_kind("rods")
    for offset, name in enumerate(names):
        image, table = kind.example(np.random.default_rng(seed + offset), 48, seed + offset)
        tifffile.imwrite(folder / f"{name}.tif", image)
        table.to_csv(folder / f"{name}.csv", index=False)
    return folder


def old_state(frames: list) -> dict:
    """The state as written then: each frame by place, digested (at scale 1) as it was read."""
    return {"data": {"training": [[f"annotated frame {i}", frames_digest(*frame)] for i, frame in enumerate(frames)],
                     "validation": []}}


def record(frames: list, scale: float = 1.0) -> dict:
    return data_record(_named_digests(frames, [scale] * len(frames), "annotated frame"), [])


def test_an_old_rods_state_resumes_on_its_own_files(tmp_path):
    frames = load_kind_examples([write_rods(tmp_path / "data", ["a", "b"], seed=0)], "rods")
    check_same_data(STATE, old_state(frames), record(frames))


def test_an_old_rods_state_refuses_other_files_of_as_many_frames(tmp_path):
    then = load_kind_examples([write_rods(tmp_path / "then", ["a", "b"], seed=0)], "rods")
    now = load_kind_examples([write_rods(tmp_path / "now", ["a", "b"], seed=5)], "rods")
    with pytest.raises(ParticleDetectError, match=r"other training data: a\.tif\[0\] changed since"):
        check_same_data(STATE, old_state(then), record(now))


def test_an_old_state_of_resampled_frames_still_resumes(tmp_path):
    # Chains brought to another scale were digested resampled: no digest of today's can match it.
    then = load_kind_examples([write_rods(tmp_path / "then", ["a", "b"], seed=0)], "rods")
    now = load_kind_examples([write_rods(tmp_path / "now", ["a", "b"], seed=5)], "rods")
    check_same_data(STATE, old_state(then), record(now, scale=1.5))
