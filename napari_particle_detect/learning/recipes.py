"""A training run described by a recipe file, run in phases that outlive a session.

A recipe (TOML, kept in the repository) names the network, where it starts from, the validation
set and a list of phases, each with its data mix, length, learning rate and seed. Running it trains
phase after phase into a run folder beside the recipe: every epoch leaves a checkpoint (the best
model so far and a resume state), every finished phase a ``.done.json``. Running the same recipe
again, in this session or a later one, on this machine or a GPU node, skips the finished phases and
resumes the unfinished one at its last epoch; since each epoch draws its batches from its own seed,
the run ends with the weights a single uninterrupted run would have. The final model's card carries
its lineage, written from the recipe and the phases' records, not by hand.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import ParticleDetectError
from ..files.io import atomic_write_text
from ..kinds.registry import KINDS
from ..wording import plural

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

# TrainConfig fields a phase may set (the rest are the run's: device, threads, validation).
PHASE_FIELDS = ("epochs", "steps_per_epoch", "batch_size", "crop", "learning_rate", "synthetic_fraction",
                "radius_range", "seed", "sigma", "focus_share", "teacher", "teacher_weight", "spot_share",
                "spot_min_separation", "precision", "keep", "teacher_near_particles")
# ... and the KindTrainConfig fields a phase of a rods or chains recipe (``kind = "rods"``) may set.
KIND_PHASE_FIELDS = ("epochs", "steps_per_epoch", "batch_size", "crop", "learning_rate", "synthetic_fraction",
                     "seed", "final_lr_fraction", "positive_weight", "regression_weight", "looks")
# The networks a sphere recipe trains (models/registry.py ARCHITECTURES has 3D and rods/chains ones too).
SPHERE_ARCHITECTURES = ("unet", "resnet")


@dataclass(frozen=True)
class Phase:
    name: str
    settings: dict[str, Any]  # TrainConfig fields
    data: tuple[str, ...] = ()  # annotated image + CSV pairs (or folders), relative to the recipe
    note: str = ""


@dataclass(frozen=True)
class Recipe:
    path: Path
    name: str
    kind: str = "spheres"  # or a kind of kinds/registry.py: its heads, trained by learning/kinds_training.py
    architecture: str = "unet"
    channels: tuple[int, ...] | None = None
    init: str | None = None  # a model to start from (relative to the recipe), or None: from scratch
    validation_images: int = 24
    validation_size: int = 128
    validate: tuple[str, ...] = ()  # annotated pairs used only for scoring
    # The final model's threshold is tuned again on this many of the generator's validation images (0: it
    # keeps the last phase's, tuned on the validation_images, which can be too few to tell thresholds apart).
    threshold_images: int = 0
    phases: tuple[Phase, ...] = field(default_factory=tuple)
    output: str | None = None  # the run folder (relative to the recipe); default runs/NAME beside it
    # Whether the file names the architecture (else it is init's, or unet): a named one must be init's.
    architecture_given: bool = False

    @property
    def run_folder(self) -> Path:
        return self.path.parent / (self.output or f"runs/{self.name}")

    def resolve(self, relative: str) -> Path:
        return (self.path.parent / relative).resolve()


def load_recipe(path: str | Path) -> Recipe:
    """The recipe at ``path``, every field checked; one ParticleDetectError naming the file otherwise."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except FileNotFoundError:
        raise ParticleDetectError(f"{path}: recipe not found") from None
    except tomllib.TOMLDecodeError as exc:
        # A recipe is TOML: said, as a YAML or JSON file given here failed on a parser error alone.
        raise ParticleDetectError(f"{path}: not a TOML recipe ({str(exc)[:100]}); a recipe is a TOML file "
                                  "(as those in the repository's recipes/ are)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ParticleDetectError(f"{path}: unreadable recipe ({str(exc)[:100]})") from None
    lines = text.splitlines()

    def problem(message: str, key: str | None = None, table: str | int | None = None) -> ParticleDetectError:
        # The key's line too: in a recipe of several phases, each setting one name, the phase's name alone
        # left the user to search for the line to mend.
        line = _key_line(lines, key, table) if key else None
        return ParticleDetectError(f"{path}: {message}" + (f" (line {line})" if line else ""))

    known = {"name", "kind", "architecture", "channels", "init", "output", "validation", "phase"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise problem(f"{plural(len(unknown), 'unknown key')} {_named(unknown, known)}; a recipe has {', '.join(sorted(known))}",
                      unknown[0])
    name = data.get("name")
    if not isinstance(name, str) or not name or "/" in name or "\\" in name:
        raise problem("name must be a non-empty text without slashes (it names the run folder)", "name")
    for key in ("init", "output"):
        # Anything else failed deep in path arithmetic (TypeError: unsupported operand type(s) for /).
        if key in data and not (isinstance(data[key], str) and data[key]):
            raise problem(f"{key} must be a path in quotes, relative to the recipe", key)
    validation = data.get("validation", {})
    if not isinstance(validation, dict):
        raise problem("[validation] must be a table setting images, size, data and threshold_images", "validation")
    extra = sorted(set(validation) - {"images", "size", "data", "threshold_images"})
    if extra:
        raise problem(f"{plural(len(extra), 'unknown key')} {_named(extra, ('images', 'size', 'data', 'threshold_images'))}; "
                      "[validation] may set images, size, data and "
                      "threshold_images only", extra[0], "validation")
    kind = data.get("kind", "spheres")
    kinds = ("spheres", *KINDS)
    if kind not in kinds:
        raise problem(f"kind must be one of {', '.join(kinds)}, got {kind!r:.40}", "kind")
    if kind != "spheres":
        _refuse_sphere_network_keys(data, kind, problem)
    fields = PHASE_FIELDS if kind == "spheres" else KIND_PHASE_FIELDS
    phases_data = data.get("phase")
    if not isinstance(phases_data, list) or not phases_data:
        raise problem("no [[phase]]: a recipe needs at least one phase")
    phases = []
    for number, item in enumerate(phases_data, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
            raise problem(f"phase {number} needs a name", "name" if isinstance(item, dict) else None, number)

        def phase_problem(message: str, key: str | None = None, n: str = item["name"],
                          at: int = number) -> ParticleDetectError:
            return problem(f"phase {n!r}: {message}", key, at)

        extra = sorted(set(item) - {"name", "data", "note", *fields})
        if extra:
            raise phase_problem(f"{plural(len(extra), 'unknown key')} {_named(extra, fields)}; a phase "
                                f"{'' if kind == 'spheres' else f'of a {kind} recipe '}sets {', '.join(fields)}, "
                                "data, note", extra[0])
        settings = {k: item[k] for k in fields if k in item}
        _check_settings(settings, phase_problem)
        if "looks" in settings:
            known = KINDS[kind].looks
            looks = settings["looks"]
            if not (isinstance(looks, list) and looks and all(isinstance(v, str) and v in known for v in looks)):
                raise phase_problem(f"looks must be a list of the {kind} generator's looks "
                                    f"({', '.join(known)}), repeated to weight one", "looks")
            settings["looks"] = tuple(looks)
        phases.append(Phase(item["name"], settings,
                            tuple(_strings(item.get("data", []), lambda m, at=number: problem(m, "data", at))),
                            str(item.get("note", ""))))
    if len({p.name for p in phases}) != len(phases):
        raise problem("phase names must differ (they name the phases' checkpoints)")
    channels = data.get("channels")
    if channels is not None and not (isinstance(channels, list) and channels
                                     and all(_is_whole(c) and 1 <= c <= 4096 for c in channels)):
        raise problem("channels must be a list of whole numbers from 1 to 4096", "channels")
    architecture = data.get("architecture", "unet")
    if kind == "spheres" and architecture not in SPHERE_ARCHITECTURES:
        raise problem(f"architecture {architecture!r:.40}: a sphere recipe trains {' or '.join(SPHERE_ARCHITECTURES)}",
                      "architecture")
    if validation.get("threshold_images") and kind != "spheres":
        raise problem("threshold_images is for sphere recipes (a kind's threshold is tuned with its heads)",
                      "threshold_images", "validation")
    for key in ("images", "size", "threshold_images"):
        value = validation.get(key)
        if value is not None and not (_is_whole(value) and value >= 0):
            raise problem(f"validation {key} must be a whole number", key, "validation")
    return Recipe(path=path.resolve(), name=name, kind=kind, architecture=str(data.get("architecture", "unet")),
                  channels=tuple(channels) if channels else None, init=data.get("init"),
                  validation_images=int(validation.get("images", 24)),
                  validation_size=int(validation.get("size", 128)),
                  validate=tuple(_strings(validation.get("data", []), lambda m: problem(m, "data", "validation"))),
                  threshold_images=int(validation.get("threshold_images", 0)), phases=tuple(phases),
                  output=data.get("output"), architecture_given="architecture" in data)


def _key_line(lines: list[str], key: str, table: str | int | None) -> int | None:
    """The line (from 1) where ``key`` is set: at the top of the recipe (``table`` None), in its
    ``[validation]`` table, or in its ``table``-th ``[[phase]]``; None where it cannot tell (an inline table)."""
    setting = re.compile(rf"""\s*(["']?){re.escape(key)}\1\s*=""")
    phases, here = 0, None
    for number, line in enumerate(lines, start=1):
        header = re.match(r"\s*\[(\[?)\s*([^\]]*?)\s*\]", line)
        if header:
            phases += header.group(1) == "[" and header.group(2) == "phase"
            here = phases if header.group(2) == "phase" else header.group(2)
        elif here == table and setting.match(line):
            return number
    return None


def _named(unknown: Sequence[str], known: Iterable[str]) -> str:
    """The unknown keys, each with the known one it is most likely a typo of: "learning_rte (learning_rate?)"."""
    known = list(known)
    guesses = [difflib.get_close_matches(key, known, n=1) for key in unknown]
    return ", ".join(f"{key} ({guess[0]}?)" if guess else key for key, guess in zip(unknown, guesses))


def _is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    # TOML's true is Python's 1: learning_rate = true trained at 1.0, unsaid.
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _refuse_sphere_network_keys(data: dict, kind: str, problem: Callable[..., ParticleDetectError]) -> None:
    """A rods or chains recipe trains its kind's UNet with heads on the sphere model's body (or init's):
    an architecture or channels there were ignored, unsaid, the model trained not the one the recipe named."""
    for key in ("architecture", "channels"):
        if key in data:
            raise problem(f"{key}: a {kind} recipe trains its kind's network (the sphere UNet's body with the "
                          f"{kind} heads, or init's); remove {key}", key)


def _strings(values: Any, problem) -> list[str]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise problem("data must be a list of paths")
    return list(values)


def _check_settings(settings: dict, problem: Callable[..., ParticleDetectError]) -> None:
    """Refuse a phase setting of the wrong type or range: ``problem(message, key)``."""
    whole = ("epochs", "steps_per_epoch", "batch_size", "crop", "seed")
    for key in whole:
        if key in settings and not (_is_whole(settings[key]) and settings[key] >= (0 if key == "seed" else 1)):
            raise problem(f"{key} must be a whole number{' of at least 1' if key != 'seed' else ''}", key)
    for key in ("learning_rate", "sigma"):
        if key in settings and not (_is_number(settings[key]) and 0 < settings[key] < 100):
            raise problem(f"{key} must be a positive number", key)
    # Not auto: a phase's result must not depend on the machine it resumes on.
    if "precision" in settings and settings["precision"] not in ("float32", "bfloat16"):
        raise problem("precision must be float32 or bfloat16", "precision")
    if "teacher_near_particles" in settings and not isinstance(settings["teacher_near_particles"], bool):
        raise problem("teacher_near_particles must be true or false", "teacher_near_particles")
    if "keep" in settings and settings["keep"] not in ("best", "last"):
        raise problem("keep must be best (the best epoch on the validation set) or last", "keep")
    if "teacher" in settings and not isinstance(settings["teacher"], str):
        raise problem("teacher must be the path of a model (.pt), relative to the recipe", "teacher")
    for key in ("synthetic_fraction", "focus_share", "teacher_weight", "final_lr_fraction", "spot_share"):
        if key in settings and not (_is_number(settings[key]) and 0 <= settings[key] <= 1):
            raise problem(f"{key} must be between 0 and 1", key)
    for key in ("positive_weight", "regression_weight"):
        if key in settings and not (_is_number(settings[key]) and 0 <= settings[key] < 1000):
            raise problem(f"{key} must be a number from 0", key)
    for key in ("radius_range", "spot_min_separation"):
        if key in settings:
            value = settings[key]
            if not (isinstance(value, list) and len(value) == 2 and all(_is_number(v) and v > 0 for v in value)
                    and value[0] <= value[1]):
                raise problem(f"{key} must be two positive numbers, smallest first", key)
            settings[key] = tuple(float(v) for v in value)


def phase_fingerprint(recipe: Recipe, index: int) -> str:
    """What decides a phase's result: the network, its start and every phase up to it."""
    spec = {"architecture": recipe.architecture, "channels": recipe.channels, "init": recipe.init,
            "validation": [recipe.validation_images, recipe.validation_size, list(recipe.validate)],
            "phases": [asdict(p) | {"note": ""} for p in recipe.phases[: index + 1]]}
    if recipe.kind != "spheres":  # so the sphere runs' fingerprints stay what they were
        spec["kind"] = recipe.kind
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=list).encode()).hexdigest()[:16]


def phase_files(recipe: Recipe, index: int) -> tuple[Path, Path]:
    """(model .pt, done marker) of phase ``index``; the resume state is the model's ``.state.pt``."""
    stem = recipe.run_folder / f"phase-{index + 1}-{recipe.phases[index].name}"
    return stem.with_suffix(".pt"), stem.with_suffix(".done.json")


def final_model_path(recipe: Recipe) -> Path:
    return recipe.run_folder / "model.pt"


@dataclass
class RunStatus:
    recipe: Recipe
    finished_phases: list[str]
    current: str | None  # the phase that was running when the run stopped, or None when all are done
    paused: bool  # stopped by its time limit or a cancel; run the recipe again to resume
    model: Path | None  # the final model, once every phase is done
    # Where the paused phase goes on ("step 5 of epoch 2", "epoch 3": training.resume_point); None: at its start.
    resumes_at: str | None = None

    def describe(self) -> str:
        if self.model is not None:
            count = len(self.recipe.phases)  # "all 1 phases done" of a recipe of one phase read as a slip
            return f"{self.recipe.name}: {'its one phase' if count == 1 else f'all {count} phases'} done -> {self.model}"
        # A pause keeps the steps of an epoch under way: "at its last finished epoch" was untrue of most.
        where = f"; it resumes at {self.resumes_at}" if self.resumes_at else " before its first step"
        return (f"{self.recipe.name}: {len(self.finished_phases)}/{len(self.recipe.phases)} phases done; "
                f"paused in phase {self.current!r}{where}: run the recipe again to resume")


class SessionTime:
    """A recipe session's ``minutes``. Reading the recipe, digesting its files and preparing a phase come before
    its first step: a session whose minutes they spent still trains that step (kept in the resume state), else a
    recipe run again and again with fewer minutes than they take paused before it every time and never advanced."""

    def __init__(self, minutes: float | None) -> None:
        self.deadline = time.monotonic() + minutes * 60 if minutes else None
        self.stepped = False  # a training loop was let take a step this session

    def up(self) -> bool:
        return self.stepped and self.deadline is not None and time.monotonic() > self.deadline

    def up_before_step(self) -> bool:
        first, self.stepped = not self.stepped, True
        return not first and self.up()


def run_recipe(
    path: str | Path,
    minutes: float | None = None,
    device: str = "auto",
    threads: int | None = None,
    progress: Callable[[dict], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> RunStatus:
    """Run (or resume) the recipe at ``path``; stop within one step once ``minutes`` have passed, a session
    training one step at least (:class:`SessionTime`).

    A phase already done is checked against the recipe (its fingerprint) and skipped; a phase with
    a resume state continues at the step after the last it kept. A run folder another run is training in
    (another process, session or machine on a shared disk) is refused in one line (:func:`run_folder_held`).
    A Ctrl-C (or a stop signal) inside a phase keeps its steps done and raises KeyboardInterrupt saying where the
    recipe run again goes on (:func:`where_a_stop_goes_on`).

    ``progress`` gets every kind's epoch records and training's step events (``{"event": "step", ...}``, which
    carry an ``epoch`` too: tell them apart by ``event``), each with its ``phase``.
    """
    from ..files.output_checks import check_output_folder
    from ..shipped import refuse_shipped_output

    recipe = load_recipe(path)
    refuse_shipped_output(recipe.run_folder)  # before its folder is made there
    # A run folder below a file, or in a read-only one, was a bare OSError ("afile: File exists").
    check_output_folder(recipe.run_folder)
    check_recipe_files(recipe)
    with run_folder_held(recipe):
        return _run_phases(recipe, SessionTime(minutes), device, threads, progress, cancel)


@contextmanager
def run_folder_held(recipe: Recipe) -> Iterator[None]:
    """The recipe's run folder, made and held by this run for the block. Two runs of one recipe at once trained
    the same phase side by side, each saving its epochs and resume state over the other's: the phase ended with
    whichever wrote last, its record telling of one run. The lock (beside the folder) is gone once let go."""
    from filelock import Timeout

    from ..files.file_detection import holding_output

    with ExitStack() as held:
        try:
            held.enter_context(holding_output(recipe.run_folder, blocking=False))
        except Timeout:
            raise ParticleDetectError(
                f"{recipe.run_folder}: another run of this recipe (or of one with the same output) is training in "
                "this folder now; let it finish or stop it, then run the recipe again to go on from where it got"
            ) from None
        recipe.run_folder.mkdir(parents=True, exist_ok=True)
        yield


def _run_phases(recipe: Recipe, session: SessionTime, device: str, threads: int | None,
                progress: Callable[[dict], None] | None, cancel: Callable[[], bool] | None) -> RunStatus:
    """:func:`run_recipe`'s phases, in its held run folder."""
    from ..models.registry import read_card
    from .training import TrainConfig, TrainingCancelled, load_examples, train, working_diameter

    def should_stop() -> bool:
        return session.up() or (cancel is not None and cancel())

    def stop_before_step() -> bool:  # a training loop's, asked before each step
        return session.up_before_step() or (cancel is not None and cancel())

    previous = recipe.resolve(recipe.init) if recipe.init else None
    finished = []
    records = []  # each phase's done record, for the final model's lineage
    digests = FileDigests()
    for index, phase in enumerate(recipe.phases):
        model_file, done_file = phase_files(recipe, index)
        fingerprint = phase_fingerprint(recipe, index)
        if done_file.exists():
            record = _read_done(done_file)
            if record.get("fingerprint") != fingerprint:
                raise ParticleDetectError(
                    f"{done_file}: phase {phase.name!r} ran from another recipe (it or an earlier phase changed "
                    "since); give the recipe a new name to start a new run, or delete the run folder")
            check_done_inputs(recipe, index, record, digests)
            records.append(record)
            finished.append(phase.name)
            previous = model_file
            continue
        if should_stop():
            return RunStatus(recipe, finished, phase.name, True, None)
        inputs = begin_phase(recipe, index, fingerprint, digests)
        if recipe.kind != "spheres":
            try:
                with where_a_stop_goes_on(recipe, index):
                    record = _run_kind_phase(recipe, index, previous, device, threads, progress, stop_before_step)
            except TrainingCancelled:
                return paused_in(recipe, index, finished)
            record = {**record, "fingerprint": fingerprint, "inputs_sha256": inputs, "version": __version__}
            atomic_write_text(done_file, json.dumps(record, indent=2))
            _drop_resume_state(model_file)
            records.append(record)
            finished.append(phase.name)
            previous = model_file
            continue
        config = TrainConfig(architecture=recipe.architecture, channels=recipe.channels,
                             validation_images=recipe.validation_images, validation_size=recipe.validation_size,
                             device=device, threads=threads)
        config = replace(config, **phase.settings)
        if config.teacher:
            config = replace(config, teacher=str(recipe.resolve(config.teacher)))
        # Annotated images are rescaled to the particle size the network works at, as detect does.
        size = read_card(Path(previous).with_suffix(".json")).canonical_diameter if previous else \
            working_diameter(config)
        examples = load_examples([recipe.resolve(d) for d in phase.data], size) if phase.data else None
        validate = load_examples([recipe.resolve(d) for d in recipe.validate], size) if recipe.validate else None
        resume = model_file.with_suffix(".state.pt").exists()
        started = time.monotonic()
        try:
            with where_a_stop_goes_on(recipe, index):
                result = train(config, examples=examples, validation_examples=validate, init=previous,
                               out=model_file,
                               progress=(lambda r, n=phase.name: progress({**r, "phase": n})) if progress else None,
                               cancel=stop_before_step, resume=resume,
                               extra_card={"recipe": recipe.path.name, "phase": phase.name})
        except TrainingCancelled:
            return paused_in(recipe, index, finished)
        record = {"phase": phase.name, "fingerprint": fingerprint, "validation_f1": result.best_f1,
                  "epochs": config.epochs, "steps_per_epoch": config.steps_per_epoch,
                  "learning_rate": config.learning_rate, "seed": config.seed, "resumed": resume,
                  "seconds_this_session": round(time.monotonic() - started, 1),
                  "weights_sha256": _sha256(model_file), "inputs_sha256": inputs, "note": phase.note,
                  "version": __version__}
        atomic_write_text(done_file, json.dumps(record, indent=2))
        _drop_resume_state(model_file)
        records.append(record)
        finished.append(phase.name)
        previous = model_file
    final = write_final_model(recipe, records)
    return RunStatus(recipe, finished, None, False, final)


def paused_in(recipe: Recipe, index: int, finished: list[str]) -> RunStatus:
    """The status of a run paused in phase ``index``, saying where its resume state goes on."""
    from .kinds_training import KindTrainConfig
    from .training import TrainConfig, resume_point

    phase = recipe.phases[index]
    epochs = phase.settings.get("epochs", (TrainConfig if recipe.kind == "spheres" else KindTrainConfig).epochs)
    return RunStatus(recipe, finished, phase.name, True, None, resume_point(phase_files(recipe, index)[0], epochs))


@contextmanager
def where_a_stop_goes_on(recipe: Recipe, index: int) -> Iterator[None]:
    """Re-raise a Ctrl-C (KeyboardInterrupt, or a stop signal's) out of training phase ``index`` with where the
    recipe run again goes on as its message ("at step 11 of epoch 2 of phase 'heads'", as :func:`paused_in` reads
    the resume state), as train's Ctrl-C names where --resume continues; empty where it cannot tell (a state that
    finished the phase: run again, the recipe goes on with the next)."""
    try:
        yield
    except KeyboardInterrupt:
        from .training import resume_state_path

        phase = recipe.phases[index]
        where = paused_in(recipe, index, []).resumes_at
        if where is None and not resume_state_path(phase_files(recipe, index)[0]).exists():
            where = "the start"
        raise KeyboardInterrupt(f"at {where} of phase {phase.name!r}" if where else "") from None


def check_recipe_files(recipe: Recipe) -> None:
    """Before any training: every file the unfinished phases read is there (their data, teachers, the
    validation data, init) and init is a model the recipe can train; one line naming the recipe otherwise.
    Found late, a mistake cost the phases before it."""
    def problem(text: str) -> ParticleDetectError:
        return ParticleDetectError(f"{recipe.path}: {text}")

    def missing(relative: str) -> bool:
        return not recipe.resolve(relative).exists()

    unfinished = [(i, p) for i, p in enumerate(recipe.phases) if not phase_files(recipe, i)[1].exists()]
    for _, phase in unfinished:
        for data in phase.data:
            if missing(data):
                raise problem(f"phase {phase.name!r}: data {data} not found ({recipe.resolve(data)})")
        teacher = phase.settings.get("teacher")
        if teacher and missing(teacher):
            raise problem(f"phase {phase.name!r}: teacher {teacher}: model weights file not found "
                          f"({recipe.resolve(teacher)})")
    for data in recipe.validate if unfinished else ():
        if missing(data):
            raise problem(f"validation data {data} not found ({recipe.resolve(data)})")
    if recipe.init and unfinished and unfinished[0][0] == 0:
        _check_init(recipe, problem)


def _check_init(recipe: Recipe, problem: Callable[[str], ParticleDetectError]) -> None:
    """init exists, finds the recipe's kind in 2D, and is of the architecture the recipe names."""
    from ..models.registry import read_card, wrong_kind

    weights = recipe.resolve(recipe.init)
    if not weights.is_file():
        raise problem(f"init {recipe.init}: model weights file not found ({weights})")
    card = read_card(weights.with_suffix(".json"))  # names the card when it is missing or wrong
    if card.kind != recipe.kind or card.spatial_dims != 2:
        found = card.kind if card.spatial_dims == 2 else "particles in volumes"
        raise problem(wrong_kind(f"init {recipe.init}", found, recipe.kind, f"give a {recipe.kind} model as init"
                                 + (f" or kind = \"{card.kind}\"" if card.spatial_dims == 2 else "")))
    if recipe.kind == "spheres" and recipe.architecture_given and card.architecture != recipe.architecture:
        raise problem(f"architecture {recipe.architecture!r}, but init {recipe.init} is a {card.architecture}; "
                      f"training from it trains a {card.architecture}: drop architecture or give a "
                      f"{recipe.architecture} model as init")


def _drop_resume_state(model_file: Path) -> None:
    # A finished phase never resumes (its done marker is read instead), and its resume state (the
    # optimiser's moments: three times the weights) would only weigh on the repository the runs are
    # committed to; the device machine takes at most 64 MiB of it.
    model_file.with_suffix(".state.pt").unlink(missing_ok=True)
    _started_path(model_file).unlink(missing_ok=True)


# A file changed this recently may change again within the same tick of the filesystem's clock without its
# times moving (git's "racily clean" files); 2 s spans the coarsest clock (FAT's).
RACY_NS = 2 * 10**9


class FileDigests:
    """sha256 of files' contents, each hashed once per run while it stays unchanged: every phase reads the
    validation data (often init's or a teacher's files too), and a resume checks each finished phase's.

    The stat is only this run's cache key, never the digest: size and modification time alone missed a
    same-size edit whose time was put back (``cp -p``, ``touch -r``) and recorded the old bytes' digest for
    the next phase. The key adds the file's identity (device, inode: a file moved over it) and its change
    time, which every write and every reset of the modification time moves, and nobody can set back. A file
    changed within RACY_NS of its hashing is hashed again on each call, since a write in the same clock tick
    would leave even the change time as it was (``racy_ns`` 0: a file is known from its first hashing on)."""

    def __init__(self, racy_ns: int = RACY_NS) -> None:
        self._known: dict[tuple, str] = {}
        self._racy_ns = racy_ns

    def __call__(self, path: Path) -> str:
        hashing_from = time.time_ns()
        stat = path.stat()
        key = (path, stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
        if key in self._known:
            return self._known[key]
        digest = _sha256(path)
        if max(stat.st_mtime_ns, stat.st_ctime_ns) < hashing_from - self._racy_ns:
            self._known[key] = digest
        return digest


def phase_inputs(recipe: Recipe, index: int, digests: Callable[[Path], str] | None = None) -> dict[str, str]:
    """sha256 of each file phase ``index`` reads, by its path relative to the recipe: init's weights and card
    (the first phase), its teacher's, its data and the validation data (each image and its table). The
    previous phase's model is not here: its done record holds its digest. A file gone is left out: the
    paths are the fingerprint's, and a finished phase no longer reads them. ``digests``: a run's
    :class:`FileDigests`, so files the phases share are read once."""
    from .training import annotated_files

    phase = recipe.phases[index]
    models = ([recipe.init] if index == 0 and recipe.init else []) + \
        ([phase.settings["teacher"]] if phase.settings.get("teacher") else [])
    files = [f for model in models for f in (recipe.resolve(model), recipe.resolve(model).with_suffix(".json"))]
    for data in (*phase.data, *recipe.validate):
        path = recipe.resolve(data)
        files += [f for pair in annotated_files([path]) for f in pair] if path.is_dir() else \
            [path, path.with_suffix(".csv")]
    digest = digests or _sha256
    return {_relative(recipe, f): digest(f) for f in files if f.is_file()}


def check_done_inputs(recipe: Recipe, index: int, record: dict,
                      digests: Callable[[Path], str] | None = None) -> None:
    """Refuse a finished phase whose files (:func:`phase_inputs`) differ from those it trained on: its
    fingerprint holds their paths only. A record from before digests were kept is not checked."""
    recorded = record.get("inputs_sha256")
    if not isinstance(recorded, dict):
        return
    changed = _changed_input(recorded, phase_inputs(recipe, index, digests))
    if changed:
        raise ParticleDetectError(
            f"{recipe.path}: phase {recipe.phases[index].name!r} trained on {changed}, which "
            f"{'has changed' if changed in recorded else 'was not there'} since; put it back as it was, or give "
            f"the recipe a new name (or delete {_relative(recipe, recipe.run_folder)}) to train again on it")


def begin_phase(recipe: Recipe, index: int, fingerprint: str,
                digests: Callable[[Path], str] | None = None) -> dict[str, str]:
    """The digests of the files phase ``index`` reads (:func:`phase_inputs`), as it starts. A fresh start
    writes them, with its settings, beside its model (``.started.json``); a resume is refused when the
    recipe or those files changed since the phase started, naming the first change: its epochs so far
    trained with the old ones, so no run of the recipe as it now stands would give its weights. Even more
    epochs are refused: the phase's schedule was set for its epochs, and a recipe trains longer with
    another phase. A phase paused before these records were kept resumes unchecked here."""
    from .training import resume_state_path

    phase = recipe.phases[index]
    model_file, _ = phase_files(recipe, index)
    state, started_file = resume_state_path(model_file), _started_path(model_file)
    inputs = phase_inputs(recipe, index, digests)
    began = {"fingerprint": fingerprint, "settings": json.loads(json.dumps(phase.settings)), "data": list(phase.data),
             "inputs_sha256": inputs}
    if not state.exists():
        atomic_write_text(started_file, json.dumps(began, indent=2))
        return inputs
    if not started_file.exists():
        return inputs
    started = _read_done(started_file, f"delete {_relative(recipe, state)} with it to start the phase again")
    change = _first_change(started, began)
    if change is None and started.get("fingerprint") != fingerprint:
        change = "the recipe's network, init or validation changed since the phase started: restore them"
    if change is None and isinstance(started.get("inputs_sha256"), dict):
        changed = _changed_input(started["inputs_sha256"], inputs)
        if changed:
            change = f"it trained so far on {changed}, which " \
                     f"{'has changed' if changed in started['inputs_sha256'] else 'was not there'} since: put it back"
    if change is not None:
        raise ParticleDetectError(f"{recipe.path}: phase {phase.name!r} is part-trained; {change}, or delete "
                                  f"{_relative(recipe, state)} to start the phase again")
    return inputs


def _first_change(started: dict, now: dict) -> str | None:
    """How to put back the first phase setting (or its data) that differs from those it started with."""
    old, new = started.get("settings") if isinstance(started.get("settings"), dict) else {}, now["settings"]
    for key in [*old, *(k for k in new if k not in old)]:
        if old.get(key) != new.get(key):
            if key not in old:
                return f"remove {key} = {json.dumps(new[key])}"
            extend = " (add a phase to train longer)" if key == "epochs" and key in new else ""
            return f"restore {key} = {json.dumps(old[key])}{extend}"
    if started.get("data", []) != now["data"]:
        return f"restore data = {json.dumps(started.get('data', []))}"
    return None


def _changed_input(recorded: dict, now: dict[str, str]) -> str | None:
    """The first file of ``now`` whose digest is not the ``recorded`` one: changed, or new in a data folder."""
    return next((name for name, digest in now.items() if recorded.get(name) != digest), None)


def _started_path(model_file: Path) -> Path:
    return model_file.with_suffix(".started.json")


def _relative(recipe: Recipe, path: Path) -> str:
    return Path(os.path.relpath(path, recipe.path.parent)).as_posix()


def _run_kind_phase(recipe: Recipe, index: int, previous: Path | None, device: str, threads: int | None,
                    progress: Callable[[dict], None] | None, should_stop: Callable[[], bool]) -> dict:
    """Train (or resume) phase ``index`` of a rods or chains recipe; its done record."""
    from .kinds_training import KindTrainConfig, load_kind_examples, train_kind
    from .training import resume_state_path

    phase = recipe.phases[index]
    model_file, _ = phase_files(recipe, index)
    config = KindTrainConfig(kind=recipe.kind, validation_images=recipe.validation_images,
                             validation_size=recipe.validation_size, threads=threads, **phase.settings)
    examples = load_kind_examples([recipe.resolve(d) for d in phase.data], recipe.kind) if phase.data else None
    validate = load_kind_examples([recipe.resolve(d) for d in recipe.validate], recipe.kind) if recipe.validate else None
    resume = resume_state_path(model_file).exists()
    started = time.monotonic()
    # Its steps too, as a sphere phase's (training.train sends them with its epochs): a recipe's bar draws them.
    named = (lambda r, n=phase.name: progress({**r, "phase": n})) if progress else None
    model = train_kind(config, model_file, init=previous, examples=examples, validation_examples=validate,
                       progress=named, steps=named, device=device, cancel=should_stop, resume=resume,
                       extra_card={"recipe": recipe.path.name, "phase": phase.name})
    return {"phase": phase.name, "validation_score": model.card.training.get("validation_score"),
            "epochs": config.epochs, "steps_per_epoch": config.steps_per_epoch,
            "learning_rate": config.learning_rate, "seed": config.seed, "resumed": resume,
            "seconds_this_session": round(time.monotonic() - started, 1),
            "weights_sha256": _sha256(model_file), "note": phase.note}


def write_final_model(recipe: Recipe, records: Sequence[dict] | None = None) -> Path:
    """The last phase's model as the run's ``model.pt``, its card's lineage written from the phases' done
    ``records`` (read from the run folder when not given)."""
    from ..models import load_model, save_model
    from ..models.registry import read_card

    last_model, _ = phase_files(recipe, len(recipe.phases) - 1)
    model = load_model(last_model, "cpu")
    if records is None:
        records = [_read_done(phase_files(recipe, index)[1]) for index in range(len(recipe.phases))]
    trainings = [read_card(phase_files(recipe, index)[0].with_suffix(".json")).training
                 for index in range(len(recipe.phases))]
    # The init model's own ancestry first: the first phase's card took it from init (training.lineage_with)
    # as it started, so a later change to init's file cannot rewrite it.
    ancestry = trainings[0].get("lineage")
    lineage = list(ancestry) if isinstance(ancestry, list) else []
    score = "validation_f1" if recipe.kind == "spheres" else "validation_score"
    for phase, record, training in zip(recipe.phases, records, trainings, strict=True):
        # The note is the recipe's as it stands (it is no part of the fingerprint, and recipe_sha256 below
        # is this file's); where and how long the phase trained is read from its model's epochs.
        lineage.append({"phase": phase.name, **{k: record.get(k) for k in
                        (score, "epochs", "steps_per_epoch", "learning_rate", "seed", "weights_sha256")},
                        "note": phase.note, "sessions": sessions_of(training.get("history", [])),
                        "data": list(phase.data),
                        **{key: record[key] for key in ("inputs_sha256", "version") if key in record}})
    first_inputs = records[0].get("inputs_sha256")
    init_digest = first_inputs.get(_relative(recipe, recipe.resolve(recipe.init))) \
        if recipe.init and isinstance(first_inputs, dict) else None
    model.card.training = {**model.card.training, "recipe": str(recipe.path.name),
                           "recipe_sha256": _sha256(recipe.path), "init": recipe.init, "lineage": lineage,
                           **({"init_sha256": init_digest} if init_digest else {}),
                           "command": f"particle-detect recipe {recipe.path.name}"}
    if recipe.threshold_images:
        model.card.training["threshold_tuning"] = _retune_threshold(model, recipe)
    model.card.training.pop("phase", None)
    return save_model(model, final_model_path(recipe))


def _retune_threshold(model, recipe: Recipe) -> dict:
    """Set ``model``'s threshold to the best F1 on ``recipe.threshold_images`` of the generator's validation
    images (the middle of a tie); what each threshold scored, for the card."""
    import torch

    from .training import TRAINING_THRESHOLDS, TrainConfig, synthetic_validation_set, tuned_threshold

    config = TrainConfig(validation_images=recipe.threshold_images, validation_size=recipe.validation_size)
    images = [example.prepared()[:2] for example in synthetic_validation_set(config)]
    before = model.card.threshold
    model.card.threshold, f1s = tuned_threshold(model.network, images, torch.device("cpu"), model.card.min_distance,
                                                config.tolerance)
    model.network.eval()  # validation_f1 hands a network back in training mode
    return {"images": recipe.threshold_images, "size": recipe.validation_size, "threshold_before": before,
            "threshold": model.card.threshold,
            "f1_by_threshold": {f"{t:g}": round(float(f), 4) for t, f in zip(TRAINING_THRESHOLDS, f1s)}}


def sessions_of(history: list[dict]) -> list[dict]:
    """The training sessions behind a model, from its epoch records (up to the epoch it was saved at):
    per session its first and last epoch, hours, device and CPU threads. Records from before sessions
    were written down (no ``session``) are one entry with the device unrecorded; their hours add up
    each stretch of the epoch clock (it restarts when a run resumes; a stretch that resumed within a
    first epoch's time of the last is not seen, so those hours are a lower bound). A session that a pause (a
    recipe's minutes, a cancel, Ctrl-C) stopped inside an epoch is read from that epoch's record
    (``paused_sessions``, training.session_pause); its entry says how many steps it trained there
    (``paused_after_steps``)."""
    sessions = []
    for key, group in itertools.groupby(_trained_records(history), key=lambda r: r.get("session")):
        records = list(group)
        clock = [float(r.get("seconds") or 0.0) for r in records]
        seconds = clock[-1] + sum(a for a, b in zip(clock, clock[1:]) if b < a)
        paused = {"paused_after_steps": records[-1]["steps"]} if "steps" in records[-1] else {}
        sessions.append({"session": key or "not recorded", "device": records[0].get("device") or "not recorded",
                         "threads": records[0].get("threads"), "epochs": [records[0]["epoch"], records[-1]["epoch"]],
                         "hours" if key else "hours_at_least": round(seconds / 3600, 2), **paused})
    return sessions


def _trained_records(history: list[dict]) -> Iterator[dict]:
    """The epoch records of training (epoch 0 is the starting model's score), each after the sessions paused
    in its epoch, in the order they trained."""
    for record in history:
        if record.get("epoch"):
            yield from (p for p in record.get("paused_sessions", []) if isinstance(p, dict) and p.get("epoch"))
            yield record


def _read_done(path: Path, remedy: str = "delete it to rerun the phase") -> dict:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ParticleDetectError(f"{path}: unreadable phase record ({str(exc)[:80]}); {remedy}") from None
    if not isinstance(record, dict):
        raise ParticleDetectError(f"{path}: not a phase record; {remedy}")
    return record


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()

