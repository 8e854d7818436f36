"""``train --resume`` without the DATA the run started on was refused for '--synthetic-fraction' (0.5 -> 1.0), an
option the user never gave (its default follows whether DATA is given): it names the data left out now."""

from napari_particle_detect.cli.main import main


def test_a_resume_without_its_data_names_the_data_not_a_default_setting(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["synth", "data", "--n", "2", "--shape", "64", "64", "--radius", "4", "6", "--seed", "3", "-q"]) == 0
    run = ["train", "-o", "m.pt", "--epochs", "2", "--steps-per-epoch", "2", "--batch-size", "2", "--crop", "32",
           "--threads", "1", "--device", "cpu", "-q"]
    assert main(run + ["data", "--minutes", "0.0001"]) == 0  # stops after its first step
    capsys.readouterr()
    assert main(run + ["--resume"]) == 2
    said = capsys.readouterr().err
    assert "the interrupted run started on other training data: image_000.tif[0] is gone" in said
    assert "synthetic" not in said
