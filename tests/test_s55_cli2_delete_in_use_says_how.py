"""``rounds --delete N`` of the round in use says how another round is put in use: it said "switch to another round
first", and ``rounds`` has no way to switch, so users looked for an option it lacks; a volumes project's round in
use cannot be switched at all (the 3D dock has no rounds table), only beaten by a new round."""

from __future__ import annotations

import tifffile

from napari_particle_detect.cli.main import main
from napari_particle_detect.learning.volume_rounds import ensure_volume_round, open_volume_project
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

from helpers import reviewed_project


def test_deleting_the_round_in_use_names_where_another_is_chosen(tmp_path, capsys):
    reviewed_project(tmp_path)
    assert main(["rounds", str(tmp_path / "img.tif"), "--delete", "1"]) == 2
    assert capsys.readouterr().err.strip() == (
        "particle-detect: error: cannot delete round-001: it is the round in use; switch to another round first "
        "(double-click it in the napari dock's rounds table)")


def test_deleting_a_volume_projects_round_in_use_says_only_a_better_round_replaces_it(tmp_path, capsys):
    image = tmp_path / "conf.tif"
    volume = synthesize_volume(VolumeConfig(shape=(8, 32, 32), volume_fraction=0.2), seed=1).image
    tifffile.imwrite(image, volume)
    ensure_volume_round(open_volume_project(image, volume))
    assert main(["rounds", str(image), "--delete", "1"]) == 2
    err = capsys.readouterr().err
    assert "round-001: it is the round in use; a new round that beats it takes its place (Fine-tune in the napari " \
           "3D dock)" in err and "switch" not in err, err
