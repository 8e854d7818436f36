"""A rods or chains table that reads unlike its kind (bead chains detected as rods, rods as chains) gets a one-line
hint (kinds.tables.unlike_kind_note), and a table of its own kind none: the kind is the user's choice, never refused."""

from __future__ import annotations

import pandas as pd
import pytest
import tifffile

from napari_particle_detect import detect
from napari_particle_detect.cli.main import main
from napari_particle_detect.kinds.tables import unlike_kind_note
from napari_particle_detect.synthetic.chains import benchmark_chain_config, synthesize_chains
from napari_particle_detect.synthetic.rods import benchmark_rod_config, synthesize_rods

SHAPE = (192, 192)


@pytest.fixture(scope="module")
def images():
    return {"rods": synthesize_rods(benchmark_rod_config("fluorescent", 0.3, SHAPE), seed=3).image,
            "chains": synthesize_chains(benchmark_chain_config("fluorescent", 0.3, SHAPE), seed=3).image}


def test_bead_chains_read_as_rods_are_said_to_look_round_and_pointed_to_chains(images):
    note = unlike_kind_note(detect(images["chains"], kind="rods"), "rods")
    assert note is not None and "nearly round" in note and "--kind chains" in note
    assert "\n" not in note


def test_rods_read_as_chains_are_said_to_be_unsure_beads_and_pointed_to_rods(images):
    note = unlike_kind_note(detect(images["rods"], kind="chains"), "chains")
    assert note is not None and "median score" in note and "--kind rods" in note


@pytest.mark.parametrize("kind", ["rods", "chains"])
def test_a_table_of_its_own_kind_gets_no_hint(images, kind):
    assert unlike_kind_note(detect(images[kind], kind=kind), kind) is None


def test_a_few_objects_say_too_little_for_a_hint(images):
    beads = detect(images["rods"], kind="chains")
    assert unlike_kind_note(beads.head(10), "chains") is None


def test_the_command_line_says_the_hint_in_one_line_and_still_writes_the_table(images, tmp_path, capsys):
    image = tmp_path / "beads.tif"
    tifffile.imwrite(image, images["chains"])
    out = tmp_path / "rods.csv"
    assert main(["detect", str(image), "--kind", "rods", "-o", str(out)]) == 0
    hints = [line for line in capsys.readouterr().err.splitlines() if "nearly round" in line]
    assert len(hints) == 1 and str(image) in hints[0] and "--kind chains" in hints[0]
    assert len(pd.read_csv(out)) >= 30
