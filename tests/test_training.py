import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.models import load_model
from napari_particle_detect.synthetic.spheres import benchmark_config, synthesize
from napari_particle_detect.learning.training import (Example, TrainConfig, TrainingCancelled, adam, load_examples,
                                                      made_ahead, train)

from helpers import TINY


def test_tiny_training_lowers_the_loss(tmp_path):
    torch.set_num_threads(1)
    config = TrainConfig(epochs=4, steps_per_epoch=12, batch_size=4, crop=48, validation_images=2,
                         validation_size=64, threads=1, device="cpu", learning_rate=3e-3)
    events = []
    result = train(config, out=tmp_path / "m", progress=events.append)
    losses = [e["loss"] for e in events if e["event"] == "epoch"]
    assert len(losses) == 4
    assert losses[-1] < 0.6 * losses[0]
    card = json.loads((tmp_path / "m.json").read_text())
    # A model this briefly trained has no meaningful threshold; it must still be one of those searched.
    assert card["architecture"] == "unet" and 0.1 <= card["threshold"] <= 0.6
    assert len(card["training"]["history"]) == 4
    reloaded = load_model(tmp_path / "m.pt")
    for a, b in zip(reloaded.network.state_dict().values(), result.model.network.state_dict().values()):
        assert torch.equal(a, b)


def test_cancel_stops_and_writes_nothing(tmp_path):
    calls = {"n": 0}

    def cancel():
        calls["n"] += 1
        return calls["n"] > 2

    with pytest.raises(TrainingCancelled):
        train(TINY, out=tmp_path / "m", cancel=cancel)
    assert not (tmp_path / "m.pt").exists()


def test_fine_tune_from_model_on_annotated_examples(tmp_path):
    base = train(TINY, out=tmp_path / "base")
    sample = synthesize(benchmark_config("opaque", 0.5, shape=(64, 64)), seed=5)
    examples = [Example(sample.image, sample.centres)]
    tuned = train(TINY, examples=examples, init=tmp_path / "base.pt", out=tmp_path / "tuned")
    assert tuned.model.card.training["annotated_examples"] == 1
    changed = any(
        not torch.equal(a, b)
        for a, b in zip(base.model.network.state_dict().values(), tuned.model.network.state_dict().values())
    )
    assert changed


def test_resume_continues_from_saved_state(tmp_path):
    config = TrainConfig(**{**TINY.to_dict(), "epochs": 2})
    first = train(TrainConfig(**{**TINY.to_dict(), "epochs": 1}), out=tmp_path / "m")
    assert (tmp_path / "m.state.pt").exists()
    resumed = train(config, out=tmp_path / "m", resume=True)
    assert [h["epoch"] for h in resumed.history] == [1, 2]
    assert first.history[0] == resumed.history[0]


def test_load_examples_from_folder(tmp_path):
    import pandas as pd
    import tifffile

    sample = synthesize(benchmark_config("fluorescent", 0.3, shape=(64, 64)), seed=1)
    tifffile.imwrite(tmp_path / "a.tif", sample.image)
    pd.DataFrame({"y": sample.centres[:, 0], "x": sample.centres[:, 1]}).to_csv(tmp_path / "a.csv", index=False)
    examples = load_examples([tmp_path])
    assert len(examples) == 1
    assert np.allclose(examples[0].centres, sample.centres)


def test_load_examples_rescales_to_the_working_size(tmp_path):
    import pandas as pd
    import tifffile

    config = benchmark_config("fluorescent", 0.3, shape=(160, 160), radius=12.0)  # diameter about 24
    sample = synthesize(config, seed=3)
    tifffile.imwrite(tmp_path / "big.tif", sample.image)
    pd.DataFrame({"y": sample.centres[:, 0], "x": sample.centres[:, 1]}).to_csv(tmp_path / "big.csv", index=False)
    given = load_examples([tmp_path], working_diameter=15.0, diameter=24.0)
    assert given[0].scale == pytest.approx(15 / 24)
    estimated = load_examples([tmp_path], working_diameter=15.0)
    assert estimated[0].scale == pytest.approx(15 / 24, rel=0.15)
    image, centres = given[0].prepared()[:2]
    assert image.shape == (100, 100)
    assert np.allclose(centres, (sample.centres + 0.5) * 100 / 160 - 0.5)


