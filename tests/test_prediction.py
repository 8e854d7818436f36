import numpy as np
import pytest
import torch

from napari_particle_detect.detection.devices import select_device
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.kinds.evaluation import score
from napari_particle_detect.models import default_model_path, load_model
from napari_particle_detect.detection.prediction import detect, predict_heatmap
from napari_particle_detect.detection.preprocessing import normalise
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

from helpers import tiny_model_file


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return load_model(tiny_model_file(tmp_path_factory.mktemp("tiny")))


def test_tiled_equals_untiled(tiny_model):
    torch.set_num_threads(1)
    image = normalise(synthesize(benchmark_config("fluorescent", 0.6, shape=(300, 260)), seed=8).image)
    whole = predict_heatmap(tiny_model.network, image, "cpu", tile=1024)
    tiled = predict_heatmap(tiny_model.network, image, "cpu", tile=160, batch_size=3)
    assert whole.shape == tiled.shape == image.shape
    assert np.abs(whole - tiled).max() < 1e-4


def test_stack_gives_frame_column(tiny_model):
    stack = np.stack([synthesize(benchmark_config("fluorescent", 0.3, shape=(64, 64)), seed=s).image for s in (1, 2)])
    table = detect(stack, tiny_model, device="cpu", threshold=0.0, diameter=12)
    assert list(table.columns) == ["frame", "y", "x", "score"]
    assert set(table["frame"]) <= {0, 1}
    assert table.attrs["diameter"] == 12
    assert table.attrs["scale"] == pytest.approx(tiny_model.card.canonical_diameter / 12)


def test_a_blank_frame_in_a_stack_gets_no_centres_and_the_rest_are_detected(tiny_model, caplog):
    frames = [synthesize(benchmark_config("fluorescent", 0.3, shape=(64, 64)), seed=s).image for s in (1, 2, 3)]
    with_blank = np.stack([frames[0], np.zeros_like(frames[0]), frames[1], frames[2]])
    alone = detect(np.stack(frames), tiny_model, device="cpu", threshold=0.0, diameter=12)
    with caplog.at_level("WARNING"):
        found = detect(with_blank, tiny_model, device="cpu", threshold=0.0, diameter=12)
    assert "image frame 1: every pixel is 0 (a blank frame): no centres" in caplog.text
    assert 1 not in set(found["frame"]) and len(alone) > 0
    renumbered = found.assign(frame=found["frame"].map({0: 0, 2: 1, 3: 2}))
    assert renumbered.reset_index(drop=True).equals(alone.reset_index(drop=True))
    # The size estimate reads the frames that are not blank (the middle one it would pick is).
    estimated = detect(np.stack([frames[0], np.zeros_like(frames[0]), frames[1]]), tiny_model, device="cpu")
    assert set(estimated["frame"]) == {0, 2} and estimated.attrs["diameter"] > 0
    with pytest.raises(ParticleDetectError, match="image: every frame is constant; nothing to detect"):
        detect(np.zeros((2, 64, 64), np.float32), tiny_model, device="cpu")
    with pytest.raises(ParticleDetectError, match="image is constant"):
        detect(np.zeros((64, 64), np.float32), tiny_model, device="cpu")  # one frame: nothing at all to detect


def test_shipped_model_detects_fresh_synthetic_particles():
    torch.set_num_threads(2)
    model = load_model(default_model_path("unet"))
    sample = synthesize(benchmark_config("fluorescent", 0.5, shape=(160, 160)), seed=424242)
    table = detect(sample.image, model, device="cpu")
    s = score(table[["y", "x"]].to_numpy(), sample.centres, 3.0)
    assert s.f1 >= 0.9, s


def test_device_selection():
    assert select_device("cpu").type == "cpu"
    assert select_device("auto").type in ("cpu", "cuda", "mps")
    with pytest.raises(ParticleDetectError, match="unknown device"):
        select_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ParticleDetectError, match="CUDA"):
            select_device("cuda")


def test_lazy_tiff_stack_reads_frames_on_demand(tmp_path, tiny_model):
    import tifffile

    from napari_particle_detect.files.io import LazyTiffStack, read_image

    frames = np.stack([synthesize(benchmark_config("opaque", 0.3, shape=(64, 80)), seed=s).image for s in range(3)])
    tifffile.imwrite(tmp_path / "stack.tif", frames, photometric="minisblack")
    lazy = read_image(tmp_path / "stack.tif", lazy=True)
    assert isinstance(lazy, LazyTiffStack) and lazy.shape == (3, 64, 80)
    assert np.array_equal(lazy[2], frames[2])
    eager = detect(frames, tiny_model, device="cpu", threshold=0.0, diameter=12)
    streamed = detect(lazy, tiny_model, device="cpu", threshold=0.0, diameter=12)
    assert eager.equals(streamed)


