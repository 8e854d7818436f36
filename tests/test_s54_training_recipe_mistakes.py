"""A recipe's mistakes: one line naming the file, the key and its line, before anything trains."""

import pytest

from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.learning.recipes import load_recipe

TWO_PHASES = """name = "two"
kind = "{kind}"
{top}
[validation]
images = 1
{validation}
[[phase]]
name = "first"
epochs = 1
seed = 1

[[phase]]
name = "second"
epochs = 1
{second}
"""


def write(tmp_path, kind="rods", top="", validation="", second=""):
    path = tmp_path / "r.toml"
    path.write_text(TWO_PHASES.format(kind=kind, top=top, validation=validation, second=second))
    return path


def last_line_of(path, text):
    return [n for n, line in enumerate(path.read_text().splitlines(), start=1) if line.startswith(text)][-1]


@pytest.mark.parametrize("second, words", [
    ("learning_rte = 1e-3", r"phase 'second': unknown key learning_rte \(learning_rate\?\)"),
    ('epochs = 1\nseed = "3"', "phase 'second': seed must be a whole number"),
    # TOML's true is Python's 1: it trained at a learning rate of 1.0.
    ("learning_rate = true", "phase 'second': learning_rate must be a positive number"),
    ("synthetic_fraction = true", "phase 'second': synthetic_fraction must be between 0 and 1"),
    ('looks = "opaque"', "phase 'second': looks must be a list"),
])
def test_a_phase_mistake_names_the_file_the_key_and_its_line(tmp_path, second, words):
    path = write(tmp_path, second=second.replace("epochs = 1\n", ""))
    with pytest.raises(ParticleDetectError, match=words) as error:
        load_recipe(path)
    key = second.splitlines()[-1].split(" =")[0]
    message = str(error.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    # Its own phase's line (the last phase here), not the first phase's setting of the same key.
    assert message.endswith(f"(line {last_line_of(path, key + ' =')})"), message


@pytest.mark.parametrize("top, validation, words, key", [
    ("init = 3", "", "init must be a path in quotes", "init"),
    ("output = false", "", "output must be a path in quotes", "output"),
    ('architecture = "resnet"', "", "architecture: a rods recipe trains its kind's network", "architecture"),
    ("channels = [4, 8]", "", "channels: a rods recipe trains its kind's network", "channels"),
    ("", "sizes = 64", r"unknown key sizes \(size\?\); \[validation\]", "sizes"),
    ("", "images = true", "validation images must be a whole number", "images = true"),
    ("name_ = 1", "", r"unknown key name_ \(name\?\)", "name_"),
])
def test_a_recipe_mistake_outside_its_phases_is_one_line_with_its_line(tmp_path, top, validation, words, key):
    # init or output of another type failed deep in path arithmetic (a TypeError's traceback); a rods recipe's
    # architecture or channels were ignored, unsaid.
    path = write(tmp_path, top=top, validation=validation.replace("images = true", ""))
    if validation == "images = true":
        path.write_text(path.read_text().replace("images = 1", "images = true"))
    with pytest.raises(ParticleDetectError, match=words) as error:
        load_recipe(path)
    assert str(error.value).endswith(f"(line {last_line_of(path, key)})"), str(error.value)


def test_a_sphere_recipe_keeps_its_architecture_and_channels(tmp_path):
    recipe = load_recipe(write(tmp_path, kind="spheres", top='architecture = "resnet"\nchannels = [4, 8]'))
    assert (recipe.architecture, recipe.channels) == ("resnet", (4, 8))


def test_a_run_folder_below_a_file_is_one_line_before_anything_trains(tmp_path):
    from napari_particle_detect.learning.recipes import run_recipe

    (tmp_path / "afile").write_text("not a folder")
    path = write(tmp_path, top='output = "afile/run"')
    # It was a bare OSError: "afile: File exists".
    with pytest.raises(ParticleDetectError, match=r"afile/run: cannot make it: .*afile is a file, not a folder$"):
        run_recipe(path, threads=1)
