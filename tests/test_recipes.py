"""Training recipes: phases run into a run folder, resumed across sessions to the same weights, lineage written."""

import json

import pytest
import torch

from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.models import load_model
from napari_particle_detect.learning.recipes import final_model_path, load_recipe, phase_files, run_recipe

# A tiny network and validation set, every test recipe's start; its phases follow.
HEADER = """
name = "{name}"
architecture = "unet"
channels = [4, 8]

[validation]
images = 1
size = 48
"""

RECIPE = HEADER + """
[[phase]]
name = "start"
epochs = 2
steps_per_epoch = 2
batch_size = 2
crop = 32
learning_rate = 3e-3
seed = 1

[[phase]]
name = "lower-lr"
epochs = 2
steps_per_epoch = 2
batch_size = 2
crop = 32
learning_rate = 1e-3
seed = 2
note = "the second half"
"""


def write(folder, name="tiny-run", text=RECIPE):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(text.format(name=name))
    return path


def weights(path):
    return load_model(path, "cpu").network.state_dict()


def test_a_run_paused_and_resumed_ends_with_the_weights_of_one_uninterrupted_run(tmp_path):
    torch.set_num_threads(1)
    straight = run_recipe(write(tmp_path / "a"), threads=1)
    assert straight.model == final_model_path(load_recipe(tmp_path / "a" / "tiny-run.toml"))

    recipe = write(tmp_path / "b")
    epochs_seen = []

    def stop_after_three_epochs() -> bool:
        return len(epochs_seen) >= 3

    # Session 1 stops within phase 2 (after 3 of its 4 epochs), session 2 resumes it.
    paused = run_recipe(recipe, threads=1, cancel=stop_after_three_epochs,
                        progress=lambda r: epochs_seen.append(r) if r.get("event") == "epoch" else None)
    assert paused.paused and paused.finished_phases == ["start"] and paused.current == "lower-lr"
    assert "run the recipe again to resume" in paused.describe()
    assert [p.name for p in (tmp_path / "b").rglob("*.state.pt")] == ["phase-2-lower-lr.state.pt"]
    done = run_recipe(recipe, threads=1)
    assert done.model is not None and not done.paused

    a, b = weights(straight.model), weights(done.model)
    assert all(torch.equal(a[k], b[k]) for k in a)
    card = json.loads(done.model.with_suffix(".json").read_text())["training"]
    assert [step["phase"] for step in card["lineage"]] == ["start", "lower-lr"]
    assert card["lineage"][1]["note"] == "the second half" and card["lineage"][1]["learning_rate"] == 1e-3
    assert card["recipe"] == "tiny-run.toml" and len(card["recipe_sha256"]) == 64
    record = json.loads(phase_files(load_recipe(recipe), 1)[1].read_text())
    assert record["resumed"] is True
    assert not list((tmp_path / "b").rglob("*.state.pt"))  # finished phases keep no resume state
    # Where each phase trained comes from its epochs: this machine's CPU on one thread, epoch by epoch.
    for step in card["lineage"]:
        sessions = step["sessions"]
        assert sessions and all(s["device"] == "cpu" and s["threads"] == 1 and s["hours"] >= 0 for s in sessions)
        assert sessions[0]["epochs"][0] == 1
        assert all(a["epochs"][1] + 1 == b["epochs"][0] for a, b in zip(sessions, sessions[1:]))

    # The note is the recipe's as it stands: rewording it reruns nothing and the lineage follows.
    recipe.write_text(recipe.read_text().replace('note = "the second half"', 'note = "the second half, reworded"'))
    again = run_recipe(recipe, threads=1)
    card = json.loads(again.model.with_suffix(".json").read_text())["training"]
    assert card["lineage"][1]["note"] == "the second half, reworded"
    assert weights(again.model).keys() == b.keys() and all(torch.equal(weights(again.model)[k], b[k]) for k in b)


