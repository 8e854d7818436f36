"""Every line the command line prints on stderr stays one line when a file name holds a line break: its log lines
and the error of a file that cannot be written, not only a ParticleDetectError's."""

from pathlib import Path

import pytest
import tifffile

from napari_particle_detect.cli.main import main
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

from helpers import tiny_model_file


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return tiny_model_file(tmp_path_factory.mktemp("one-line-model"))


@pytest.fixture
def image(tmp_path) -> Path:
    path = tmp_path / "im\nage.tif"
    tifffile.imwrite(path, synthesize(benchmark_config("fluorescent", 0.4, (64, 64)), seed=1).image)
    return path


def detect(capsys, image: Path, output: Path, model: Path, *extra: str) -> tuple[int, str]:
    code = main(["detect", str(image), "-o", str(output), "--model", str(model), "--device", "cpu", "--diameter", "10",
                 *extra])
    return code, capsys.readouterr().err


def test_log_lines_name_a_file_with_a_line_break_on_one_line(tmp_path, capsys, tiny_model, image):
    output = tmp_path / "o\nut.csv"
    code, err = detect(capsys, image, output, tiny_model)
    assert code == 0, err
    lines = [line.rsplit("\r", 1)[-1] for line in err.splitlines()]  # a progress bar's redraws end in the last
    assert f"wrote {tmp_path}/o\\nut.csv (and o\\nut.json)" in lines, lines
    assert any(line.startswith(f"{tmp_path}/im\\nage.tif: ") and "centres in 1 frame;" in line for line in lines)
    assert not [line for line in lines if line.startswith(("ut.", "age."))], lines


def test_a_file_that_cannot_be_written_is_said_on_one_line(tmp_path, capsys, tiny_model, image):
    output = tmp_path / ("o\nut" + "x" * 300 + ".csv")  # a name too long: OSError, its filename given raw
    code, err = detect(capsys, image, output, tiny_model, "-q")
    assert code == 2
    assert err.count("\n") == 1 and err.startswith(f"particle-detect: error: {tmp_path}/o\\nut"), err
    assert err.rstrip().endswith("File name too long"), err
