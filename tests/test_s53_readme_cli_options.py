"""README.md's command line synopsis against the parser: every option the synopsis block of *Command line*
shows exists for its subcommand, and every option of every subcommand is named somewhere in the README (a new
option left undocumented, or a documented one removed, fails here)."""

import argparse
import re
from pathlib import Path

from napari_particle_detect.cli.main import build_parser

README = Path(__file__).resolve().parents[1] / "README.md"


def subcommand_options() -> dict[str, set[str]]:
    parser = build_parser()
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert actions, "no subcommands"
    return {name: {s for a in sub._actions for s in a.option_strings if s.startswith("--")}
            for name, sub in actions[0].choices.items()}


def synopsis_lines() -> list[str]:
    """The *Command line* section's first bash block, continuation lines joined."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Command line\n", 1)[1]
    block = section.split("```bash\n", 1)[1].split("\n```", 1)[0]
    return block.replace("\\\n", " ").splitlines()


def test_the_synopsis_shows_only_options_that_exist():
    options = subcommand_options()
    seen = set()
    for line in synopsis_lines():
        words = line.split()
        assert words[0] == "particle-detect", line
        command = words[1]
        seen.add(command)
        for option in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", line):
            assert option in options[command], f"README synopsis: {command} has no {option}"
    assert seen == set(options), f"subcommands not in the synopsis: {set(options) - seen}"


def named(option: str, text: str) -> bool:
    return re.search(r"(?<![\w-])" + re.escape(option) + r"(?![\w-])", text) is not None


def test_every_option_is_named_in_the_readme():
    """An option counts as named by any of its spellings (-o for --output, -q for --quiet)."""
    text = README.read_text(encoding="utf-8")
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = [f"{command} {'/'.join(action.option_strings)}" for command, subparser in sub.choices.items()
               for action in subparser._actions
               if action.option_strings and "--help" not in action.option_strings
               and not any(named(o, text) for o in action.option_strings)]
    assert not missing, f"options the README never names: {missing}"
