"""chain_summary's columns keep their number types when no chain is found."""

import pandas as pd

from napari_particle_detect import chain_summary
from napari_particle_detect.kinds.chains import empty_table


def test_summary_of_a_table_without_beads_has_typed_columns():
    summary = chain_summary(empty_table())
    assert summary.empty
    assert summary.dtypes.to_dict() == {
        "frame": "int64", "chain": "int64", "beads": "int64", "contour_length": "float64", "end_to_end": "float64",
        "radius_of_gyration": "float64", "closed": "int64"}


def test_summaries_joined_with_an_empty_one_stay_numbers():
    table = pd.DataFrame({"frame": [0, 0], "y": [10.0, 10.0], "x": [10.0, 22.0], "score": [0.9, 0.8],
                          "chain": [0, 0], "index": [0, 1], "closed": [0, 0]})
    joined = pd.concat([chain_summary(table), chain_summary(empty_table())], ignore_index=True)
    assert joined["beads"].dtype == "int64" and joined["contour_length"].dtype == "float64"
    assert joined["contour_length"].tolist() == [12.0]