def test_inference_network_folds_batch_norm_without_changing_the_heatmap():
    from napari_particle_detect.detection.prediction import prepare_network

    torch.set_num_threads(2)
    model = load_model(default_model_path("unet"))
    image = normalise(synthesize(benchmark_config("opaque", 0.6, shape=(96, 96)), seed=5).image)
    plain = predict_heatmap(model.network.eval(), image, "cpu")
    folded = prepare_network(model, torch.device("cpu"), "float32")
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    assert np.abs(predict_heatmap(folded, image, "cpu") - plain).max() < 1e-4
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in model.network.modules())  # the model itself is untouched


def test_bfloat16_inference_finds_the_same_centres():
    torch.set_num_threads(2)
    model = load_model(default_model_path("unet"))
    sample = synthesize(benchmark_config("fluorescent", 0.6, shape=(128, 128)), seed=77)
    full = detect(sample.image, model, device="cpu", diameter=12, precision="float32")[["y", "x"]].to_numpy()
    half = detect(sample.image, model, device="cpu", diameter=12, precision="bfloat16")[["y", "x"]].to_numpy()
    assert score(half, full, 0.25).f1 > 0.98


def test_precision_choices():
    from napari_particle_detect.detection.devices import select_precision

    cpu = torch.device("cpu")
    assert select_precision("float32", cpu) == torch.float32
    assert select_precision("bfloat16", cpu) == torch.bfloat16
    assert select_precision("auto", cpu) in (torch.float32, torch.bfloat16)
    with pytest.raises(ParticleDetectError, match="precision"):
        select_precision("float8", cpu)


def test_prepared_network_is_reused_until_the_weights_change():
    from napari_particle_detect.detection.prediction import prepare_network

    model = load_model(default_model_path("unet"))
    cpu = torch.device("cpu")
    first = prepare_network(model, cpu, "float32")
    assert prepare_network(model, cpu, "float32") is first
    assert prepare_network(model, cpu, "bfloat16") is not first
    with torch.no_grad():
        next(model.network.parameters()).mul_(1.0)  # in-place, as training would
    assert prepare_network(model, cpu, "float32") is not first


def test_a_model_named_by_path_is_loaded_once_while_its_files_are_unchanged(tmp_path, monkeypatch):
    import os
    import shutil

    from napari_particle_detect.models import registry

    torch.set_num_threads(1)
    source = tiny_model_file(tmp_path / "train")
    shutil.copy(source, tmp_path / "m.pt")
    shutil.copy(source.with_suffix(".json"), tmp_path / "m.json")
    loads = []
    real_load = registry.load_model
    monkeypatch.setattr(registry, "load_model", lambda *a, **k: loads.append(a) or real_load(*a, **k))
    image = synthesize(benchmark_config("fluorescent", 0.3, shape=(64, 64)), seed=4).image
    first = detect(image, model=tmp_path / "m", device="cpu", diameter=12.0)
    again = detect(image, model=str(tmp_path / "m.pt"), device="cpu", diameter=12.0)
    assert len(loads) == 1
    assert first[["y", "x"]].equals(again[["y", "x"]])
    stat = os.stat(tmp_path / "m.pt")
    os.utime(tmp_path / "m.pt", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # rewritten
    detect(image, model=tmp_path / "m", device="cpu", diameter=12.0)
    assert len(loads) == 2
    with pytest.raises(ParticleDetectError, match="not found"):
        detect(image, model=tmp_path / "missing", device="cpu", diameter=12.0)


def test_a_bare_name_picks_the_shipped_weights_of_that_name_unless_a_file_here_has_it(tmp_path, monkeypatch):
    from napari_particle_detect.models.registry import weights_path
    from napari_particle_detect.shipped import WEIGHTS_DIR

    monkeypatch.chdir(tmp_path)
    assert weights_path("unet-wide") == WEIGHTS_DIR / "unet-wide.pt"
    wide, thin = load_model("unet-wide"), load_model()
    assert wide.card.channels[0] == 2 * thin.card.channels[0]  # the UNet shipped before the thin-top one
    (tmp_path / "unet-wide.pt").write_bytes(b"")
    assert weights_path("unet-wide").resolve() == tmp_path / "unet-wide.pt"  # a file here wins
    with pytest.raises(ParticleDetectError, match="not found"):
        load_model("no-such-model")
