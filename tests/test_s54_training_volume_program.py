"""The 3D training program (python -m napari_particle_detect.learning.volume_training train): its start, its
output, its resume."""

import pytest
import torch

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning import volume_training
from napari_particle_detect.learning.volume_training import VolumeTrainConfig, train_volumes, write_pool
from napari_particle_detect.models import load_model
from napari_particle_detect.models.unet3d import UNet3D
from napari_particle_detect.shipped import WEIGHTS_DIR

TINY = VolumeTrainConfig(minutes=0.01, validate_every=2, batch_size=1, crop=16, cache=1)


@pytest.fixture(scope="module")
def pools(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pools")
    write_pool(folder / "pool", 1, 1)
    write_pool(folder / "val", 100, 1)
    return folder / "pool", folder / "val"


def distance(a: dict, b: dict) -> float:
    return sum(float((a[k].float() - b[k].float()).norm()) for k in a if a[k].is_floating_point())


def test_a_resume_given_its_init_again_goes_on_from_its_own_steps(tmp_path, pools):
    # The resumed weights were overwritten by INIT's: the run went on from INIT with its old step count.
    torch.set_num_threads(1)
    out = train_volumes(*pools, tmp_path / "m.pt", TINY, log=lambda *_: None)
    trained = torch.load(out.with_suffix(".state.pt"), weights_only=True)["network"]
    init = WEIGHTS_DIR / "unet3d.pt"
    # Its time already spent: the resumed run trains one step (the loop runs a step past its time), enough to
    # tell INIT's weights from its own.
    train_volumes(*pools, out, TINY, resume=True, log=lambda *_: None, init=init)
    resumed = torch.load(out.with_suffix(".state.pt"), weights_only=True)["network"]
    assert distance(resumed, trained) < distance(resumed, load_model(init).network.state_dict())


def test_an_init_of_another_network_is_one_line_naming_it(tmp_path, pools):
    with pytest.raises(ParticleDetectError, match=r"unet\.pt: a 2D model \(finds particles in frames\)"):
        train_volumes(*pools, tmp_path / "m.pt", TINY, init=WEIGHTS_DIR / "unet.pt")
    torch.save(UNet3D((4, 8)).state_dict(), tmp_path / "small.pt")
    with pytest.raises(ParticleDetectError, match=r"small\.pt: not the weights of the 3D UNet this trains "
                                                  r"\(channels 8, 16, 32\)") as error:
        train_volumes(*pools, tmp_path / "m.pt", TINY, init=tmp_path / "small.pt")
    assert "\n" not in str(error.value)
    assert not (tmp_path / "m.pt").exists()


def test_the_program_refuses_to_replace_a_model_unasked_or_a_shipped_one(tmp_path, pools, capsys):
    # It replaced another run's model (and resume state) at OUT unsaid, and the shipped unet3d.pt too.
    prog = "python -m napari_particle_detect.learning.volume_training train"
    out = tmp_path / "m.pt"
    out.write_bytes(b"another run's model")
    stale = tmp_path / "m.state.pt"
    stale.write_bytes(b"another run's state")
    assert volume_training.main(["train", *pools, out, "0.01"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"{prog}: error: {out}: already there; give --overwrite to replace it, --resume to go on with the run "
        "that wrote it, or another OUT"]
    assert out.read_bytes() == b"another run's model" and stale.exists()
    shipped = WEIGHTS_DIR / "unet3d.pt"
    before = shipped.stat().st_mtime_ns
    assert volume_training.main(["train", *pools, shipped, "0.01", "--overwrite"]) == 2
    assert "inside the shipped models' folder" in capsys.readouterr().err
    assert shipped.stat().st_mtime_ns == before
    torch.set_num_threads(1)
    assert volume_training.main(["train", *pools, out, "0.01", "--overwrite"]) == 0
    assert load_model(out).card.spatial_dims == 3
    assert torch.load(stale, weights_only=True)["step"] >= 1  # this run's state, not the stale bytes


def test_an_out_below_a_file_is_refused_before_any_step(tmp_path, pools, capsys):
    # It trained first, then failed at its first save: "afile: File exists", the steps lost.
    (tmp_path / "afile").write_text("not a folder")
    out = tmp_path / "afile" / "m.pt"
    assert volume_training.main(["train", *pools, out, "0.01"]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines() == [
        f"python -m napari_particle_detect.learning.volume_training train: error: {out}: cannot write there: "
        f"{tmp_path / 'afile'} is a file, not a folder"]
    assert captured.out == ""  # no step trained
