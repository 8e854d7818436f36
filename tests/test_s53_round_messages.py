"""A round's lines read as sentences in the docks as on the command line."""
import numpy as np


def test_the_dock_refuses_deleting_the_round_in_use_as_the_command_line_does(make_napari_viewer):
    from helpers import make_widget, notification_count, notifications_since

    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((2, 48, 48), np.uint16), name="cells")
    from napari_particle_detect.models.registry import default_model_path

    widget = make_widget(viewer, None)
    widget.detect.add_model_file(str(default_model_path()))  # round 2 beside the shipped round 1
    widget.state.use_round(1)
    widget.finetune.table.selectRow(0)
    start = notification_count()
    assert not widget.finetune.round_actions.delete(confirm=False)
    assert any(said.startswith("cannot delete round-001: it ") for said in notifications_since(start))
    assert [r.number for r in widget.annotation.project.rounds] == [1, 2]


def test_one_held_out_tile_holds():
    from napari_particle_detect._napari.round_progress import verdict
    from napari_particle_detect.projects.project import RoundInfo

    one = RoundInfo(2, "fine-tuned", parent=1, held_out=1, f1=None, parent_f1=None, improved=None)
    two = RoundInfo(2, "fine-tuned", parent=1, held_out=2, f1=None, parent_f1=None, improved=None)
    assert "its 1 held-out tile holds no corrected particle" in verdict(one, None)
    assert "its 2 held-out tiles hold no corrected particle" in verdict(two, None)
