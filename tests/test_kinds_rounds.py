"""Rods and chains review projects and their fine-tuning rounds (no Qt): frames kept with the kind's
columns, accept/un-accept, a round that is honest about its held-out tiles, cancel, masking."""

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.kinds.registry import get_kind
from napari_particle_detect.projects.kinds_project import (
    accept_kind_frame, accept_kind_region, load_kind_frame, open_kind_project, save_kind_frame,
)
from napari_particle_detect.learning import kinds_rounds
from napari_particle_detect.learning.finetune import Scored
from napari_particle_detect.kinds.evaluation import Counts
from napari_particle_detect.learning.kinds_rounds import (
    KIND_ROUND, Reviewed, fine_tune_kind, round_config, train_kind_round,
)
from napari_particle_detect.learning.finetune import ENCODER_PARTS
from napari_particle_detect.learning.training import Example
from napari_particle_detect.models import load_model
from napari_particle_detect.detection.kinds_prediction import shipped_model_path
from napari_particle_detect.learning.kinds_training import loss_of
from napari_particle_detect.synthetic.chains import benchmark_chain_config, synthesize_chains
from napari_particle_detect.synthetic.rods import benchmark_rod_config, rod_table, synthesize_rods
from napari_particle_detect.learning.training import TrainingCancelled

TINY = replace(KIND_ROUND, steps_per_epoch=3, batch_size=2, crop=64)


def rod_stack(n=2, size=96):
    config = benchmark_rod_config("fluorescent", 0.15)
    config = replace(config, optics=replace(config.optics, shape=(size, size)))
    samples = [synthesize_rods(config, seed=70 + i) for i in range(n)]
    return np.stack([s.image for s in samples]), [s.table.assign(score=0.9, source="model") for s in samples]


def test_rods_and_chains_frames_keep_their_columns_and_the_project_its_kind(project_home):
    stack, tables = rod_stack()
    project = open_kind_project("rods", name="r", data=stack)
    accepted = accept_kind_frame(project, 0, tables[0])
    assert set(accepted["source"]) == {"accepted"}
    again = load_kind_frame(project, 0)
    assert list(again.columns[:5]) == ["frame", "y", "x", "score", "source"]
    columns = ["angle", "length", "y1", "x2"]
    assert again[columns].to_numpy() == pytest.approx(tables[0][columns].to_numpy(), abs=1e-3)
    accept_kind_region(project, 1, (0, 0, 50, 50), tables[1])
    assert project.reviewed_areas()[0] == (0, None) and project.regions(1)
    saved = load_kind_frame(project, 1)
    inside = (saved["y"] < 50) & (saved["x"] < 50)
    assert set(saved.loc[inside, "source"]) <= {"accepted"} and set(saved.loc[~inside, "source"]) <= {"model"}
    project.unaccept_frame(0)
    project.unaccept_region(1, (0, 0, 50, 50))
    assert project.reviewed_areas() == []
    assert json.loads((project.folder / "state.json").read_text())["kind"] == "rods"
    assert project.folder.name.endswith(".rods.particle-detect")
    # The same image as chains is another project; a rods folder opened as chains is refused.
    assert open_kind_project("chains", name="r", data=stack).folder != project.folder
    from napari_particle_detect.projects.project import Project

    with pytest.raises(ParticleDetectError, match="holds rods, not chains"):
        Project.open(project.folder, kind="chains")
    # Bad rows are refused whole: an angle out of range, a chain with a gap.
    with pytest.raises(ParticleDetectError, match="angle"):
        save_kind_frame(project, 0, tables[0].assign(angle=200.0))
    chains = open_kind_project("chains", name="c", data=stack)
    gap = pd.DataFrame({"y": [5.0, 9.0], "x": [5.0, 9.0], "chain": [0, 0], "index": [0, 2], "score": 0.5})
    with pytest.raises(ParticleDetectError, match="gap"):
        save_kind_frame(chains, 0, gap)
    assert chains.saved_frames() == []


