"""The files detect writes beside its table are named in one place (file_detection.metadata_path, kind_tables):
renamed there, every writer and reader of them follows. Four places built OUT.json and OUT.chains.csv themselves."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile

from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.files import file_detection, side_files
from napari_particle_detect.kinds.file_pairing import select_file
from napari_particle_detect.kinds.registry import write_kind_table
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize

from helpers import tiny_model_file


@pytest.fixture
def renamed(monkeypatch):
    """Side files named otherwise than their default, as a later version might name them."""
    # Named in files/side_files, and taken into file_detection's own names (its callers import them from there).
    for module in (side_files, file_detection):
        monkeypatch.setattr(module, "metadata_path", lambda output: Path(output).with_suffix(".meta.json"))
        monkeypatch.setattr(module, "kind_tables", lambda output: Path(output).with_suffix(".per-chain.csv"))


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return tiny_model_file(tmp_path_factory.mktemp("side-names-model"))


def test_detect_writes_and_names_its_metadata_by_the_one_naming(tmp_path, capsys, tiny_model, renamed):
    image = tmp_path / "a.tif"
    tifffile.imwrite(image, synthesize(benchmark_config("fluorescent", 0.4, (64, 64)), seed=1).image)
    code = main(["detect", str(image), "-o", str(tmp_path / "a.csv"), "--model", str(tiny_model), "--device", "cpu",
                 "--diameter", "10"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert (tmp_path / "a.meta.json").is_file() and not (tmp_path / "a.json").exists()
    assert "unfinished" not in json.loads((tmp_path / "a.meta.json").read_text())
    assert f"wrote {tmp_path / 'a.csv'} (and a.meta.json)" in err


def test_a_chains_table_writes_its_per_chain_table_by_the_one_naming(tmp_path, renamed):
    beads = pd.DataFrame({"frame": [0, 0, 0], "chain": [0, 0, 0], "index": [0, 1, 2], "y": [10.0, 10.0, 10.0],
                          "x": [10.0, 14.0, 18.0], "score": [0.9, 0.9, 0.9]})
    write_kind_table(beads, tmp_path / "c.csv", "chains")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.csv", "c.per-chain.csv"]


def test_a_failed_input_is_read_from_the_metadata_by_the_one_naming(tmp_path, renamed):
    table = pd.DataFrame({"frame": [0], "y": [1.0], "x": [2.0], "file": ["good.tif"]})
    source = tmp_path / "all.csv"
    (tmp_path / "all.meta.json").write_text(json.dumps({"failed": [{"file": "broken.tif", "reason": "truncated"}]}))
    with pytest.raises(ParticleDetectError, match=r"detect failed on broken\.tif \(see .*all\.meta\.json\)"):
        select_file(table, "broken.tif", str(source))
    assert np.isfinite(select_file(table, "good.tif", str(source))["y"]).all()
