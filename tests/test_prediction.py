import re

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


# ---- detect()'s arguments, refused in one line before any work (the user audit of the Python API) ----
def _audit_image():
    return synthesize(benchmark_config("fluorescent", 0.3, shape=(96, 96)), seed=3).image


def test_a_3d_model_is_refused_in_2d_detection_by_what_it_finds():
    from napari_particle_detect.models.registry import require_kind, saved_card

    image = _audit_image()
    refusal = r"unet3d\.pt: a 3D model \(finds particles in volumes\); detect volumes with napari_particle_detect\.detect_volumes or .*--axes ZYX"
    for runtime in ("auto", "torch"):  # ONNX Runtime's rank error; torch's channels_last one
        with pytest.raises(ParticleDetectError, match=refusal):
            detect(image, model="unet3d", device="cpu", runtime=runtime)
    with pytest.raises(ParticleDetectError, match=refusal):
        require_kind(saved_card("unet3d"), "chains", "unet3d.pt", "give a chains model", spatial_dims=2)
    require_kind(saved_card("unet3d"), "spheres", "unet3d.pt")  # without spatial_dims: the kind alone


def test_a_given_diameter_larger_than_the_image_is_refused_as_the_command_line_refuses_it():
    image = _audit_image()
    for diameter, said in ((200, "200"), (1e6, "1e+06")):
        # Before the model is loaded: a model that does not exist is not what is said.
        with pytest.raises(ParticleDetectError, match=rf"^image: diameter {re.escape(said)} px is larger than the "
                                                      r"image \(96 x 96 px\); give the particles' diameter in pixels$"):
            detect(image, model="no-such-model", device="cpu", diameter=diameter)
    with pytest.raises(ParticleDetectError, match=r"diameter 80 px is larger than the image \(64 x 96 px\)"):
        detect(np.stack([image[:64]] * 2), model="no-such-model", device="cpu", diameter=80)


def test_frames_are_checked_counted_from_the_end_as_python_does_and_progress_counts_the_frames_detected(tiny_model):
    config = benchmark_config("fluorescent", 0.3, shape=(64, 64))
    stack = np.stack([synthesize(config, seed=s).image for s in (1, 2, 3)])
    with pytest.raises(ParticleDetectError, match=r"^image: frame 5 is out of range: 3 frames, so 0 to 2 "
                                                  r"\(or -3 to -1 from the end\)$"):
        detect(stack, model="no-such-model", device="cpu", frames=[5])
    with pytest.raises(ParticleDetectError, match="frame -4 is out of range"):
        detect(stack, tiny_model, device="cpu", frames=[-4])
    with pytest.raises(TypeError, match=r"frames must be a list of frame indices or None .*got int 1; for one frame "
                                        r"give frames=\[N\]"):
        detect(stack, tiny_model, device="cpu", frames=1)
    with pytest.raises(TypeError, match="frames must hold whole numbers .frame indices., got float 1.0"):
        detect(stack, tiny_model, device="cpu", frames=[1.0])
    with pytest.raises(ParticleDetectError, match="image: frame 0 is given twice in frames; each frame is detected"):
        detect(stack, tiny_model, device="cpu", frames=[0, 0])
    with pytest.raises(ParticleDetectError, match=r"frames 0 and -3 are the same frame \(0\)"):
        detect(stack, tiny_model, device="cpu", frames=[0, -3])
    with pytest.raises(ParticleDetectError, match="frames is empty"):
        detect(stack, tiny_model, device="cpu", frames=[])
    last = detect(stack, tiny_model, device="cpu", threshold=0.0, diameter=12, frames=[-1])
    assert len(last) and set(last["frame"]) == {2}  # the frame's index, as write_centres and read_centres want
    assert last.equals(detect(stack, tiny_model, device="cpu", threshold=0.0, diameter=12, frames=[2]))
    calls = []
    six = np.concatenate([stack, stack])
    table = detect(six, tiny_model, device="cpu", diameter=12, frames=np.array([3, 0]),
                   progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 2), (2, 2)]
    assert set(table["frame"]) <= {0, 3} and list(dict.fromkeys(table["frame"])) in ([3, 0], [3], [0], [])


def test_shapes_with_length_one_axes_ragged_frames_no_frames_and_values_beyond_float32(tiny_model):
    import warnings

    image = _audit_image()
    plain = detect(image, tiny_model, device="cpu", threshold=0.0, diameter=12)
    assert len(plain) > 5
    for shaped in (image[..., None], image[None, None], image[None, ..., None]):  # as the file readers squeeze them
        assert detect(shaped, tiny_model, device="cpu", threshold=0.0, diameter=12).equals(plain), shaped.shape
    two = detect(np.stack([image, image])[:, None], tiny_model, device="cpu", threshold=0.0, diameter=12)
    assert set(two["frame"]) == {0, 1}
    with pytest.raises(ParticleDetectError, match=r"^image: its frames differ in shape \(\(96, 96\) and \(50, 50\)\)"):
        detect([image, image[:50, :50]], tiny_model, device="cpu")
    with pytest.raises(ParticleDetectError, match=r"^image: no frames \(shape \(0, 96, 96\)\); nothing to detect$"):
        detect(np.zeros((0, 96, 96)), tiny_model, device="cpu")
    # One row of pixels, whatever its length-1 axes: too small, as a (1, 96) image is.
    with pytest.raises(ParticleDetectError, match=r"^image: image is too small \(\(1, 96, 1\)\); need at least 8x8 pixels$"):
        detect(np.zeros((1, 96, 1)), tiny_model, device="cpu")
    # Finite values float32 cannot hold, and a range float32 cannot tell from its offset: both are images.
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow RuntimeWarning either
        for scaled in (image.astype(float) * 1e300, image.astype(float) * 1e-300, 1 + image.astype(float) * 1e-12):
            found = detect(scaled, tiny_model, device="cpu", threshold=0.0, diameter=12)
            assert len(found) == len(plain)
            assert score(found[["y", "x"]].to_numpy(), plain[["y", "x"]].to_numpy(), 0.01).tp == len(plain)
    with pytest.raises(ParticleDetectError, match="image is constant"):
        detect(np.full((64, 64), 1e300), tiny_model, device="cpu")


