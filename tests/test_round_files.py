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


# ---- damaged model files, and a save cut short -------------------------------------------------------
def _tiny_image(folder):
    import tifffile

    image = folder / "img-to-detect.tif"
    tifffile.imwrite(image, synthesize(SynthConfig(shape=(32, 32)), seed=0).image)
    return image


def _detect_error(capsys, image, model) -> str:
    """The one error line ``particle-detect detect --model MODEL`` gives (status 2)."""
    assert cli.main(["-q", "detect", str(image), "-o", str(image.with_name("c.csv")), "--model", str(model),
                     "--device", "cpu"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    return err


@pytest.mark.parametrize("content, what", [(b"", "empty"), (b"hello world\n", "not a PyTorch archive"),
                                           (np.random.default_rng(3).bytes(5000), "not a PyTorch archive")],
                         ids=["empty", "text", "random"])
def test_a_damaged_weights_file_is_called_damaged_not_a_risk(tmp_path, capsys, content, what):
    # Random bytes were refused as "objects other than tensors (loading them could run code)", a text
    # file was "cannot read model weights (KeyError: 101)", an empty one "(EOFError: )".
    (tmp_path / "bad.json").write_bytes(default_model_path().with_suffix(".json").read_bytes())
    (tmp_path / "bad.pt").write_bytes(content)
    err = _detect_error(capsys, _tiny_image(tmp_path), tmp_path / "bad.pt")
    assert err.endswith(f"bad.pt: not a model weights file (damaged or another format: {what})")


def test_a_checkpoint_holding_other_objects_is_still_refused_as_a_risk(tmp_path, capsys):
    import torch

    (tmp_path / "objects.json").write_bytes(default_model_path().with_suffix(".json").read_bytes())
    torch.save({"weight": np.zeros(3)}, tmp_path / "objects.pt")  # numpy: a class to import on loading
    err = _detect_error(capsys, _tiny_image(tmp_path), tmp_path / "objects.pt")
    assert "objects.pt: refused: it holds objects other than tensors (loading them could run code)" in err
    truncated = tmp_path / "cut.pt"
    truncated.write_bytes(default_model_path().read_bytes()[:500])  # a real archive, cut short
    (tmp_path / "cut.json").write_bytes(default_model_path().with_suffix(".json").read_bytes())
    assert "cut.pt: cannot read model weights (a damaged PyTorch archive" in _detect_error(
        capsys, _tiny_image(tmp_path), truncated)


def test_a_rounds_missing_or_damaged_weights_say_what_to_do(tmp_path, models, capsys):
    # "…/round-001/model.pt: model weights file not found" left the user nowhere to go.
    project = _project_with_rounds(tmp_path, models)
    weights = project.round_path(1)
    advice = ("; pick another round (the dock's Fine-tune table; `particle-detect rounds PROJECT` lists them), or delete "
              "this one")  # the command line has no Fine-tune table: it is named its own way too
    weights.write_bytes(b"garbage")
    with pytest.raises(ParticleDetectError) as damaged:
        load_model(weights)
    assert str(damaged.value) == (f"{weights}: not a model weights file (damaged or another format: not a PyTorch "
                                  f"archive){advice}")
    weights.unlink()
    assert cli.main(["-q", "rounds", str(project.folder), "--export", "1", "-o", str(tmp_path / "m.pt")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith(f"{weights}: model weights file not found{advice}") and "\n" not in err
    outside = tmp_path / "loose" / "model.pt"  # the same names outside a project's rounds: no such advice
    with pytest.raises(ParticleDetectError, match=r"model\.pt: model weights file not found$"):
        load_model(outside)


class SaveKilled(BaseException):
    """The process killed at that moment: nothing after it runs."""


def _kill_at_the_card(monkeypatch):
    """Let every file go into place except a model card: the save dies just before it."""
    import os

    real_replace = os.replace

    def replace(source, destination, *args, **kwargs):
        if str(destination).endswith(".json"):
            raise SaveKilled(destination)
        return real_replace(source, destination, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)


def _changed(model, threshold: float):
    import torch

    with torch.no_grad():
        next(model.network.parameters()).add_(1.0)
    model.card.threshold = threshold
    return model


def test_a_save_cut_short_over_a_model_never_pairs_the_new_weights_with_the_old_card(tmp_path, models, monkeypatch):
    # Killed before the card, an overwrite left the new weights beside the old card (old threshold, scores,
    # training), and detect used that pair without a word.
    target = save_model(load_model(models[0]), tmp_path / "m")
    old_weights = target.read_bytes()
    with monkeypatch.context() as patch:
        _kill_at_the_card(patch)
        with pytest.raises(SaveKilled):
            save_model(_changed(load_model(models[0]), 0.77), target)
    assert target.read_bytes() != old_weights  # the new weights went in: the moment the old card misled
    with pytest.raises(ParticleDetectError, match=r"m\.json: model card \(JSON beside the weights\) not found$"):
        load_model(target)
    assert not list(tmp_path.glob(".*.tmp"))
    assert load_model(save_model(_changed(load_model(models[0]), 0.77), target)).card.threshold == 0.77


def test_a_failed_overwrite_leaves_the_old_model_whole(tmp_path, models, monkeypatch):
    import errno

    import torch

    target = save_model(load_model(models[0]), tmp_path / "m")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", disk_full)
    with pytest.raises(OSError, match=r"No space left on device.*m\.pt"):
        save_model(_changed(load_model(models[0]), 0.77), target)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # no temporaries, old pair untouched
    assert load_model(target).card.threshold != 0.77


def test_an_export_cut_short_over_an_earlier_export_never_pairs_its_weights_with_the_old_card(tmp_path, models,
                                                                                             monkeypatch):
    project = _project_with_rounds(tmp_path, models)
    exported = export_round(project, 1, tmp_path / "out" / "beads")
    with monkeypatch.context() as patch:
        _kill_at_the_card(patch)
        with pytest.raises(SaveKilled):
            export_round(project, 2, exported)  # rounds --export 2 -o beads.pt --overwrite
    assert exported.read_bytes() == project.round_path(2).read_bytes()
    with pytest.raises(ParticleDetectError, match=r"beads\.json: model card \(JSON beside the weights\) not found$"):
        load_model(exported)
    assert load_model(export_round(project, 2, exported)).criterion is not None
