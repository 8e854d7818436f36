"""evaluate and link given a table of the wrong sort say which table it is and what to give, in one line:
the per-chain summary detect writes beside a chains table (before: "needs columns y and x (got frame, chain,
beads, ...)"), sphere centres under --kind chains (before: "no chain, index column"), and a rods table against
a chains one (before: each --kind sent the user to the other)."""

import numpy as np
import pandas as pd
import pytest
import tifffile

from napari_particle_detect.cli.main import main
from napari_particle_detect.kinds.chains import chain_summary


def run(capsys, *args) -> tuple[int, str]:
    code = main(["-q", *map(str, args)])
    return code, capsys.readouterr().err


@pytest.fixture
def tables(tmp_path):
    beads = pd.DataFrame({"frame": [0, 0, 0, 1, 1], "y": [10.0, 10.0, 10.0, 30.0, 30.0],
                          "x": [10.0, 20.0, 30.0, 10.0, 20.0], "score": 0.9, "chain": [0, 0, 0, 0, 0],
                          "index": [0, 1, 2, 0, 1], "closed": 0})
    beads.to_csv(tmp_path / "out.csv", index=False)
    chain_summary(beads).to_csv(tmp_path / "out.chains.csv", index=False)
    beads[["frame", "y", "x"]].to_csv(tmp_path / "centres.csv", index=False)
    pd.DataFrame({"frame": [0], "y": [10.0], "x": [10.0], "angle": [0.0], "length": [20.0], "width": [5.0],
                  "score": [0.9]}).to_csv(tmp_path / "rods.csv", index=False)
    return tmp_path


@pytest.mark.parametrize("kind", [[], ["--kind", "chains"]])
def test_evaluate_of_the_per_chain_summary_names_the_beads_table(tables, capsys, kind):
    code, err = run(capsys, "evaluate", tables / "out.chains.csv", tables / "out.csv", *kind)
    assert code == 2 and err.count("\n") == 1
    assert "per-chain summary" in err and "give out.csv, one row per bead" in err


def test_link_of_the_per_chain_summary_names_the_beads_table_and_writes_nothing(tables, capsys):
    code, err = run(capsys, "link", tables / "out.chains.csv", "-o", tables / "tracks.csv")
    assert code == 2 and err.count("\n") == 1 and "give out.csv, one row per bead" in err
    assert not (tables / "tracks.csv").exists()


def test_sphere_centres_under_kind_chains_say_to_score_them_without_it(tables, capsys):
    code, err = run(capsys, "evaluate", tables / "out.csv", tables / "centres.csv", "--kind", "chains")
    assert code == 2 and err.count("\n") == 1
    assert "centres.csv: sphere centres" in err and "evaluate without --kind scores sphere centres" in err


@pytest.mark.parametrize("kind", ["rods", "chains"])
def test_rods_against_chains_is_refused_whichever_kind_is_given(tables, capsys, kind):
    code, err = run(capsys, "evaluate", tables / "rods.csv", tables / "out.csv", "--kind", kind)
    assert code == 2 and err.count("\n") == 1 and "give two tables of one kind" in err


def test_rods_tables_under_kind_chains_say_to_give_kind_rods(tables, capsys):
    code, err = run(capsys, "evaluate", tables / "rods.csv", tables / "rods.csv", "--kind", "chains")
    assert code == 2 and err.count("\n") == 1 and err.rstrip().endswith("a rods table (angle, length columns): give --kind rods")


@pytest.mark.parametrize("table, said", [("centres.csv", "train without --kind learns from sphere centres"),
                                         ("rods.csv", "a rods table (angle, length columns): give --kind rods")])
def test_train_kind_chains_on_another_sort_of_table_says_what_to_give(tables, capsys, table, said):
    data = tables / "data"
    data.mkdir()
    tifffile.imwrite(data / "a.tif", np.zeros((64, 64), np.uint16))
    (data / "a.csv").write_bytes((tables / table).read_bytes())
    code, err = run(capsys, "train", "--kind", "chains", data, "-o", tables / "model", "--epochs", "1")
    assert code == 2 and err.count("\n") == 1 and said in err
    assert not list(tables.glob("model*"))


def test_evaluate_help_says_what_each_table_is():
    from napari_particle_detect.cli.main import build_parser

    evaluate = build_parser()._subparsers._group_actions[0].choices["evaluate"]
    helps = {action.dest: action.help for action in evaluate._actions}
    assert "not the per-chain .chains.csv" in helps["predicted"] and "synth's" in helps["truth"]
