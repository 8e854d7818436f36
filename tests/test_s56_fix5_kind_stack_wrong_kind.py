"""Training rods or chains on a stack whose table is another kind's, without a frame column (sphere centres y,x):
the frame check ran before the kind's reader, so the user was told to add a frame column, and only after adding it
that the table is not of the kind at all."""

import re

import numpy as np
import pytest
import tifffile

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning.kinds_training import load_kind_examples


@pytest.mark.parametrize(("kind", "header", "needed"), [
    ("rods", "y,x", "angle, length"),
    ("chains", "y,x,angle,length", "chain, index"),
])
def test_a_stacks_table_of_another_kind_without_frames_is_refused_as_not_of_the_kind(tmp_path, kind, header,
                                                                                    needed):
    tifffile.imwrite(tmp_path / "stack.tif", np.zeros((3, 64, 64), np.uint16), photometric="minisblack")
    csv = tmp_path / "stack.csv"
    csv.write_text(f"{header}\n" + "".join(",".join(["10"] * len(header.split(","))) + "\n" for _ in range(2)))
    with pytest.raises(ParticleDetectError, match=re.escape(f"{csv}: not a {kind} table: no {needed} column")):
        load_kind_examples([tmp_path / "stack.tif"], kind)
