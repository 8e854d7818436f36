"""The network on a runtime made for CPUs: ONNX Runtime, in float32 or int8, exported from the torch model.

torch stays the runtime for training and for GPUs. On a CPU, ONNX Runtime runs the same network
faster (its convolution kernels and graph fusions are tuned for inference), and its static int8
form faster again. A model's exported form is made on first use and cached beside its weights
(or, where that folder cannot be written, in the user's cache folder), keyed by a hash of the
weights, so a fine-tuned round gets its own exported form as the shipped model does.

int8 needs calibration: the ranges of the activations are measured on images from the synthetic
generator at the model's working particle size (fixed seeds, so every export of the same weights
is the same file).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import importlib.util
import logging
import os
import shutil
import tempfile
import threading
import warnings
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..errors import ParticleDetectError
from ..models import DetectorModel
from ..models.unet import UNet
from ..shipped import BFLOAT16_GATE_FROM, WEIGHTS_DIR
from .choices import RUNTIME_CHOICES
from .devices import native_bfloat16_cpu, select_precision
from .openvino_runtime import OPENVINO_PRECISIONS, compile_openvino, openvino_available

log = logging.getLogger(__name__)

CALIBRATION_METHODS = ("minmax", "percentile", "entropy")
# Layers that int8 may keep in float32: "ends" (the first convolution and the head), "last block"
# (the full-resolution decoder block: its upsampling, skip join and two convolutions). Excluding the
# skip joins (Concat) was tried: onnxruntime 1.32 wrote the same file byte for byte, so it is no choice.
KEEP_FLOAT_CHOICES = ("ends", "last block")


@dataclass(frozen=True)
class Int8Recipe:
    """How the int8 form is made. Part of the exported file's key: a changed recipe exports anew."""

    calibration: str = "percentile"
    images: int = 16
    side: int = 256
    percentile: float = 99.99
    per_channel: bool = True
    reduce_range: bool = False
    keep_float: tuple[str, ...] = ("ends",)

    def __post_init__(self) -> None:
        if self.calibration not in CALIBRATION_METHODS:
            raise ParticleDetectError(f"unknown calibration {self.calibration!r}; choose {', '.join(CALIBRATION_METHODS)}")
        unknown = set(self.keep_float) - set(KEEP_FLOAT_CHOICES)
        if unknown:
            raise ParticleDetectError(f"unknown float layers {sorted(unknown)}; choose from {', '.join(KEEP_FLOAT_CHOICES)}")


# Activation ranges from the 99.99th percentile, not the extremes: with MinMax (and Entropy, whose
# file onnxruntime 1.32 wrote byte for byte the same) rare large activations stretch the range, and
# sparse opaque discs lost particles (F1 0.985 against torch's 0.997 over 300). No other recipe did
# better on the gate (benchmarks/results/runtimes.txt): 8 or 32 calibration images, per-tensor
# weights, 7-bit weights (reduce_range), the last decoder block kept float.
INT8 = Int8Recipe()

ONNX_PRECISIONS = ("float32", "int8")
# What --precision auto means on ONNX Runtime: int8 for a model whose weights passed
# benchmarks/runtimes.py's gate (held-out F1 within 0.002 and RMS within 0.02 px of torch float32 on
# every row: accuracy.py's cells and scenes, and loop.py's unfamiliar optics), float32 for any other
# (a fine-tuned round, a user's model: nobody has checked their int8 form). None has passed yet:
# the UNet shipped on 2026-12-03 passes on accuracy.py's rows (worst F1 drop 0.001, RMS rise
# 0.008 px) but loses 0.005-0.007 F1 on the unfamiliar bright-field rims and large absorbing
# spheres; the phase-3 UNet before it placed sparse opaque discs 0.039 px worse.
AUTO_ONNX_PRECISION = "float32"
INT8_GATE_PASSED: dict[str, str] = {}  # weights_digest -> the results file that shows it passed
# The same gate for OpenVINO's bfloat16 form, which auto picks on a CPU with native bfloat16
# (devices.native_bfloat16_cpu) for weights listed here.
BFLOAT16_GATE_PASSED: dict[str, str] = {
    # the thin-top UNet shipped on 2026-12-05 (recipes/unet-thin8-distilled.toml): worst F1 drop 0.001, RMS rise 0.002 px
    "a1f6f6a25b2afdaa": "benchmarks/results/runtimes_thin8.txt",
    # the UNet shipped on 2026-12-03, now weights/unet-wide.pt: worst F1 drop 0.001, RMS rise 0.007 px (0.004 for export form 2)
    "a1a3149a267e94a8": "benchmarks/results/runtimes_openvino.txt",
    # the shipped rods model (epoch 75 of rods-long3), 8 images a cell: rods F1 +0.0009, ellipsoids -0.0009,
    # orientation p90 -0.03 deg, length error -0.0005 (on 4 a cell, p90 0.20 deg better: past the two-sided 0.1);
    # export form 2 (UNet.concat_free): F1 -0.0007, ellipsoids -0.0012, p90 -0.08 deg, length -0.0005
    "37e9beb44b5794ee": "benchmarks/results/kinds_runtimes.txt",
    # the shipped chains model (epoch 143 of chains-long): the same bead and bond F1 and chains exactly right
    # as float32 (the entry before it, 58613f6242766269, was the chains model of stop 28's gate); export form 2: bond F1
    # -0.0001, exactly right -0.0015
    "ae726f12b22bf01c": "benchmarks/results/kinds_runtimes.txt",
}
OPSET = 17
CACHE_ENV = "NAPARI_PARTICLE_DETECT_CACHE"