def test_output_folder_is_made_and_an_unusable_one_fails_before_training(tmp_path):
    result = train(TINY, out=tmp_path / "new" / "deeper" / "m")
    assert result.path.exists() and result.path.with_suffix(".json").exists()
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    calls = []
    with pytest.raises(ParticleDetectError, match="cannot create its folder"):
        train(TINY, out=blocker / "m", progress=calls.append)
    assert calls == []  # not one step was spent


def test_enlarged_training_images_keep_their_centres_on_the_particles(monkeypatch):
    # Drawn small and enlarged as detection enlarges small particles: the centres must follow.
    import napari_particle_detect.learning.training as training
    from napari_particle_detect.synthetic.spheres import SynthConfig

    monkeypatch.setattr(training, "ENLARGED_SHARE", 1.0)
    monkeypatch.setattr(training, "random_training_config", lambda rng, shape, radius_range: SynthConfig(
        shape=shape, look="gaussian", radius_range=(4.0, 5.0), area_fraction=0.05, psf_sigma=0.5,
        background_gradient=0.0, peak_photons=3000.0))
    source = training.BatchSource(TrainConfig(crop=96), None, seed=3)
    found = 0
    for _ in range(4):
        image, centres = source._synthetic()
        assert image.shape == (96, 96)
        inside = np.all((centres >= 3) & (centres <= 92), axis=1)
        for y, x in np.round(centres[inside]).astype(int):
            patch = image[y - 3 : y + 4, x - 3 : x + 4]
            # the brightest pixel near each centre is within a pixel of it
            py, px = np.unravel_index(np.argmax(patch), patch.shape)
            assert abs(py - 3) <= 1 and abs(px - 3) <= 1
            found += 1
    assert found >= 4


def test_spot_options_turn_crops_into_close_spots_and_leave_the_default_draws_alone():
    import napari_particle_detect.learning.training as training
    from napari_particle_detect.synthetic.spheres import random_training_config

    base = random_training_config(np.random.default_rng(5), shape=(32, 32))
    rng = np.random.default_rng(9)
    assert training.with_spot_options(base, TrainConfig(), rng) is base
    assert rng.random() == np.random.default_rng(9).random()  # nothing was drawn

    spots = TrainConfig(spot_share=1.0, spot_min_separation=(0.35, 0.4))
    drawn = [training.with_spot_options(base, spots, rng) for _ in range(20)]
    assert {c.look for c in drawn} == set(training.SPOT_LOOKS)
    assert all(0.35 <= c.min_separation <= 0.4 for c in drawn)
    assert all(c.area_fraction == base.area_fraction for c in drawn)


def test_spot_options_change_only_the_validation_images_they_turn_into_spots():
    import napari_particle_detect.learning.training as training

    plain = training.synthetic_validation_set(TrainConfig(validation_images=8, validation_size=48))
    spotted = training.synthetic_validation_set(TrainConfig(validation_images=8, validation_size=48, spot_share=0.5,
                                                            spot_min_separation=(0.35, 1.2)))
    same = [np.array_equal(a.image, b.image) for a, b in zip(plain, spotted)]
    assert 0 < sum(same) < len(same)


def test_a_bfloat16_forward_pass_trains_float32_weights(tmp_path):
    torch.set_num_threads(1)
    result = train(replace(TINY, precision="bfloat16"), out=tmp_path / "m.pt")
    assert all(t.dtype == torch.float32 for t in result.model.network.state_dict().values() if t.is_floating_point())
    losses = [e["loss"] for e in result.history if e.get("event") == "epoch" and e["epoch"] > 0]
    assert losses and all(np.isfinite(losses))


