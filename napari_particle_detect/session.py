"""A review project on disk: corrected centres per frame, reviewed frames, and model rounds.

Layout of a project folder (``<image stem>.particle-detect/`` beside the image)::

    state.json                      reviewed frames (in acceptance order), rounds, current round
    frames/frame-0003.csv           centres of frame 3 as last edited: frame,y,x,score,source
    rounds/round-001/model.pt+json  the model the review started from (a copy of the shipped one)
    rounds/round-002/...            fine-tuned rounds, each trained from the round before it

Every file is written atomically (temporary file, then rename) and written as soon as it changes,
so closing the viewer or a crash loses nothing. Nothing here imports Qt or napari.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ParticleDetectError
from .evaluation import evaluate_frames
from .io import atomic_write_text, read_centres, write_centres
from .models import DetectorModel, load_model
from .models.registry import default_model_path
from .prediction import as_frames, centres_table, iter_detect
from .sizing import scale_for_diameter
from .training import Example, TrainConfig, train

STATE_VERSION = 1
PROJECT_SUFFIX = ".particle-detect"
TABLE_COLUMNS = ["frame", "y", "x", "score", "source"]
# Where points come from: the network, the user, or the network and then confirmed by the user.
SOURCES = ("model", "added", "accepted")
HOME_ENV = "NAPARI_PARTICLE_DETECT_HOME"
_FRAME_FILE = re.compile(r"frame-(\d+)\.csv$")


def projects_home() -> Path:
    """Where projects of images without a file live (override with $NAPARI_PARTICLE_DETECT_HOME)."""
    return Path(os.environ.get(HOME_ENV) or Path.home() / ".napari-particle-detect") / "projects"


def project_folder_for_image(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.stem + PROJECT_SUFFIX)


def project_folder_for_data(name: str, data: np.ndarray) -> Path:
    """A stable folder for an unsaved image: its name plus a fingerprint of its pixels.

    Only three frames are read, so lazily loaded stacks are not pulled into memory.
    """
    frames = data if np.ndim(data) == 3 else np.asarray(data)[None]
    digest = hashlib.sha1(str(tuple(np.shape(frames))).encode())
    for index in sorted({0, len(frames) // 2, len(frames) - 1}):
        digest.update(np.ascontiguousarray(np.asarray(frames[index])).tobytes())
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "image"
    return projects_home() / f"{safe}-{digest.hexdigest()[:10]}{PROJECT_SUFFIX}"


def empty_table() -> pd.DataFrame:
    return pd.DataFrame({"frame": pd.Series(dtype=int), "y": pd.Series(dtype=float), "x": pd.Series(dtype=float),
                         "score": pd.Series(dtype=float), "source": pd.Series(dtype=object)})


def normalise_table(table: pd.DataFrame, frame: int | None = None) -> pd.DataFrame:
    """``frame,y,x,score,source`` with the right types; missing score is NaN, missing source 'added'."""
    table = table.copy()
    if frame is not None:
        table["frame"] = frame
    if "score" not in table.columns:
        table["score"] = np.nan
    if "source" not in table.columns:
        table["source"] = "added"
    table["source"] = table["source"].fillna("added").astype(str)
    out = table[TABLE_COLUMNS].reset_index(drop=True)
    out["frame"] = out["frame"].astype(int)
    out[["y", "x", "score"]] = out[["y", "x", "score"]].astype(float)
    return out


@dataclass
class RoundInfo:
    """One model in the project's history; ``f1``/``parent_f1`` are scored on ``held_out_frames``."""

    number: int
    origin: str
    parent: int | None = None
    trained_frames: list[int] = field(default_factory=list)
    held_out_frames: list[int] = field(default_factory=list)
    f1: float | None = None
    parent_f1: float | None = None
    created: str = ""

    @property
    def name(self) -> str:
        return f"round-{self.number:03d}"

    def to_dict(self) -> dict:
        return asdict(self)


