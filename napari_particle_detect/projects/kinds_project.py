"""Review projects of rods and bead chains: the same project (projects/project.py) as sphere centres, with the
kind recorded in its state and the kind's columns kept in its frame files.

A rods or chains project lives beside the image's sphere project, ``<stem>.rods.particle-detect/``
(or ``.chains.``), so one image can be reviewed for several kinds without one overwriting the other.
Frames hold one row per rod (``frame,y,x,score,source`` plus ``angle,length,width,y1,x1,y2,x2``) or
per bead (plus ``chain,index,closed``); ``y,x`` is the rod's centre or the bead, so accepting a region
takes the rods centred and the beads lying inside it. Every table is checked by the kind's own rules
(rods.check_table, chains.check_table) before it is saved and after it is read. No Qt here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ParticleDetectError
from ..kinds.chains import open_short_rings
from ..kinds.registry import get_kind
from .locations import _copy_project, can_write, holds_state, home_folder_for_image
from .project import PROJECT_SUFFIX, Project, RoundInfo, project_folder_for_data, project_folder_for_image

KINDS = ("rods", "chains")


def kind_folder(sphere_folder: str | Path, kind: str) -> Path:
    """``<stem>.<kind>.particle-detect`` beside the sphere project folder ``<stem>.particle-detect``."""
    sphere_folder = Path(sphere_folder)
    stem = sphere_folder.name[: -len(PROJECT_SUFFIX)] if sphere_folder.name.endswith(PROJECT_SUFFIX) \
        else sphere_folder.name
    return sphere_folder.with_name(f"{stem}.{kind}{PROJECT_SUFFIX}")


def open_kind_project(kind: str, image_path: str | Path | None = None, name: str = "image",
                      data: np.ndarray | None = None) -> Project:
    """The ``kind`` project of an image file (beside it) or of unsaved pixels ``data`` named ``name``
    (in projects_home, by a fingerprint of the pixels). A project of another kind there is refused."""
    if kind not in KINDS:
        raise ParticleDetectError(f"unknown kind {kind!r} for a review project; choose one of {', '.join(KINDS)}")
    if image_path is None and data is None:
        raise ParticleDetectError("a kind project needs an image file or the image's pixels")
    folder, image = kind_folder_of(kind, image_path, name, data), str(image_path) if image_path else None
    if image_path is not None:
        folder = _carried_home(image_path, kind, folder)
    shape = np.shape(data) if data is not None else None
    n_frames = (shape[0] if len(shape) == 3 else 1) if shape is not None else None
    frame_shape = tuple(int(v) for v in shape[-2:]) if shape is not None else None
    first_frame = None if data is None else (data[0] if len(shape) == 3 else data)  # to know the image again
    return Project.open(folder, image=image, n_frames=n_frames, frame_shape=frame_shape, kind=kind,
                        first_frame=first_frame)


def kind_folder_of(kind: str, image_path: str | Path | None = None, name: str = "image",
                   data: np.ndarray | None = None) -> Path:
    """Where the ``kind`` project of an image file or of unsaved pixels lives (nothing is opened). An image file's
    is beside it, or in the projects home where its folder cannot be written (a read-only share or stick), as the
    spheres' project is (locations.project_location): beside it, every save failed and the dock kept no edit. One
    made in the home before is found there first: the work done since is there."""
    if image_path is None:
        return kind_folder(project_folder_for_data(name, data), kind)
    beside = kind_folder(project_folder_for_image(image_path), kind)
    home = kind_folder(home_folder_for_image(image_path), kind)
    if holds_state(home) or not (holds_state(beside) or can_write(beside)):
        return home
    return beside


def _carried_home(image_path: str | Path, kind: str, folder: Path) -> Path:
    """``folder``, or where a project found beside an image in a folder that cannot be written goes on: a copy of
    it in the projects home (the spheres' project is carried on so, locations._find_location), else it is read
    where it is and saving says why it cannot."""
    home = kind_folder(home_folder_for_image(image_path), kind)
    if folder == home or not holds_state(folder) or can_write(folder):
        return folder
    return home if _copy_project(folder, home) else folder


def existing_kinds(image_path: str | Path | None = None, name: str = "image",
                   data: np.ndarray | None = None) -> list[str]:
    """The kinds whose project an image (a file, or unsaved pixels) already has. An image file's is looked for both
    beside it and in the projects home, without kind_folder_of's trial write in its folder: the docks ask this at
    every image picked, and a probe made and removed there each time touched a network share's folder."""
    if image_path is None:
        return [k for k in KINDS if (kind_folder_of(k, None, name, data) / "state.json").exists()]
    return [k for k in KINDS if any((folder / "state.json").exists() for folder in (
        kind_folder(home_folder_for_image(image_path), k), kind_folder(project_folder_for_image(image_path), k)))]


def project_kind(project: Project) -> str:
    kind = project.state().kind
    if kind not in KINDS:
        raise ParticleDetectError(f"{project.folder}: a {kind} project, not a rods or chains one")
    return kind


def check_kind_frame(project: Project, table: pd.DataFrame, frame: int) -> pd.DataFrame:
    """``table`` checked by the kind's rules (angles in range, chains without gaps), with a source per row."""
    kind = project_kind(project)
    table = table.assign(frame=int(frame))
    if "source" not in table:
        table["source"] = "added"
    if kind == "chains":  # a ring whose beads were deleted down to one or two is an open chain now
        table = open_short_rings(table)
    # Its sources are checked by the project's writers, which every caller hands it to.
    return get_kind(kind).check_table(table.reset_index(drop=True), f"{project.folder}: frame {frame}")


def save_kind_frame(project: Project, frame: int, table: pd.DataFrame) -> Path:
    """Store one frame's rods or beads as edited now (checked first: nothing is written half)."""
    return project.save_frame(frame, check_kind_frame(project, table, frame))


def load_kind_frame(project: Project, frame: int) -> pd.DataFrame | None:
    """The saved rods or beads of ``frame`` (None if never saved), checked by the kind's rules."""
    table = project.load_frame(frame)
    if table is None:
        return None
    if not len(table):  # a frame accepted empty: its header alone reads back as text columns
        table = table.astype({c: float for c in table.columns if c not in ("frame", "source")})
    return get_kind(project_kind(project)).check_table(table, str(project.frame_path(frame)), from_file=True)


def saved_kind_frames(project: Project) -> dict[int, pd.DataFrame]:
    """Every saved frame's rods or beads (:func:`load_kind_frame`); a frame whose file is damaged (cut short,
    garbled, breaking the kind's rules) is left out and said in ``project.problems``, as a sphere project's is:
    one bad file must not lock the review of every other frame out. Rounds read frames one by one, and refuse it."""
    tables = {}
    for frame in project.saved_frames():
        try:
            table = load_kind_frame(project, frame)
        except ParticleDetectError as exc:
            project.report_problem(f"{exc} (frame {frame} left out)")
            continue
        if table is not None:
            tables[frame] = table
    return tables


def accept_kind_frame(project: Project, frame: int, table: pd.DataFrame) -> pd.DataFrame:
    """Mark ``frame`` reviewed with these rods or beads (the model's become 'accepted'), saved at once."""
    return project.accept_frame(frame, check_kind_frame(project, table, frame))


def accept_kind_region(project: Project, frame: int, box, table: pd.DataFrame) -> pd.DataFrame:
    """Mark the box (y0, x0, y1, x1) of ``frame`` reviewed; ``table`` is the frame's whole table."""
    return project.accept_region(frame, box, check_kind_frame(project, table, frame))


def ensure_kind_round(project: Project, model_path: str | Path | None = None) -> RoundInfo:
    """Round 1: a copy of the model review starts from (default: the kind's shipped weights)."""
    if project.rounds:
        return project.current_round or project.rounds[-1]
    from ..detection.kinds_prediction import shipped_model_path
    from ..models.registry import require_kind, saved_card

    kind = project_kind(project)
    source = Path(model_path) if model_path is not None else shipped_model_path(kind)
    # The card tells the kind; Project.import_model loads (and so checks) the weights before copying them.
    require_kind(saved_card(source), kind, source)
    return project.import_model(source, origin="shipped" if model_path is None else f"from {source}")


def import_kind_model(project: Project, path: str | Path) -> RoundInfo:
    """A saved model of the project's kind (a round exported from another image, say) as the next
    round, in use from now on; round 1 stays the shipped model it is compared with."""
    from ..models.registry import require_kind, saved_card

    kind = project_kind(project)
    # The card tells the kind; Project.import_model loads (and so checks) the weights before copying them.
    require_kind(saved_card(path), kind, path)
    ensure_kind_round(project)
    return project.import_model(path)


def kind_model_path(project: Project) -> Path:
    """The weights of the round in use (round 1, the shipped model, made when there is none yet)."""
    info = project.current_round or ensure_kind_round(project)
    return project.round_path(info.number)


def all_kind_frames(project: Project) -> pd.DataFrame:
    """Every saved frame's table, in the kind's columns (then score, source)."""
    kind = project_kind(project)
    parts = [t for t in saved_kind_frames(project).values() if len(t)]
    if not parts:
        from ..kinds import chains
        from ..kinds import rods

        empty = rods.empty_table() if kind == "rods" else chains.empty_table()
        return empty.assign(source=pd.Series(dtype=object))
    return pd.concat(parts, ignore_index=True)


def detections(project: Project) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per saved frame, the model's rows (centres, scores): what review.rank_frames/rank_regions rank
    by uncertainty (objects the user added or accepted are sure)."""
    out = {}
    for frame, table in saved_kind_frames(project).items():
        model = table[table["source"] == "model"]
        out[frame] = (model[["y", "x"]].to_numpy(float).reshape(-1, 2), model["score"].to_numpy(float))
    return out


def typical_size(kind: str, table: pd.DataFrame) -> float:
    """The objects' size in pixels: a rod's median length, a chain's median bond (about a bead's
    diameter); for held-out tiles, guard bands and review regions."""
    if kind == "rods":
        lengths = table["length"].to_numpy(float) if "length" in table and len(table) else np.zeros(0)
        lengths = lengths[np.isfinite(lengths)]
        return float(np.median(lengths)) if len(lengths) else 24.0
    steps = []
    for _, group in table.groupby(["frame", "chain"]) if len(table) else []:
        pts = group.sort_values("index")[["y", "x"]].to_numpy(float)
        steps += list(np.hypot(*np.diff(pts, axis=0).T)) if len(pts) > 1 else []
    return float(np.median(steps)) if steps else 8.0
