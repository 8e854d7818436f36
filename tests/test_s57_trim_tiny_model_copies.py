"""helpers.tiny_model_file trains once per process and hands out copies: each copy must be the model TINY trains,
and what a test does to its copy (damaging it, writing beside it) must never reach another test's."""

from napari_particle_detect.models.registry import load_model

from helpers import tiny_model_file


def test_a_damaged_copy_of_the_tiny_model_leaves_the_next_copy_whole(tmp_path):
    first = tiny_model_file(tmp_path / "first")
    names = sorted(p.name for p in first.parent.iterdir())
    first.write_bytes(b"damaged")
    (first.parent / "written beside it.txt").write_text("a test's own file")

    second = tiny_model_file(tmp_path / "second")
    assert second == tmp_path / "second" / "tiny.pt"
    assert sorted(p.name for p in second.parent.iterdir()) == names
    assert load_model(second, "cpu").card.training["finished"]
