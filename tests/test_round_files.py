"""A project's rounds used outside it: exported as a model file (criterion included), and deleted."""

import json

import numpy as np
import pytest

from napari_particle_detect.cli import main as cli
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.models import load_model, save_model
from napari_particle_detect.models.registry import default_model_path
from napari_particle_detect.projects.project import Project
from napari_particle_detect.detection.rescoring import FEATURES, Criterion
from napari_particle_detect.projects.round_files import delete_round, deletable, export_round
from napari_particle_detect.synthetic.spheres import SynthConfig, synthesize



@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """The shipped model, and the same model with a keep/drop criterion (as a round that learned one)."""
    folder = tmp_path_factory.mktemp("models")
    plain = default_model_path()  # real weights, no training needed
    judged = load_model(plain)
    rng = np.random.default_rng(0)
    features = rng.normal(size=(80, len(FEATURES)))
    judged.criterion = Criterion.fit(features, features[:, 0] > 0)
    return plain, save_model(judged, folder / "judged")


def _project_with_rounds(tmp_path, models):
    plain, judged = models
    project = Project.open(tmp_path / "img.tif", n_frames=1)
    project.ensure_initial_round(plain)  # round 1 (from a file, so not 'shipped')
    project.import_model(judged)  # round 2, with its criterion, in use
    return project


def test_an_exported_round_with_its_criterion_detects_and_imports_elsewhere(tmp_path, models):
    project = _project_with_rounds(tmp_path, models)
    round_dir = project.round_path(2).parent
    assert (round_dir / "model.criterion.skops").is_file()  # import_model copies the criterion the card names

    exported = export_round(project, 2, tmp_path / "out" / "beads-v2", name="beads v2")
    assert exported == tmp_path / "out" / "beads-v2.pt"
    card = json.loads(exported.with_suffix(".json").read_text())
    assert card["criterion"] == "beads-v2.criterion.skops"
    assert card["training"]["exported"]["name"] == "beads v2" and card["training"]["exported"]["round"] == 2
    assert load_model(exported).criterion is not None

    image = synthesize(SynthConfig(shape=(64, 64), area_fraction=0.3), seed=1).image
    import tifffile

    tifffile.imwrite(tmp_path / "other.tif", image)
    assert cli.main(["-q", "detect", str(tmp_path / "other.tif"), "-o", str(tmp_path / "c.csv"), "--model",
                     str(exported), "--diameter", "10", "--device", "cpu"]) == 0
    assert json.loads((tmp_path / "c.json").read_text())  # detect ran with the exported model

    other = Project.open(tmp_path / "other.tif", n_frames=1)
    info = other.import_model(exported)
    assert load_model(other.round_path(info.number)).criterion is not None


def test_rounds_in_use_or_shipped_are_not_deleted_others_are(tmp_path, models):
    project = _project_with_rounds(tmp_path, models)
    assert "in use" in deletable(project, 2)
    with pytest.raises(ParticleDetectError, match="in use"):
        delete_round(project, 2)
    shipped = Project.open(tmp_path / "b.tif", n_frames=1)
    shipped.ensure_initial_round()
    shipped.import_model(models[0])  # round 2 in use: round 1 is refused for being the shipped model
    assert "shipped" in deletable(shipped, 1)

    assert deletable(project, 1) is None
    delete_round(project, 1)
    assert [r.number for r in project.rounds] == [2]
    assert not (project.folder / "rounds" / "round-001").exists()
    assert not list((project.folder / "rounds").glob(".building-*"))
    reopened = Project.open(project.folder)
    assert [r.number for r in reopened.rounds] == [2] and not reopened.problems
    with pytest.raises(ParticleDetectError, match="no model round 1"):
        export_round(reopened, 1, tmp_path / "gone.pt")


def test_cli_rounds_lists_exports_and_deletes(tmp_path, models, capsys):
    project = _project_with_rounds(tmp_path, models)
    assert cli.main(["rounds", str(tmp_path / "img.tif")]) == 0
    listing = capsys.readouterr().out
    assert "001" in listing and "002" in listing and "(in use)" in listing
    assert cli.main(["-q", "rounds", str(project.folder), "--export", "2", "-o", str(tmp_path / "m.pt"),
                     "--name", "beads"]) == 0
    assert load_model(tmp_path / "m.pt").criterion is not None
    assert cli.main(["-q", "rounds", str(project.folder), "--delete", "2"]) == 2  # in use
    assert "in use" in capsys.readouterr().err
    assert cli.main(["-q", "rounds", str(project.folder), "--delete", "1"]) == 0
    assert [r.number for r in Project.open(project.folder).rounds] == [2]
    assert cli.main(["-q", "rounds", str(tmp_path / "nothing.tif")]) == 2


def test_a_deleted_highest_round_keeps_its_number(tmp_path, models):
    project = _project_with_rounds(tmp_path, models)
    project.import_model(models[0])  # round 3, in use
    project.set_current_round(2)
    delete_round(project, 3)
    reopened = Project.open(project.folder)
    assert reopened.import_model(models[0]).number == 4  # "round-003" never names another model
    assert [r.number for r in reopened.rounds] == [1, 2, 4]


def test_a_half_written_volume_settings_file_is_tidied_away(tmp_path, models):
    project = _project_with_rounds(tmp_path, models)
    leftover = project.folder / ".volume.json.abc123.tmp"
    leftover.write_text("{")
    assert leftover in project.clean_leftovers()
    assert not leftover.exists()


@pytest.mark.parametrize("across, verdict", [(0.8, "better (tied at the best threshold; across thresholds 0.8000 against 0.7000)"),
                                             (0.6, "NOT better (tied at the best threshold; across thresholds 0.6000 against 0.7000)")])
def test_a_tied_round_says_how_the_tie_was_broken(tmp_path, caplog, across, verdict):
    # "held-out F1 0.9758 against 0.9758 ...: better" read as a contradiction; the log now says why.
    import logging

    from napari_particle_detect.cli.rounds import save_round
    from napari_particle_detect.kinds.evaluation import Counts
    from napari_particle_detect.learning.finetune import RoundResult, Scored
    from napari_particle_detect.models import load_model

    model = load_model(None, "cpu")
    result = RoundResult(model, 2, 3, Scored(0.9, 0.4, Counts(), across), Scored(0.9, 0.4, Counts(), 0.7))
    with caplog.at_level(logging.INFO, logger="napari_particle_detect"):
        save_round(result, "parent.pt", tmp_path / "round.pt")
    assert f"held-out F1 0.9000 against 0.9000 for parent.pt on 3 held-out tiles: {verdict}" in caplog.text
