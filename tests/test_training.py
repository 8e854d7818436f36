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


# ---- the audit of the training side --------------------------------------------------------------------
def _weights(model) -> dict:
    return {k: v.clone() for k, v in model.network.state_dict().items()}


def _same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_a_resumed_fine_tuning_ends_where_an_uninterrupted_one_does_when_the_start_stays_best(tmp_path):
    """No epoch beats the start (a learning rate that wrecks the network), so nothing is saved during the
    run: resumed after epoch 1, the run must still hand back the start, not its last epoch's weights."""
    torch.set_num_threads(1)
    start = train(TINY, out=tmp_path / "start").path
    config = replace(TINY, epochs=2, steps_per_epoch=2, learning_rate=1.0, seed=1)
    whole = train(config, init=start, out=tmp_path / "whole")
    assert _same_weights(_weights(whole.model), _weights(load_model(start)))  # the start stayed the best
    stop = {"now": False}

    def after_epoch_1(event):
        stop["now"] = stop["now"] or event["event"] == "epoch" and event["epoch"] == 1

    with pytest.raises(TrainingCancelled):
        train(config, init=start, out=tmp_path / "paused", progress=after_epoch_1, cancel=lambda: stop["now"])
    assert not (tmp_path / "paused.pt").exists() and (tmp_path / "paused.state.pt").exists()
    resumed = train(config, init=start, out=tmp_path / "paused", resume=True)
    assert _same_weights(_weights(resumed.model), _weights(whole.model))
    assert resumed.best_f1 == whole.best_f1 and resumed.model.card.threshold == whole.model.card.threshold
    # Resumed without its start, or from another, the run is refused: the card would lose its lineage and size.
    with pytest.raises(ParticleDetectError, match=r"paused\.state\.pt: the interrupted run fine-tuned .*start\.pt"):
        train(config, out=tmp_path / "paused", resume=True)
    with pytest.raises(ParticleDetectError, match="started from other weights"):
        train(config, init=train(replace(TINY, seed=3)).model, out=tmp_path / "paused", resume=True)


def test_training_from_a_model_of_another_kind_is_refused_before_any_step(tmp_path):
    from napari_particle_detect.learning.finetune import fine_tune
    from napari_particle_detect.learning.kinds_training import KindTrainConfig, train_kind

    rods = load_model("rods")
    with pytest.raises(ParticleDetectError, match="this model finds rods, not spheres; give a sphere model or --kind rods"):
        train(TINY, init="rods", out=tmp_path / "w")
    sample = synthesize(benchmark_config("fluorescent", 0.4, (64, 64)), seed=3)
    with pytest.raises(ParticleDetectError, match="this model finds rods, not spheres"):
        fine_tune(rods, [Example(sample.image, sample.centres, name="frame 0")],
                  replace(TINY, epochs=1, steps_per_epoch=1, validation_images=0), device="cpu")
    spheres = train(TINY, out=tmp_path / "spheres").path
    with pytest.raises(ParticleDetectError, match=r"spheres\.pt: this model finds spheres, not rods"):
        train_kind(KindTrainConfig(kind="rods", epochs=1, steps_per_epoch=1, batch_size=2, threads=1),
                   tmp_path / "k", init=spheres)
    assert not list(tmp_path.glob("w*")) and not list(tmp_path.glob("k*"))


def _pair(folder, image, centres):
    import pandas as pd
    import tifffile

    folder.mkdir(exist_ok=True)
    tifffile.imwrite(folder / "im.tif", image)
    pd.DataFrame({"y": centres[:, 0], "x": centres[:, 1]}).to_csv(folder / "im.csv", index=False)
    return folder / "im.tif", folder / "im.csv"


def test_a_truth_table_whose_centres_all_lie_outside_its_image_is_refused(tmp_path, caplog):
    sample = synthesize(benchmark_config("fluorescent", 0.4, (64, 64)), seed=2)
    _, csv = _pair(tmp_path / "out", sample.image, sample.centres + 500)
    with pytest.raises(ParticleDetectError) as error:
        load_examples([tmp_path / "out"])
    assert str(error.value).startswith(f"{csv}: its {len(sample.centres)} centres all lie outside the 64x64 image")
    some = sample.centres.copy()
    some[:2] += 500
    _, csv = _pair(tmp_path / "some", sample.image, some)
    with caplog.at_level("WARNING"):
        assert len(load_examples([tmp_path / "some"])) == 1
    assert f"{csv}: 2 of its {len(some)} centres lie outside the 64x64 image" in caplog.text


def test_an_rgb_training_image_is_refused_as_detect_refuses_it(tmp_path):
    sample = synthesize(benchmark_config("fluorescent", 0.4, (64, 64)), seed=2)
    rgb = np.repeat(sample.image[..., None], 3, axis=-1)
    image, _ = _pair(tmp_path / "rgb", rgb, sample.centres)
    with pytest.raises(ParticleDetectError, match=rf"{image}: looks like an RGB\(A\) image .*convert it to greyscale"):
        load_examples([image])


