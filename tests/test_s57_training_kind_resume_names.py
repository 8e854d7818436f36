"""A rods or chains run resumed on other annotated frames is refused naming the file and frame the user gave
(``rods_b.tif[0]``): it said 'annotated frame 1', a number nobody gave, since the frames read from files kept no
name."""

import numpy as np
import pytest
import tifffile
import torch

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.kinds.registry import get_kind
from napari_particle_detect.learning.kinds_training import KindTrainConfig, load_kind_examples, train_kind
from napari_particle_detect.learning.training import TrainingCancelled
from helpers import stop_at_check

CONFIG = KindTrainConfig(kind="rods", epochs=2, steps_per_epoch=2, batch_size=2, crop=32, validation_images=1,
                         validation_size=48, threads=1)
REFUSED = "the interrupted run started on other {} data: {}"


def write_rods(folder, names, seed=0):
    folder.mkdir()
    kind = get_kind("rods")
    for offset, name in enumerate(names):
        image, table = kind.example(np.random.default_rng(seed + offset), 48, seed + offset)
        tifffile.imwrite(folder / f"{name}.tif", image)
        table.to_csv(folder / f"{name}.csv", index=False)
    return folder


def test_a_rods_resume_on_an_edited_table_names_its_file_and_frame(tmp_path):
    torch.set_num_threads(1)
    data = write_rods(tmp_path / "data", ["rods_a", "rods_b"])
    held = write_rods(tmp_path / "held", ["check"], seed=7)
    out = tmp_path / "r.pt"
    with pytest.raises(TrainingCancelled):
        train_kind(CONFIG, out, examples=load_kind_examples([data], "rods"),
                   validation_examples=load_kind_examples([held], "rods"), cancel=stop_at_check(3))
    table = (data / "rods_b.csv").read_text().splitlines()
    (data / "rods_b.csv").write_text("\n".join(table[:-1]) + "\n")  # a rod deleted between the sessions
    with pytest.raises(ParticleDetectError, match=REFUSED.format("training", r"rods_b\.tif\[0\] changed since")):
        train_kind(CONFIG, out, examples=load_kind_examples([data], "rods"),
                   validation_examples=load_kind_examples([held], "rods"), resume=True)
    (data / "rods_b.csv").write_text("\n".join(table) + "\n")
    (held / "check.tif").unlink()
    other = write_rods(tmp_path / "other", ["again"], seed=9)
    with pytest.raises(ParticleDetectError, match=REFUSED.format("validation", r"again\.tif\[0\] is new")):
        train_kind(CONFIG, out, examples=load_kind_examples([data], "rods"),
                   validation_examples=load_kind_examples([other], "rods"), resume=True)


def test_a_validation_file_also_trained_on_is_named_by_its_files(tmp_path):
    data = write_rods(tmp_path / "data", ["rods_a"])
    twin = tmp_path / "twin"
    twin.mkdir()
    for suffix in (".tif", ".csv"):
        (twin / f"copy{suffix}").write_bytes((data / f"rods_a{suffix}").read_bytes())
    with pytest.raises(ParticleDetectError, match=r"copy\.tif\[0\]: .*rods_a\.tif\[0\]"):
        train_kind(CONFIG, tmp_path / "r.pt", examples=load_kind_examples([data], "rods"),
                   validation_examples=load_kind_examples([twin], "rods"))
