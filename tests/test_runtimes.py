"""The network on ONNX Runtime: the same centres as torch, exported once per weights, chosen by rule."""

import dataclasses
import json
import os

import numpy as np
import pytest
import torch

from napari_particle_detect.detection import runtimes
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.models import load_model, save_model
from napari_particle_detect.detection.prediction import detect, prepare_network
from napari_particle_detect.detection.preprocessing import normalise
from napari_particle_detect.detection.runtimes import OnnxNetwork, resolve_runtime
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

from napari_particle_detect.cli.main import main

from helpers import tiny_model_file

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory):
    return tiny_model_file(tmp_path_factory.mktemp("tiny"))


@pytest.fixture
def tiny(tmp_path, tiny_file):
    """A fresh copy of one barely trained model per test: tests change its weights and its folder."""
    torch.set_num_threads(1)
    return load_model(save_model(load_model(tiny_file), tmp_path / "tiny.pt"))


def test_onnx_float32_finds_the_centres_torch_finds():
    torch.set_num_threads(1)
    model = load_model()
    image = synthesize(benchmark_config("fluorescent", 0.5, shape=(96, 128)), seed=5).image
    by_torch = detect(image, model, device="cpu", diameter=12, runtime="torch")
    by_onnx = detect(image, model, device="cpu", diameter=12, runtime="onnx", precision="float32")
    assert len(by_torch) > 30
    assert len(by_onnx) == len(by_torch)
    assert np.abs(by_onnx[["y", "x"]].to_numpy() - by_torch[["y", "x"]].to_numpy()).max() < 1e-3
    assert np.abs(by_onnx.score.to_numpy() - by_torch.score.to_numpy()).max() < 1e-4


def test_the_shipped_unet_runs_in_float32_by_default_and_its_int8_form_finds_what_float32_finds(monkeypatch):
    # Its int8 form passed accuracy.py's rows but not loop.py's unfamiliar optics (results/runtimes.txt).
    monkeypatch.setattr(runtimes, "native_bfloat16_cpu", lambda: False)
    torch.set_num_threads(1)
    model = load_model()
    assert runtimes.weights_digest(model) not in runtimes.INT8_GATE_PASSED
    assert resolve_runtime("auto", "auto", CPU, model=model) == ("onnx", "float32")
    image = synthesize(benchmark_config("opaque", 0.3, shape=(128, 128)), seed=6).image
    by_float = detect(image, model, device="cpu", diameter=12, runtime="torch", precision="float32")
    by_int8 = detect(image, model, device="cpu", diameter=12, precision="int8")
    assert prepare_network(model, CPU, runtime="auto", precision="int8").precision == "int8"
    pairs = _matched(by_int8, by_float)
    assert len(by_float) > 20 and len(pairs[0]) >= len(by_float) - 1 and len(by_int8) <= len(by_float) + 1
    shifts = np.linalg.norm(by_int8[["y", "x"]].to_numpy()[pairs[0]] - by_float[["y", "x"]].to_numpy()[pairs[1]], axis=1)
    assert np.median(shifts) < 0.05 and shifts.max() < 0.5


def _matched(a, b):
    from napari_particle_detect.kinds.evaluation import match

    return match(a[["y", "x"]].to_numpy(), b[["y", "x"]].to_numpy(), 1.0)


def test_export_is_cached_beside_the_weights_and_keyed_by_them(tiny):
    first = prepare_network(tiny, CPU, runtime="onnx")
    assert isinstance(first, OnnxNetwork)
    assert first.path.parent == tiny.path.parent and first.path.suffix == ".onnx"
    stamp = first.path.stat().st_mtime_ns
    runtimes.onnx_network(tiny, "float32")  # a new session from the cached file, not a new export
    assert first.path.stat().st_mtime_ns == stamp
    with torch.no_grad():  # a fine-tuned round: other weights, another exported file
        next(tiny.network.parameters()).add_(0.01)
    second = prepare_network(tiny, CPU, runtime="onnx")
    assert second.path != first.path and second.path.exists()