def cpu_forms() -> tuple[tuple[str, str], ...]:
    """Every (runtime, precision) a CPU can run in float32 or lower without autocast: torch float32, ONNX
    Runtime's forms and, where it is installed, OpenVINO's (what the benchmarks compare)."""
    return (("torch", "float32"), *(("onnx", p) for p in ONNX_PRECISIONS),
            *((("openvino", p) for p in OPENVINO_PRECISIONS) if openvino_available() else ()))


def onnx_available() -> bool:
    """Whether ONNX Runtime and the exporter's ``onnx`` package are installed."""
    return all(importlib.util.find_spec(name) is not None for name in ("onnxruntime", "onnx"))


def auto_onnx_precision(model: DetectorModel | None) -> str:
    """int8 for a model whose weights passed the accuracy gate (INT8_GATE_PASSED), else float32."""
    # Hashing the weights costs milliseconds on every prepared network: only when something is listed.
    if model is None or not INT8_GATE_PASSED or network_dims(model) != 2:
        return AUTO_ONNX_PRECISION
    return "int8" if weights_digest(model) in INT8_GATE_PASSED else AUTO_ONNX_PRECISION


# A round's model (a few hundred steps from its parent) keeps the bfloat16 verdict of the gated weights it
# descends from, recorded on its card under this key (training from a model, as recipes do, writes a card of
# its own without it, so a long run is gated on its own weights): else every fine-tuned model ran in float32, 2x slower
# than the shipped one on a CPU with native bfloat16. Measured on loop.py's four domains, one round each from
# the shipped UNet: unseen F1 in bfloat16 against float32 -0.0001 / 0.0000 / 0.0000 / -0.0011, RMS within
# 0.001 px (the shipped model's own: -0.0005 to +0.0021; benchmarks/round_runtimes.py, results/round_runtimes.txt).
BFLOAT16_INHERITED = BFLOAT16_GATE_FROM  # kept in shipped.py: its model digest reads it, below detection


def bfloat16_gate_passed(model: DetectorModel | None) -> bool:
    """Whether ``model``'s weights passed the accuracy gate in OpenVINO's bfloat16 (BFLOAT16_GATE_PASSED),
    themselves or as a round's model descending from weights that did (BFLOAT16_INHERITED)."""
    return gated_ancestor(model) is not None


def gated_ancestor(model: DetectorModel | None) -> str | None:
    """The digest of the gated weights ``model`` is or descends from by rounds, or None."""
    if model is None or not BFLOAT16_GATE_PASSED or network_dims(model) != 2:
        return None
    inherited = model.card.training.get(BFLOAT16_INHERITED)
    if inherited in BFLOAT16_GATE_PASSED:
        return inherited
    digest = weights_digest(model)
    return digest if digest in BFLOAT16_GATE_PASSED else None


def inherit_bfloat16_gate(parent: DetectorModel, child: DetectorModel) -> None:
    """Record on a round's ``child`` card the gated weights its ``parent`` is or descends from (or none)."""
    ancestor = gated_ancestor(parent)
    child.card.training.pop(BFLOAT16_INHERITED, None)
    if ancestor is not None:
        child.card.training[BFLOAT16_INHERITED] = ancestor


