"""README.md against what a new user meets: the napari menu paths it tells them to click (napari.yaml's names),
the modules its *Layout* lists (the package's own files), and the options and values of every command it shows
in a bash block (the parser's), not only the synopsis that test_s53_readme_cli_options.py reads."""

import argparse
import re
from pathlib import Path

import yaml

from napari_particle_detect.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "napari_particle_detect"
README = ROOT / "README.md"


def readme() -> str:
    return README.read_text(encoding="utf-8")


def menu_paths(text: str) -> list[list[str]]:
    """Every italic *Plugins → ...* and *File → Open Sample → ...* the README names, split at its arrows."""
    found = re.findall(r"\*((?:Plugins|File) →[^*]+)\*", text)
    return [[part.strip() for part in " ".join(path.split()).split("→")] for path in found]


def test_the_menu_paths_are_naparis_menus():
    # The README said *Plugins → Particle detection (napari-particle-detect)*: that is the dock's title; napari's
    # Plugins menu holds a napari-particle-detect submenu with the widgets' names in it.
    manifest = yaml.safe_load((PACKAGE / "napari.yaml").read_text(encoding="utf-8"))
    plugin = manifest["display_name"]
    widgets = {widget["display_name"] for widget in manifest["contributions"]["widgets"]}
    samples = {sample["display_name"] for sample in manifest["contributions"]["sample_data"]}
    paths = menu_paths(readme())
    plugin_paths = [path for path in paths if path[0] == "Plugins"]
    assert len(plugin_paths) >= 3, paths
    for path in plugin_paths:
        assert path[1:2] == [plugin] and path[2:] and path[2] in widgets, f"no such menu: {' → '.join(path)}"
    for path in paths:
        if path[:2] == ["File", "Open Sample"] and len(path) > 2:
            assert path[2] == plugin and (len(path) == 3 or path[3] in samples), f"no such menu: {' → '.join(path)}"


def layout_modules() -> dict[str, set[str]]:
    """The *Layout* block's modules by folder ('' for the package's own top level)."""
    block = readme().split("\n## Layout\n", 1)[1].split("```\n", 1)[1].split("\n```", 1)[0]
    modules: dict[str, set[str]] = {}
    folder = None
    for line in block.splitlines()[1:]:  # the first line is the package itself
        header = re.match(r"  (\w+)/ ", line)
        if re.match(r"\S", line):
            folder = None  # recipes/, benchmarks/ ...: beside the package
        elif header:
            folder = header.group(1)
        elif re.match(r"  \S", line):
            folder = ""
        if folder is not None:
            modules.setdefault(folder, set()).update(re.findall(r"\b(\w+\.py)\b", line))
    return modules


def package_modules() -> dict[str, set[str]]:
    modules: dict[str, set[str]] = {"": {p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py"}}
    for folder in PACKAGE.iterdir():
        if folder.is_dir() and not folder.name.startswith(("_", ".")):
            names = {p.name for p in folder.glob("*.py") if p.name != "__init__.py"}
            if names:
                modules[folder.name] = names
    return modules


def test_the_layout_names_every_module_and_only_modules_that_exist():
    # Twenty-one modules (kinds/columns.py, detection/threads.py, files/centre_csv.py, ...) were missing from it.
    listed, actual = layout_modules(), package_modules()
    missing = sorted(f"{folder}/{name}".lstrip("/") for folder, names in actual.items()
                     for name in names - listed.get(folder, set()))
    gone = sorted(f"{folder}/{name}".lstrip("/") for folder, names in listed.items()
                  for name in names - actual.get(folder, set()))
    assert not missing, f"modules the README's Layout does not name: {missing}"
    assert not gone, f"the README's Layout names modules that do not exist: {gone}"


def subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices


def shown_commands() -> list[tuple[str, str]]:
    """(subcommand, the rest of its line) of every particle-detect command in the README's bash blocks."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", readme(), re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("#", 1)[0]
            match = re.match(r"\s*(?:\.venv/bin/)?particle-detect\s+(?:-q\s+)?(\w+)(.*)", line)
            if match:
                commands.append((match.group(1), match.group(2)))
    return commands


def test_every_command_shown_has_its_options_and_their_values():
    commands, parsers = shown_commands(), subparsers()
    assert len(commands) > 20, commands
    for command, rest in commands:
        assert command in parsers, f"README shows particle-detect {command}, which does not exist"
        actions = {s: a for a in parsers[command]._actions for s in a.option_strings}
        for option in re.findall(r"(?<![\w-])--?[a-zA-Z][a-z0-9-]*", rest):
            assert option in actions, f"README: particle-detect {command} has no {option}"
        for option, values in re.findall(r"(--[a-z-]+) ([\w.]+(?:\|[\w.]+)+)", rest):
            accepted = [str(choice) for choice in actions[option].choices or ()]
            wrong = [value for value in values.split("|") if value not in accepted]
            assert not wrong, f"README: particle-detect {command} {option} takes none of {wrong} ({accepted})"
