"""Outputs that earlier versions of detect wrote, whose .json records no digests of their tables (``tables``):
a table corrected by hand since is refused as today's are (its rows are not those its .json counts, or it was
written after its .json, which those versions wrote last), an untouched one is replaced as ever; and a folder run
that detects them again, their record predating this version's fingerprint, says so in one line.

The old outputs are written here as those versions wrote them: the tables (a chains run's per-chain table first),
then the .json."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
import tifffile

from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files.distributed import detect_files
from napari_particle_detect.files.file_detection import DetectOptions, check_unedited
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

from test_cli_refusals import files_in, refused, run_cli
from test_distributed import write_images

CLI_EDITED = "changed since detect wrote it (edited by hand?); move it, or give --replace-edited to replace it"
LIBRARY_EDITED = ("changed since detect wrote it (edited by hand?); move it, or pass replace_edited=True to replace "
                  "it")
COMMON = ("--device", "cpu", "--diameter", "12", "--runtime", "torch")
# Where an earlier version's install kept the shipped models, as its records name them.
OLD_WEIGHTS = Path("/opt/old-install/napari_particle_detect/weights")


def write_old_output(table: Path, rows: pd.DataFrame, meta: dict, per_chain: pd.DataFrame | None = None) -> None:
    """An output as earlier versions wrote it: the per-chain table, the table, then the .json without ``tables``."""
    table.parent.mkdir(parents=True, exist_ok=True)
    if per_chain is not None:
        table.with_suffix(".chains.csv").write_text(per_chain.to_csv(index=False, float_format="%.3f"))
    table.write_text(rows.to_csv(index=False, float_format="%.3f"))
    table.with_suffix(".json").write_text(json.dumps(meta, indent=2))


def centres(count: int) -> pd.DataFrame:
    return pd.DataFrame({"frame": 0, "y": [10.0 + 5 * i for i in range(count)], "x": 20.0, "score": 0.8})


def spheres_record(image: Path, count: int) -> dict:
    return {"file": str(image), "frames": 1, "centres": count, "diameter_px": 12.0, "diameter_source": "given",
            "diameter_confidence": "high", "diameter_reason": "", "ringed": False, "rescale_factor": 1.0}


def old_fingerprint(image: Path, kind: str = "spheres") -> dict:
    """A folder-run output's fingerprint as versions before this one wrote it: the shipped model by its file."""
    stat = image.stat()
    model = OLD_WEIGHTS / f"{'unet' if kind == 'spheres' else kind}.pt"
    return {"input": {"path": str(image.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns},
            "options": {"threshold": None, "diameter": 12.0, "polarity": "auto", "tile": 1024, "precision": "auto",
                        "runtime": "torch", "kind": kind},
            "model": {"path": str(model), model.name: {"size": 1770127, "mtime_ns": 1796299835000000000},
                      model.with_suffix(".json").name: {"size": 4526, "mtime_ns": 1796299835000000000}}}


def old_spheres_output(table: Path, image: Path, count: int = 6, folder_run: bool = False) -> None:
    meta = {"model": str(OLD_WEIGHTS / "unet.pt"), "threshold": 0.35, "polarity": "auto", "device": "cpu",
            "inputs": [spheres_record(image, count)], "runtime": "torch", "precision": "float32",
            **({"fingerprint": old_fingerprint(image)} if folder_run else {})}
    write_old_output(table, centres(count), meta)


def drop_rows(table: Path, count: int = 2) -> str:
    """Rows deleted by hand; the text now there."""
    lines = table.read_text().splitlines()
    text = "\n".join(lines[:1] + lines[1 + count:]) + "\n"
    table.write_text(text)
    return text


def detect_told(capsys, *args) -> tuple[int, str]:
    """detect without -q, so its info lines are on stderr with its errors."""
    code = main(["detect", *map(str, args)])
    return code, capsys.readouterr().err


def dated(path: Path, seconds_after_metadata: float, metadata: Path | None = None) -> None:
    """``path`` last written that long after its output's .json (``metadata``; by default the one beside it)."""
    written = (metadata or path.with_suffix(".json")).stat().st_mtime + seconds_after_metadata
    os.utime(path, (written, written))


def test_an_older_versions_table_edited_by_hand_is_refused_and_an_untouched_one_replaced(tmp_path, capsys):
    image = write_images(tmp_path / "in", 1)[0]
    table = tmp_path / "det" / "stack.csv"
    old_spheres_output(table, image)
    edited = drop_rows(table)
    dated(table, 0)  # rows deleted, its date as the .json's: the rows it records tell
    before = files_in(tmp_path / "det")
    assert refused(capsys, "detect", image, "-o", table, *COMMON) == f"particle-detect: error: {table}: {CLI_EDITED}"
    assert files_in(tmp_path / "det") == before and table.read_text() == edited

    old_spheres_output(table, image)
    lines = table.read_text().splitlines()
    table.write_text("\n".join(lines[:1] + ["0,11.000,21.000,0.800"] + lines[2:]) + "\n")  # a centre moved
    dated(table, 60)  # as many rows, written a minute after the .json: its date tells
    assert refused(capsys, "detect", image, "-o", table, *COMMON) == f"particle-detect: error: {table}: {CLI_EDITED}"
    code, _, err = run_cli(capsys, "detect", image, "-o", table, *COMMON, "--replace-edited")
    assert code == 0, err
    assert "tables" in json.loads(table.with_suffix(".json").read_text())

    old_spheres_output(table, image)
    dated(table, 1)  # copied without its date just after its .json (cp): still as detect wrote it
    untouched = table.read_text()
    code, _, err = run_cli(capsys, "detect", image, "-o", table, *COMMON)
    assert code == 0, err
    assert table.read_text() != untouched


def test_an_older_versions_folder_run_keeps_edited_tables_and_says_why_the_rest_are_detected_again(tmp_path, capsys):
    images = write_images(tmp_path / "in", 3)
    out = tmp_path / "results"
    for image in images:
        old_spheres_output(out / f"{image.stem}.csv", image, folder_run=True)
    # image_01's as the oldest versions recorded it: its options without runtime and kind, a model of the user's.
    meta = json.loads((out / "image_01.json").read_text())
    for option in ("runtime", "kind"):
        del meta["fingerprint"]["options"][option]
    meta["fingerprint"]["model"] = {"path": "/opt/old-install/models/mine.pt", "mine.pt": {"size": 1, "mtime_ns": 1}}
    (out / "image_01.json").write_text(json.dumps(meta, indent=2))
    edited = drop_rows(out / "image_00.csv")
    before = files_in(out)
    assert refused(capsys, "detect", tmp_path / "in", "-o", f"{out}/", *COMMON) == (
        f"particle-detect: error: {out / 'image_00.csv'}: {CLI_EDITED}")
    assert files_in(out) == before and (out / "image_00.csv").read_text() == edited

    (out / "image_00.csv").unlink()  # moved aside by the user: the others, untouched, are detected again
    code, err = detect_told(capsys, tmp_path / "in", "-o", f"{out}/", *COMMON)
    assert code == 0, err
    assert (f"{out}: 2 outputs written by an earlier version (their record predates this version's): detected "
            "again") in err
    assert "3 done, 0 unchanged and skipped, 0 failed" in err
    # This version's outputs: skipped, or with other options detected again, as ever, the version unsaid.
    code, err = detect_told(capsys, tmp_path / "in", "-o", f"{out}/", *COMMON)
    assert code == 0 and "0 done, 3 unchanged and skipped" in err and "earlier version" not in err, err
    code, err = detect_told(capsys, tmp_path / "in", "-o", f"{out}/", *COMMON, "--threshold", "0.6")
    assert code == 0 and "3 done, 0 unchanged and skipped" in err and "earlier version" not in err, err


def test_an_older_versions_chains_output_with_an_edited_per_chain_table_is_refused(tmp_path):
    images = write_images(tmp_path / "in", 2)
    out = tmp_path / "chains"
    beads = pd.DataFrame({"frame": 0, "y": [5.0, 9.0, 13.0, 30.0, 34.0], "x": 10.0, "score": 0.9,
                          "chain": [0, 0, 0, 1, 1], "index": [0, 1, 2, 0, 1], "closed": 0})
    per_chain = pd.DataFrame({"frame": 0, "chain": [0, 1], "beads": [3, 2], "contour_length": [8.0, 4.0],
                              "end_to_end": [8.0, 4.0], "radius_of_gyration": [3.3, 2.0], "closed": False})
    for image in images:
        record = {"file": str(image), "frames": 1, "kind": "chains", "objects": 2, "rows": 5}
        write_old_output(out / f"{image.stem}.csv", beads, {
            "model": str(OLD_WEIGHTS / "chains.pt"), "kind": "chains", "threshold": 0.3, "polarity": "auto",
            "device": "cpu", "inputs": [record], "fingerprint": old_fingerprint(image, "chains")}, per_chain)
    check_unedited([out / "image_00.csv", out / "image_01.csv"])  # as those versions wrote them: replaceable
    chains_table = out / "image_01.chains.csv"
    edited = drop_rows(chains_table, 1)
    dated(chains_table, 0, out / "image_01.json")  # a chain deleted, dated as the .json: the chains it records tell
    options = DetectOptions(device="cpu", threads=1, kind="chains", runtime="torch")
    with pytest.raises(ParticleDetectError) as refusal:
        detect_files(images, out, options)
    assert str(refusal.value) == f"{chains_table}: {LIBRARY_EDITED}"
    assert chains_table.read_text() == edited


@pytest.fixture(scope="module")
def volume(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("older-volume") / "in" / "volume.tif"
    path.parent.mkdir()
    sample = synthesize_volume(VolumeConfig(shape=(16, 48, 48), volume_fraction=0.3, diameter=10.0, z_step=2.0),
                               seed=4)
    tifffile.imwrite(path, sample.image, imagej=True, metadata={"axes": "ZYX"})
    return path


def old_volume_output(table: Path, volume: Path) -> None:
    """A volume folder run's output as an earlier version wrote it: no fingerprint, no tables."""
    rows = pd.DataFrame({"frame": 0, "z": [2.0, 8.0, 12.0], "y": [10.0, 20.0, 30.0], "x": 15.0, "score": 0.7})
    record = {"file": str(volume), "axes": "ZYX", "axes_source": "metadata", "volumes": 1, "centres": len(rows),
              "diameter_voxels_zyx": [5.0, 10.0, 10.0], "diameter_source": "given", "diameter_confidence": "high",
              "diameter_reason": "", "voxel_size_zyx": None, "model": str(OLD_WEIGHTS / "unet3d.pt"),
              "threshold": 0.4, "seconds": 0.3}
    write_old_output(table, rows, {"inputs": [record]})


def test_an_older_versions_volume_output_edited_is_refused_and_an_untouched_one_detected_again_saying_why(
        tmp_path, capsys, volume):
    out = tmp_path / "volumes"
    table = out / "volume.csv"
    old_volume_output(table, volume)
    table.write_text(table.read_text() + "0,4.000,40.000,40.000,0.900\n")  # a centre added by hand
    dated(table, 0)
    common = (volume, "-o", f"{out}/", "--diameter", "10", "--device", "cpu", "--runtime", "torch")
    assert refused(capsys, "detect", *common) == f"particle-detect: error: {table}: {CLI_EDITED}"

    old_volume_output(table, volume)
    untouched = table.read_text()
    code, err = detect_told(capsys, *common)
    assert code == 0, err
    assert (f"{out}: 1 output written by an earlier version (its record predates this version's): detected "
            "again") in err
    assert table.read_text() != untouched