def resolve_runtime(runtime: str | None, precision: str | None, device: torch.device,
                    compile: bool = False, model: DetectorModel | None = None) -> tuple[str, str]:
    """(runtime, precision) to run with: ``("onnx", "float32"|"int8")``, ``("openvino",
    "float32"|"bfloat16"|"int8")`` or ``("torch", precision)``.

    ``auto`` on a CPU picks OpenVINO in bfloat16 where it is installed, the CPU computes in bfloat16
    natively and precision is bfloat16, or auto for a model whose bfloat16 form passed the accuracy
    gate; else ONNX Runtime when it is installed and the precision asked for is one it runs (auto,
    float32, int8); torch otherwise (GPUs, float16, ``compile``). Precision auto on ONNX Runtime is
    :func:`auto_onnx_precision` of ``model`` (float32 without one).
    """
    runtime = (runtime or "auto").lower()
    precision = (precision or "auto").lower()
    if runtime not in RUNTIME_CHOICES:
        raise ParticleDetectError(f"unknown runtime {runtime!r}; choose one of {', '.join(RUNTIME_CHOICES)}")
    onnx_precision = precision in ("auto", *ONNX_PRECISIONS)
    if runtime == "auto" and device.type == "cpu" and not compile and openvino_available() and native_bfloat16_cpu() \
            and (precision == "bfloat16" or (precision == "auto" and bfloat16_gate_passed(model))):
        return "openvino", "bfloat16"
    if runtime == "openvino":
        return "openvino", _openvino_precision(precision, device, compile, model)
    if runtime == "auto":
        usable = device.type == "cpu" and onnx_precision and not compile and onnx_available()
        if precision == "int8" and not usable:
            raise ParticleDetectError("precision 'int8' runs on ONNX Runtime on a CPU only; "
                                      + ("install onnxruntime and onnx" if not onnx_available() else
                                         "choose --device cpu" if device.type != "cpu" else "leave out --compile"))
        runtime = "onnx" if usable else "torch"
    if runtime == "onnx":
        if not onnx_available():
            raise ParticleDetectError("runtime 'onnx' needs the onnxruntime and onnx packages: "
                                      "pip install onnxruntime onnx")
        if device.type != "cpu":
            raise ParticleDetectError(f"runtime 'onnx' runs on the CPU; on {device.type} use --runtime torch")
        if not onnx_precision:
            raise ParticleDetectError(f"precision {precision!r} is not an ONNX Runtime precision; choose "
                                      f"{' or '.join(ONNX_PRECISIONS)}, or --runtime torch")
        if compile:
            raise ParticleDetectError("--compile is torch's; leave it out with --runtime onnx")
        return "onnx", auto_onnx_precision(model) if precision == "auto" else precision
    if precision == "int8":
        raise ParticleDetectError("precision 'int8' runs on ONNX Runtime or OpenVINO only; use --runtime onnx, "
                                  "openvino or auto")
    return "torch", precision


def runtime_record(runtime: str | None, precision: str | None, device: torch.device, compile: bool = False,
                   model: DetectorModel | None = None) -> tuple[str, str]:
    """(runtime, precision) as a run's metadata names them: :func:`resolve_runtime`'s, with torch's precision
    the number format it resolves to."""
    chosen, precision = resolve_runtime(runtime, precision, device, compile, model)
    if chosen == "torch":
        precision = str(select_precision(precision, device)).removeprefix("torch.")
    return chosen, precision


def _openvino_precision(precision: str, device: torch.device, compile: bool, model: DetectorModel | None) -> str:
    if not openvino_available():
        raise ParticleDetectError("runtime 'openvino' needs the openvino package: pip install openvino")
    if device.type != "cpu":
        raise ParticleDetectError(f"runtime 'openvino' runs on the CPU; on {device.type} use --runtime torch")
    if precision not in ("auto", *OPENVINO_PRECISIONS):
        raise ParticleDetectError(f"precision {precision!r} is not an OpenVINO precision; choose "
                                  f"{', '.join(OPENVINO_PRECISIONS)}, or --runtime torch")
    if compile:
        raise ParticleDetectError("--compile is torch's; leave it out with --runtime openvino")
    if precision == "int8" and model is not None and network_dims(model) == 3:
        raise ParticleDetectError("precision 'int8' is for 2D models; a 3D model runs in float32")
    if precision == "auto":
        return "bfloat16" if native_bfloat16_cpu() and bfloat16_gate_passed(model) else "float32"
    return precision


