"""Training tables said aloud: a ``source`` none of the dock's (a misspelt 'model' once taught unchecked detections
as truth, unsaid), and rods or chains tables holding not one particle, as centre tables already were."""

import logging

import tifffile

from napari_particle_detect.learning.kinds_training import load_kind_examples
from napari_particle_detect.learning.training import load_examples
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize


def image_with_table(folder, name: str, table: str):
    sample = synthesize(benchmark_config("fluorescent", 0.4, (64, 64)), seed=0)
    tifffile.imwrite(folder / f"{name}.tif", sample.image, photometric="minisblack")
    (folder / f"{name}.csv").write_text(table)
    return folder / f"{name}.tif", sample


def test_unknown_sources_in_a_training_table_are_named_with_the_known_ones(tmp_path, caplog):
    sample = synthesize(benchmark_config("fluorescent", 0.4, (64, 64)), seed=0)
    rows = "".join(f"0,{y},{x},{'bogus' if i % 2 else 'modle'}\n" for i, (y, x) in enumerate(sample.centres))
    image, _ = image_with_table(tmp_path, "a", "frame,y,x,source\n" + rows)
    with caplog.at_level(logging.WARNING):
        load_examples([image], 15.0, diameter=12.0)
    assert (f"{tmp_path / 'a.csv'}: source values 'bogus', 'modle' are none of model, added, accepted: their rows "
            "are read as reviewed points") in caplog.text
    caplog.clear()
    image.with_suffix(".csv").write_text("frame,y,x,source\n" + rows.replace("bogus", "added").replace("modle", "added"))
    with caplog.at_level(logging.WARNING):
        load_examples([image], 15.0, diameter=12.0)
    assert "none of model" not in caplog.text


def test_rods_and_chains_tables_without_one_particle_are_said(tmp_path, caplog):
    for kind, header in (("rods", "frame,y,x,angle,length,width"), ("chains", "frame,y,x,chain,index")):
        folder = tmp_path / kind
        folder.mkdir()
        image_with_table(folder, "e", header + "\n")
        with caplog.at_level(logging.WARNING):
            load_kind_examples([folder], kind)
        assert (f"{folder}: not one {kind[:-1]} in its tables: its 1 frame is read as holding no particles"
                in caplog.text)
        caplog.clear()


def test_an_empty_source_cell_is_named_as_empty(tmp_path, caplog):
    sample = synthesize(benchmark_config("fluorescent", 0.4, (64, 64)), seed=0)
    rows = "".join(f"0,{y},{x},{'' if i == 0 else 'added'}\n" for i, (y, x) in enumerate(sample.centres))
    image, _ = image_with_table(tmp_path, "a", "frame,y,x,source\n" + rows)
    with caplog.at_level(logging.WARNING):
        load_examples([image], 15.0, diameter=12.0)
    assert "source value (empty) is none of model, added, accepted: its rows are read as reviewed points" in caplog.text