def test_sessions_are_read_from_the_epochs_including_those_from_before_they_were_recorded():
    from napari_particle_detect.learning.recipes import sessions_of

    old = [{"epoch": 0, "seconds": 0.0}, {"epoch": 1, "seconds": 1800.0}, {"epoch": 2, "seconds": 3600.0},
           {"epoch": 3, "seconds": 1800.0}]  # the clock restarted: a resumed run
    new = [{"epoch": 4, "seconds": 900.0, "session": "2026-12-04T15:00:00+00:00", "device": "cpu", "threads": 1},
           {"epoch": 5, "seconds": 1800.0, "session": "2026-12-04T15:00:00+00:00", "device": "cpu", "threads": 1},
           {"epoch": 6, "seconds": 360.0, "session": "2026-12-05T09:00:00+00:00", "device": "cuda", "threads": None}]
    assert sessions_of(old + new) == [
        {"session": "not recorded", "device": "not recorded", "threads": None, "epochs": [1, 3], "hours_at_least": 1.5},
        {"session": "2026-12-04T15:00:00+00:00", "device": "cpu", "threads": 1, "epochs": [4, 5], "hours": 0.5},
        {"session": "2026-12-05T09:00:00+00:00", "device": "cuda", "threads": None, "epochs": [6, 6], "hours": 0.1}]
    assert sessions_of([]) == []


def test_a_finished_phase_of_a_changed_recipe_is_refused(tmp_path):
    torch.set_num_threads(1)
    path = write(tmp_path, text=RECIPE.replace("epochs = 2\nsteps_per_epoch = 2\nbatch_size = 2\ncrop = 32\n"
                                               "learning_rate = 1e-3", "epochs = 1\nsteps_per_epoch = 1\n"
                                               "batch_size = 2\ncrop = 32\nlearning_rate = 1e-3")
                 .replace("epochs = 2\nsteps_per_epoch = 2", "epochs = 1\nsteps_per_epoch = 1", 1))
    run_recipe(path, threads=1)
    path.write_text(path.read_text().replace("learning_rate = 3e-3", "learning_rate = 5e-3"))
    with pytest.raises(ParticleDetectError, match="ran from another recipe"):
        run_recipe(path, threads=1)


@pytest.mark.parametrize("text, words", [
    ('name = "x"\n', "no \\[\\[phase\\]\\]"),
    ('name = "x"\n[[phase]]\nname = "a"\nepochs = 0\n', "epochs must be a whole number of at least 1"),
    ('name = "x"\n[[phase]]\nname = "a"\nlr = 1\n', "unknown key lr"),
    ('name = "x"\n[[phase]]\nname = "a"\n[[phase]]\nname = "a"\n', "phase names must differ"),
    ('name = "a/b"\n[[phase]]\nname = "a"\n', "without slashes"),
    ('name = [\n', "^[^ ]*bad.toml: not a TOML recipe \\(.*\\); a recipe is a TOML file"),
    ('phases:\n  - name: a\n', "not a TOML recipe"),  # YAML, read as TOML
    ('name = "x"\n[[phase]]\nname = "a"\nspot_min_separation = [1.2, 0.35]\n',
     "spot_min_separation must be two positive numbers, smallest first"),
    ('name = "x"\n[[phase]]\nname = "a"\nspot_share = 2\n', "spot_share must be between 0 and 1"),
    ('name = "x"\n[[phase]]\nname = "a"\nprecision = "auto"\n', "precision must be float32 or bfloat16"),
])
def test_bad_recipes_get_one_line(tmp_path, text, words):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ParticleDetectError, match=words):
        load_recipe(path)


def test_cli_runs_a_recipe(tmp_path, capsys):
    torch.set_num_threads(1)
    path = write(tmp_path, text=RECIPE.replace("epochs = 2", "epochs = 1"))
    assert main(["recipe", str(path), "--threads", "1"]) == 0
    assert final_model_path(load_recipe(path)).exists()
    assert main(["recipe", str(tmp_path / "missing.toml")]) == 2
    assert "recipe not found" in capsys.readouterr().err


def test_distillation_trains_towards_the_teacher_heatmap(tmp_path):
    """A student starting as the teacher, with the whole target taken from the teacher, has almost nothing
    to learn; with the truth as target it has the teacher's whole error to learn."""
    from napari_particle_detect.learning.training import TrainConfig, train

    torch.set_num_threads(1)
    small = dict(channels=(4, 8), epochs=1, batch_size=2, crop=32, validation_images=1, validation_size=48)
    teacher = train(TrainConfig(**small, steps_per_epoch=4, seed=5, learning_rate=1e-2), out=tmp_path / "t").path
    losses = {}
    for weight in (0.0, 1.0):
        config = TrainConfig(**small, steps_per_epoch=3, seed=1, learning_rate=1e-5, teacher=str(teacher),
                             teacher_weight=weight)
        history = train(config, init=teacher).history
        losses[weight] = [h["loss"] for h in history if h.get("event") == "epoch" and h["epoch"] == 1][0]
    assert losses[1.0] < 0.3 * losses[0.0]


