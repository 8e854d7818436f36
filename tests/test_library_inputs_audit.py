"""A notebook user's inputs, as an audit found them: images of tiny intensities (photocurrents in A), seeded
code around a detect call, failed files on the user's own dask cluster, scoring volumes and frames with the
defaults."""

from collections import OrderedDict

import numpy as np
import pandas as pd
import pytest
import torch

import napari_particle_detect as npd
from napari_particle_detect.detection import device_pipeline, preprocessing, steps
from napari_particle_detect.files.distributed import detect_files
from napari_particle_detect.files.file_detection import DetectOptions
from napari_particle_detect.kinds.evaluation import evaluate_frames
from napari_particle_detect.kinds.evaluation3d import evaluate_volumes
from napari_particle_detect.models import registry
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume


@pytest.fixture(scope="module")
def sample() -> np.ndarray:
    return npd.synthesize(npd.SynthConfig(look="fluorescent", radius_range=(4, 6), shape=(96, 96)), seed=0).image


# The range of 1e-20: a floor of 1e-12 on it squashed the frame to 0. 1e-43: subnormal float32 pixels,
# whose range float32 division would round off.
SCALES = [(1e-20, np.float64), (1e-20, np.float32), (1e-43, np.float32)]


@pytest.mark.parametrize("scale, dtype", SCALES)
def test_detection_does_not_depend_on_the_images_scale(sample, scale, dtype):
    found = npd.detect(sample.astype(np.float32), diameter=10)
    scaled = npd.detect((sample.astype(np.float64) * scale).astype(dtype), diameter=10)
    assert len(found) > 20
    assert len(scaled) == len(found)
    np.testing.assert_allclose(scaled[["y", "x"]].to_numpy(), found[["y", "x"]].to_numpy(), atol=0.05)


@pytest.mark.parametrize("scale, dtype", SCALES)
def test_every_normalising_step_scales_a_tiny_range_to_0_1(sample, scale, dtype):
    frame = sample.astype(np.float32)
    tiny = (sample.astype(np.float64) * scale).astype(dtype).astype(np.float32)
    expected = preprocessing.normalise(frame)
    on_host = steps.HostSteps(torch.device("cpu")).prepare([tiny.copy()], 1.0, False)[0]
    # The GPU path's torch arithmetic, run on the CPU.
    on_device = steps.DeviceSteps(torch.device("cpu")).prepare([tiny.copy()], 1.0, False)[0].numpy()
    for normalised in (preprocessing.normalise(tiny), steps.normalise_in_place(tiny.copy()), on_host,
                       device_pipeline.normalise(torch.from_numpy(tiny)).numpy(), on_device):
        assert normalised.dtype == np.float32
        np.testing.assert_allclose(normalised, expected, atol=1e-5)


def test_a_constant_frame_is_still_refused():
    with pytest.raises(npd.ParticleDetectError, match="constant"):
        npd.detect(np.full((32, 32), 1e-20))


def test_the_first_detection_with_each_model_leaves_torchs_random_numbers_alone(sample, monkeypatch):
    # A dock's worker from an earlier test of this process, still loading a model in Qt's thread pool, would set
    # the generator back as it leaves torch.random.fork_rng: the state compared here is this thread's alone.
    from qtpy.QtCore import QThreadPool

    QThreadPool.globalInstance().waitForDone(30_000)
    monkeypatch.setattr(registry, "_last_loaded", OrderedDict())  # every model loaded afresh, as in a new notebook
    volume = synthesize_volume(VolumeConfig(shape=(12, 48, 48), diameter=8), seed=1).image
    for detect in (lambda: npd.detect(sample, diameter=10), lambda: npd.detect(sample, kind="rods"),
                   lambda: npd.detect_volumes(volume)):
        torch.manual_seed(0)
        before = torch.random.get_rng_state()
        detect()
        assert torch.equal(torch.random.get_rng_state(), before)


def test_training_from_scratch_still_draws_its_weights_from_the_seeded_generator():
    card = registry.ModelCard(channels=(4, 8))
    torch.manual_seed(3)
    first = registry.build_network(card).state_dict()
    torch.manual_seed(3)
    registry.load_model()  # a model loaded in between draws nothing
    again = registry.build_network(card).state_dict()
    assert all(torch.equal(first[k], again[k]) for k in first)


def test_failed_files_on_a_users_cluster_fail_as_values_not_as_dask_errors(tmp_path):
    """Each task that raises is logged by its worker as a multi-line 'Compute Failed' traceback (the
    scheduler's erred_tasks hold them); the run says each failure in one line, here as without a cluster."""
    from distributed import Client, LocalCluster

    (tmp_path / "notes.txt").write_text("a note")
    (tmp_path / "bad.tif").write_bytes(b"not a TIFF at all")
    files = [tmp_path / "notes.txt", tmp_path / "bad.tif"]
    options = DetectOptions(diameter=10, device="cpu", threads=1)
    here = detect_files(files, tmp_path / "here", options)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        summary = detect_files(files, tmp_path / "there", options, client=client)
        erred = list(cluster.scheduler.erred_tasks)
    assert erred == []
    assert summary.failed == here.failed and len(summary.failed) == 2
    assert "notes.txt: unsupported file type" in summary.failed[files[0]]


def test_evaluate_volumes_pairs_within_3_voxels_by_default():
    truth = pd.DataFrame({"z": [4.0, 9.0], "y": [10.0, 30.0], "x": [10.0, 30.0]})
    predicted = truth.assign(y=truth["y"] + 2.5)
    assert evaluate_volumes(predicted, truth).set_index("frame").loc["all", "tp"] == 2
    assert evaluate_volumes(predicted, truth, 2.0).set_index("frame").loc["all", "tp"] == 0


def test_evaluate_frames_checks_a_shape_without_a_border():
    table = pd.DataFrame({"y": [5.0, 20.0], "x": [5.0, 20.0]})
    with pytest.raises(ValueError, match=r"shape must be the image's \(height, width\).*\(1, 2, 3\)"):
        evaluate_frames(table, table, shape=(1, 2, 3))
    assert evaluate_frames(table, table, shape=(32, 32)).equals(evaluate_frames(table, table))


def test_a_volume_of_tiny_intensities_is_normalised_as_any_other():
    # normalise_volume kept the 1e-12 floor: a volume of 1e-20 read as 0 everywhere and nothing was found.
    from napari_particle_detect.detection.volume_resampling import normalise_volume

    volume = synthesize_volume(VolumeConfig(shape=(8, 32, 32), volume_fraction=0.3), seed=1).image.astype(np.float64)
    np.testing.assert_allclose(normalise_volume(volume * 1e-20), normalise_volume(volume), atol=1e-5)
