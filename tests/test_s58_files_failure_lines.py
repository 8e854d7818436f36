"""A folder run's failure lines are one line however the input is named: a line break in a file's name split the
summary's line (and the run's record, the output's metadata), and a worker's error about it came back naming the
file by the worker's absolute name instead of the user's."""

from __future__ import annotations

from pathlib import Path

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files.distributed import detect_files, failure_line

from test_distributed import OPTIONS


def test_a_workers_error_about_a_name_with_a_line_break_names_the_users_file_on_one_line(tmp_path):
    given = Path("data/bad\nname.tif")
    sent = tmp_path / given  # as the job on a worker named it
    line = failure_line(given, ParticleDetectError(f"{sent}: cannot read image (not a TIFF file)"), sent=sent)
    assert line == "data/bad\\nname.tif: cannot read image (not a TIFF file)"
    line = failure_line(given, PermissionError(13, "Permission denied"))
    assert line == "data/bad\\nname.tif: PermissionError: [Errno 13] Permission denied"


def test_a_missing_input_with_a_line_break_in_its_name_is_one_line(tmp_path):
    missing = tmp_path / "gone\nnow.tif"
    summary = detect_files([missing], tmp_path / "out", OPTIONS)
    assert summary.failed == {missing: f"{tmp_path}/gone\\nnow.tif: file not found"}


WORKER = """
import sys
from pathlib import Path
from napari_particle_detect.files.distributed import _detect_job
from napari_particle_detect.files.file_detection import DetectOptions

path = Path(sys.argv[1])
_detect_job(path, DetectOptions(diameter=12.0, device="cpu", runtime="torch"), None, path.with_suffix(".csv"), str(path))
"""


def test_a_workers_warning_about_a_name_with_a_line_break_is_one_line(tmp_path):
    """A dask worker's process sets up no logging: its warnings were Python's last resort's, split at the break."""
    import subprocess
    import sys

    import numpy as np
    import tifffile

    from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

    image = synthesize(benchmark_config("fluorescent", 0.4, shape=(128, 128)), seed=0).image.astype(np.float64)
    image = 3000 * (image - image.min()) / np.ptp(image)
    ramp = tmp_path / "ramp\nname.tif"  # lit unevenly: its detection warns, naming it
    tifffile.imwrite(ramp, (20000 + image + np.linspace(0, 24000, image.shape[1])[None, :]).astype(np.uint16))
    done = subprocess.run([sys.executable, "-c", WORKER, str(ramp)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [f"{tmp_path}/ramp\\nname.tif: uneven illumination, a background varying "
                                        f"{done.stderr.split('varying ')[1].split(' ')[0]} times the particles' "
                                        "contrast across the frame: subtracted before normalising in 1 frame"]
