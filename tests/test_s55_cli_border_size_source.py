"""evaluate --border without a size, where the predictions have no detect .json beside them: the line says there
is none. It said "X.json records no shape of it" of a file that does not exist (truth and predictions given the
wrong way round, say), and the user went looking in it."""

import pandas as pd

from napari_particle_detect.cli.main import main


def test_border_without_size_names_the_missing_record_as_missing(tmp_path, capsys):
    table = pd.DataFrame({"frame": [0], "y": [20.0], "x": [20.0]})
    predicted, truth = tmp_path / "truth_by_hand.csv", tmp_path / "det.csv"
    table.to_csv(predicted, index=False)
    table.to_csv(truth, index=False)
    code = main(["-q", "evaluate", str(predicted), str(truth), "--border", "5"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.rstrip().endswith(f"no truth_by_hand.json of detect beside {predicted})"), err
    assert not (tmp_path / "truth_by_hand.json").exists()
