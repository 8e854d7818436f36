"""Copying a model (a remote round's unpacking, training's CPU copy of its best weights) leaves torch's global
random stream where a seeded caller left it: the copy's initial weights are replaced, never drawn."""

import torch

from napari_particle_detect.learning.remote import pack_model, unpack_model
from napari_particle_detect.learning.training import _cpu_copy
from napari_particle_detect.models import DetectorModel
from napari_particle_detect.models.registry import ModelCard, network_for_weights


def small_model() -> DetectorModel:
    card = ModelCard(channels=(4, 8))
    network = network_for_weights(card)
    with torch.no_grad():
        for number, tensor in enumerate(network.state_dict().values()):
            tensor.fill_(0.01 * number)  # weights no initialisation draws, so a copy of them shows
    return DetectorModel(network.eval(), card)


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    first, second = a.state_dict(), b.state_dict()
    return first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)


def test_unpacking_a_remote_model_draws_nothing_from_the_global_generator():
    model = small_model()
    packed = pack_model(model)
    torch.manual_seed(7)
    before = torch.get_rng_state()
    unpacked = unpack_model(packed)
    assert torch.equal(torch.get_rng_state(), before)
    assert same_weights(unpacked.network, model.network)


def test_a_cpu_copy_of_training_weights_draws_nothing_from_the_global_generator():
    model = small_model()
    torch.manual_seed(7)
    before = torch.get_rng_state()
    copy = _cpu_copy(model.card, model.network.state_dict())
    assert torch.equal(torch.get_rng_state(), before)
    assert same_weights(copy, model.network) and not copy.training