class ExportedNetwork(nn.Module):
    """A model's exported network on an inference runtime, called like the torch network it came from.

    Tensors in and out share memory with NumPy arrays on the CPU, so the stages around the network
    need not know which runtime ran it.
    """

    warmup_seconds: float | None = None  # torch.compile's; nothing compiles here
    channels_last = False  # the runtimes read plain NCHW arrays

    def __init__(self, stride: int, precision: str, path: Path) -> None:
        super().__init__()
        self.stride, self.precision, self.path = stride, precision, path

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.run(np.ascontiguousarray(x.detach().cpu().numpy(), dtype=np.float32)))

    def run(self, array: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class OnnxNetwork(ExportedNetwork):
    """The exported network as an ONNX Runtime session."""

    def __init__(self, session, stride: int, precision: str, path: Path) -> None:
        super().__init__(stride, precision, path)
        self.session, self.input_name = session, session.get_inputs()[0].name

    def run(self, array: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: array})[0]


class OpenVinoNetwork(ExportedNetwork):
    """The exported network compiled by OpenVINO, safe to call from several threads at once.

    An infer request runs one inference at a time and overwrites its output buffer on the next, and
    ``CompiledModel.__call__`` shares one request among all its callers: two threads detecting at once
    (the napari docks' workers) got "Infer Request is busy" or each other's heatmaps. So each call takes
    a request nobody is using from a pool, made when none is free, and puts it back: one thread keeps
    reusing one request (the speed of the shared one), and there are never more requests, each with its
    buffers, than calls at once (a request per thread would keep one per worker thread that ever ran).
    """

    def __init__(self, compiled, stride: int, precision: str, path: Path) -> None:
        super().__init__(stride, precision, path)
        self.compiled = compiled
        self._idle: list = []  # infer requests no call is using
        self._lock = threading.Lock()

    def run(self, array: np.ndarray) -> np.ndarray:
        with self._lock:
            request = self._idle.pop() if self._idle else None
        if request is None:
            request = self.compiled.create_infer_request()
        try:
            # The input copied in (a request idle in the pool would otherwise keep the caller's batch alive);
            # the output copied once out of the request's buffer, which its next inference reuses.
            result = request.infer(array, share_inputs=False, share_outputs=True)
            return np.array(result[0], dtype=np.float32)
        finally:
            with self._lock:
                self._idle.append(request)

    @property
    def requests(self) -> int:
        """How many infer requests are idle in the pool (as many as there were calls at once, at most)."""
        return len(self._idle)


# Each model's digest while its tensors are the same objects at the same versions (training in place
# bumps a tensor's version): hashing the weights took 2 ms of every 60 ms detection of a 512 px image.
_digests: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def weights_digest(model: DetectorModel) -> str:
    """A hash of the network's weights, architecture and export recipe: the key of its exported forms."""
    recipe = f"{model.card.architecture}{tuple(model.card.channels)} opset {OPSET} {INT8!r}"
    tensors = model.network.state_dict(keep_vars=True)
    key = (recipe, tuple((name, id(t), t._version) for name, t in tensors.items()))
    cached = _digests.get(model)
    if cached is not None and cached[0] == key:
        return cached[1]
    digest = hashlib.sha256(recipe.encode())
    for name, tensor in tensors.items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    value = digest.hexdigest()[:16]
    _digests[model] = (key, value)
    return value


