"""The network on OpenVINO: the centres ONNX Runtime finds, bfloat16 picked only where the CPU has it and the
weights passed the accuracy gate."""

import json

import numpy as np
import pytest
import torch

from napari_particle_detect.cli.main import main
from napari_particle_detect.detection import runtimes
from napari_particle_detect.detection.prediction import detect, prepare_network
from napari_particle_detect.detection.runtimes import OpenVinoNetwork, resolve_runtime
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.kinds.evaluation import match
from napari_particle_detect.models import load_model, save_model
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

from helpers import tiny_model_file

pytest.importorskip("openvino")
CPU = torch.device("cpu")


@pytest.fixture
def tiny(tmp_path):
    torch.set_num_threads(1)
    return load_model(save_model(load_model(tiny_model_file(tmp_path / "t")), tmp_path / "tiny.pt"))


def test_openvino_float32_finds_the_centres_onnx_runtime_finds():
    torch.set_num_threads(1)
    model = load_model()
    image = synthesize(benchmark_config("fluorescent", 0.5, shape=(96, 128)), seed=5).image
    by_onnx = detect(image, model, device="cpu", diameter=12, runtime="onnx", precision="float32")
    by_openvino = detect(image, model, device="cpu", diameter=12, runtime="openvino", precision="float32")
    assert isinstance(prepare_network(model, CPU, "float32", runtime="openvino"), OpenVinoNetwork)
    assert len(by_onnx) > 30 and len(by_openvino) == len(by_onnx)
    assert np.abs(by_openvino[["y", "x"]].to_numpy() - by_onnx[["y", "x"]].to_numpy()).max() < 1e-3


def test_openvino_bfloat16_and_int8_find_what_float32_finds():
    torch.set_num_threads(1)
    model = load_model()
    image = synthesize(benchmark_config("opaque", 0.3, shape=(128, 128)), seed=6).image
    by_float = detect(image, model, device="cpu", diameter=12, runtime="openvino", precision="float32")
    for precision in ("bfloat16", "int8"):
        found = detect(image, model, device="cpu", diameter=12, runtime="openvino", precision=precision)
        pairs = match(found[["y", "x"]].to_numpy(), by_float[["y", "x"]].to_numpy(), 1.0)
        assert len(by_float) > 20 and len(pairs[0]) >= len(by_float) - 1 and len(found) <= len(by_float) + 1
        shifts = np.linalg.norm(found[["y", "x"]].to_numpy()[pairs[0]] - by_float[["y", "x"]].to_numpy()[pairs[1]],
                                axis=1)
        assert np.median(shifts) < 0.05 and shifts.max() < 0.5, precision


def test_openvino_rules(tiny, monkeypatch):
    gpu = torch.device("cuda")
    for precision, device, compile, words in [
        ("auto", gpu, False, "runs on the CPU"),
        ("float16", CPU, False, "not an OpenVINO precision"),
        ("auto", CPU, True, "--compile is torch's"),
    ]:
        with pytest.raises(ParticleDetectError, match=words):
            resolve_runtime("openvino", precision, device, compile)
    monkeypatch.setattr(runtimes, "native_bfloat16_cpu", lambda: True)
    # bfloat16 asked for on a CPU that has it: OpenVINO's, not torch's autocast
    assert resolve_runtime("auto", "bfloat16", CPU) == ("openvino", "bfloat16")
    assert resolve_runtime("auto", "bfloat16", gpu) == ("torch", "bfloat16")
    # precision auto: bfloat16 only for weights that passed the gate
    assert resolve_runtime("auto", "auto", CPU, model=tiny) == ("onnx", "float32")
    assert resolve_runtime("openvino", "auto", CPU, model=tiny) == ("openvino", "float32")
    monkeypatch.setitem(runtimes.BFLOAT16_GATE_PASSED, runtimes.weights_digest(tiny), "a test")
    assert resolve_runtime("auto", "auto", CPU, model=tiny) == ("openvino", "bfloat16")
    assert resolve_runtime("openvino", "auto", CPU, model=tiny) == ("openvino", "bfloat16")
    assert resolve_runtime("auto", "float32", CPU, model=tiny) == ("onnx", "float32")
    with torch.no_grad():  # a fine-tuned round: other weights, unchecked in bfloat16
        next(tiny.network.parameters()).add_(0.01)
    assert resolve_runtime("auto", "auto", CPU, model=tiny) == ("onnx", "float32")
    # a CPU without native bfloat16 gains nothing from it: auto stays on ONNX Runtime
    monkeypatch.setattr(runtimes, "native_bfloat16_cpu", lambda: False)
    assert resolve_runtime("auto", "bfloat16", CPU) == ("torch", "bfloat16")


