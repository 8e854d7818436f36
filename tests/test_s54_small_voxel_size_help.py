"""--voxel-size's help says how one --diameter is read where y and x voxels differ: along y, in y voxels, z and x
following from the voxel size (tests/test_s54_volumes2_shapes.py pins the behaviour)."""

import argparse
import re

import pytest

from napari_particle_detect.cli.main import build_parser


def option_help(command: str, option: str) -> str:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[command]
    action = next(a for a in sub._actions if option in a.option_strings)
    return re.sub(r"\s+", " ", action.help)


@pytest.mark.parametrize("command", ["detect", "train"])
def test_voxel_size_help_says_one_diameter_is_read_along_y(command):
    text = option_help(command, "--voxel-size")
    assert "(and x's, where y and x voxels differ) from the one --diameter" in text
    assert "read along y" in text
