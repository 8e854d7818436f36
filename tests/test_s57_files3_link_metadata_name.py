"""link checks the .json it writes beside its tracks under the name it writes it (files.file_detection.metadata_path,
the one naming of it): checked as OUT.json of its own, it would pass a name the writer does not use, and the record
written would replace a file there without --overwrite."""

import pandas as pd

from napari_particle_detect.cli.main import main
from napari_particle_detect.files import file_detection, side_files


def test_link_refuses_the_record_it_would_write_by_the_name_it_writes(tmp_path, capsys, monkeypatch):
    # Another naming of the record, taken up by every writer and reader of it alike: link's check among them.
    for module in (side_files, file_detection):
        monkeypatch.setattr(module, "metadata_path", lambda output: output.with_name(f"{output.stem}.record.json"))
    pd.DataFrame({"frame": [0, 1], "y": [5.0, 5.5], "x": [5.0, 5.5]}).to_csv(tmp_path / "c.csv", index=False)
    kept = tmp_path / "t.record.json"
    kept.write_text("{}")
    code = main(["-q", "link", str(tmp_path / "c.csv"), "-o", str(tmp_path / "t.csv"), "--search-range", "3"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"{kept}: already there" in err
    assert kept.read_text() == "{}" and not (tmp_path / "t.csv").exists()