class Session:
    """The project folder of one image; every mutating call is on disk when it returns."""

    def __init__(self, folder: Path, state: dict) -> None:
        self.folder = folder
        self._state = state

    # ---- opening -------------------------------------------------------------------------------
    @classmethod
    def open(cls, target: str | Path, image: str | None = None, n_frames: int | None = None) -> "Session":
        """Open the project at ``target``: a project folder (any existing folder), or an image file beside which
        it lives. Nothing is written until there is something to keep."""
        target = Path(target)
        is_project = target.suffix == PROJECT_SUFFIX or target.is_dir()
        folder = target if is_project else project_folder_for_image(target)
        if not is_project and image is None:
            image = str(target)
        state_file = folder / "state.json"
        if state_file.exists():
            try:
                state = json.loads(state_file.read_text())
            except (OSError, json.JSONDecodeError) as exc:
                raise ParticleDetectError(f"{state_file}: unreadable project state ({exc})") from None
            if state.get("version", 0) > STATE_VERSION:
                raise ParticleDetectError(f"{state_file}: made by a newer napari-particle-detect; please upgrade")
        else:
            state = {"version": STATE_VERSION, "image": image, "n_frames": n_frames, "reviewed": [], "rounds": [],
                     "current_round": None, "diameter": None, "polarity": "auto"}
        return cls(folder, state)

    @contextmanager
    def _writing(self):
        """Disk trouble (full, read-only, permissions) as one clear message instead of a traceback."""
        try:
            yield
        except OSError as exc:
            raise ParticleDetectError(f"{self.folder}: cannot save the project ({exc.strerror or exc})") from None

    def _save_state(self) -> None:
        with self._writing():
            atomic_write_text(self.folder / "state.json", json.dumps(self._state, indent=2))

    # ---- frames --------------------------------------------------------------------------------
    def frame_path(self, frame: int) -> Path:
        return self.folder / "frames" / f"frame-{int(frame):04d}.csv"

    def save_frame(self, frame: int, table: pd.DataFrame) -> Path:
        """Store the centres of one frame as they are now (an empty table is a frame with no particles)."""
        if not (self.folder / "state.json").exists():
            self._save_state()  # the folder is only created once there is something to keep
        with self._writing():
            return write_centres(normalise_table(table, frame), self.frame_path(frame))

    def load_frame(self, frame: int) -> pd.DataFrame | None:
        path = self.frame_path(frame)
        if not path.exists():
            return None
        return normalise_table(read_centres(path), frame)

    def saved_frames(self) -> list[int]:
        folder = self.folder / "frames"
        if not folder.exists():
            return []
        return sorted(int(m.group(1)) for p in folder.iterdir() if (m := _FRAME_FILE.match(p.name)))

    def load_all(self) -> pd.DataFrame:
        parts = [self.load_frame(f) for f in self.saved_frames()]
        parts = [p for p in parts if p is not None and len(p)]
        return pd.concat(parts, ignore_index=True) if parts else empty_table()

    @property
    def reviewed_frames(self) -> list[int]:
        """Accepted frames, oldest acceptance first."""
        return list(self._state["reviewed"])

    def is_reviewed(self, frame: int) -> bool:
        return int(frame) in self._state["reviewed"]

    def accept_frame(self, frame: int, table: pd.DataFrame) -> pd.DataFrame:
        """Mark a frame reviewed with these centres; network points in it become 'accepted'."""
        table = normalise_table(table, frame)
        table.loc[table["source"] == "model", "source"] = "accepted"
        self.save_frame(frame, table)
        reviewed = [f for f in self._state["reviewed"] if f != int(frame)]
        self._state["reviewed"] = reviewed + [int(frame)]
        self._save_state()
        return table

    def unaccept_frame(self, frame: int) -> None:
        self._state["reviewed"] = [f for f in self._state["reviewed"] if f != int(frame)]
        self._save_state()

    def corrections(self, frames: list[int] | None = None) -> pd.DataFrame:
        """The reviewed centres (the user's ground truth) of ``frames`` (default: all reviewed)."""
        frames = self.reviewed_frames if frames is None else frames
        parts = [self.load_frame(f) for f in frames]
        parts = [p for p in parts if p is not None]
        return pd.concat(parts, ignore_index=True) if parts else empty_table()

    # ---- detection settings remembered for training --------------------------------------------
    @property
    def diameter(self) -> float | None:
        return self._state.get("diameter")

    @property
    def polarity(self) -> str:
        return self._state.get("polarity", "auto")

    def remember_detection(self, diameter: float, polarity: str) -> None:
        self._state["diameter"], self._state["polarity"] = float(diameter), polarity
        self._save_state()

    # ---- model rounds --------------------------------------------------------------------------
    @property
    def rounds(self) -> list[RoundInfo]:
        return [RoundInfo(**r) for r in self._state["rounds"]]

    def round(self, number: int) -> RoundInfo:
        for info in self.rounds:
            if info.number == number:
                return info
        raise ParticleDetectError(f"{self.folder}: no model round {number}")

    def round_path(self, number: int) -> Path:
        return self.folder / "rounds" / f"round-{int(number):03d}" / "model.pt"

    @property
    def current_round(self) -> RoundInfo | None:
        number = self._state.get("current_round")
        return self.round(number) if number is not None else None

    def set_current_round(self, number: int) -> RoundInfo:
        info = self.round(number)
        self._state["current_round"] = info.number
        self._save_state()
        return info

    def ensure_initial_round(self, model_path: str | Path | None = None) -> RoundInfo:
        """Round 1 is a copy of the model reviewing started from (default: the shipped one)."""
        if self.rounds:
            return self.current_round or self.rounds[-1]
        source = Path(model_path) if model_path is not None else default_model_path()
        return self.import_model(source, origin="shipped" if model_path is None else f"from {source}")

    def import_model(self, path: str | Path, origin: str | None = None) -> RoundInfo:
        """Copy a saved model into the project as the next round and make it current."""
        model = load_model(path, "cpu")  # validates the files before anything is copied
        workspace = self.new_workspace()
        try:
            shutil.copyfile(model.path, workspace / "model.pt")
            shutil.copyfile(model.path.with_suffix(".json"), workspace / "model.json")
        except BaseException:
            shutil.rmtree(workspace, ignore_errors=True)
            raise
        return self.commit_round(workspace, RoundInfo(number=0, origin=origin or f"imported from {model.path}"))

    def new_workspace(self) -> Path:
        """A private folder to build a round in; :meth:`commit_round` publishes it in one rename."""
        rounds = self.folder / "rounds"
        with self._writing():
            rounds.mkdir(parents=True, exist_ok=True)
            return Path(tempfile.mkdtemp(dir=rounds, prefix=".building-"))

    def commit_round(self, workspace: Path, info: RoundInfo) -> RoundInfo:
        """Move a finished workspace into place as the next round and switch to it."""
        number = max((r.number for r in self.rounds), default=0) + 1
        info.number = number
        info.created = info.created or time.strftime("%Y-%m-%d %H:%M:%S")
        os.replace(workspace, self.round_path(number).parent)
        self._state["rounds"].append(info.to_dict())
        self._state["current_round"] = number
        self._save_state()
        return info

    def leftover_workspaces(self) -> list[Path]:
        rounds = self.folder / "rounds"
        return sorted(rounds.glob(".building-*")) if rounds.exists() else []

    # ---- training data -------------------------------------------------------------------------
    def training_split(self, hold_out: bool = True) -> tuple[list[int], list[int]]:
        """(frames to train on, frames to score on): the most recently accepted frame is held out
        when there are at least two reviewed frames, so every round is scored on a frame it never saw."""
        reviewed = self.reviewed_frames
        if hold_out and len(reviewed) >= 2:
            return sorted(reviewed[:-1]), [reviewed[-1]]
        return sorted(reviewed), []

    def examples(self, stack: np.ndarray, frames: list[int], scale: float) -> list[Example]:
        """Reviewed frames as training examples, rescaled like detection rescaled them."""
        stack = as_frames(stack)
        truth = self.corrections(frames)
        examples = []
        for frame in frames:
            image = np.asarray(stack[frame], dtype=np.float32)
            if self.polarity == "dark":
                image = -image  # detection inverted dark particles; train on what the network saw
            centres = truth.loc[truth["frame"] == frame, ["y", "x"]].to_numpy(float)
            examples.append(Example(image, centres, scale=scale, name=f"frame {frame}"))
        return examples


