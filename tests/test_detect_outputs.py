"""What detect's .json records of its outputs: the tables it wrote (so a table edited by hand since is
refused, not silently replaced, unless --replace-edited), and with --measure what trackpy needs to measure
alike."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile

from napari_particle_detect.shipped import SAMPLE_DATA_DIR
from napari_particle_detect.synthetic.chains import benchmark_chain_config, synthesize_chains

from helpers import tiny_model_file
from test_cli_refusals import files_in, refused, run_cli
from test_distributed import write_images

EDITED = "changed since detect wrote it (edited by hand?); move it, or give --replace-edited to replace it"


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return tiny_model_file(tmp_path_factory.mktemp("outputs-model"))


def edit_by_hand(table: Path) -> str:
    """Drop the first two rows and add one, as a user correcting a table does; the text now there."""
    lines = table.read_text().splitlines()
    text = "\n".join(lines[:1] + lines[3:] + ["0,1.000,2.000,0.900"]) + "\n"
    table.write_text(text)
    return text


def test_a_folder_run_refuses_to_replace_a_table_edited_by_hand(tmp_path, capsys, tiny_model):
    write_images(tmp_path / "in", 2)
    out = tmp_path / "out"
    common = ("--model", tiny_model, "--device", "cpu", "--diameter", "12")
    assert run_cli(capsys, "detect", tmp_path / "in", "-o", f"{out}/", "--threshold", "0.5", *common)[0] == 0
    edited = edit_by_hand(out / "image_00.csv")
    # The same options: finished and skipped, the edits kept.
    assert run_cli(capsys, "detect", tmp_path / "in", "-o", f"{out}/", "--threshold", "0.5", *common)[0] == 0
    assert (out / "image_00.csv").read_text() == edited
    before = files_in(out)
    for cluster in ((), ("--workers", "1")):  # refused before any work, in process or on dask workers alike
        line = refused(capsys, "detect", tmp_path / "in", "-o", f"{out}/", "--threshold", "0.45", *common, *cluster)
        assert line == f"particle-detect: error: {out / 'image_00.csv'}: {EDITED}"
        assert files_in(out) == before
    code, _, err = run_cli(capsys, "detect", tmp_path / "in", "-o", f"{out}/", "--threshold", "0.45", *common,
                           "--replace-edited")
    assert code == 0, err
    assert (out / "image_00.csv").read_text() != edited
    for name in ("image_00", "image_01"):  # what is there now is what the .json records
        recorded = json.loads((out / f"{name}.json").read_text())["tables"]["table"]
        assert recorded["size"] == (out / f"{name}.csv").stat().st_size and len(recorded["sha256"]) == 64
    assert run_cli(capsys, "detect", tmp_path / "in", "-o", f"{out}/", "--threshold", "0.5", *common)[0] == 0


def test_a_table_of_an_earlier_version_without_its_digest_is_judged_by_its_rows(tmp_path, capsys, tiny_model):
    # Its rows against the count its record gives (test_older_version_outputs.py has the rest): an earlier version's
    # table edited by hand was replaced without a word.
    write_images(tmp_path / "in", 1)
    out = tmp_path / "out"
    common = ("--model", tiny_model, "--device", "cpu", "--diameter", "12")
    assert run_cli(capsys, "detect", tmp_path / "in", "-o", f"{out}/", "--threshold", "0.5", *common)[0] == 0
    meta = json.loads((out / "image_00.json").read_text())
    meta.pop("tables", None)  # as an earlier version wrote it
    (out / "image_00.json").write_text(json.dumps(meta))
    edited = edit_by_hand(out / "image_00.csv")
    assert refused(capsys, "detect", tmp_path / "in", "-o", f"{out}/", "--threshold", "0.45", *common) == (
        f"particle-detect: error: {out / 'image_00.csv'}: {EDITED}")
    assert (out / "image_00.csv").read_text() == edited
    assert run_cli(capsys, "detect", tmp_path / "in", "-o", f"{out}/", "--threshold", "0.45", *common,
                   "--replace-edited")[0] == 0
    assert (out / "image_00.csv").read_text() != edited


def test_one_table_edited_by_hand_is_refused_and_replaced_only_with_replace_edited(tmp_path, capsys, tiny_model):
    image = write_images(tmp_path / "in", 1)[0]
    out = tmp_path / "centres.csv"
    common = ("--model", tiny_model, "--device", "cpu", "--diameter", "12", "--threshold", "0.5")
    assert run_cli(capsys, "detect", image, "-o", out, *common)[0] == 0
    assert run_cli(capsys, "detect", image, "-o", out, *common)[0] == 0  # unedited: replaced as before
    assert json.loads(out.with_suffix(".json").read_text())["tables"]["table"]["size"] == out.stat().st_size
    edited = edit_by_hand(out)
    metadata = out.with_suffix(".json").read_text()
    assert refused(capsys, "detect", image, "-o", out, *common) == f"particle-detect: error: {out}: {EDITED}"
    assert out.read_text() == edited and out.with_suffix(".json").read_text() == metadata
    # --overwrite is for another file's results: not enough.
    assert refused(capsys, "detect", image, "-o", out, *common, "--overwrite") == (f"particle-detect: error: {out}: "
                                                                                  f"{EDITED}")
    code, _, err = run_cli(capsys, "detect", image, "-o", out, *common, "--replace-edited")
    assert code == 0, err
    assert out.read_text() != edited


def test_an_edited_per_chain_table_is_neither_replaced_nor_removed(tmp_path, capsys):
    sample = synthesize_chains(benchmark_chain_config("fluorescent", 0.25, shape=(64, 64)), seed=124)
    image = tmp_path / "chains.tif"
    tifffile.imwrite(image, sample.image)
    out = tmp_path / "out.csv"
    assert run_cli(capsys, "detect", image, "--kind", "chains", "-o", out, "--device", "cpu")[0] == 0
    summary = out.with_suffix(".chains.csv")
    edited = summary.read_text() + "0,99,2,10.000,10.000,5.000,0\n"
    summary.write_text(edited)
    chains_line = f"particle-detect: error: {summary}: {EDITED}"
    assert refused(capsys, "detect", image, "--kind", "chains", "-o", out, "--device", "cpu") == chains_line
    # A spheres run to the same output would remove the chains run's per-chain table: edited, it stays.
    assert refused(capsys, "detect", image, "-o", out, "--device", "cpu") == chains_line
    assert summary.read_text() == edited
    assert run_cli(capsys, "detect", image, "--kind", "chains", "-o", out, "--device", "cpu",
                   "--replace-edited")[0] == 0
    assert summary.read_text() != edited


def test_measure_records_the_trackpy_diameter_and_inversion_that_reproduce_the_masses(tmp_path, capsys):
    trackpy = pytest.importorskip("trackpy")
    # Dark particles on a bright background: measured inverted, at trackpy's odd diameter above the estimate.
    frame = tifffile.imread(SAMPLE_DATA_DIR / "trackpy_bulk_water_3.tif")[0, :192, :192]
    tifffile.imwrite(tmp_path / "water.tif", frame)
    out = tmp_path / "water.csv"
    code, _, err = run_cli(capsys, "detect", tmp_path / "water.tif", "-o", out, "--measure", "--device", "cpu")
    assert code == 0, err
    record = json.loads(out.with_suffix(".json").read_text())["inputs"][0]
    measure = record["measure"]
    assert measure["inverted"] is True and measure["trackpy_diameter"] % 2 == 1
    assert record["diameter_px"] <= measure["trackpy_diameter"] < record["diameter_px"] + 2
    # trackpy alone, told what the .json says, measures the same mass where its centre is on our pixel.
    ours = pd.read_csv(out)
    located = trackpy.locate(frame, measure["trackpy_diameter"], invert=measure["inverted"], engine="python")
    pixels = {(int(round(y)), int(round(x))): mass for y, x, mass in ours[["y", "x", "mass"]].to_numpy()}
    pairs = [(pixels[key], mass) for key, mass in
             zip(zip(np.rint(located["y"]).astype(int), np.rint(located["x"]).astype(int)), located["mass"])
             if key in pixels]
    assert len(pairs) >= 20
    same = np.isclose([ours_mass for ours_mass, _ in pairs], [theirs for _, theirs in pairs], rtol=1e-4, atol=1e-3)
    assert same.mean() > 0.6
    code, _, err = run_cli(capsys, "detect", tmp_path / "water.tif", "-o", tmp_path / "bright.csv", "--measure",
                           "--polarity", "bright", "--device", "cpu")
    assert code == 0, err
    assert json.loads((tmp_path / "bright.json").read_text())["inputs"][0]["measure"]["inverted"] is False
