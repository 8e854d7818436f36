"""The public Python API: every name napari_particle_detect offers imports (lazily), and the 3D path
(detect_volumes, detection.volume_detection.detect_volume) refuses every mistake in its input with one clear
error before any work."""

import subprocess
import sys

import numpy as np
import pytest

import napari_particle_detect
from napari_particle_detect.errors import ParticleDetectError

PUBLIC = ["detect", "detect_volumes", "evaluate_frames", "evaluate_rods", "evaluate_chains", "evaluate_volumes",
          "fine_tune", "link_centres", "LinkOptions", "read_image", "read_centres", "write_centres", "load_model",
          "save_model", "synthesize", "SynthConfig", "score", "match", "train", "TrainConfig", "Example"]


def test_the_public_names_import_from_the_package():
    from napari_particle_detect.detection.volume_detection import detect_volumes
    from napari_particle_detect.files import io, reading
    from napari_particle_detect.files.io import read_centres, write_centres
    from napari_particle_detect.files.tracks import LinkOptions, link_centres
    from napari_particle_detect.kinds.chains import evaluate_chains
    from napari_particle_detect.kinds.evaluation3d import evaluate_volumes
    from napari_particle_detect.kinds.rods import evaluate_rods
    from napari_particle_detect.learning.finetune import fine_tune

    for name in PUBLIC:
        assert callable(getattr(napari_particle_detect, name)), name
        assert name in napari_particle_detect.__all__ and name in dir(napari_particle_detect), name
    for name in napari_particle_detect.__all__:
        assert getattr(napari_particle_detect, name) is not None, name
    assert (napari_particle_detect.detect_volumes, napari_particle_detect.evaluate_rods,
            napari_particle_detect.evaluate_chains, napari_particle_detect.evaluate_volumes,
            napari_particle_detect.read_centres, napari_particle_detect.write_centres,
            napari_particle_detect.read_image, napari_particle_detect.link_centres,
            napari_particle_detect.LinkOptions, napari_particle_detect.fine_tune) == (
        detect_volumes, evaluate_rods, evaluate_chains, evaluate_volumes, read_centres, write_centres,
        reading.read_image, link_centres, LinkOptions, fine_tune)
    # The public read_image wraps the package's own (files.io's, which warns of nothing) to say what detect says of a
    # file's pixels: the same reading, documented as io's is.
    assert napari_particle_detect.read_image.__doc__.startswith(io.read_image.__doc__.rstrip())