def cache_folder(model: DetectorModel) -> Path:
    """Beside the model's weights where that folder can be written, else the user's cache folder."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    if model.path is not None and os.access(Path(model.path).parent, os.W_OK):
        return Path(model.path).parent
    return user_cache_folder()


def user_cache_folder() -> Path:
    """Where exports go whose weights lie in a folder that cannot be written (an installed package's)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "napari-particle-detect" / "onnx"


# The exported graph's form, in the cached file's name: files of an earlier form are not read again.
# 2: a UNet's merges without concatenation; 3: and a heads UNet's activations as one sigmoid (UNet.export_form).
EXPORT_FORM = 3


def exported_path(model: DetectorModel, precision: str) -> Path:
    stem = Path(model.path).stem if model.path is not None else "model"
    return cache_folder(model) / f"{stem}.{weights_digest(model)}.form{EXPORT_FORM}.{precision}.onnx"


def export(model: DetectorModel, precision: str = "float32", path: Path | None = None, reuse: bool = True) -> Path:
    """The model's network as an ONNX file in ``precision`` (made now unless already cached). With ``reuse``, the
    same weights' export made elsewhere (another copy of the model file) is copied rather than made again."""
    if precision not in ONNX_PRECISIONS:
        raise ParticleDetectError(f"unknown ONNX precision {precision!r}; choose {' or '.join(ONNX_PRECISIONS)}")
    if precision == "int8" and network_dims(model) == 3:
        # Its calibration images are 2D, and no benchmark has checked int8 on volumes.
        raise ParticleDetectError("precision 'int8' is for 2D models; a 3D model runs in float32")
    path = Path(path) if path is not None else exported_path(model, precision)
    key = (weights_digest(model), precision)
    if not path.exists():
        with _EXPORTING:
            if not path.exists():  # another thread's export, waited for
                made = _same_export_elsewhere(key) if reuse else None
                if made is not None:
                    _copy_to(made, path)
                else:
                    _export_to(model, precision, path)
    _EXPORTS_MADE[key] = path
    return path


# A project starts its rounds from a copy of the model it was opened with (rounds/round-001/model.pt), so the same
# weights lie in many folders: each exported them again, 1-3 s of a new image's first detection for the shipped UNet.
# The export is the same file wherever the weights lie: (digest, precision) -> a file of it, made or found.
_EXPORTS_MADE: dict[tuple[str, str], Path] = {}


def _same_export_elsewhere(key: tuple[str, str]) -> Path | None:
    known = _EXPORTS_MADE.get(key)
    if known is not None and known.is_file():
        return known
    digest, precision = key
    for folder in (WEIGHTS_DIR, user_cache_folder()):
        for found in folder.glob(f"*.{digest}.form{EXPORT_FORM}.{precision}.onnx"):
            return found
    return None


def _copy_to(source: Path, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".export-", delete=False) as copy:
        with open(source, "rb") as read:
            shutil.copyfileobj(read, copy)
    os.replace(copy.name, path)
    log.info("copied the export of the same weights %s to %s", source, path)


# torch's ONNX exporter keeps its state in module globals: two threads exporting at once (a dask worker's threads
# each starting a file) failed one with "GLOBALS.in_onnx_export must be True". Processes each have their own.
_EXPORTING = threading.Lock()


def _export_to(model: DetectorModel, precision: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written under a temporary name and renamed: two processes exporting at once each leave a whole file.
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".export-") as tmp:
        float_file = Path(tmp) / "float32.onnx"
        _export_float32(model, float_file)
        made = float_file
        if precision == "int8":
            made = Path(tmp) / "int8.onnx"
            _quantize_int8(model, float_file, made)
        os.replace(made, path)
    log.info("exported %s to ONNX (%s): %s", model.path or "the model", precision, path)


def _export_float32(model: DetectorModel, path: Path) -> None:
    from torch.fx.experimental.optimization import fuse

    network = _cpu_copy(model.network)
    if isinstance(network, UNet):
        network = network.export_form()
    try:
        network = fuse(network)  # batch norm folded: a smaller graph for the quantizer too
    except Exception:  # noqa: BLE001 - a network fx cannot trace exports unfolded
        pass
    stride = int(getattr(model.network, "stride", 8))
    dims = network_dims(model)
    example = torch.zeros(1, 1, *[4 * stride] * dims)
    axes = {0: "batch", **{2 + i: name for i, name in enumerate(("depth", "height", "width")[3 - dims:])}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice: it is the one that
        # exports this plain convolutional network without onnxscript
        torch.onnx.export(network, (example,), str(path), dynamo=False, opset_version=OPSET,
                          input_names=["image"], output_names=["maps"],
                          dynamic_axes={"image": axes, "maps": axes})


def network_dims(model: DetectorModel) -> int:
    """2 for a network over images, 3 for one over volumes (its first convolution says which)."""
    first = next((m for m in model.network.modules() if isinstance(m, (nn.Conv2d, nn.Conv3d))), None)
    return 3 if isinstance(first, nn.Conv3d) else 2


def _cpu_copy(network: nn.Module) -> nn.Module:
    import copy

    return copy.deepcopy(network).to("cpu").float().eval()


def calibration_images(model: DetectorModel, count: int | None = None, side: int | None = None) -> list[np.ndarray]:
    """Normalised generator images at the model's working particle size, as the network sees them."""
    from ..synthetic import spheres as synthetic
    from .preprocessing import normalise

    count = INT8.images if count is None else count
    side = INT8.side if side is None else side
    radius = model.card.canonical_diameter / 2
    rng = np.random.default_rng(20261202)
    images = []
    for index in range(count):
        config = synthetic.random_training_config(rng, shape=(side, side),
                                                  radius_range=(0.8 * radius, 1.2 * radius))
        sample = synthetic.synthesize(config, seed=index)
        images.append(normalise(sample.image.astype(np.float32), invert=config.invert)[None, None].astype(np.float32))
    return images


def _quantize_int8(model: DetectorModel, float_file: Path, out: Path) -> None:
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    recipe = INT8
    images = calibration_images(model, recipe.images, recipe.side)

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.items = iter(images)

        def get_next(self):
            item = next(self.items, None)
            return None if item is None else {"image": item}

    prepared = float_file.with_name("prepared.onnx")
    # Symbolic shape inference cannot follow the dynamic height and width; ONNX's own inference can.
    quant_pre_process(str(float_file), str(prepared), skip_symbolic_shape=True)
    methods = {"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile,
               "entropy": CalibrationMethod.Entropy}
    extra = {"CalibPercentile": recipe.percentile} if recipe.calibration == "percentile" else {}
    # The percentile calibrator prints its range to standard output, which is the CLI's.
    with contextlib.redirect_stdout(io.StringIO()):
        quantize_static(str(prepared), str(out), Reader(), quant_format=QuantFormat.QDQ,
                        per_channel=recipe.per_channel, reduce_range=recipe.reduce_range,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        nodes_to_exclude=float_nodes(prepared, recipe.keep_float),
                        calibrate_method=methods[recipe.calibration], extra_options=extra)


def float_nodes(path: Path, keep: tuple[str, ...] = ("ends",)) -> list[str]:
    """The nodes int8 keeps in float32 (see KEEP_FLOAT_CHOICES).

    "ends": the first convolution (the image in, with its full range) and the head from the last
    convolution on. A heatmap of 256 levels would blunt the subpixel fit of its peaks; both ends are
    a small share of the work (one input channel; one output channel).
    """
    import onnx

    nodes = list(onnx.load(str(path)).graph.node)
    convs = [i for i, node in enumerate(nodes) if node.op_type == "Conv"]
    if not convs:
        return []
    names: list[str] = []
    if "ends" in keep:
        names += [nodes[convs[0]].name] + [node.name for node in nodes[convs[-1]:]]
    if "last block" in keep:
        ups = [i for i, node in enumerate(nodes) if node.op_type == "ConvTranspose"]
        if ups:
            names += [node.name for node in nodes[ups[-1]:]]
    return list(dict.fromkeys(names))


def onnx_network(model: DetectorModel, precision: str = "float32", threads: int | None = None) -> OnnxNetwork:
    """An ONNX Runtime session of the model's network in ``precision``, exported first if need be."""
    import onnxruntime as ort

    path = export(model, precision)
    options = ort.SessionOptions()
    options.intra_op_num_threads = int(threads or torch.get_num_threads())
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Threads that spin while waiting for work slow a busy laptop down (see __init__'s OpenMP wait policy).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 - a damaged cache file: export again once
        log.warning("%s: cannot load the exported network (%s); exporting it again", path, str(exc)[:80])
        path.unlink(missing_ok=True)
        path = export(model, precision, reuse=False)
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return OnnxNetwork(session, int(getattr(model.network, "stride", 8)), precision, path)


def openvino_network(model: DetectorModel, precision: str = "float32", threads: int | None = None) -> OpenVinoNetwork:
    """The model's network on OpenVINO in ``precision``, from its exported ONNX form (made first if need be;
    int8 runs the int8 file, float32 and bfloat16 the float32 one)."""
    form = "int8" if precision == "int8" else "float32"
    path, stride = export(model, form), int(getattr(model.network, "stride", 8))
    try:
        compiled = compile_openvino(path, precision, threads)
    except Exception as exc:  # noqa: BLE001 - a damaged cache file: export again once
        log.warning("%s: cannot load the exported network (%s); exporting it again", path, str(exc)[:80])
        path.unlink(missing_ok=True)
        path = export(model, form, reuse=False)
        compiled = compile_openvino(path, precision, threads)
    return OpenVinoNetwork(compiled, stride, precision, path)