def test_arguments_of_the_wrong_type_or_range_are_refused_naming_them_before_any_work(tiny_model, tmp_path):
    image = _audit_image()
    with pytest.raises(TypeError, match=r"^diameter must be a number \(px\) or None \(estimated\), got str '10'$"):
        detect(image, tiny_model, device="cpu", diameter="10")
    for text in ("0.5", "abc"):  # both refused alike: a number is a number
        with pytest.raises(TypeError, match=rf"^threshold must be a number in \[0, 1\) or None .*got str '{text}'$"):
            detect(image, tiny_model, device="cpu", threshold=text)
    with pytest.raises(TypeError, match=r"^model must be a model file's path, a shipped model's name or a "
                                        r"DetectorModel, got int 3$"):
        detect(image, model=3, device="cpu")
    settings = tmp_path / "settings.toml"
    settings.write_text("[tool]\n")
    with pytest.raises(ParticleDetectError, match=r"settings\.toml: not a model \(a model is NAME\.pt, its weights, "
                                                  r"with NAME\.json, its card, beside it\)$"):
        detect(image, model=settings, device="cpu")
    with pytest.raises(TypeError, match=r"^progress must be a callable taking \(done, total\) or None, got int 5$"):
        detect(image, model="no-such-model", device="cpu", progress=5)  # before the model, before detecting
    for option, value in (("tile", 0), ("tile", -1), ("batch_size", 0), ("batch_size", -3)):
        with pytest.raises(ParticleDetectError, match=rf"^{option} must be a whole number of (pixels|tiles), at least "
                                                      rf"1.*, got {value}$"):
            detect(image, model="no-such-model", device="cpu", **{option: value})
    with pytest.raises(TypeError, match="tile must be a whole number of pixels, at least 1, got float 512.0"):
        detect(image, tiny_model, device="cpu", tile=512.0)
    detect(image, tiny_model, device="cpu", diameter=np.float32(12), threshold=np.float64(0.5), tile=np.int64(512),
           batch_size=1)  # NumPy's numbers are numbers


def test_detect_documents_its_options_refuses_heatmaps_and_warns_of_a_doubtful_size_once(tiny_model, caplog):
    assert all(word in detect.__doc__ for word in ("progress", "frames", "heatmaps", "warning"))
    image = _audit_image()
    with pytest.raises(ParticleDetectError, match="heatmaps: detect returns a table, which holds no heatmaps"):
        detect(image, tiny_model, device="cpu", heatmaps=True)
    noise = np.random.default_rng(0).normal(size=(2, 96, 96))
    with caplog.at_level("WARNING", logger="napari_particle_detect"):
        table = detect(noise, tiny_model, device="cpu")
    assert table.attrs["diameter_confidence"] == "low"
    said = [r for r in caplog.records if "low confidence" in r.getMessage()]
    assert len(said) == 1 and said[0].name.startswith("napari_particle_detect")
    assert said[0].getMessage().startswith(f"image: particle diameter {table.attrs['diameter']:.1f} px (estimated), "
                                           f"low confidence: {table.attrs['diameter_reason']}")
    caplog.clear()
    with caplog.at_level("WARNING", logger="napari_particle_detect"):
        detect(noise, tiny_model, device="cpu", diameter=12)  # a given size: nothing to doubt
    assert not [r for r in caplog.records if "low confidence" in r.getMessage()]


def test_the_model_cache_keeps_the_models_the_docks_use_at_once_and_hands_threads_one_object():
    """Spheres, rods and chains detected by turns do not reload each other's weights; threads asking for
    the same model at once get the same object."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from napari_particle_detect.models import registry

    registry._last_loaded.clear()
    first = {name: registry.load_model_cached(name) for name in ("unet", "rods", "chains")}
    again = {name: registry.load_model_cached(name) for name in ("unet", "rods", "chains")}
    assert all(first[name] is again[name] for name in first)
    registry._last_loaded.clear()
    together = threading.Barrier(4, timeout=60)  # four threads ask at once, not one after another

    def load(_):
        together.wait()
        return registry.load_model_cached("unet")

    with ThreadPoolExecutor(4) as pool:
        models = list(pool.map(load, range(8)))
    assert all(model is models[0] for model in models)
    for name in ("unet", "unet-wide", "rods", "chains", "resnet"):
        registry.load_model_cached(name)
    assert len(registry._last_loaded) == registry.CACHED_MODELS


def test_a_changed_model_file_leaves_no_stale_copy_in_the_cache(tmp_path):
    import os

    from napari_particle_detect.models import registry

    weights = tiny_model_file(tmp_path)
    registry._last_loaded.clear()
    first = registry.load_model_cached(weights)
    os.utime(weights, ns=(0, 10**9))  # the file changed (a round saved over it)
    second = registry.load_model_cached(weights)
    assert second is not first and list(registry._last_loaded.values()) == [second]
