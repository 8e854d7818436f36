"""What 634865d made lazy or cached gives what the plain code gave: a recipe run's file digests (each file read
once per run, again once it changed), the final model's card written from the records a run kept, and a
round's guard masks of reviewed frames (built only for a frame offered to the teacher)."""

import hashlib
import json
import os
import shutil
from dataclasses import replace

import numpy as np
import pytest
import torch

from napari_particle_detect.learning import finetune
from napari_particle_detect.learning.finetune import (
    FINE_TUNE, _ReviewedPixels, example_diameter, reviewed_and_guarded, split_for_scoring, unreviewed_frames,
)
from napari_particle_detect.learning.training import frame_digest
from napari_particle_detect.learning.recipes import (
    FileDigests, final_model_path, load_recipe, phase_inputs, run_recipe, write_final_model,
)
from napari_particle_detect.learning.training import Example
from napari_particle_detect.models import load_model
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def rewrite(path, data: bytes, mtime_ns: int) -> None:
    """``path`` holding ``data``, its modification time set to ``mtime_ns``."""
    path.write_bytes(data)
    os.utime(path, ns=(mtime_ns, mtime_ns))


# ---- FileDigests -------------------------------------------------------------------------------
@pytest.fixture
def reads(monkeypatch) -> list:
    """The files a run hashes, each time it reads one (the hashing itself left as it is)."""
    from napari_particle_detect.learning import recipes

    read = []
    hashed = recipes._sha256
    monkeypatch.setattr(recipes, "_sha256", lambda path: read.append(path.name) or hashed(path))
    return read


def test_a_file_is_read_once_per_run_while_unchanged_and_again_once_its_bytes_may_differ(tmp_path, reads):
    path = tmp_path / "validation.tif"
    when = path.parent.stat().st_mtime_ns
    rewrite(path, b"A" * 64, when)
    # racy_ns=0: as a file last changed long before the run, known from its first read on.
    settled = FileDigests(racy_ns=0)
    assert settled(path) == settled(path) == sha256(b"A" * 64)
    assert reads == ["validation.tif"]

    # Changed a moment ago, a file is read on each call: a write in the same clock tick would keep its times.
    digests = FileDigests()
    assert digests(path) == sha256(b"A" * 64)
    # Other bytes of the same size, the time put back (cp -p, touch -r): the new bytes' digest.
    rewrite(path, b"B" * 64, when)
    assert digests(path) == sha256(b"B" * 64)
    # Another size at the same time, then the first bytes and time again: each one's own digest.
    rewrite(path, b"C" * 65, when)
    assert digests(path) == sha256(b"C" * 65)
    rewrite(path, b"A" * 64, when)
    assert digests(path) == sha256(b"A" * 64)


def test_the_phases_of_a_run_share_one_read_of_the_validation_files(tmp_path, reads):
    """phase_inputs with a run's FileDigests: the validation pair both phases read is read for the first
    phase only, while each phase's own data is read; without it every phase reads every file."""
    (tmp_path / "tiny.toml").write_text('name = "tiny"\n[validation]\ndata = ["val.tif"]\n'
                                        '[[phase]]\nname = "one"\ndata = ["a.tif"]\n'
                                        '[[phase]]\nname = "two"\ndata = ["b.tif"]\n')
    when = tmp_path.stat().st_mtime_ns
    for name, data in (("val.tif", b"v" * 32), ("val.csv", b"y,x\n1,2\n"), ("a.tif", b"a" * 8),
                       ("a.csv", b"y,x\n"), ("b.tif", b"b" * 8), ("b.csv", b"y,x\n")):
        rewrite(tmp_path / name, data, when)
    recipe = load_recipe(tmp_path / "tiny.toml")
    digests = FileDigests(racy_ns=0)  # as files last changed long before the run

    first = phase_inputs(recipe, 0, digests)
    assert first == {"a.tif": sha256(b"a" * 8), "a.csv": sha256(b"y,x\n"), "val.tif": sha256(b"v" * 32),
                     "val.csv": sha256(b"y,x\n1,2\n")}
    second = phase_inputs(recipe, 1, digests)
    assert second["val.tif"] == sha256(b"v" * 32) and second["b.tif"] == sha256(b"b" * 8)
    assert sorted(reads) == sorted(["a.tif", "a.csv", "val.tif", "val.csv", "b.tif", "b.csv"])
    phase_inputs(recipe, 1)  # a plain read: every file again
    assert len(reads) == 6 + 4