def test_without_openvino_its_runtime_says_how_to_get_it(monkeypatch):
    monkeypatch.setattr(runtimes, "openvino_available", lambda: False)
    monkeypatch.setattr(runtimes, "native_bfloat16_cpu", lambda: True)
    assert resolve_runtime("auto", "bfloat16", CPU) == ("torch", "bfloat16")
    with pytest.raises(ParticleDetectError, match="pip install openvino"):
        resolve_runtime("openvino", "auto", CPU)


def test_cli_records_the_openvino_runtime(tmp_path, capsys):
    import tifffile

    image = tmp_path / "img.tif"
    tifffile.imwrite(image, synthesize(benchmark_config("fluorescent", 0.3, shape=(96, 96)), seed=1).image)
    out = tmp_path / "img.csv"
    code = main(["-q", "detect", str(image), "-o", str(out), "--model", str(tiny_model_file(tmp_path / "m")),
                 "--runtime", "openvino", "--precision", "bfloat16", "--diameter", "12"])
    assert code == 0, capsys.readouterr().err
    meta = json.loads(out.with_suffix(".json").read_text())
    assert (meta["runtime"], meta["precision"]) == ("openvino", "bfloat16")


def test_a_damaged_cached_export_is_made_again_for_openvino(tiny):
    path = runtimes.export(tiny, "float32")
    path.write_bytes(b"not a network")
    network = prepare_network(tiny, CPU, "float32", runtime="openvino")
    assert isinstance(network, OpenVinoNetwork) and path.stat().st_size > 1000


def test_the_shipped_unet_runs_on_openvino_bfloat16_where_the_cpu_has_it(monkeypatch):
    # It passed the gate in bfloat16 (benchmarks/results/runtimes_openvino.txt).
    model = load_model()
    assert runtimes.weights_digest(model) in runtimes.BFLOAT16_GATE_PASSED
    monkeypatch.setattr(runtimes, "native_bfloat16_cpu", lambda: True)
    assert resolve_runtime("auto", "auto", CPU, model=model) == ("openvino", "bfloat16")
    monkeypatch.setattr(runtimes, "native_bfloat16_cpu", lambda: False)
    assert resolve_runtime("auto", "auto", CPU, model=model) == ("onnx", "float32")


@pytest.mark.parametrize("kind", ["rods", "chains"])
def test_the_shipped_kind_models_are_the_weights_their_gate_passed(kind, monkeypatch):
    # benchmarks/results/kinds_runtimes.txt: a retrained model must pass it again before auto runs it in bfloat16.
    from napari_particle_detect.detection.kinds_prediction import model_for

    model = model_for(kind, None, CPU)
    assert runtimes.weights_digest(model) in runtimes.BFLOAT16_GATE_PASSED
    monkeypatch.setattr(runtimes, "native_bfloat16_cpu", lambda: True)
    assert resolve_runtime("auto", "auto", CPU, model=model) == ("openvino", "bfloat16")


def test_a_rounds_model_keeps_its_gated_parents_bfloat16_verdict(tiny, monkeypatch, tmp_path):
    # runtimes.BFLOAT16_INHERITED: a few hundred steps from gated weights keep their verdict (training from a
    # model, as recipes do, writes a card of its own without it).
    from dataclasses import replace

    from napari_particle_detect.learning.finetune import FINE_TUNE, fine_tune
    from napari_particle_detect.learning.training import Example
    from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

    monkeypatch.setattr(runtimes, "native_bfloat16_cpu", lambda: True)
    samples = [synthesize(benchmark_config("fluorescent", 0.4, (64, 64)), seed=s) for s in range(3)]
    examples = [Example(s.image, s.centres, 1.0, f"frame {i}") for i, s in enumerate(samples)]
    config = replace(FINE_TUNE, steps_per_epoch=3, batch_size=2, crop=32, threads=1)
    ungated = fine_tune(tiny, examples, config, "cpu").model
    assert runtimes.BFLOAT16_INHERITED not in ungated.card.training
    assert resolve_runtime("auto", "auto", CPU, model=ungated)[0] != "openvino"

    monkeypatch.setitem(runtimes.BFLOAT16_GATE_PASSED, runtimes.weights_digest(tiny), "a test")
    child = fine_tune(tiny, examples, config, "cpu").model
    grandchild = fine_tune(child, examples, config, "cpu").model
    for model in (child, grandchild):
        assert runtimes.weights_digest(model) not in runtimes.BFLOAT16_GATE_PASSED  # other weights...
        assert model.card.training[runtimes.BFLOAT16_INHERITED] == runtimes.weights_digest(tiny)
        assert resolve_runtime("auto", "auto", CPU, model=model) == ("openvino", "bfloat16")  # ...the same verdict
    from napari_particle_detect.models import load_model, save_model

    reloaded = load_model(save_model(grandchild, tmp_path / "round-003.pt"))  # a later session's
    assert resolve_runtime("auto", "auto", CPU, model=reloaded) == ("openvino", "bfloat16")
    monkeypatch.delitem(runtimes.BFLOAT16_GATE_PASSED, runtimes.weights_digest(tiny))
    assert resolve_runtime("auto", "auto", CPU, model=grandchild)[0] != "openvino"  # withdrawn with its ancestor's