@pytest.mark.parametrize("heads", [None, ("centre", "cos2", "sin2", "log_length", "log_width", "tips")])
def test_the_export_form_computes_what_the_network_computes(heads):
    from napari_particle_detect.models.heads import HeadsUNet
    from napari_particle_detect.models.unet import SplitMerge, UNet

    torch.manual_seed(0)
    network = UNet((4, 8, 12)) if heads is None else HeadsUNet((4, 8, 12), heads)
    network.train()
    for _ in range(3):  # batch norm statistics away from their defaults
        network(torch.rand(2, 1, 32, 32))
    network.eval()
    with torch.no_grad():
        network.head.weight.normal_(0.0, 300.0)  # activations over their whole range, saturated ones included
    head = network.head.weight.clone()
    x = torch.rand(2, 1, 40, 56)
    with torch.no_grad():
        expected = network(x)
        free = network.export_form()
        got = free(x)
    assert all(isinstance(m, SplitMerge) for m in free.merge) and not free.training
    # The network itself is left as it was.
    assert not any(isinstance(m, SplitMerge) for m in network.merge) and torch.equal(network.head.weight, head)
    assert not getattr(network, "one_sigmoid", False)
    assert expected.abs().max() > 0.9 and torch.allclose(got, expected, atol=1e-5)


def test_an_export_of_an_earlier_form_is_not_read(tiny):
    import onnx

    path = runtimes.export(tiny, "float32")
    assert f".form{runtimes.EXPORT_FORM}." in path.name
    assert "Concat" not in {n.op_type for n in onnx.load(str(path)).graph.node}
    old = path.with_name(path.name.replace(f".form{runtimes.EXPORT_FORM}", ""))
    old.write_bytes(b"an earlier form")  # as a cache holds it from before
    assert runtimes.exported_path(tiny, "float32") == path
    assert runtimes.onnx_network(tiny, "float32")(torch.zeros(1, 1, 32, 32)).shape == (1, 1, 32, 32)


def test_a_damaged_cached_export_is_made_again(tiny):
    path = runtimes.export(tiny, "float32")
    path.write_bytes(b"not an onnx file")
    network = runtimes.onnx_network(tiny, "float32")
    out = network(torch.zeros(1, 1, 32, 32))
    assert out.shape == (1, 1, 32, 32)


def test_int8_keeps_the_heatmap_head_in_float(tiny, monkeypatch):
    monkeypatch.setattr(runtimes, "INT8", dataclasses.replace(runtimes.INT8, images=2, side=64))
    network = runtimes.onnx_network(tiny, "int8")
    import onnx

    graph = onnx.load(str(network.path)).graph
    ops = [node.op_type for node in graph.node]
    assert "QuantizeLinear" in ops  # quantized inside
    assert ops[-1] == "Sigmoid" and graph.node[-2].op_type == "Conv"  # the head left in float32
    image = normalise(synthesize(benchmark_config("fluorescent", 0.5, shape=(64, 64)), seed=2).image)
    batch = torch.from_numpy(image)[None, None]
    with torch.inference_mode():
        reference = tiny.network(batch)
    assert (network(batch) - reference).abs().max() < 0.02


def test_an_other_int8_recipe_is_an_other_exported_file(tiny, monkeypatch):
    shipped = runtimes.exported_path(tiny, "int8")
    monkeypatch.setattr(runtimes, "INT8", dataclasses.replace(runtimes.INT8, calibration="minmax"))
    assert runtimes.exported_path(tiny, "int8") != shipped
    with pytest.raises(ParticleDetectError, match="unknown calibration"):
        runtimes.Int8Recipe(calibration="median")
    with pytest.raises(ParticleDetectError, match="unknown float layers"):
        runtimes.Int8Recipe(keep_float=("head",))


def test_float_nodes_name_the_layers_kept_in_float(tiny):
    import onnx

    path = runtimes.export(tiny, "float32")
    nodes = onnx.load(str(path)).graph.node
    convs = [n.name for n in nodes if n.op_type == "Conv"]
    ends = runtimes.float_nodes(path, ("ends",))
    assert ends[0] == convs[0] and convs[-1] in ends and nodes[-1].name in ends
    assert convs[1] not in ends and convs[-2] not in ends
    block = runtimes.float_nodes(path, ("ends", "last block"))
    last_up = [n.name for n in nodes if n.op_type == "ConvTranspose"][-1]
    # After the last upsampling: the merge's two split convolutions, its second one and the head (UNet.export_form).
    assert set(ends) < set(block) and last_up in block and convs[-4] in block and convs[-5] not in block