# ---- the final model's card from the records a run kept -----------------------------------------
SPHERES = """
name = "{name}"
{head}
[validation]
images = 1
size = 32

[[phase]]
name = "first"
epochs = 1
steps_per_epoch = 1
batch_size = 2
crop = 32
seed = 1

[[phase]]
name = "second"
epochs = 1
steps_per_epoch = 1
batch_size = 2
crop = 32
learning_rate = 1e-3
seed = 2
note = "the second"
"""

RODS = """
name = "{name}"
kind = "rods"

[validation]
images = 1
size = 64

[[phase]]
name = "heads"
epochs = 1
steps_per_epoch = 1
batch_size = 2
crop = 64
seed = 3

[[phase]]
name = "settle"
epochs = 1
steps_per_epoch = 1
batch_size = 2
crop = 64
seed = 4
note = "the settling"
"""


def card_text(path) -> str:
    return path.with_suffix(".json").read_text(encoding="utf-8")


def assert_final_card_as_from_disk(recipe_path) -> dict:
    """Run the recipe (its final card from the records it kept), then once more (every phase done: the
    records as read back), then write_final_model from the run folder alone: the same card and weights
    each time. The card's training, for further checks."""
    ran = run_recipe(recipe_path, threads=1)
    kept, weights = card_text(ran.model), ran.model.read_bytes()
    assert run_recipe(recipe_path, threads=1).model == ran.model
    assert card_text(ran.model) == kept
    recipe = load_recipe(recipe_path)
    assert write_final_model(recipe) == final_model_path(recipe) == ran.model
    assert card_text(ran.model) == kept and ran.model.read_bytes() == weights
    return json.loads(kept)["training"]


def test_a_sphere_run_from_init_writes_the_final_card_it_would_read_from_its_records(tmp_path):
    torch.set_num_threads(1)
    (tmp_path / "plain.toml").write_text(SPHERES.format(name="plain", head='architecture = "unet"\nchannels = [4, 8]'))
    start = run_recipe(tmp_path / "plain.toml", threads=1).model
    shutil.copy(start, tmp_path / "start.pt")
    shutil.copy(start.with_suffix(".json"), tmp_path / "start.json")
    (tmp_path / "init.toml").write_text(SPHERES.format(name="init", head='init = "start.pt"'))

    training = assert_final_card_as_from_disk(tmp_path / "init.toml")
    assert training["init_sha256"] == sha256((tmp_path / "start.pt").read_bytes())
    steps = training["lineage"]
    assert [s["phase"] for s in steps[-2:]] == ["first", "second"] and steps[-1]["note"] == "the second"
    assert steps[-1]["learning_rate"] == 1e-3 and "validation_f1" in steps[-1]
    assert set(steps[-2]["inputs_sha256"]) == {"start.pt", "start.json"}


def test_a_rods_run_writes_the_final_card_it_would_read_from_its_records(tmp_path):
    torch.set_num_threads(1)
    (tmp_path / "rods.toml").write_text(RODS.format(name="rods"))
    training = assert_final_card_as_from_disk(tmp_path / "rods.toml")
    steps = training["lineage"]
    assert [s["phase"] for s in steps] == ["heads", "settle"] and steps[1]["note"] == "the settling"
    assert all("validation_score" in s and s["inputs_sha256"] == {} and len(s["weights_sha256"]) == 64
               for s in steps)