# ---- fine-tuning -------------------------------------------------------------------------------
@dataclass
class FineTuneSettings:
    epochs: int = 5
    steps_per_epoch: int = 60
    batch_size: int = 8
    crop: int = 64
    learning_rate: float = 5e-4
    # Half of every batch stays synthetic, so the model keeps what it knew.
    synthetic_fraction: float = 0.5
    validation_images: int = 4
    validation_size: int = 96
    hold_out: bool = True
    threads: int | None = None
    seed: int = 0

    def train_config(self, device: str) -> TrainConfig:
        return TrainConfig(
            epochs=self.epochs, steps_per_epoch=self.steps_per_epoch, batch_size=self.batch_size, crop=self.crop,
            learning_rate=self.learning_rate, synthetic_fraction=self.synthetic_fraction,
            validation_images=self.validation_images, validation_size=self.validation_size, device=device,
            threads=self.threads, seed=self.seed,
        )


@dataclass
class FineTuneOutcome:
    """A trained round waiting in its workspace; nothing in the project points at it yet."""

    workspace: Path
    info: RoundInfo
    history: list[dict]


def scoring_tolerance(diameter: float) -> float:
    """Match radius for held-out scoring: a quarter particle diameter, at least 1.5 px."""
    return max(1.5, diameter / 4.0)


