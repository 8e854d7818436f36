"""Two ``train`` runs to one -o at once each trained and saved over the other's model and resume state, and both
said they wrote it: the second is refused now in one line while the first runs, and nothing of it is written."""

import subprocess
import sys
import time

from napari_particle_detect.cli.main import main
from napari_particle_detect.files.file_detection import lock_path


def test_a_second_train_to_the_same_output_is_refused_while_the_first_runs(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    long_run = ["train", "-o", "m.pt", "--epochs", "1", "--steps-per-epoch", "100000", "--batch-size", "1",
                "--crop", "32", "--threads", "1", "--device", "cpu", "-q"]
    code = f"import sys; from napari_particle_detect.cli.main import main; sys.exit(main({long_run!r}))"
    first = subprocess.Popen([sys.executable, "-c", code], cwd=tmp_path, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not lock_path(tmp_path / "m.pt").exists():  # the first holds its output
            assert first.poll() is None and time.monotonic() < deadline, "the first run holds no lock on its output"
            time.sleep(0.1)
        assert main(["train", "-o", "m", "--epochs", "1", "--seed", "5", "-q"]) == 2
        said = capsys.readouterr().err
        assert "m.pt: another training is writing this model now" in said and "give another -o" in said
    finally:
        first.terminate()
        first.wait(60)
    assert not (tmp_path / "m.json").exists()  # the refused run wrote no card of its own
