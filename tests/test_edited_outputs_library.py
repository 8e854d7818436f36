"""Tables edited by hand since detect wrote them, beyond 2D command-line runs: the library's many-file runner
(detect_files) refuses to replace them unless replace_edited=True (overwrite=True is not enough), and volumes'
outputs record their digests and are refused alike unless --replace-edited."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tifffile

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files.distributed import detect_files
from napari_particle_detect.files.file_detection import DetectOptions, file_digest
from napari_particle_detect.synthetic.chains import benchmark_chain_config, synthesize_chains
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

from helpers import tiny_model_file
from test_cli_refusals import files_in, refused, run_cli
from test_detect_outputs import edit_by_hand
from test_distributed import write_images

LIBRARY_EDITED = ("changed since detect wrote it (edited by hand?); move it, or pass replace_edited=True to replace "
                  "it")
CLI_EDITED = "changed since detect wrote it (edited by hand?); move it, or give --replace-edited to replace it"


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return tiny_model_file(tmp_path_factory.mktemp("edited-library-model"))


def options(threshold: float, kind: str = "spheres") -> DetectOptions:
    return DetectOptions(threshold=threshold, diameter=12.0, device="cpu", threads=1, kind=kind)


def test_detect_files_refuses_to_replace_a_table_edited_by_hand_unless_replace_edited(tmp_path, tiny_model):
    paths = write_images(tmp_path / "in", 2)
    out = tmp_path / "out"
    assert detect_files(paths, out, options(0.5), tiny_model).ok
    edited = edit_by_hand(out / "image_00.csv")
    # The same options: both finished and skipped, the edits kept.
    assert detect_files(paths, out, options(0.5), tiny_model).skipped == paths
    assert (out / "image_00.csv").read_text() == edited
    before = files_in(out)
    with pytest.raises(ParticleDetectError) as refusal:
        detect_files(paths, out, options(0.45), tiny_model)
    assert str(refusal.value) == f"{out / 'image_00.csv'}: {LIBRARY_EDITED}"
    assert files_in(out) == before  # refused before any work: nothing detected, nothing replaced
    with pytest.raises(ParticleDetectError, match="pass replace_edited=True"):  # for another file's results
        detect_files(paths, out, options(0.45), tiny_model, overwrite=True)
    summary = detect_files(paths, out, options(0.45), tiny_model, replace_edited=True)
    assert [result.path for result in summary.done] == paths
    assert (out / "image_00.csv").read_text() != edited
    recorded = json.loads((out / "image_00.json").read_text())["tables"]["table"]
    assert recorded == file_digest(out / "image_00.csv")


def test_detect_files_of_another_kind_keeps_an_edited_per_chain_table(tmp_path, tiny_model):
    image = tmp_path / "in" / "beads.tif"
    image.parent.mkdir()
    tifffile.imwrite(image, synthesize_chains(benchmark_chain_config("fluorescent", 0.25, shape=(64, 64)),
                                              seed=124).image)
    out = tmp_path / "out"
    assert detect_files([image], out, DetectOptions(device="cpu", threads=1, kind="chains")).ok
    per_chain = out / "beads.chains.csv"
    edited = per_chain.read_text() + "0,99,2,10.000,10.000,5.000,0\n"
    per_chain.write_text(edited)
    # A spheres run replacing beads.csv removed the chains run's per-chain table, edits and all.
    with pytest.raises(ParticleDetectError) as refusal:
        detect_files([image], out, options(0.5), tiny_model)
    assert str(refusal.value) == f"{per_chain}: {LIBRARY_EDITED}"
    assert per_chain.read_text() == edited
    assert detect_files([image], out, options(0.5), tiny_model, replace_edited=True).ok
    assert not per_chain.exists()  # the beads it described are no longer those of beads.csv


@pytest.fixture(scope="module")
def volume(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("edited-volume") / "in" / "volume.tif"
    path.parent.mkdir()
    sample = synthesize_volume(VolumeConfig(shape=(16, 48, 48), volume_fraction=0.3, diameter=10.0, z_step=2.0),
                               seed=4)
    tifffile.imwrite(path, sample.image, imagej=True, metadata={"axes": "ZYX"})
    return path


@pytest.mark.parametrize("into", ["table", "folder"])
def test_a_volume_table_edited_by_hand_is_refused_and_replaced_only_with_replace_edited(tmp_path, capsys, volume,
                                                                                        into):
    output = tmp_path / "centres.csv" if into == "table" else tmp_path / "out"
    table = output if into == "table" else output / "volume.csv"
    common = (volume, "-o", f"{output}/" if into == "folder" else output, "--diameter", "10", "--device", "cpu",
              "--runtime", "torch")
    code, _, err = run_cli(capsys, "detect", *common)
    assert code == 0, err
    recorded = json.loads(table.with_suffix(".json").read_text())["tables"]
    assert recorded == {"table": file_digest(table)}
    code, _, err = run_cli(capsys, "detect", *common, "--threshold", "0.6")  # unedited: replaced as before
    assert code == 0, err
    lines = table.read_text().splitlines()
    edited = "\n".join(lines[:1] + lines[2:] + ["0,1.000,2.000,3.000,0.900"]) + "\n"
    table.write_text(edited)
    before = files_in(tmp_path)
    assert refused(capsys, "detect", *common) == f"particle-detect: error: {table}: {CLI_EDITED}"
    assert files_in(tmp_path) == before
    assert refused(capsys, "detect", *common, "--overwrite") == f"particle-detect: error: {table}: {CLI_EDITED}"
    code, _, err = run_cli(capsys, "detect", *common, "--replace-edited")
    assert code == 0, err
    assert table.read_text() != edited
    assert json.loads(table.with_suffix(".json").read_text())["tables"] == {"table": file_digest(table)}


def test_a_volume_run_killed_between_its_table_and_metadata_leaves_the_table_replaceable(tmp_path, capsys, volume,
                                                                                          monkeypatch):
    import napari_particle_detect.files.file_detection as file_detection

    output = tmp_path / "centres.csv"
    common = (volume, "-o", output, "--diameter", "10", "--device", "cpu", "--runtime", "torch")
    code, _, err = run_cli(capsys, "detect", *common)
    assert code == 0, err
    first = output.read_text()

    def killed(*args, **kwargs):  # the new table is written; the run dies before its digest is recorded
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(file_detection, "table_digests", killed)
        code, _, _ = run_cli(capsys, "detect", *common, "--threshold", "0.72")
    assert code != 0
    assert output.read_text() != first  # the killed run's table, written by detect, not edited by hand
    code, _, err = run_cli(capsys, "detect", *common, "--threshold", "0.72")
    assert code == 0, err
    assert json.loads(output.with_suffix(".json").read_text())["tables"] == {"table": file_digest(output)}


def test_a_volume_folder_run_refuses_to_replace_another_volumes_results(tmp_path, capsys, volume):
    # As 2D folder runs: day2/volume.tif's run into the folder day1/volume.tif's went to replaced its results.
    other = tmp_path / "day2" / "volume.tif"
    other.parent.mkdir()
    other.write_bytes(volume.read_bytes())
    out = tmp_path / "out"
    common = ("-o", f"{out}/", "--diameter", "10", "--device", "cpu", "--runtime", "torch")
    code, _, err = run_cli(capsys, "detect", volume, *common)
    assert code == 0, err
    first = (out / "volume.csv").read_text()
    line = refused(capsys, "detect", other, *common)
    assert line.startswith(f"particle-detect: error: {out / 'volume.csv'}: holds the results of another file, ")
    assert (out / "volume.csv").read_text() == first
    code, _, err = run_cli(capsys, "detect", other, *common, "--overwrite")
    assert code == 0, err
