"""A 3D round from a project whose saved sizes are under half a voxel along an axis (detected before Detect refused
them: a voxel size in mixed units, z in nanometres and y, x in micrometres) enlarged every volume over a thousand
times along z and ran out of memory; it is refused in one line naming the voxel size, before anything is
resampled or trained."""

import pytest
import torch

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning.volume_rounds import (
    VolumeSettings, ensure_volume_round, open_volume_project, project_volume_examples, remember_settings,
    train_volume_round,
)
from napari_particle_detect.learning.volume_finetune import VolumeRoundConfig
from napari_particle_detect.synthetic.volumes import VolumeConfig, synthesize_volume

from test_volume_rounds import table_of

MIXED = (100.0, 0.1, 0.1)  # z 100 nm typed beside y, x in micrometres
SAVED = (0.1, 10.0, 10.0)  # what such a voxel size made of 1 µm particles, z in voxels


@pytest.fixture(scope="module")
def sample():
    return synthesize_volume(VolumeConfig(shape=(8, 32, 32), volume_fraction=0.3), seed=3)


def test_a_round_on_sub_voxel_saved_sizes_is_refused_before_resampling(tmp_path, sample):
    torch.set_num_threads(1)
    project = open_volume_project(tmp_path / "v.tif", sample.image)
    ensure_volume_round(project)
    remember_settings(project, VolumeSettings(SAVED, MIXED, sample.image.shape))
    project.accept_frame(0, table_of(sample))
    said = r"0\.1 x 10 x 10 voxels .* under 0\.5 voxel across along z.*check the voxel size \(100 x 0\.1 x 0\.1.*Detect"
    with pytest.raises(ParticleDetectError, match=said):
        train_volume_round(project, sample.image, VolumeRoundConfig(steps=3, batch_size=2, crop=16, threads=1),
                           cancel=lambda: True)
    with pytest.raises(ParticleDetectError, match="under 0.5 voxel across along z"):
        project_volume_examples(project, sample.image, SAVED, 6.0)
    assert [r.number for r in project.rounds] == [1] and not project.leftover_workspaces()


def test_sizes_of_a_voxel_or_more_still_make_examples(tmp_path, sample):
    project = open_volume_project(tmp_path / "v.tif", sample.image)
    project.accept_frame(0, table_of(sample))
    [example] = project_volume_examples(project, sample.image, (5.0, 10.0, 10.0), 6.0, (2.0, 1.0, 1.0))
    assert example.name == "volume 0"