def test_the_table_and_volume_names_load_without_torch():
    # The lazy scheme (PEP 562): reading tables or naming detect_volumes costs no torch import.
    code = ("import sys, napari_particle_detect as p\n"
            "for name in ('detect_volumes', 'read_centres', 'write_centres', 'read_image', 'link_centres',"
            " 'evaluate_rods', 'evaluate_chains', 'evaluate_volumes'):\n"
            "    getattr(p, name)\n"
            "assert 'torch' not in sys.modules, 'torch was imported'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def volume():
    from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

    return synthesize_volume(VolumeConfig(shape=(16, 48, 48), volume_fraction=0.3, diameter=10.0, z_step=2.0),
                             seed=4).image


def _refusals(cuda: bool):
    """(what the audit passed, VolumeOptions' keywords, the error's type and words)."""
    cases = [
        ("a diameter of zero", {"diameter": (0, 10, 10)}, ParticleDetectError, "diameter must be one positive"),
        ("a negative diameter", {"diameter": (-1,)}, ParticleDetectError, "diameter must be one positive"),
        ("two diameters", {"diameter": (8, 8)}, ParticleDetectError, "got 2 numbers"),
        ("a diameter as text", {"diameter": "10"}, TypeError, "diameter must be one positive number"),
        ("a threshold of 2", {"threshold": 2}, ParticleDetectError, r"threshold must be a number in \[0, 1\)"),
        ("a threshold of -1", {"threshold": -1}, ParticleDetectError, r"threshold must be a number in \[0, 1\)"),
        ("a voxel size of zero", {"voxel_size": (0, 1, 1)}, ParticleDetectError, "voxel_size must be three"),
        ("two voxel sizes", {"voxel_size": (1, 1)}, ParticleDetectError, "voxel_size must be three"),
        ("an unknown device", {"device": "gpu"}, ParticleDetectError, "unknown device 'gpu'"),
        ("an unknown runtime", {"runtime": "tensorrt"}, ParticleDetectError, "unknown runtime 'tensorrt'"),
        ("a window off the stride", {"window": 50}, ParticleDetectError, "window must be a multiple of 4"),
        ("a window under the margins", {"window": 8}, ParticleDetectError, "window must be a multiple of 4"),
        ("no threads", {"threads": 0}, ParticleDetectError, "threads must be a whole number of threads, at least 1"),
    ]
    if not cuda:
        cases.append(("cuda without a GPU", {"device": "cuda"}, ParticleDetectError, "no CUDA GPU is available"))
    return cases


@pytest.mark.parametrize("case", _refusals(__import__("torch").cuda.is_available()), ids=lambda c: c[0])
def test_detect_volume_refuses_each_mistake_in_its_options(volume, case, monkeypatch):
    # The audit: a TypeError of len(), scipy's "negative dimensions", torch's AssertionError, a threshold of 2
    # accepted. Each is now refused before the volume is resampled.
    from napari_particle_detect.detection import volume_detection
    from napari_particle_detect.detection.volume_detection import VolumeOptions, detect_volume

    monkeypatch.setattr(volume_detection, "resample_volume", lambda *a: pytest.fail("the work began"))
    _, options, error, words = case
    with pytest.raises(error, match=words):
        detect_volume(volume, None, VolumeOptions(**options))
    with pytest.raises(error, match=words):
        napari_particle_detect.detect_volumes(volume, **options)


def test_detect_volume_refuses_arrays_that_are_no_volume_and_2d_models(volume):
    from napari_particle_detect.detection.volume_detection import VolumeOptions, detect_volume

    for array, words in [(volume[0], "a 2D image .48x48.; a volume is 3D .z, y, x.: detect 2D images with detect"),
                         (volume[None], "a 4D array .1x16x48x48.; detect_volume takes one volume .z, y, x.: give a "
                                        "series .t, z, y, x. to detect_volumes")]:
        with pytest.raises(ParticleDetectError, match=words):
            detect_volume(array, None, VolumeOptions())
    for array, words in [(volume[0], "a 2D image"),
                         # length-1 axes are dropped as a file's are: a 5D array with none to drop stays refused
                         (np.stack([volume, volume])[:, None].repeat(2, 1), r"a 5D array \(2x2x16x48x48\); give a volume")]:
        with pytest.raises(ParticleDetectError, match=words):
            napari_particle_detect.detect_volumes(array)
    with pytest.raises(ParticleDetectError, match="a 2D model; volumes need a 3D model"):
        detect_volume(volume, napari_particle_detect.load_model(), VolumeOptions())
    with pytest.raises(ParticleDetectError, match="a 2D model; volumes need a 3D model"):
        napari_particle_detect.detect_volumes(volume, model="unet")
    with pytest.raises(TypeError, match="options must be a VolumeOptions"):
        detect_volume(volume, None, {"threshold": 0.5})


def test_detect_volumes_finds_what_detect_volume_finds_with_the_shipped_3d_model(volume):
    import torch

    from napari_particle_detect.detection.volume_detection import VolumeOptions, detect_volume, load_volume_model

    torch.set_num_threads(1)
    options = VolumeOptions(diameter=(4.0, 8.0, 8.0), threads=1)
    centres, scores, _ = detect_volume(volume, load_volume_model(None), options)
    assert len(centres) > 20
    # model None (the shipped unet3d), by name, and the defaults of detect_volume's options
    for model in (None, "unet3d"):
        found, _, _ = detect_volume(volume, model, options)
        assert np.array_equal(found, centres)
    one = napari_particle_detect.detect_volumes(volume, diameter=(4.0, 8.0, 8.0), threads=1)
    assert list(one.columns) == ["frame", "z", "y", "x", "score"] and (one["frame"] == 0).all()
    assert np.allclose(one[["z", "y", "x"]].to_numpy(), centres) and np.allclose(one["score"], scores)
    assert one.attrs["diameter"] == (4.0, 8.0, 8.0) and one.attrs["diameter_source"] == "given"
    assert one.attrs["model"].endswith("unet3d.pt")
    assert one.attrs["threshold"] == load_volume_model(None).card.threshold
    # a series, one number for xy with z from the voxel size (micrometres: *_um columns), a progress callback
    calls = []
    series = napari_particle_detect.detect_volumes(np.stack([volume, volume]), diameter=8, voxel_size=(0.4, 0.2, 0.2),
                                                   threads=1, progress=lambda done, total: calls.append((done, total)))
    assert sorted(set(series["frame"])) == [0, 1] and calls == [(1, 2), (2, 2)]
    assert series.attrs["diameter"] == (4.0, 8.0, 8.0) and np.allclose(series["z_um"], series["z"] * 0.4)
    first = series[series["frame"] == 0]
    assert np.allclose(first[["z", "y", "x"]].to_numpy(), centres)