def test_a_diameter_that_shrinks_the_images_too_far_says_so(tmp_path):
    sample = synthesize(benchmark_config("fluorescent", 0.4, (128, 128)), seed=2)
    image, _ = _pair(tmp_path / "big", sample.image, sample.centres)
    with pytest.raises(ParticleDetectError, match=rf"{image}: at a particle diameter of 500 px \(given\) the 128x128 "
                                                   r"image shrinks to 4x4 px"):
        load_examples([image], working_diameter=15.0, diameter=500.0)
    assert len(load_examples([image], working_diameter=15.0, diameter=12.0)) == 1


def test_a_full_disk_is_an_oserror_naming_the_file_and_leaves_nothing_half_written(tmp_path, monkeypatch):
    import errno
    import os

    from napari_particle_detect.cli.main import main
    from napari_particle_detect.models import save_model

    real_fdopen = os.fdopen

    class Full:  # a file on a disk with 100 bytes left
        def __init__(self, handle):
            self.handle, self.written = handle, 0

        def write(self, data):
            self.written += len(data)
            if self.written > 100:
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.handle.write(data)

        def __getattr__(self, name):
            return getattr(self.handle, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

    model = load_model("unet")
    monkeypatch.setattr(os, "fdopen", lambda fd, mode="r", *a, **k: Full(real_fdopen(fd, mode, *a, **k)))
    with pytest.raises(OSError) as error:
        save_model(model, tmp_path / "m.pt")
    assert error.value.errno == errno.ENOSPC and error.value.filename == str(tmp_path / "m.pt")
    assert os.listdir(tmp_path) == []
    code = main(["-q", "train", "-o", str(tmp_path / "t"), "--epochs", "1", "--steps-per-epoch", "1", "--batch-size",
                 "2", "--crop", "32", "--threads", "1", "--device", "cpu"])
    assert code == 2 and os.listdir(tmp_path) == []


def test_the_card_records_the_architecture_actually_trained(tmp_path):
    start = train(TINY, out=tmp_path / "start").path
    tuned = train(replace(TINY, architecture="resnet"), init=start, out=tmp_path / "tuned")
    assert tuned.model.card.architecture == "unet"
    assert tuned.model.card.training["config"]["architecture"] == "unet"


def test_training_progress_reports_the_last_step_of_every_epoch(tmp_path):
    events = []
    train(replace(TINY, epochs=2, steps_per_epoch=3), out=tmp_path / "m", progress=events.append)
    steps = [(e["epoch"], e["step"]) for e in events if e["event"] == "step"]
    assert (1, 3) in steps and steps[-1] == (2, 3)


def test_a_model_trained_from_an_exported_round_keeps_the_round_in_its_lineage(tmp_path):
    start = train(TINY, out=tmp_path / "start")
    round_card = start.model.card
    round_card.training = {"lineage": [{"command": "grandparent"}], "command": "the round",
                           "fine_tuned": {"examples": 2, "f1": 0.8, "parent_f1": 0.7, "config": {}},
                           "exported": {"round": 3}}
    from napari_particle_detect.models import save_model

    save_model(start.model, tmp_path / "round")
    child = train(TINY, init=tmp_path / "round.pt", out=tmp_path / "child")
    lineage = child.model.card.training["lineage"]
    assert lineage[0] == {"command": "grandparent"}
    assert lineage[1] == {"command": "the round", "exported": {"round": 3},
                          "fine_tuned": {"examples": 2, "f1": 0.8, "parent_f1": 0.7}}


def test_another_kinds_model_is_refused_in_one_wording_with_each_places_advice(tmp_path):
    from napari_particle_detect.detection.kinds_prediction import model_for
    from napari_particle_detect.learning.kinds_training import KindTrainConfig, train_kind
    from napari_particle_detect.models.registry import require_kind, saved_card, wrong_kind

    assert wrong_kind("m.pt", "rods", "chains") == "m.pt: this model finds rods, not chains"
    assert wrong_kind("m.pt", "rods", "chains", "give a chains model") == \
        "m.pt: this model finds rods, not chains; give a chains model"
    rods = load_model("rods")
    require_kind(rods, "rods", "anywhere")  # the kind asked for: nothing to refuse
    with pytest.raises(ParticleDetectError) as error:
        require_kind(saved_card("rods"), "chains", "rods.pt")  # a card will do
    assert str(error.value) == "rods.pt: this model finds rods, not chains"
    with pytest.raises(ParticleDetectError) as error:
        model_for("chains", rods, torch.device("cpu"))
    assert str(error.value) == (f"{rods.path}: this model finds rods, not chains; give a chains model, or kind='rods' "
                                "(--kind rods)")
    with pytest.raises(ParticleDetectError) as error:
        train_kind(KindTrainConfig(kind="chains", epochs=1, steps_per_epoch=1, batch_size=2, threads=1),
                   tmp_path / "k", init=rods.path)
    assert str(error.value) == (f"{rods.path}: this model finds rods, not chains; give a chains model, or leave out "
                                "--from to start from the shipped sphere UNet")
    assert not list(tmp_path.glob("k*"))


def test_a_resnet_trains_from_scratch_on_a_cpu_without_crashing_the_process(tmp_path):
    # torch 2.13's channels-last weight gradient of the ResNet's 1x1 stride-2 shortcuts corrupts the heap
    # (double free or segfault in loss.backward()), so it trains in the usual layout; in a child process,
    # so a crash fails this test rather than ending pytest.
    import os
    import subprocess
    import sys

    script = ("import torch; torch.set_num_threads(1)\n"
              "from napari_particle_detect.learning.training import TrainConfig, train\n"
              "for precision in ('float32', 'bfloat16'):\n"
              "    train(TrainConfig(architecture='resnet', epochs=1, steps_per_epoch=3, batch_size=2, crop=96,\n"
              "                      validation_images=1, validation_size=48, threads=1, device='cpu',\n"
              f"                      precision=precision), out={str(tmp_path / 'r')!r} + precision)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "NAPARI_PARTICLE_DETECT_HOME": str(tmp_path / "home")})
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "rfloat32.pt").exists() and (tmp_path / "rbfloat16.pt").exists()

    from napari_particle_detect.learning.training import trains_channels_last
    from napari_particle_detect.models.resnet import ResNetHeatmap
    from napari_particle_detect.models.unet import UNet

    cpu = torch.device("cpu")
    assert not trains_channels_last(ResNetHeatmap(), cpu) and trains_channels_last(UNet(), cpu)


def test_a_damaged_resume_state_is_called_damaged_and_only_foreign_objects_a_risk(tmp_path):
    # Every failure to unpickle was "refused: ... could run code", a truncated file included.
    import pickle

    from napari_particle_detect.learning.training import read_training_state

    empty, text, foreign, good = (tmp_path / f"{n}.state.pt" for n in ("empty", "text", "foreign", "good"))
    empty.write_bytes(b"")
    text.write_text("epoch 3\n")
    torch.save({"sampler": pickle.Pickler}, foreign)  # a class: loading it would import code
    torch.save({"epoch": 3, "weights": torch.zeros(2)}, good)
    with pytest.raises(ParticleDetectError, match=r"empty.state.pt: not a training state file \(damaged or another "
                                                  r"format: empty\)$"):
        read_training_state(empty)
    with pytest.raises(ParticleDetectError, match="not a training state .*not a PyTorch archive"):
        read_training_state(text)
    with pytest.raises(ParticleDetectError, match="refused: .*could run code.*delete it and train without --resume"):
        read_training_state(foreign)
    assert read_training_state(good)["epoch"] == 3


def test_annotated_examples_left_without_a_scale_train_at_the_scale_detection_uses():
    # As detect sizes a frame: a training run on small particles left at the default scale must not
    # learn them at a size detection never shows the network.
    from napari_particle_detect.detection.prediction import detect
    from napari_particle_detect.synthetic.spheres import SynthConfig

    torch.set_num_threads(1)
    sample = synthesize(SynthConfig(shape=(96, 96), look="fluorescent", radius_range=(3.0, 4.0), area_fraction=0.3),
                        seed=7)
    left = train(TINY, examples=[Example(sample.image, sample.centres)])
    scale = detect(sample.image, left.model, "cpu").attrs["scale"]
    assert scale > 1.2  # detection enlarges these frames, so the scale left out matters
    given = train(TINY, examples=[Example(sample.image, sample.centres, scale)])
    for a, b in zip(left.model.network.state_dict().values(), given.model.network.state_dict().values()):
        assert torch.equal(a, b)


def test_a_config_training_cannot_run_with_is_refused_naming_the_field_before_any_work(tmp_path):
    for change, says in [
        ({"batch_size": 0}, r"^TrainConfig\.batch_size must be a whole number of at least 1, got 0$"),
        ({"epochs": 0}, r"^TrainConfig\.epochs must be a whole number of at least 1, got 0$"),
        ({"steps_per_epoch": 2.5}, r"^TrainConfig\.steps_per_epoch must be a whole number of at least 1, got 2\.5$"),
        ({"crop": 7}, r"^TrainConfig\.crop must be a multiple of 8 of at least 16 px \(this network halves a crop 3 "
                      r"times\), got 7$"),
        ({"crop": 20}, r"^TrainConfig\.crop must be a multiple of 8 .*, got 20$"),
        ({"crop": 8, "architecture": "resnet"}, r"^TrainConfig\.crop must be a multiple of 8 of at least 16 px"),
        ({"learning_rate": float("nan")}, r"^TrainConfig\.learning_rate must be a number above 0, got nan$"),
        ({"learning_rate": 0}, r"^TrainConfig\.learning_rate must be a number above 0, got 0$"),
    ]:
        with pytest.raises(ParticleDetectError, match=says):
            train(replace(TINY, **change), out=tmp_path / "run" / "m")
    assert not (tmp_path / "run").exists()  # nothing written
