"""What training a chains model says of an annotated frame's bead size (read outside the sizes the model detects as
they come, or a --diameter larger than the frame) names the file and frame it was read from, as the resume refusals
do: it said 'annotated example 1', a number nobody gave, which file of DATA left to guess. The card's ``scales`` keep
their keys."""

import logging

import pytest
import tifffile

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.kinds.registry import get_kind, table_csv
from napari_particle_detect.learning.kinds_training import annotated_at_detection_scale, load_kind_examples
from napari_particle_detect.synthetic.chains import benchmark_chain_config, synthesize_chains


def write_pair(folder, name: str, radius: float, seed: int) -> None:
    sample = synthesize_chains(benchmark_chain_config("fluorescent", 0.3, shape=(96, 96), radius=radius), seed=seed)
    folder.mkdir(exist_ok=True)
    tifffile.imwrite(folder / f"{name}.tif", sample.image)
    (folder / f"{name}.csv").write_text(table_csv(sample.table))


@pytest.fixture
def data(tmp_path):
    """a.tif of beads detection reads as they come, then big.tif of 22 px beads, which it resamples."""
    write_pair(tmp_path, "a", 5.0, seed=1)
    write_pair(tmp_path, "big", 11.0, seed=2)
    return tmp_path


def test_a_size_estimate_warning_names_the_file_and_frame(data, caplog):
    examples = load_kind_examples([data], "chains")
    with caplog.at_level(logging.WARNING):
        _, scales = annotated_at_detection_scale(get_kind("chains"), examples, "annotated example")
    said = [record.getMessage() for record in caplog.records if "beads read about" in record.getMessage()]
    assert len(said) == 1 and said[0].startswith("big.tif[0]: the beads read about"), said
    assert list(scales) == ["annotated example 0", "annotated example 1"] and scales["annotated example 1"] < 0.8


def test_a_diameter_larger_than_a_frame_names_it(data):
    examples = load_kind_examples([data], "chains")
    with pytest.raises(ParticleDetectError, match=r"^a\.tif\[0\]"):
        annotated_at_detection_scale(get_kind("chains"), examples, "validation example", diameter=200.0)
