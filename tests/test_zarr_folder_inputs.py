"""A .zarr folder named on the command line (or to detect_files) is one image, metadata or not: an empty or
unfinished store is said as the reader says it, not as a folder of images holding none."""

from napari_particle_detect.cli.main import main
from napari_particle_detect.files.file_detection import expand_inputs

from test_distributed import tiny_model  # noqa: F401 - the module's fixture


def test_an_empty_zarr_folder_is_said_to_be_an_empty_or_unfinished_zarr_store(tmp_path, tiny_model, capsys):
    store = tmp_path / "z" / "empty.zarr"
    store.mkdir(parents=True)
    assert expand_inputs([store]) == [store]
    code = main(["detect", str(store), "-o", str(tmp_path / "out.csv"), "--model", str(tiny_model), "--device", "cpu",
                 "--diameter", "12"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0 and err[-1].endswith(
        f"{store}: a .zarr folder with no zarr metadata (.zarray, .zgroup, zarr.json): an empty or unfinished zarr "
        "store"), err
    assert not (tmp_path / "out.csv").exists()
