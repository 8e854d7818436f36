"""Truth tables of no rows: a header-only ``frame,y,x`` once crashed training with an IndexError; a single image
reviewed empty is an example (nothing to find there), a stack's empty table names no frame and is refused, and
DATA whose tables hold not one centre is said aloud, since the model it trains finds nothing."""

import logging

import numpy as np
import pytest
import tifffile

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning.kinds_training import load_kind_examples
from napari_particle_detect.learning.training import load_examples
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize


def image_with_table(folder, name: str, header: str, frames: int = 1):
    sample = synthesize(benchmark_config("fluorescent", 0.4, (64, 64)), seed=0)
    pixels = np.stack([sample.image] * frames) if frames > 1 else sample.image
    tifffile.imwrite(folder / f"{name}.tif", pixels, photometric="minisblack")
    (folder / f"{name}.csv").write_text(header + "\n")
    return folder / f"{name}.tif", sample


def test_a_header_only_frame_table_of_one_image_is_an_empty_example(tmp_path):
    image, _ = image_with_table(tmp_path, "a", "frame,y,x")
    for diameter in (12.0, None):  # without one, the size is read from the frame: once an IndexError
        examples = load_examples([image], 15.0, diameter=diameter)
        assert len(examples) == 1 and examples[0].centres.shape == (0, 2)


def test_a_stacks_table_of_no_rows_is_refused_in_one_line(tmp_path):
    image, _ = image_with_table(tmp_path, "s", "frame,y,x", frames=2)
    with pytest.raises(ParticleDetectError, match=r"s\.csv: no rows, so it names none of the 2 frames of s\.tif"):
        load_examples([image], 15.0, diameter=12.0)
    image, _ = image_with_table(tmp_path, "c", "frame,y,x,chain,index", frames=2)
    with pytest.raises(ParticleDetectError, match=r"c\.csv: no rows, so it names none of the 2 frames of c\.tif"):
        load_kind_examples([image], "chains")


def test_tables_without_one_centre_are_said_and_one_centre_silences_it(tmp_path, caplog):
    empty, _ = image_with_table(tmp_path, "e", "y,x")
    with caplog.at_level(logging.WARNING):
        load_examples([tmp_path], 15.0, diameter=12.0)
    assert f"{tmp_path}: not one centre in its tables: its 1 frame is read as holding no particles" in caplog.text
    caplog.clear()
    full, sample = image_with_table(tmp_path, "f", "y,x")
    full.with_suffix(".csv").write_text("y,x\n" + "".join(f"{y},{x}\n" for y, x in sample.centres))
    with caplog.at_level(logging.WARNING):
        load_examples([tmp_path], 15.0, diameter=12.0)
    assert "not one centre" not in caplog.text
