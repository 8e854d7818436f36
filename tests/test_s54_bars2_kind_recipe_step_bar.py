"""A rods or chains recipe draws each phase's steps on a bar, as a sphere recipe does: its phases trained with none,
their epochs' lines the only sign of a run that may take hours."""
from __future__ import annotations

import re

from napari_particle_detect.cli.main import main

from helpers import TINY_CHAINS_RECIPE
from test_recipes import write

CHAINS_RECIPE = TINY_CHAINS_RECIPE


def test_a_kind_recipe_draws_its_phases_steps_on_a_bar(tmp_path, capsys):
    recipe = write(tmp_path, "chains-run", CHAINS_RECIPE)

    assert main(["recipe", str(recipe), "--threads", "1", "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    assert re.search(r"phase heads: 100%.*\b4/4 \[", err), err
    assert "phase heads, epoch 1/2: loss" in err and "phase heads, epoch 2/2: loss" in err, err
