"""Where a review project keeps its model rounds: names the projects and the model registry both read.

It sits below both, so the registry can tell a project's round from any other model file (to say what to
do when one is missing or damaged) without importing the projects that import it.
"""

from __future__ import annotations

import re
from pathlib import Path

PROJECT_SUFFIX = ".particle-detect"
ROUNDS_FOLDER = "rounds"
ROUND_FOLDER = re.compile(r"round-(\d+)$")  # rounds/round-001, rounds/round-002, ...
# A round's model file missing or damaged: the way past it (one line, after the file's problem), said by the dock
# and the command line alike (rounds --export, detect --model of a round's file), so both ways are named.
DAMAGED_ROUND_ADVICE = ("pick another round (the dock's Fine-tune table; `particle-detect rounds PROJECT` lists them), "
                        "or delete this one")


def is_round_model_file(model_file: str | Path) -> bool:
    """Whether ``model_file`` is a project's round model (``PROJECT/rounds/round-NNN/model.pt``, or its card)."""
    path = Path(model_file)
    round_folder = path.parent
    project = round_folder.parent.parent
    return (path.stem == "model" and round_folder.parent.name == ROUNDS_FOLDER
            and ROUND_FOLDER.fullmatch(round_folder.name) is not None
            and (project.suffix == PROJECT_SUFFIX or (project / "state.json").is_file()))