def test_a_rods_round_trains_from_the_shipped_heads_and_says_whether_it_is_better(project_home):
    stack, tables = rod_stack()
    project = open_kind_project("rods", name="round", data=stack)
    accept_kind_frame(project, 0, tables[0])
    accept_kind_region(project, 1, (-0.5, -0.5, 95.5, 60), tables[1])
    events = []
    info = train_kind_round(project, stack, TINY, "cpu", progress=events.append)
    phases = [e["phase"] for e in events]
    assert phases[0] == "preparing" and "training" in phases and phases[-1] == "done"
    assert [r.number for r in project.rounds] == [1, 2] and project.rounds[0].origin == "shipped"
    assert info.parent == 1 and info.held_out > 0 and info.f1 is not None and info.parent_f1 is not None
    # Used only when it strictly beat its parent on the held-out tiles.
    assert (project.current_round.number == 2) == (info.improved is True)
    if info.f1 != info.parent_f1:
        assert info.improved == (info.f1 > info.parent_f1)


def test_a_round_with_nothing_held_out_is_kept_not_used_and_cancel_leaves_the_project_as_it_was(project_home):
    stack, tables = rod_stack(1)
    project = open_kind_project("rods", name="empty", data=stack)
    # Accepted empty: held-out tiles with no rod in them score nothing.
    accept_kind_frame(project, 0, tables[0].iloc[:0])
    info = train_kind_round(project, stack, TINY, "cpu")
    assert info.f1 is None and info.improved is None and project.current_round.number == 1
    with pytest.raises(TrainingCancelled):
        train_kind_round(project, stack, TINY, "cpu", cancel=lambda: True)
    assert [r.number for r in project.rounds] == [1, 2]
    assert not list((project.folder / "rounds").glob(".building-*/"))


def test_a_chains_round_scores_bonds_and_beads(project_home):
    sample = synthesize_chains(benchmark_chain_config("fluorescent", 0.2, shape=(96, 96)), seed=5)
    stack = sample.image[None]
    project = open_kind_project("chains", name="beads", data=stack)
    accept_kind_frame(project, 0, sample.table.assign(score=0.9, source="model"))
    info = train_kind_round(project, stack, replace(TINY, crop=48), "cpu")
    assert info.held_out > 0 and 0 <= info.f1 <= 1 and 0 <= info.parent_f1 <= 1


@pytest.mark.parametrize("kind, encoder_moves", [("rods", True), ("chains", False)])
def test_a_round_trains_the_layers_and_rate_measured_for_its_kind(kind, encoder_moves, monkeypatch):
    # What training moves: the batch-norm statistics candidate (which moves every layer's statistics) aside.
    monkeypatch.setattr(kinds_rounds, "statistics_candidate", lambda *args: None)
    # Rods rounds train all layers at 1.5e-4 (results/anisotropic_round.txt), chains the decoder at 5e-4.
    if kind == "rods":
        stack, tables = rod_stack(1)
        image = stack[0]
    else:
        sample = synthesize_chains(benchmark_chain_config("fluorescent", 0.2, shape=(96, 96)), seed=5)
        image, tables = sample.image, [sample.table]
    table = tables[0].assign(score=1.0, source="accepted", frame=0)
    model = load_model(shipped_model_path(kind), "cpu")
    reviewed = [Reviewed(Example(image, table[["y", "x"]].to_numpy(float), name="frame 0"), table)]
    config = round_config(kind, steps_per_epoch=2, batch_size=2, crop=48 if kind == "chains" else 64)
    assert config.kind == kind and config.learning_rate == (1.5e-4 if kind == "rods" else 5e-4)
    result = fine_tune_kind(model, reviewed, config, "cpu")
    assert result.model.card.training["fine_tuned"]["trainable"] == ("all" if kind == "rods" else "decoder")
    # The round's card holds its own record, its parent's in the lineage (the parent's score sat at its top).
    training = result.model.card.training
    assert "validation_score" not in training and "history" not in training and "command" not in training
    assert training["lineage"][-1]["validation_score"] == model.card.training["validation_score"]
    before, after = model.network.state_dict(), result.model.network.state_dict()
    encoder = [k for k in before if k.split(".")[0] in ENCODER_PARTS and before[k].is_floating_point()]
    decoder = [k for k in before if k.split(".")[0] not in ENCODER_PARTS and before[k].is_floating_point()]
    assert encoder and decoder
    assert any(not torch.equal(before[k], after[k]) for k in decoder)
    assert any(not torch.equal(before[k], after[k]) for k in encoder) == encoder_moves