def test_runtime_rules(monkeypatch):
    # (on a CPU without native bfloat16: tests/test_openvino_runtime.py has the rules where it has)
    monkeypatch.setattr(runtimes, "native_bfloat16_cpu", lambda: False)
    cpu, gpu = CPU, torch.device("cuda")
    # float32 without a model, or for weights that have not passed the int8 accuracy gate
    assert resolve_runtime("auto", "auto", cpu) == ("onnx", "float32")
    assert resolve_runtime("auto", "int8", cpu) == ("onnx", "int8")
    assert resolve_runtime("auto", "auto", gpu) == ("torch", "auto")
    assert resolve_runtime("auto", "bfloat16", cpu) == ("torch", "bfloat16")
    assert resolve_runtime("auto", "auto", cpu, compile=True) == ("torch", "auto")
    assert resolve_runtime("torch", "float32", cpu) == ("torch", "float32")
    for runtime, precision, device, words in [
        ("onnx", "auto", gpu, "runs on the CPU"),
        ("onnx", "float16", cpu, "not an ONNX Runtime precision"),
        ("torch", "int8", cpu, "ONNX Runtime or OpenVINO only"),
        ("auto", "int8", gpu, "CPU only"),
        ("tpu-rt", "auto", cpu, "unknown runtime"),
    ]:
        with pytest.raises(ParticleDetectError, match=words):
            resolve_runtime(runtime, precision, device)


def test_auto_precision_is_int8_only_for_weights_that_passed_the_gate(tiny, monkeypatch):
    assert resolve_runtime("auto", "auto", CPU, model=tiny) == ("onnx", "float32")
    monkeypatch.setitem(runtimes.INT8_GATE_PASSED, runtimes.weights_digest(tiny), "a test")
    assert resolve_runtime("auto", "auto", CPU, model=tiny) == ("onnx", "int8")
    assert resolve_runtime("auto", "float32", CPU, model=tiny) == ("onnx", "float32")
    with torch.no_grad():  # a fine-tuned round: other weights, unchecked in int8
        next(tiny.network.parameters()).add_(0.01)
    assert resolve_runtime("auto", "auto", CPU, model=tiny) == ("onnx", "float32")


def test_without_onnxruntime_auto_falls_back_to_torch(monkeypatch):
    monkeypatch.setattr(runtimes, "onnx_available", lambda: False)
    assert resolve_runtime("auto", "auto", CPU) == ("torch", "auto")
    with pytest.raises(ParticleDetectError, match="pip install onnxruntime"):
        resolve_runtime("onnx", "auto", CPU)


def test_read_only_model_folder_exports_to_the_cache(tmp_path, monkeypatch, tiny):
    folder = tmp_path / "readonly"
    folder.mkdir()
    path = save_model(tiny, folder / "m.pt")
    model = load_model(path)
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(folder) else True)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    exported = runtimes.export(model, "float32")
    assert exported.parent == tmp_path / "cache" / "napari-particle-detect" / "onnx"


def run_cli(capsys, *args):
    code = main(["-q", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.err


def test_cli_records_the_runtime(tmp_path, capsys):
    image = tmp_path / "img.tif"
    import tifffile

    tifffile.imwrite(image, synthesize(benchmark_config("fluorescent", 0.3, shape=(96, 96)), seed=1).image)
    model = tiny_model_file(tmp_path / "m")
    out = tmp_path / "out" / "img.csv"
    code, err = run_cli(capsys, "detect", image, "-o", str(tmp_path / "out") + "/", "--model", model,
                        "--runtime", "onnx", "--diameter", "12")
    assert code == 0, err
    meta = json.loads(out.with_suffix(".json").read_text())
    assert (meta["runtime"], meta["precision"]) == ("onnx", "float32")
    code, err = run_cli(capsys, "detect", image, "-o", tmp_path / "bad.csv", "--model", model,
                        "--runtime", "torch", "--precision", "int8")
    assert code == 2 and "ONNX Runtime or OpenVINO only" in err
    assert not (tmp_path / "bad.csv").exists()


def test_weights_digest_follows_every_change_to_the_weights_and_statistics(tiny):
    first = runtimes.weights_digest(tiny)
    assert runtimes.weights_digest(tiny) == first
    saved = {k: v.clone() for k, v in tiny.network.state_dict().items()}
    tiny.network.train()
    with torch.no_grad():  # batch-norm statistics move in a training pass, the parameters do not
        tiny.network(torch.rand(2, 1, 32, 32))
    tiny.network.eval()
    moved = runtimes.weights_digest(tiny)
    assert moved != first
    tiny.network.load_state_dict(saved)  # copied into the same tensors
    assert runtimes.weights_digest(tiny) == first