RODS_RECIPE = """
name = "{name}"
kind = "rods"

[validation]
images = 1
size = 64

[[phase]]
name = "heads"
epochs = 1
steps_per_epoch = 2
batch_size = 2
crop = 64
learning_rate = 1e-3
seed = 3

[[phase]]
name = "settle"
epochs = 3
steps_per_epoch = 2
batch_size = 2
crop = 64
learning_rate = 5e-4
final_lr_fraction = 0.2
seed = 4
"""


def test_a_rods_recipe_paused_and_resumed_ends_with_the_weights_of_one_uninterrupted_run(tmp_path):
    torch.set_num_threads(1)
    straight = run_recipe(write(tmp_path / "a", "rods-run", RODS_RECIPE), threads=1)
    recipe = write(tmp_path / "b", "rods-run", RODS_RECIPE)
    epochs_seen = []
    paused = run_recipe(recipe, threads=1, cancel=lambda: len(epochs_seen) >= 2,
                        progress=lambda r: epochs_seen.append(r) if r.get("epoch") and r.get("event") != "step" else None)
    assert paused.paused and paused.finished_phases == ["heads"] and paused.current == "settle"
    done = run_recipe(recipe, threads=1)
    assert done.model is not None
    a, b = weights(straight.model), weights(done.model)
    assert all(torch.equal(a[k], b[k]) for k in a)
    model = load_model(done.model, "cpu")
    assert model.card.kind == "rods" and tuple(model.card.heads) == ("centre", "cos2", "sin2", "log_length", "log_width", "tips")
    lineage = model.card.training["lineage"]
    assert [step["phase"] for step in lineage] == ["heads", "settle"] and "validation_score" in lineage[1]
    assert all(s["device"] == "cpu" and s["threads"] == 1 for step in lineage for s in step["sessions"])
    assert json.loads(phase_files(load_recipe(recipe), 1)[1].read_text())["resumed"] is True
    assert not list((tmp_path / "b").rglob("*.state.pt"))


