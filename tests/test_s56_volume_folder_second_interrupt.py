"""A folder run of volumes stopped once (Ctrl-C) and again while it writes its run record (``timeout -s INT`` sends
SIGINT to the process, then to its group) still writes the record: the repeat raised inside the write and cut it,
as it did for a 2D folder run (tests/test_s56_files2_interrupt_cleanup.py)."""

import _thread
import json
import signal
import sys

import napari_particle_detect.files.distributed as distributed_module
from napari_particle_detect.cli import volumes as volume_cli
from napari_particle_detect.cli.main import main

from test_volume_folder_failures import DETECT, write_volume


def test_a_second_interrupt_as_a_volume_runs_record_is_written_keeps_the_record(tmp_path, project_home, monkeypatch):
    inputs = [write_volume(tmp_path / f"{name}.tif", seed) for seed, name in enumerate("ab", start=1)]
    out = tmp_path / "out"
    detect_one = volume_cli._detect_one_volume_file
    record = distributed_module.write_run_record.__code__

    def second_interrupt_as_the_record_is_written(frame, event: str, arg: object) -> None:
        if event == "call" and frame.f_code is record:
            sys.setprofile(None)
            _thread.interrupt_main(signal.SIGINT)

    def stopped_at_the_second(*args, **kwargs):
        if args[0] == inputs[1]:
            sys.setprofile(second_interrupt_as_the_record_is_written)
            raise KeyboardInterrupt  # the first stop, as a Ctrl-C while the second volume is detected
        return detect_one(*args, **kwargs)

    monkeypatch.setattr(volume_cli, "_detect_one_volume_file", stopped_at_the_second)
    before = signal.signal(signal.SIGINT, signal.default_int_handler)  # Python's, whatever the test runner set
    try:
        code = main(["-q", "detect", *map(str, inputs), "--axes", "ZYX", "-o", f"{out}/", *DETECT])
    finally:
        sys.setprofile(None)
        signal.signal(signal.SIGINT, before)
    assert code == 130
    written = json.loads((out / "particle-detect-run.json").read_text())
    assert written["interrupted"] is True
    assert [entry["file"] for entry in written["left"]] == [str(inputs[1])]