def test_the_loss_outside_reviewed_areas_is_nothing():
    kind = get_kind("rods")
    table = rod_table([20.0], [20.0], [30.0], [20.0], [5.0])
    maps, mask = kind.encode(table, (48, 48))
    target, mask = torch.from_numpy(maps)[None], torch.from_numpy(mask)[None, None]
    wrong = torch.rand_like(target)
    area = torch.zeros(1, 1, 48, 48)
    assert loss_of(kind, wrong * area, target * area, mask * area, 0.1).item() == 0.0
    area[..., :24, :] = 1
    assert loss_of(kind, wrong * area, target * area, mask * area, 0.1).item() > 0.0


def test_linking_two_chain_ends_and_cutting_a_bond():
    from napari_particle_detect.projects.chain_edits import cut_bond, link_ends

    # Rows in a layer's order: chain 0 is rows 2, 0, 1 (indices 0, 1, 2); chain 1 is rows 3, 4; row 5 was added.
    beads = pd.DataFrame({"chain": [0, 0, 0, 1, 1, -1], "index": [1, 2, 0, 0, 1, 0], "closed": 0})
    joined = link_ends(beads, 1, 4)  # chain 0's last bead to chain 1's last: one chain of five
    assert joined["chain"].nunique() == 2 and sorted(joined.loc[:4, "index"]) == [0, 1, 2, 3, 4]
    assert joined.at[1, "index"] + 1 == joined.at[4, "index"]
    grown = link_ends(joined, 5, 2)  # a bead placed by hand onto the new chain's first end
    assert grown["chain"].nunique() == 1 and abs(grown.at[5, "index"] - grown.at[2, "index"]) == 1
    ring = link_ends(grown, *grown["index"].to_numpy().argsort()[[0, -1]])
    assert set(ring["closed"]) == {1}
    opened = cut_bond(ring, 0, 1)
    assert set(opened["closed"]) == {0} and {opened.at[0, "index"], opened.at[1, "index"]} == {0, 5}
    split = cut_bond(beads, 0, 1)  # chain 0's bond between index 1 and 2
    assert split.loc[[2, 0], "chain"].nunique() == 1 and split.at[1, "chain"] not in (0, 1)
    with pytest.raises(ParticleDetectError, match="chain ends"):
        link_ends(beads, 0, 3)  # row 0 is inside chain 0
    with pytest.raises(ParticleDetectError, match="neighbouring"):
        cut_bond(beads, 2, 1)


@pytest.mark.parametrize("adapted_f1, chosen", [(0.9, kinds_rounds.ADAPTED), (0.6, kinds_rounds.TRAINED),
                                                (0.7, kinds_rounds.TRAINED)])
def test_a_round_takes_the_frames_statistics_only_where_they_score_higher_on_the_held_out_tiles(
        adapted_f1, chosen, monkeypatch):
    stack, tables = rod_stack(1)
    table = tables[0].assign(score=1.0, source="accepted", frame=0)
    model = load_model(shipped_model_path("rods"), "cpu")
    reviewed = [Reviewed(Example(stack[0], table[["y", "x"]].to_numpy(float), name="frame 0"), table)]
    # Each candidate's held-out maps stand for its name, scored as the case says: parent 0.5, trained 0.7.
    monkeypatch.setattr(kinds_rounds, "held_out_maps", lambda model, splits, device, which, *rest: [which] * len(splits))
    f1s = {"parent": 0.5, "new model": 0.7, "adapted model": adapted_f1}
    monkeypatch.setattr(kinds_rounds, "kind_score",
                        lambda kind, splits, tables, maps, *rest: Scored(f1s[maps[0]], 0.4, Counts(1, 0, 0)))
    unlabelled = [rod_stack(2)[0][1]]
    result = fine_tune_kind(model, reviewed, replace(TINY, kind="rods"), "cpu", unlabelled=unlabelled)
    card = result.model.card.training["fine_tuned"]
    assert card["candidate"] == chosen and card["statistics_frames"] == 2
    assert result.score.f1 == max(0.7, adapted_f1) and result.parent_score.f1 == 0.5 and result.improved
    weights = result.model.network.state_dict()
    shipped = model.network.state_dict()
    convolutions = [k for k in shipped if k.endswith("weight") and shipped[k].dim() == 4]
    statistics = [k for k in shipped if k.endswith("running_mean")]
    # Both candidates are trained (their weights moved); the second has the statistics of the two frames
    # alone (the reviewed one and the unlabelled one: one batch each), the first its training's.
    assert any(not torch.equal(weights[k], shipped[k]) for k in statistics)
    assert not all(torch.equal(weights[k], shipped[k]) for k in convolutions)
    batches = {int(weights[k]) - (0 if chosen == kinds_rounds.ADAPTED else int(shipped[k]))
               for k in weights if k.endswith("num_batches_tracked")}
    assert batches == ({2} if chosen == kinds_rounds.ADAPTED else {TINY.steps_per_epoch})


