"""Two threads exporting a model to ONNX at once (a dask worker's threads each starting a file with a model not yet
exported): torch's exporter keeps its state in module globals, and one of them failed its file with
"AssertionError: GLOBALS.in_onnx_export must be True"."""

import threading

from helpers import tiny_model_file

from napari_particle_detect.detection import runtimes
from napari_particle_detect.models.registry import load_model


def test_exports_at_once_in_two_threads_both_end_with_the_file(tmp_path):
    model = load_model(tiny_model_file(tmp_path))
    for attempt in range(3):  # the clash depends on the threads' timing: more than one chance
        path = tmp_path / f"attempt{attempt}" / "tiny.onnx"
        start, outcomes = threading.Barrier(2), []

        def export() -> None:
            start.wait()
            try:
                outcomes.append(runtimes.export(model, "float32", path))
            except Exception as exc:  # noqa: BLE001 - what a worker's file would have failed with
                outcomes.append(exc)

        threads = [threading.Thread(target=export) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert outcomes == [path, path], outcomes
        assert path.stat().st_size > 0