# ---- a round's guard masks of reviewed frames ---------------------------------------------------
def eager_reviewed_pixels(model, splits) -> dict[bytes, np.ndarray]:
    """finetune._reviewed_pixels as it was before 634865d: every reviewed frame's mask, up front."""
    kept_out: dict[bytes, np.ndarray] = {}
    for split in splits:
        key = frame_digest(split.example.image)
        guarded = reviewed_and_guarded(split, example_diameter(model, split.example))
        kept_out[key] = kept_out[key] | guarded if key in kept_out else guarded
    return kept_out


@pytest.fixture(scope="module")
def reviewed():
    """A shipped model and the splits of three reviewed 128 px frames: frame 0 reviewed whole, frame 1 in
    two regions reviewed apart (under two names: its left and right), frame 2 in one region; frame 3 is unreviewed."""
    model = load_model(None, "cpu")
    images = [synthesize(benchmark_config("fluorescent", 0.4, (128, 128)), seed=s).image for s in range(4)]
    left, right = np.zeros((128, 128), bool), np.zeros((128, 128), bool)
    left[:, :48] = True
    right[:, 56:] = True
    examples = [Example(images[0], np.zeros((0, 2)), 1.0, "frame 0"),
                Example(images[1], np.zeros((0, 2)), 1.0, "frame 1", area=left),
                Example(images[2], np.zeros((0, 2)), 1.25, "frame 2", area=right),
                Example(images[1], np.zeros((0, 2)), 1.0, "frame 1 again", area=right)]
    splits = [split_for_scoring(e, example_diameter(model, e)) for e in examples]
    assert all(split.held_area.any() for split in splits)  # each mask has a guard band to work out
    return model, splits, images


@pytest.fixture
def built(monkeypatch):
    """The names of the examples whose masks were worked out (reviewed_and_guarded, run as it is)."""
    names = []

    def counted(split, diameter):
        names.append(split.example.name)
        return reviewed_and_guarded(split, diameter)

    monkeypatch.setattr(finetune, "reviewed_and_guarded", counted)
    return names


def test_the_lazy_masks_are_the_eager_ones_built_only_when_asked_and_once(reviewed, built):
    model, splits, images = reviewed
    eager = eager_reviewed_pixels(model, splits)
    built.clear()
    lazy = _ReviewedPixels(model, splits)
    assert built == []  # nothing worked out up front

    twice = frame_digest(images[1])
    mask = lazy.get(twice)
    assert sorted(built) == ["frame 1", "frame 1 again"]  # that frame's two reviews only
    assert mask.dtype == bool and np.array_equal(mask, eager[twice])
    first, again = (reviewed_and_guarded(s, example_diameter(model, s.example)) for s in (splits[1], splits[3]))
    assert np.array_equal(mask, first | again) and (mask & ~first).any() and (mask & ~again).any()  # both areas
    asked_again = lazy.get(twice)
    assert len(built) == 2 and asked_again is mask  # kept, not worked out again

    for frame in (0, 2):
        assert np.array_equal(lazy.get(frame_digest(images[frame])), eager[frame_digest(images[frame])])
    assert sorted(built) == ["frame 0", "frame 1", "frame 1 again", "frame 2"]
    assert lazy.get(frame_digest(images[3])) is None and len(built) == 4  # nobody reviewed frame 3


def test_unreviewed_frames_offered_get_the_eager_masks_taken_out_and_no_other_is_built(reviewed, built):
    """The teacher is offered frame 1 (reviewed twice, in part), frame 3 (unreviewed) and frame 0 (reviewed
    whole: dropped); frame 2 is not offered, so its mask is never worked out."""
    model, splits, images = reviewed
    eager = eager_reviewed_pixels(model, splits)
    built.clear()
    offered = [Example(images[i], np.zeros((0, 2)), 1.0, f"unreviewed {i}") for i in (1, 3, 0)]
    ready = unreviewed_frames(model, splits, offered, replace(FINE_TUNE, unlabelled_frames=3))
    assert [e.name for e in ready] == ["unreviewed 1", "unreviewed 3"]
    assert np.array_equal(ready[0].area, ~eager[frame_digest(images[1])])
    assert ready[1].area.all()
    assert "frame 2" not in built and sorted(set(built)) == ["frame 0", "frame 1", "frame 1 again"]