def test_the_batch_norm_statistics_are_the_frames_own_and_the_network_is_left_alone():
    from torch import nn

    from napari_particle_detect.learning.batch_norm_adaptation import ADAPTATION_SIDE, with_frame_statistics

    torch.manual_seed(0)
    network = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1, bias=False), nn.BatchNorm2d(3), nn.ReLU())
    before = {k: v.clone() for k, v in network.state_dict().items()}
    rng = np.random.default_rng(1)
    frames = [rng.normal(2.0, 0.5, (64, 80)).astype(np.float32), rng.normal(-1.0, 2.0, (40, 48)).astype(np.float32)]
    adapted = with_frame_statistics(network, frames)
    assert not adapted.training and all(torch.equal(before[k], v) for k, v in network.state_dict().items())
    with torch.no_grad():
        per_frame = [network[0](torch.from_numpy(f)[None, None]) for f in frames]
    means = torch.stack([a.mean(dim=(0, 2, 3)) for a in per_frame]).mean(0)
    variances = torch.stack([a.var(dim=(0, 2, 3)) for a in per_frame]).mean(0)
    torch.testing.assert_close(adapted[1].running_mean, means, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(adapted[1].running_var, variances, rtol=1e-4, atol=1e-5)
    # Convolution weights are the network's; no batch norm, or no frame big enough: nothing to offer.
    assert torch.equal(adapted[0].weight, network[0].weight)
    assert with_frame_statistics(nn.Sequential(nn.Conv2d(1, 1, 3)), frames) is None
    assert with_frame_statistics(network, [np.zeros((4, 4), np.float32)]) is None
    # A large frame adds its central crop only (a bounded forward pass in training mode).
    big = np.zeros((3 * ADAPTATION_SIDE, ADAPTATION_SIDE + 40), np.float32)
    big[ADAPTATION_SIDE:2 * ADAPTATION_SIDE, 20:ADAPTATION_SIDE + 20] = 1.0  # exactly the central crop
    on_big = with_frame_statistics(network, [big])
    inside = with_frame_statistics(network, [np.ones((ADAPTATION_SIDE, ADAPTATION_SIDE), np.float32)])
    torch.testing.assert_close(on_big[1].running_mean, inside[1].running_mean)
    # Frames are read one at a time, and cancel is seen before each.
    read = []
    lazily = (read.append(k) or f for k, f in enumerate(frames))
    with pytest.raises(TrainingCancelled):
        with_frame_statistics(network, lazily, cancel=lambda: len(read) >= 1)
    assert read == [0]


def test_a_projects_round_lends_unreviewed_frames_to_the_statistics(project_home):
    stack, tables = rod_stack(4)
    project = open_kind_project("rods", name="lend", data=stack)
    accept_kind_frame(project, 0, tables[0])
    train_kind_round(project, stack, TINY, "cpu")
    card = load_model(project.round_path(2), "cpu").card
    assert card.training["fine_tuned"]["statistics_frames"] == 4  # the reviewed frame and the three others


def test_a_model_of_another_kind_is_refused_before_the_project_gains_a_round(project_home):
    from napari_particle_detect.projects.kinds_project import ensure_kind_round, import_kind_model

    stack, _ = rod_stack(n=1, size=64)
    project = open_kind_project("rods", name="other-kind", data=stack)
    chains = shipped_model_path("chains")
    with pytest.raises(ParticleDetectError) as error:
        import_kind_model(project, chains)
    assert str(error.value) == f"{chains}: this model finds chains, not rods"
    with pytest.raises(ParticleDetectError) as error:
        ensure_kind_round(project, chains)
    assert str(error.value) == f"{chains}: this model finds chains, not rods"
    assert project.rounds == []
    assert import_kind_model(project, shipped_model_path("rods")).number == 2  # round 1 is the shipped one
