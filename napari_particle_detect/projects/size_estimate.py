"""What a project's diameter came from: the estimate of its first detection, kept beside its state, so a
reopened project (or a second Detect, which reuses the diameter) still says it was estimated and how
sure the estimate was, instead of calling it given."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from .project import Project

ESTIMATE_FILE = "diameter_estimate.json"


@dataclass(frozen=True)
class RememberedEstimate:
    diameter: float
    ringed: bool
    confident: bool
    reason: str = ""


def remember_estimate(project: Project, estimate: RememberedEstimate) -> None:
    project.save_side_file(ESTIMATE_FILE, json.dumps(asdict(estimate), indent=2))


def remembered_estimate(project: Project, diameter: float | None) -> RememberedEstimate | None:
    """The estimate that gave ``diameter`` (the project's or the one about to be used), if one did;
    None for a diameter the user gave or an unreadable note (it is only a label)."""
    if diameter is None:
        return None
    try:
        data = json.loads((project.folder / ESTIMATE_FILE).read_text())
        estimate = RememberedEstimate(float(data["diameter"]), bool(data["ringed"]), bool(data["confident"]),
                                      str(data.get("reason", "")))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return estimate if abs(estimate.diameter - float(diameter)) < 0.05 else None
