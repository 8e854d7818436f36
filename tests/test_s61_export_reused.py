"""A model's exported network is made once per weights: a copy of the model file in another folder (a project's first
round is a copy of the model it was opened with) takes the export already made, and a damaged one is made afresh."""

import shutil

import pytest
import torch

from napari_particle_detect.detection import runtimes
from napari_particle_detect.models import load_model, save_model

from helpers import tiny_model_file


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory):
    return tiny_model_file(tmp_path_factory.mktemp("tiny"))


@pytest.fixture
def exports_made(monkeypatch, tiny_file):
    made = []
    export_to = runtimes._export_to

    def counted(model, precision, path):
        made.append(path)
        export_to(model, precision, path)

    monkeypatch.setattr(runtimes, "_export_to", counted)
    monkeypatch.setattr(runtimes, "_EXPORTS_MADE", {})
    torch.set_num_threads(1)
    return made


def _copy(model_file, folder):
    folder.mkdir()
    return load_model(save_model(load_model(model_file), folder / "model.pt"))


def test_a_copy_of_the_model_in_another_folder_takes_the_export_already_made(tmp_path, tiny_file, exports_made):
    first = runtimes.export(_copy(tiny_file, tmp_path / "a"))
    second = runtimes.export(_copy(tiny_file, tmp_path / "b"))
    assert exports_made == [first]
    assert second.parent == tmp_path / "b" and second.read_bytes() == first.read_bytes()
    runtimes.onnx_network(load_model(tmp_path / "b" / "model.pt"))  # the copy loads as a session


def test_an_export_in_the_users_cache_from_an_earlier_session_is_taken_too(tmp_path, tiny_file, exports_made,
                                                                          monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    model = _copy(tiny_file, tmp_path / "a")
    earlier = runtimes.user_cache_folder() / f"tiny.{runtimes.weights_digest(model)}.form{runtimes.EXPORT_FORM}" \
                                             ".float32.onnx"
    runtimes.export(model, path=earlier)
    runtimes._EXPORTS_MADE.clear()  # a new process
    again = runtimes.export(model)
    assert exports_made == [earlier] and again.read_bytes() == earlier.read_bytes()


def test_a_damaged_export_is_made_afresh_not_copied_again(tmp_path, tiny_file, exports_made):
    first = runtimes.export(_copy(tiny_file, tmp_path / "a"))
    first.write_bytes(b"not an ONNX file")
    model = _copy(tiny_file, tmp_path / "b")
    session = runtimes.onnx_network(model)
    assert exports_made == [first, session.path] and session.path.parent == tmp_path / "b"


def test_other_weights_are_exported_for_themselves(tmp_path, tiny_file, exports_made):
    runtimes.export(_copy(tiny_file, tmp_path / "a"))
    other = _copy(tiny_file, tmp_path / "b")
    with torch.no_grad():  # a fine-tuned round
        next(other.network.parameters()).add_(0.01)
    runtimes.export(other)
    assert len(exports_made) == 2
    shutil.rmtree(tmp_path / "a")
    third = _copy(tiny_file, tmp_path / "c")  # the first export gone: made again
    runtimes.export(third)
    assert len(exports_made) == 3
