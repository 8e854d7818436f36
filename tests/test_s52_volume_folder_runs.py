"""A folder run of volumes as a 2D one: an output folder that stops taking files stops the run in one line (each
later volume was detected in full only to fail alike), and each output is written under its lock, none left."""

import shutil

from napari_particle_detect.cli import volumes as volume_cli
from napari_particle_detect.cli.main import main
from napari_particle_detect.files.file_detection import LOCK_SUFFIX

from test_volume_folder_failures import DETECT, write_volume


def test_a_volume_folder_run_stops_when_its_output_folder_stops_taking_files(tmp_path, capsys, project_home,
                                                                              monkeypatch):
    inputs = [write_volume(tmp_path / f"{name}.tif", seed) for seed, name in enumerate("abc", start=1)]
    out = tmp_path / "out"
    detect_one = volume_cli._detect_one_volume_file
    calls = []

    def folder_gone_after_the_first(*args, **kwargs):
        # The user's folder removed (or its disk unmounted) while the run goes on: a file where it was.
        if calls and out.is_dir():
            shutil.rmtree(out)
            out.write_text("the output folder is gone")
        calls.append(args[0])
        return detect_one(*args, **kwargs)

    monkeypatch.setattr(volume_cli, "_detect_one_volume_file", folder_gone_after_the_first)
    code = main(["-q", "detect", *map(str, inputs), "--axes", "ZYX", "-o", f"{out}/", *DETECT])
    err = capsys.readouterr().err
    assert code == 2, err
    [line] = [line for line in err.splitlines() if line.startswith("particle-detect: ")]
    assert line.startswith(f"particle-detect: error: {out}: cannot write the outputs there"), line
    assert "stopped with 1 of 3 files done, 2 left: make it writable and run again" in line
    assert calls == [inputs[0], inputs[1]]  # the third never detected


def test_a_volume_folder_run_leaves_no_lock_beside_its_outputs(tmp_path, capsys, project_home):
    inputs = [write_volume(tmp_path / f"{name}.tif", seed) for seed, name in enumerate("ab", start=1)]
    out = tmp_path / "out"
    assert main(["-q", "detect", *map(str, inputs), "--axes", "ZYX", "-o", f"{out}/", *DETECT]) == 0
    assert sorted(path.name for path in out.iterdir()) == ["a.csv", "a.json", "b.csv", "b.json",
                                                           "particle-detect-run.json"]
    assert not list(out.glob(f"*{LOCK_SUFFIX}"))
