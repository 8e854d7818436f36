"""Chain edits make no bond the image does not show: a deleted inner bead's neighbours, a link between far
beads; and the per-chain table opened in napari says what to open instead."""

import numpy as np
import pandas as pd
import pytest

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.kinds.registry import write_kind_table
from napari_particle_detect.projects.chain_edits import link_ends

PLUGIN = "napari-particle-detect"
BOND = 11.0


def _straight_chain(chain: int, y: float, x_first: float, beads: int = 5) -> pd.DataFrame:
    return pd.DataFrame({"frame": 0, "y": y, "x": x_first + BOND * np.arange(beads), "score": 0.9, "chain": chain,
                         "index": np.arange(beads), "closed": 0, "source": "model"})


def _ring(chain: int, centre: tuple[float, float], beads: int = 8) -> pd.DataFrame:
    turn = np.linspace(0, 2 * np.pi, beads, endpoint=False)
    radius = BOND / (2 * np.sin(np.pi / beads))  # neighbours one bond apart
    return pd.DataFrame({"frame": 0, "y": centre[0] + radius * np.sin(turn), "x": centre[1] + radius * np.cos(turn),
                         "score": 0.9, "chain": chain, "index": np.arange(beads), "closed": 1, "source": "model"})


def _delete_and_save(viewer, tmp_path, table: pd.DataFrame, deleted: list[tuple[int, int]]) -> pd.DataFrame:
    """``table`` opened in napari, the beads (chain, index) deleted from its beads layer, the layer saved:
    the per-chain table written beside it."""
    write_kind_table(table, tmp_path / "found.csv", "chains")
    beads, _ = viewer.open(tmp_path / "found.csv", plugin=PLUGIN)
    features = beads.features
    beads.selected_data = {i for i in range(len(features))
                           if (int(features["chain"][i]), int(features["index"][i])) in deleted}
    beads.remove_selected()
    beads.save(str(tmp_path / "edited.csv"), plugin=PLUGIN)
    return pd.read_csv(tmp_path / "edited.chains.csv")


def test_a_deleted_inner_bead_splits_its_chain_unless_its_neighbours_touch(tmp_path, make_napari_viewer):
    # Deleting bead 2 of a straight chain bonded beads 1 and 3 across the gap, two bonds apart, into one chain of 4.
    spurious = _straight_chain(1, 80.0, 10.0).assign(x=[10.0, 21.0, 26.5, 32.0, 43.0])  # bead 2 found between
    # two touching beads
    summary = _delete_and_save(make_napari_viewer(), tmp_path, pd.concat([_straight_chain(0, 50.0, 10.0), spurious]),
                               [(0, 2), (1, 2)])
    assert summary["beads"].tolist() == [2, 4, 2]  # chain 0 split in two; chain 1 whole without its extra bead
    assert summary["contour_length"].tolist() == pytest.approx([BOND, 3 * BOND, BOND], abs=0.01)


def test_a_ring_whose_first_bead_is_deleted_opens_there(tmp_path, make_napari_viewer):
    # Its closing bond went from its last bead to its second, two bonds apart.
    summary = _delete_and_save(make_napari_viewer(), tmp_path, _ring(0, (60.0, 60.0)), [(0, 0)])
    assert summary[["beads", "closed"]].values.tolist() == [[7, 0]]
    assert summary["contour_length"].item() == pytest.approx(6 * BOND, abs=0.01)  # written to 3 decimals


def _frame_with_a_hand_placed_bead() -> pd.DataFrame:
    chains = pd.concat([_straight_chain(0, 10.7, 145.3), _straight_chain(1, 100.0, 10.0)], ignore_index=True)
    added = pd.DataFrame({"frame": [0], "y": [20.0], "x": [20.0], "score": [np.nan], "chain": [-1], "index": [0],
                          "closed": [0], "source": ["added"]})
    return pd.concat([chains, added], ignore_index=True)


def test_link_2_ends_refuses_beads_far_apart_naming_the_distance_and_the_typical_bond():
    beads = _frame_with_a_hand_placed_bead()
    with pytest.raises(ParticleDetectError, match=r"125\.6 px apart.*typical bond of 11\.0 px"):
        link_ends(beads, 10, 0)  # the bead placed at (20, 20) to chain 0's first end at (10.7, 145.3)
    beads.loc[10, ["y", "x"]] = [10.7, 145.3 - BOND]  # placed touching that end instead
    linked = link_ends(beads, 10, 0)
    assert linked.loc[[10, *range(5)], "index"].tolist() == [0, 1, 2, 3, 4, 5] and linked["chain"].nunique() == 2


def test_link_2_ends_without_any_bond_in_the_frame_measures_against_a_bead_diameter():
    free = pd.DataFrame({"y": [10.0, 10.0, 10.0, 60.0], "x": [10.0, 21.0, 32.0, 10.0], "chain": -1, "index": 0,
                         "closed": 0})
    with pytest.raises(ParticleDetectError, match=r"50\.0 px apart.*11\.0 px \(a bead diameter"):
        link_ends(free, 0, 3)
    assert link_ends(free, 0, 1)["chain"].nunique() == 3


def test_link_2_ends_sees_a_chain_split_at_a_deleted_bead_as_two_chains():
    # The beads layer still holds the chain's old indices (0, 1, 3, 4): bead 1 is an end now, as saved.
    beads = _frame_with_a_hand_placed_bead().drop(index=2).reset_index(drop=True)
    beads.loc[9, ["y", "x"]] = [10.7 - BOND, 145.3 + BOND]  # a bead placed touching bead 1
    linked = link_ends(beads, 1, 9)
    assert linked.loc[[0, 1, 9], "chain"].nunique() == 1 and linked.at[9, "index"] == 2
    assert linked.loc[[2, 3], "chain"].nunique() == 1 and linked.at[2, "chain"] != linked.at[0, "chain"]


def test_the_per_chain_table_opened_in_napari_says_to_open_the_beads_table(tmp_path, make_napari_viewer):
    write_kind_table(_straight_chain(0, 50.0, 10.0), tmp_path / "run.csv", "chains")
    viewer = make_napari_viewer()
    with pytest.raises(Exception, match=r"per-chain summary.*no bead positions.*open run\.csv \(the beads\)"):
        viewer.open(tmp_path / "run.chains.csv", plugin=PLUGIN)
    assert len(viewer.open(tmp_path / "run.csv", plugin=PLUGIN)) == 2  # beads and their paths