def test_batches_made_ahead_come_in_the_order_a_plain_loop_makes_them_and_on_the_worker():
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    def maker(seed):
        rng = np.random.default_rng(seed)
        threads = []

        def make():
            threads.append(threading.get_ident())
            return rng.random(3)
        return make, threads

    plain, _ = maker(4)
    expected = [plain() for _ in range(6)]
    ahead, threads = maker(4)
    with ThreadPoolExecutor(max_workers=1) as pool:
        for k, batch in enumerate(made_ahead(pool, ahead, 6), 1):
            assert np.array_equal(batch, expected[k - 1])
            # While batch k is in use, batch k + 1 is made without being asked for; none past the count.
            deadline = time.monotonic() + 10
            while len(threads) < min(k + 1, 6) and time.monotonic() < deadline:
                time.sleep(0.001)
            assert len(threads) == min(k + 1, 6)
    assert threading.get_ident() not in threads
    assert list(made_ahead(None, ahead, 0)) == []


def test_adam_is_fused_on_a_cpu_and_updates_as_the_plain_one_does():
    torch.manual_seed(0)
    weights = [torch.nn.Parameter(torch.randn(5, 3)), torch.nn.Parameter(torch.randn(7))]
    start = [w.detach().clone() for w in weights]
    twins = [torch.nn.Parameter(w.detach().clone()) for w in weights]
    fused, plain = adam(weights, 1e-2), torch.optim.Adam(twins, lr=1e-2, foreach=False)
    assert fused.defaults["fused"] and not plain.defaults["fused"]
    for _ in range(20):
        for a, b in zip(weights, twins):
            grad = torch.randn_like(a)
            a.grad, b.grad = grad, grad.clone()
        fused.step()
        plain.step()
    for a, b, s in zip(weights, twins, start):
        assert torch.allclose(a, b, atol=1e-6)
        assert (a - s).abs().max() > 0.05


def test_keep_last_hands_back_the_last_epoch_whatever_the_validation_says(tmp_path):
    from napari_particle_detect.learning.training import resume_state_path

    base = train(TINY, out=tmp_path / "base")
    config = TrainConfig(**{**TINY.to_dict(), "epochs": 3, "keep": "last"})
    last = train(config, init=tmp_path / "base.pt", out=tmp_path / "last")
    final_state = torch.load(resume_state_path(tmp_path / "last.pt"), weights_only=False)["network"]
    assert [h["epoch"] for h in last.history] == [0, 1, 2, 3]
    for name, tensor in last.model.network.state_dict().items():
        assert torch.equal(tensor, final_state[name].cpu()), name
    saved = load_model(tmp_path / "last.pt").network.state_dict()
    assert all(torch.equal(saved[k], v) for k, v in last.model.network.state_dict().items())
    # ... and not the start, which "best" keeps as a candidate
    assert any(not torch.equal(a, b) for a, b in zip(base.model.network.state_dict().values(),
                                                     last.model.network.state_dict().values()))


def test_a_teacher_taught_near_particles_only_leaves_the_background_to_the_truth():
    from napari_particle_detect.learning.training import TEACHER_NEAR, distilled_target

    truth = torch.zeros(1, 1, 32, 32)
    yy, xx = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
    truth[0, 0] = torch.exp(-((yy - 10) ** 2 + (xx - 10) ** 2) / (2 * 1.5**2))  # one particle at (10, 10)
    taught = torch.full_like(truth, 0.4)  # a teacher responding everywhere, noise included
    config = TrainConfig(teacher_weight=0.5)
    everywhere = distilled_target(truth, taught, config)
    near = distilled_target(truth, taught, replace(config, teacher_near_particles=True))
    assert torch.allclose(everywhere, 0.5 * truth + 0.2)
    assert near[0, 0, 28, 28] == 0 and near[0, 0, 10, 10] == everywhere[0, 0, 10, 10]
    assert torch.allclose(near, 0.5 * truth + 0.2 * (truth > TEACHER_NEAR))