def test_a_kind_recipe_takes_only_the_kind_s_settings(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('name = "x"\nkind = "rods"\n[[phase]]\nname = "a"\nradius_range = [3, 5]\n')
    with pytest.raises(ParticleDetectError, match="unknown key radius_range; a phase of a rods recipe"):
        load_recipe(path)
    path.write_text('name = "x"\nkind = "cubes"\n[[phase]]\nname = "a"\n')
    with pytest.raises(ParticleDetectError, match="kind must be one of spheres, rods, chains"):
        load_recipe(path)


def test_a_kind_recipe_phase_can_weight_the_generators_looks(tmp_path):
    path = tmp_path / "looks.toml"
    path.write_text('name = "x"\nkind = "chains"\n[[phase]]\nname = "a"\nlooks = ["brightfield", "brightfield", "opaque"]\n')
    assert load_recipe(path).phases[0].settings["looks"] == ("brightfield", "brightfield", "opaque")
    for bad in ('["sepia"]', '[]', '"brightfield"'):
        path.write_text(f'name = "x"\nkind = "rods"\n[[phase]]\nname = "a"\nlooks = {bad}\n')
        with pytest.raises(ParticleDetectError, match="looks must be a list of the rods generator's looks"):
            load_recipe(path)
    path.write_text('name = "x"\nkind = "rods"\n[[phase]]\nname = "a"\nlooks = ["gaussian"]\n')
    with pytest.raises(ParticleDetectError, match="fluorescent, opaque, brightfield"):
        load_recipe(path)


def test_the_final_threshold_can_be_tuned_on_more_validation_images_than_the_phases_use(tmp_path):
    torch.set_num_threads(1)
    text = RECIPE.replace("epochs = 2", "epochs = 1").replace("size = 48", "size = 48\nthreshold_images = 3")
    path = write(tmp_path, text=text)
    run_recipe(path, threads=1)
    final = load_model(final_model_path(load_recipe(path)))
    tuning = final.card.training["threshold_tuning"]
    assert tuning["images"] == 3 and len(tuning["f1_by_threshold"]) == 11
    f1s = tuning["f1_by_threshold"]
    assert f1s[f"{final.card.threshold:g}"] == max(f1s.values())
    last_phase, _ = phase_files(load_recipe(path), 1)
    assert tuning["threshold_before"] == load_model(last_phase).card.threshold
    assert torch.equal(next(iter(weights(last_phase).values())), next(iter(final.network.state_dict().values())))
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nkind = "rods"\n[validation]\nthreshold_images = 5\n[[phase]]\nname = "a"\n')
    with pytest.raises(ParticleDetectError, match="threshold_images is for sphere recipes"):
        load_recipe(bad)


INIT_RECIPE = """
name = "{name}"
init = "start.pt"

[validation]
images = 1
size = 48

[[phase]]
name = "hot"
epochs = 2
steps_per_epoch = 2
batch_size = 2
crop = 32
learning_rate = 1.0
seed = 1
note = "wrecks the network: no epoch beats the start"

[[phase]]
name = "cool"
epochs = 1
steps_per_epoch = 2
batch_size = 2
crop = 32
learning_rate = 1e-4
seed = 2
"""


def test_a_run_from_init_paused_and_resumed_ends_with_the_weights_of_one_uninterrupted_run(tmp_path):
    """Phase 1 keeps its start (no epoch beats it), so it saves nothing before its end: paused after its
    first epoch, the resumed phase must still hand on the start, not its last epoch's weights."""
    from helpers import TINY
    from napari_particle_detect.learning.training import train

    torch.set_num_threads(1)
    for folder in ("a", "b"):
        train(TINY, out=tmp_path / folder / "start")
    straight = run_recipe(write(tmp_path / "a", text=INIT_RECIPE), threads=1)
    hot, _ = phase_files(load_recipe(tmp_path / "a" / "tiny-run.toml"), 0)
    start = weights(tmp_path / "a" / "start.pt")
    assert all(torch.equal(start[k], v) for k, v in weights(hot).items())  # the start stayed the best

    recipe = write(tmp_path / "b", text=INIT_RECIPE)
    epochs_seen = []
    paused = run_recipe(recipe, threads=1, cancel=lambda: len(epochs_seen) >= 1,
                        progress=lambda r: epochs_seen.append(r) if r.get("event") == "epoch" else None)
    assert paused.paused and paused.current == "hot"
    done = run_recipe(recipe, threads=1)
    a, b = weights(straight.model), weights(done.model)
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("architecture", ["unet3d", "unet_heads", "unett", 3])
def test_a_sphere_recipe_refuses_an_architecture_it_cannot_train_naming_the_file(tmp_path, architecture):
    path = write(tmp_path, text=RECIPE.replace('architecture = "unet"', f"architecture = {json.dumps(architecture)}"))
    with pytest.raises(ParticleDetectError) as error:
        load_recipe(path)
    assert str(error.value).startswith(f"{path.resolve()}: architecture") and "unet or resnet" in str(error.value)


def test_recipe_mistakes_are_found_before_any_phase_trains(tmp_path):
    from helpers import TINY
    from napari_particle_detect.learning.training import train

    torch.set_num_threads(1)
    path = write(tmp_path, text=RECIPE.replace('note = "the second half"', 'data = ["nowhere"]'))
    with pytest.raises(ParticleDetectError, match=r"tiny-run\.toml: phase 'lower-lr': data nowhere not found"):
        run_recipe(path, threads=1)
    assert not list(tmp_path.rglob("phase-*"))  # phase 1 did not train first
    path = write(tmp_path, text=RECIPE.replace('channels = [4, 8]', 'init = "nothere.pt"'))
    with pytest.raises(ParticleDetectError, match=r"tiny-run\.toml: init nothere\.pt: model weights file not found"):
        run_recipe(path, threads=1)
    (tmp_path / "rods.pt").write_bytes(load_model("rods").path.read_bytes())
    (tmp_path / "rods.json").write_bytes(load_model("rods").path.with_suffix(".json").read_bytes())
    path = write(tmp_path, text=RECIPE.replace('channels = [4, 8]', 'init = "rods.pt"'))
    with pytest.raises(ParticleDetectError, match=r"init rods\.pt: this model finds rods, not spheres"):
        run_recipe(path, threads=1)
    train(TINY, out=tmp_path / "unet")
    path = write(tmp_path, text=RECIPE.replace('architecture = "unet"', 'architecture = "resnet"')
                 .replace('channels = [4, 8]', 'init = "unet.pt"'))
    with pytest.raises(ParticleDetectError, match=r"tiny-run\.toml: architecture 'resnet', but init unet\.pt is a unet"):
        run_recipe(path, threads=1)
    assert not list(tmp_path.rglob("phase-*"))