def held_out_f1(model: DetectorModel, stack: np.ndarray, truth: pd.DataFrame, frames: list[int], diameter: float,
                polarity: str = "auto", device: str = "auto") -> float | None:
    """Pooled F1 of ``model`` on ``frames`` against the user's reviewed centres."""
    if not frames:
        return None
    parts = [centres_table(i, r.centres, r.scores)
             for i, r, _ in iter_detect(stack, model, device, None, diameter, polarity, frames=frames)]
    pooled = evaluate_frames(pd.concat(parts, ignore_index=True), truth[truth["frame"].isin(frames)],
                             scoring_tolerance(diameter))
    return float(pooled.iloc[-1]["f1"])


def fine_tune(
    session: Session,
    stack: np.ndarray,
    settings: FineTuneSettings | None = None,
    device: str = "auto",
    progress: Callable[[dict], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> FineTuneOutcome:
    """Train the current round further on the reviewed frames, into a workspace of its own.

    Safe to run off the main thread: it only reads the project. Publish the result with
    ``session.commit_round(outcome.workspace, outcome.info)``; on error or cancel the workspace
    is removed and the project is as it was.
    """
    settings = settings or FineTuneSettings()
    parent = session.current_round
    if parent is None:
        raise ParticleDetectError("run Detect first: there is no model round to fine-tune yet")
    train_frames, held_out = session.training_split(settings.hold_out)
    if not train_frames:
        raise ParticleDetectError("accept at least one corrected frame before fine-tuning")
    if session.diameter is None:
        raise ParticleDetectError("run Detect first, so the particle size of this image is known")
    base = load_model(session.round_path(parent.number), "cpu")
    diameter, polarity = float(session.diameter), session.polarity
    examples = session.examples(stack, train_frames, scale_for_diameter(diameter, base.card.canonical_diameter))
    workspace = session.new_workspace()
    try:
        # The user's training frames steer which epoch is kept and the tuned threshold; held-out frames stay unseen.
        result = train(settings.train_config(device), examples=examples, validation_examples=examples, init=base,
                       out=workspace / "model", progress=progress, cancel=cancel,
                       extra_card={"fine_tuned_from": parent.name, "trained_frames": train_frames})
        for leftover in workspace.glob("*.state.pt"):
            leftover.unlink()
        truth = session.corrections(held_out)
        info = RoundInfo(
            number=0, origin="fine-tuned", parent=parent.number, trained_frames=train_frames,
            held_out_frames=held_out,
            f1=held_out_f1(result.model, stack, truth, held_out, diameter, polarity, device),
            parent_f1=held_out_f1(base, stack, truth, held_out, diameter, polarity, device),
        )
    except BaseException:
        shutil.rmtree(workspace, ignore_errors=True)
        raise
    return FineTuneOutcome(workspace=workspace, info=info, history=result.history)


# ---- export ------------------------------------------------------------------------------------
def export_tables(table: pd.DataFrame, scale: tuple[float, float] = (1.0, 1.0), unit: str = "",
                  n_frames: int | None = None, reviewed: list[int] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(centres in pixels, plus physical ``y_<unit>, x_<unit>`` where the pixel size is not 1; count per frame)."""
    out = normalise_table(table).sort_values(["frame", "y", "x"], kind="stable").reset_index(drop=True)
    sy, sx = (float(s) for s in scale)
    if (sy, sx) != (1.0, 1.0):
        suffix = unit or "scaled"
        out[f"y_{suffix}"] = out["y"] * sy
        out[f"x_{suffix}"] = out["x"] * sx
    frames = range(n_frames) if n_frames is not None else sorted(set(out["frame"]))
    counts = out.groupby("frame").size()
    reviewed = set(reviewed or [])
    summary = pd.DataFrame({"frame": list(frames)})
    summary["count"] = [int(counts.get(f, 0)) for f in summary["frame"]]
    summary["reviewed"] = [f in reviewed for f in summary["frame"]]
    return out, summary
