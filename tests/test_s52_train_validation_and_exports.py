"""Training as a user runs it on their own data: a validation image that is also training data is refused (its
score would reward memorising it), and an exported round's card names its project wherever it is read from."""

from dataclasses import replace

import pandas as pd
import pytest

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning.finetune import FINE_TUNE, fine_tune
from napari_particle_detect.learning.kinds_training import KindTrainConfig, train_kind
from napari_particle_detect.learning.training import Example, TrainConfig, train
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

TWIN = "a validation image that is also trained on"


def _sample(seed: int):
    return synthesize(benchmark_config("fluorescent", 0.4, (64, 64)), seed=seed)


def _examples(names_and_seeds) -> list[Example]:
    return [Example(_sample(seed).image, _sample(seed).centres, scale=1.0, name=name) for name, seed in names_and_seeds]


def test_training_from_scratch_refuses_a_validation_image_it_also_trains_on(tmp_path):
    # `train d --validate d/image_003.tif`: the folder holds the validation image too; the kept epoch and the
    # threshold were chosen on an image the network had learned.
    config = TrainConfig(epochs=1, steps_per_epoch=1, batch_size=1, crop=32, validation_images=1, threads=1)
    data = _examples([("image_000.tif[0]", 0), ("image_003.tif[0]", 3)])
    check = _examples([("check/image_003.tif[0]", 3)])  # another file, the same pixels
    with pytest.raises(ParticleDetectError, match=rf"check/image_003.tif\[0\]: {TWIN} \(the pixels of "
                                                  r"image_003.tif\[0\]\)"):
        train(config, examples=data, validation_examples=check, out=tmp_path / "m")
    assert not list(tmp_path.iterdir())  # refused before anything is written


def test_a_round_refuses_a_validation_image_it_also_trains_on():
    # Its verdict rests on the --validate images alone: "better" on a trained image says nothing.
    config = replace(FINE_TUNE, steps_per_epoch=1, batch_size=1, crop=32, threads=1)
    with pytest.raises(ParticleDetectError, match=TWIN):
        fine_tune("unet", _examples([("frame 0", 0)]), config, "cpu", validation=_examples([("check", 0)]))


def test_a_rods_training_refuses_a_validation_image_it_also_trains_on(tmp_path):
    rod = pd.DataFrame({"y": [30.0], "x": [30.0], "angle": [20.0], "length": [24.0], "width": [5.0]})
    frame = (_sample(0).image, rod)
    config = KindTrainConfig(kind="rods", epochs=1, steps_per_epoch=1, batch_size=1, crop=32)
    with pytest.raises(ParticleDetectError, match=rf"validation example 0: {TWIN} \(the pixels of annotated example "
                                                  r"0\)"):
        train_kind(config, tmp_path / "rods", examples=[frame], validation_examples=[frame])
    assert not list(tmp_path.iterdir())


def test_an_exported_rounds_card_names_its_project_by_an_absolute_path(tmp_path, monkeypatch):
    # `rounds img.tif --export 2 -o r2.pt` run in the image's folder recorded "img.particle-detect": read later
    # from elsewhere, the card named no project.
    import json

    from helpers import tiny_model_file
    from napari_particle_detect.projects.project import Project
    from napari_particle_detect.projects.round_files import export_round

    model = tiny_model_file(tmp_path)
    monkeypatch.chdir(tmp_path)
    project = Project.open("img.tif", n_frames=1, frame_shape=(64, 64))
    project.ensure_initial_round(model)
    export_round(project, 1, "out/r1.pt")
    recorded = json.loads((tmp_path / "out" / "r1.json").read_text())["training"]["exported"]["project"]
    assert recorded == str((tmp_path / "img.particle-detect").resolve())


def test_an_image_left_out_of_a_folder_for_want_of_its_table_is_said(tmp_path, caplog):
    # `train data/` with one image's CSV not yet written trained on the others alone, unsaid: the card counted one
    # example fewer and nothing told the user which image was missing.
    import logging

    import tifffile

    from napari_particle_detect.learning.training import load_examples

    for name, seed in (("a", 0), ("b", 1)):
        tifffile.imwrite(tmp_path / f"{name}.tif", _sample(seed).image)
    centres = _sample(0).centres
    pd.DataFrame({"y": centres[:, 0], "x": centres[:, 1]}).to_csv(tmp_path / "a.csv", index=False)
    with caplog.at_level(logging.WARNING):
        examples = load_examples([tmp_path])
    assert [e.name for e in examples] == ["a.tif[0]"]
    assert f"{tmp_path}: b.tif left out: no centre table beside it" in caplog.text