def _concurrently(work, count: int) -> list:
    """``work(i)`` for i in range(count), each on its own thread, started together; the results in order
    (an exception raised on a thread comes back as its result)."""
    import threading

    start, results = threading.Barrier(count), [None] * count

    def run(i):
        start.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - handed back to the test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.parametrize("kind", ["spheres", "rods"])
def test_threads_detecting_at_once_on_openvino_get_what_one_thread_gets(kind):
    # The napari docks detect in worker threads, the 2D, Rods and chains and 3D docks at once: one infer request
    # shared by every caller raised "Infer Request is busy" or handed a thread another's heatmap (7 of 20 calls).
    from napari_particle_detect.detection.kinds_prediction import model_for
    from napari_particle_detect.synthetic.spheres import SynthConfig

    torch.set_num_threads(1)
    images = [synthesize(SynthConfig(shape=(128, 128 + 16 * i)), seed=i).image for i in range(4)]
    options = {"device": "cpu", "runtime": "openvino", "kind": kind}
    alone = [detect(image, **options) for image in images]
    model = load_model() if kind == "spheres" else model_for(kind, None, CPU)
    assert isinstance(prepare_network(model, CPU, "auto", runtime="openvino"), OpenVinoNetwork)
    assert all(len(table) for table in alone)
    together = _concurrently(lambda i: [detect(images[i], **options) for _ in range(6)], len(images))
    for i, tables in enumerate(together):
        assert not isinstance(tables, Exception), repr(tables)
        for table in tables:
            assert table.equals(alone[i]), (i, len(table), len(alone[i]))


def test_an_openvino_network_called_from_threads_at_once_gives_each_its_own_output(tiny):
    network = prepare_network(tiny, CPU, "float32", runtime="openvino")
    assert isinstance(network, OpenVinoNetwork)
    rng = np.random.default_rng(0)
    inputs = [rng.random((1, 1, 64 + 16 * i, 64), dtype=np.float32) for i in range(4)]
    alone = [network.run(array) for array in inputs]
    together = _concurrently(lambda i: [network.run(inputs[i]) for _ in range(25)], len(inputs))
    for i, outputs in enumerate(together):
        assert not isinstance(outputs, Exception), repr(outputs)
        for output in outputs:
            assert output.shape == alone[i].shape and np.array_equal(output, alone[i]), i
    # never more requests than calls at once; calls one at a time, and threads that come later, reuse them
    made = network.requests
    assert 1 <= made <= len(inputs)
    for array in inputs:
        network.run(array)
    _concurrently(lambda i: network.run(inputs[0]), 1)
    assert network.requests == made


def test_detecting_with_openvino_sends_no_telemetry_and_writes_nothing_in_home(tmp_path):
    # `import openvino` alone sent a usage event to Google Analytics and wrote ~/intel (a client id, usage
    # counts): a detection on OpenVINO phoned home. OpenVINO's own stub stands in for its telemetry now.
    import os
    import subprocess
    import sys

    home = tmp_path / "home"
    home.mkdir()
    script = ("import sys, numpy as np\n"
              "from napari_particle_detect.detection.prediction import detect\n"
              "table = detect(np.random.default_rng(0).random((64, 64)), device='cpu', diameter=12, "
              "runtime='openvino', precision='float32')\n"
              "import openvino.tools.ovc.telemetry_utils as telemetry\n"
              "print(telemetry.tm.__name__, 'openvino_telemetry' in sys.modules, 'openvino' in sys.modules)\n")
    env = {**os.environ, "HOME": str(home), "NAPARI_PARTICLE_DETECT_HOME": str(tmp_path / "npd"),
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["openvino.tools.ovc.telemetry_stub", "False", "True"]
    assert list(home.iterdir()) == []
