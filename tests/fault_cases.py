"""Faults for tests/test_faults.py and benchmarks/faults.py: writers killed at random moments, and bad inputs.

Run as ``python fault_worker.py SCENARIO|all FOLDER KILLS SEED [MODEL]``: one process imports the package once,
then forks a writer per kill (so a hundred kills cost one start-up), kills it after a random delay, and
checks the project after every kill. It prints one JSON line with what it found:

* ``saves``: frames saved, accepted and thresholds remembered in a loop;
* ``rounds``: round workspaces filled with model files (and a training checkpoint), then committed;
* ``writers``: two writers at once, each accepting its own 50 frames (no kill; nothing may be lost);
* ``live``: a workspace another program is building in survives a second opening, until it is killed;
* ``finetune``: real fine-tuning rounds (a few steps each) of a real model, committed one after another.

``lost`` counts calls that had returned (so the writer had reported them) but are not on disk;
``unreadable`` counts reopenings that failed; ``leftovers_seen`` counts temporary files and abandoned
workspaces found after kills, before reopening; ``leftovers_after`` those left after reopening.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import shutil
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import tifffile

from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.models.registry import default_model_path
from napari_particle_detect.projects.project import Project, RoundInfo
from napari_particle_detect.synthetic.spheres import SynthConfig, benchmark_config, synthesize

N_FRAMES = 100
FINE_TUNING_FRAMES = 3  # the fine-tuning scenario's stack
ROUND_FILES = ("model.pt", "model.json")


def frame_table(frame: int, version: int) -> pd.DataFrame:
    """A table that says which save wrote it: every y is the version number."""
    n = 3 + version % 5
    return pd.DataFrame({"frame": frame, "y": np.full(n, float(version)), "x": np.arange(n, dtype=float),
                         "score": 0.5, "source": "model"})


def leftovers(folder: Path) -> list[Path]:
    """What a killed writer can leave behind: temporary files and round workspaces (with their locks)."""
    if not folder.exists():
        return []
    return sorted(p for p in folder.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".building-"))


# ---- the writers (run in forked children; each reports a line per call that returned) -------------
def _report(pipe: int, record: dict) -> None:
    os.write(pipe, (json.dumps(record) + "\n").encode())


def write_saves(folder: Path, pipe: int, seed: int) -> None:
    project = Project.open(folder, n_frames=N_FRAMES)
    rng = random.Random(seed)
    version = seed * 1_000_000
    while True:
        version += 1
        frame = rng.randrange(20)
        kind = rng.choice(("save", "save", "accept", "threshold"))
        if kind == "save":
            project.save_frame(frame, frame_table(frame, version))
        elif kind == "accept":
            project.accept_frame(frame, frame_table(frame, version))
        else:
            project.remember_threshold(round(rng.uniform(0.1, 0.9), 3))
        _report(pipe, {"op": kind, "frame": frame, "version": version, "threshold": project.threshold})


def write_rounds(folder: Path, pipe: int, seed: int, model: Path) -> None:
    project = Project.open(folder)
    checkpoint = os.urandom(1 << 20)  # a training checkpoint is the bulk of what a killed round leaves
    while True:
        workspace = project.new_workspace()
        for name in ROUND_FILES:
            shutil.copyfile(model.with_suffix(Path(name).suffix), workspace / name)
        (workspace / "model.state.pt").write_bytes(checkpoint)
        (workspace / "model.state.pt").unlink()
        info = project.commit_round(workspace, RoundInfo(number=0, origin=f"writer {seed}", held_out=1, f1=0.5))
        _report(pipe, {"op": "round", "number": info.number})


def prepare_fine_tuning(folder: Path, model: Path) -> np.ndarray:
    """A project with a starting round and two corrected frames; returns its stack of three frames."""
    samples = [synthesize(benchmark_config("fluorescent", 0.4, (64, 64)), seed=s) for s in range(3)]
    project = Project.open(folder, n_frames=FINE_TUNING_FRAMES)
    project.ensure_initial_round(model)
    project.remember_detection(10.0, "auto")
    for frame in (0, 1):
        centres = samples[frame].centres
        project.accept_frame(frame, pd.DataFrame({"y": centres[:, 0], "x": centres[:, 1]}))
    return np.stack([s.image for s in samples])


def fine_tune_rounds(folder: Path, stack: np.ndarray, pipe: int) -> None:
    """Fine-tune (a few steps, as the dock does in full) and commit, round after round."""
    import torch

    from dataclasses import replace

    from napari_particle_detect.learning.finetune import FINE_TUNE
    from napari_particle_detect.learning.rounds import commit, run_round

    torch.set_num_threads(1)
    settings = replace(FINE_TUNE, steps_per_epoch=6, batch_size=2, crop=32, threads=1)
    project = Project.open(folder)
    while True:
        outcome = run_round(project, stack, settings, device="cpu")
        info = commit(project, outcome)
        _report(pipe, {"op": "round", "number": info.number})


def accept_frames(folder: Path, frames: range, pipe: int) -> None:
    project = Project.open(folder, n_frames=N_FRAMES)
    for frame in frames:
        project.accept_frame(frame, frame_table(frame, frame))
        _report(pipe, {"op": "accept", "frame": frame})


# ---- the killer ---------------------------------------------------------------------------------
def _fork(target) -> tuple[int, int]:
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child writes until it is killed (or its job ends)
        os.close(read_end)
        try:
            target(write_end)
            os._exit(0)
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, which counts it
            _report(write_end, {"op": "error", "error": f"{type(exc).__name__}: {exc}"})
            os._exit(1)
    os.close(write_end)
    return pid, read_end


def _collect(pid: int, read_end: int) -> list[dict]:
    os.waitpid(pid, 0)
    chunks = []
    while chunk := os.read(read_end, 1 << 16):
        chunks.append(chunk)
    os.close(read_end)
    lines = b"".join(chunks).decode().splitlines()
    return [json.loads(line) for line in lines if line.endswith("}")]


def _check_saves(folder: Path, done: list[dict], expected: dict) -> int:
    """Calls that returned but are not on disk: frames whose saved version went back, lost acceptances,
    a forgotten threshold. ``expected`` carries what earlier kills established."""
    for record in done:
        if record["op"] in ("save", "accept"):
            expected["versions"][record["frame"]] = record["version"]
        if record["op"] == "accept":
            expected["accepted"].add(record["frame"])
        if record.get("threshold") is not None:
            expected["threshold"] = record["threshold"]
    project = Project.open(folder, n_frames=N_FRAMES)
    lost = 0
    for frame, version in expected["versions"].items():
        table = project.load_frame(frame)
        on_disk = int(table["y"].iloc[0]) if table is not None and len(table) else -1
        lost += on_disk < version  # the killed call may have landed too: newer is fine, older is lost
        expected["versions"][frame] = max(version, on_disk)
    lost += len(expected["accepted"] - set(project.reviewed_frames))
    expected["accepted"] = set(project.reviewed_frames)
    lost += expected["threshold"] is not None and project.threshold is None
    return lost


def _check_rounds(folder: Path, done: list[dict]) -> int:
    project = Project.open(folder)
    numbers = {r.number for r in project.rounds}
    on_disk = {int(p.name.split("-")[1]) for p in (folder / "rounds").glob("round-*")}
    lost = sum(record["number"] not in numbers for record in done if record["op"] == "round")
    return lost + len(on_disk ^ numbers)  # disk and state must agree


def hold_workspace(folder: Path, pipe: int) -> None:
    """Build in a round workspace for a long time, as a fine-tune in another window does."""
    project = Project.open(folder)  # the workspace is locked while this object lives
    workspace = project.new_workspace()
    (workspace / "model.state.pt").write_bytes(b"training")
    _report(pipe, {"op": "workspace", "path": str(workspace)})
    time.sleep(60)


def _live_workspace(folder: Path, result: dict) -> None:
    """Another program's workspace survives a second window opening the project, until that program dies."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        try:
            hold_workspace(folder, write_end)
        finally:
            os._exit(0)
    os.close(write_end)
    line = b""
    while not line.endswith(b"\n"):
        chunk = os.read(read_end, 4096)
        if not chunk:
            break
        line += chunk
    workspace = Path(json.loads(line)["path"])
    second = Project.open(folder)
    result["live_kept"] = workspace.exists() and workspace not in second.leftover_workspaces()
    os.kill(pid, signal.SIGKILL)
    _collect(pid, read_end)
    result["dead_removed"] = bool(Project.open(folder)) and not workspace.exists()


def run(scenario: str, folder: Path, kills: int, seed: int, model: Path | None = None) -> dict:
    folder.mkdir(parents=True, exist_ok=True)  # an existing folder is a project folder, whatever its name
    rng = random.Random(seed)
    result = {"scenario": scenario, "kills": 0, "lost": 0, "unreadable": 0, "errors": [], "leftovers_seen": 0,
              "completed_calls": 0}
    expected = {"versions": {}, "accepted": set(), "threshold": None}
    if scenario == "live":
        _live_workspace(folder, result)
    elif scenario == "writers":
        children = [_fork(lambda pipe, frames=frames: accept_frames(folder, frames, pipe))
                    for frames in (range(0, 50), range(50, 100))]
        done = [record for pid, read_end in children for record in _collect(pid, read_end)]
        result["errors"] = [r["error"] for r in done if r["op"] == "error"]
        result["completed_calls"] = sum(r["op"] == "accept" for r in done)
        reviewed = Project.open(folder, n_frames=N_FRAMES).reviewed_frames
        result["kept"] = len(reviewed)
        result["lost"] = 100 - len(set(reviewed))
    else:
        stack = prepare_fine_tuning(folder, model) if scenario == "finetune" else None
        for k in range(kills):
            if scenario == "saves":
                pid, read_end = _fork(lambda pipe, k=k: write_saves(folder, pipe, seed * 1000 + k + 1))
            elif scenario == "rounds":
                pid, read_end = _fork(lambda pipe, k=k: write_rounds(folder, pipe, k, model))
            else:
                pid, read_end = _fork(lambda pipe: fine_tune_rounds(folder, stack, pipe))
            time.sleep(rng.uniform(0.5, 6.0) if scenario == "finetune" else rng.uniform(0.05, 0.4))
            os.kill(pid, signal.SIGKILL)
            done = _collect(pid, read_end)
            result["kills"] += 1
            result["errors"] += [r["error"] for r in done if r["op"] == "error"]
            result["completed_calls"] += sum(r["op"] != "error" for r in done)
            result["leftovers_seen"] += len(leftovers(folder))
            try:
                result["lost"] += _check_saves(folder, done, expected) if scenario == "saves" else _check_rounds(folder, done)
            except ParticleDetectError as exc:
                result["unreadable"] += 1
                result["errors"].append(str(exc))
    # the fine-tuning scenario's project is made for its own stack, which a project now holds it to
    project = Project.open(folder, n_frames=FINE_TUNING_FRAMES if scenario == "finetune" else N_FRAMES)
    result["leftovers_after"] = [str(p.relative_to(folder)) for p in leftovers(folder)]
    result["problems"] = project.problems
    if scenario in ("rounds", "finetune"):  # a round after all those kills still commits, under the next number
        workspace = project.new_workspace()
        for name in ROUND_FILES:
            shutil.copyfile(model.with_suffix(Path(name).suffix), workspace / name)
        result["next_round"] = project.commit_round(workspace, RoundInfo(number=0, origin="after kills")).number
        result["rounds_on_disk"] = len(list((folder / "rounds").glob("round-*")))
        result["rounds_in_state"] = len(project.rounds)
    return result


# ---- inputs a hostile user hands the command line and the project store ---------------------------
def make_bad_data(folder: Path) -> Path:
    """Files for :data:`BAD_COMMANDS`: a good image and table, and broken images, tables and model cards."""
    folder.mkdir(parents=True, exist_ok=True)
    sample = synthesize(SynthConfig(shape=(48, 48), radius_range=(4, 6)), seed=0)
    tifffile.imwrite(folder / "img.tif", sample.image)
    pd.DataFrame({"y": sample.centres[:, 0], "x": sample.centres[:, 1]}).to_csv(folder / "img.csv", index=False)
    tifffile.imwrite(folder / "nan.tif", np.full((48, 48), np.nan, np.float32))
    (folder / "nan.csv").write_text("y,x\n10,10\n")
    tifffile.imwrite(folder / "stack.tif", np.stack([sample.image] * 3))
    (folder / "stack.csv").write_text("frame,y,x\n-1,10,10\n")
    tifffile.imwrite(folder / "half.tif", np.stack([sample.image] * 3))
    (folder / "half.csv").write_text("frame,y,x\n1.5,10,10\n")
    (folder / "inf.csv").write_text("y,x\ninf,10\n")
    with tifffile.TiffWriter(folder / "mixed.tif") as tif:
        tif.write(sample.image)
        tif.write(sample.image[:20, :20])
    (folder / "m.pt").write_bytes(os.urandom(1000))  # never loaded: every case fails before the weights
    card = json.loads(default_model_path().with_suffix(".json").read_text())
    (folder / "m.json").write_text(json.dumps(card))
    for name, change in {"empty": None, "threshold5": {"threshold": 5}, "canonical0": {"canonical_diameter": 0},
                         "types": {"channels": "many"}}.items():
        shutil.copyfile(folder / "m.pt", folder / f"{name}.pt")
        (folder / f"{name}.json").write_text(json.dumps({**card, **change} if change else {}))
    shutil.copyfile(folder / "m.pt", folder / "binary.pt")
    (folder / "binary.json").write_bytes(b"\xff\xfe\x00")
    (folder / "a_folder").mkdir()
    (folder / "a_file").write_text("x")
    return folder

CRAFTED_STATES = {
    "not UTF-8": b"\xff\xfe\x00\x01",
    "a list": b"[]",
    "an empty object": b"{}",
    "not JSON": b'{"version": 2, ',
    "a version as text": b'{"version": "2"}',
    "a newer version": b'{"version": 99}',
    "a negative round": b'{"version": 2, "rounds": [{"number": -1, "origin": "x"}]}',
    "a round named as a path": b'{"version": 2, "rounds": [{"number": "../../outside", "origin": "x"}]}',
    "an absurd round": b'{"version": 2, "rounds": [{"number": 1000000000, "origin": "x"}]}',
    "a frame from the end": b'{"version": 2, "accepted": [{"frame": -3}]}',
    "an old negative frame": b'{"version": 1, "reviewed": [-1]}',
    "a fractional frame": b'{"version": 2, "accepted": [{"frame": 1.5}]}',
    "a missing current round": b'{"version": 2, "current_round": 4}',
    "a negative diameter": b'{"version": 2, "diameter": -5}',
    "a threshold of 7": b'{"version": 2, "threshold": 7}',
    "a NaN threshold": b'{"version": 2, "threshold": NaN}',
    "an unknown polarity": b'{"version": 2, "polarity": 3}',
    "a box outside the frame": b'{"version": 2, "frame_shape": [10, 10], "accepted": [{"frame": 0, "box": [0, 0, 50, 5]}]}',
    "deep nesting": b"[" * 100_000 + b"]" * 100_000,
}

BAD_COMMANDS = {
    # options, checked while parsing, with their range in the message
    "diameter nan": "detect img.tif -o o.csv --diameter nan",
    "diameter inf": "detect img.tif -o o.csv --diameter inf",
    "diameter tiny": "detect img.tif -o o.csv --diameter 1e-6",
    "diameter huge": "detect img.tif -o o.csv --diameter 1e6",
    "threshold nan": "detect img.tif -o o.csv --threshold nan",
    "threshold -1": "detect img.tif -o o.csv --threshold -1",
    "tile 0": "detect img.tif -o o.csv --tile 0",
    "crop 0": "train -o m2 --crop 0",
    "batch 0": "train -o m2 --batch-size 0",
    "threads -3": "train -o m2 --threads -3",
    "synthetic fraction 2": "train img.tif -o m2 --synthetic-fraction 2",
    "lr 0": "train -o m2 --lr 0",
    "shape 0": "synth s --shape 0 0",
    "area nan": "synth s --area-fraction nan",
    "radius tiny": "synth s --radius 0.001 0.001",
    "n 0": "synth s --n 0",
    "tolerance -1": "evaluate img.csv img.csv --tolerance -1",
    # outputs that would destroy or confuse
    "-o the input": "detect img.tif -o img.tif",
    "-o a .json": "detect img.tif -o c.json",
    "-o over the model card": "detect img.tif -o m.csv --model m.pt",
    "-o a folder": "detect img.tif -o a_folder",
    "-o inside a file": "detect img.tif -o a_file/o.csv",
    "--overlay a folder": "detect img.tif -o o.csv --overlay a_folder",
    "--overlay the output": "detect img.tif -o o.csv --overlay o.csv",
    "--overlay no suffix": "detect img.tif -o o.csv --overlay picture",
    "--plot the truth": "evaluate img.csv img.csv --plot img.csv",
    "--plot a folder": "evaluate img.csv img.csv --plot a_folder",
    "train -o a folder": "train img.tif -o a_folder",
    "train -o over its start": "train img.tif -o m --from m.pt",
    "synth into a file": "synth a_file",
    "synth too many particles": "synth s --shape 8192 8192 --radius 1 1",
    "synth into a folder that is not empty": "synth .",
    "synth too many spheres in a volume": "synth s --volume --n 1 --volume-shape 16 64 64 --sphere-diameter 1",
    "synth too many rods": "synth s --kind rods --n 1 --width 1 1 --aspect 1 1 --shape 2048 2048",
    "synth rods as volumes": "synth s --kind rods --volume",
    "synth --width for spheres": "synth s --width 2 3",
    "-o over a truth table": "detect img.tif -o img.csv",
    "-o unwritable": "detect img.tif -o /proc/o.csv",
    "--overlay unwritable": "detect img.tif -o o.csv --overlay /proc/x.png",
    "synth unwritable": "synth /proc/xx",
    "--plot unwritable": "evaluate img.csv img.csv --plot /proc/r.png",
    "train -o unwritable": "train img.tif -o /proc/x",
    "diameter beyond the image": "detect img.tif -o o.csv --diameter 100",
    "--voxel-size on 2D tables": "evaluate img.csv img.csv --voxel-size 1 1 1",
    "train a missing image": "train nothing.tif -o m2 --from m.pt",
    # data
    "all-NaN training image": "train nan.tif -o m2 --epochs 1 --steps-per-epoch 1",
    "negative frame": "train stack.tif -o m2 --epochs 1",
    "fractional frame": "train half.tif -o m2 --epochs 1",
    "inf coordinate": "evaluate inf.csv img.csv",
    "TIFF pages of two shapes": "detect mixed.tif -o o.csv",
    "card {}": "detect img.tif -o o.csv --model empty.pt",
    "card threshold 5": "detect img.tif -o o.csv --model threshold5.pt",
    "card canonical 0": "detect img.tif -o o.csv --model canonical0.pt",
    "card wrong types": "detect img.tif -o o.csv --model types.pt",
    "card not UTF-8": "detect img.tif -o o.csv --model binary.pt",
    "missing input": "detect nothing.tif -o o.csv",
}

DISK_FULL = """
import json, resource, signal, sys
from pathlib import Path
import pandas as pd
from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.models.registry import default_model_path
from napari_particle_detect.projects.project import Project

folder = Path(sys.argv[1])
project = Project.open(folder / "img.tif")
project.accept_frame(0, pd.DataFrame({"y": [1.0], "x": [2.0]}))
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG, as on a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (32_000, 32_000))
result = {"synth": main(["-q", "synth", str(folder / "synth"), "--shape", "256", "256", "--n", "2"])}
try:
    project.save_frame(0, pd.DataFrame({"y": range(5000), "x": 1.0}))
except ParticleDetectError as exc:
    result["save"] = str(exc)
result["frame"] = len(project.load_frame(0))
result["reviewed"] = project.reviewed_frames
print(json.dumps(result))
"""



def try_command(folder: Path, command: str) -> dict:
    """Run one command line in ``folder``, in this process: its status, what it printed to stderr, and
    whether any file there changed (an input overwritten, a partial output left)."""
    before = {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}
    err = io.StringIO()
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        with contextlib.redirect_stderr(err):
            try:
                code = main(["-q", *command.split()])
            except SystemExit as exit_:  # argparse: usage, then one line naming the option and its range
                code = exit_.code
            except Exception as exc:  # noqa: BLE001 - an escaped exception is the failure being counted
                code, _ = "traceback", print(f"Traceback: {type(exc).__name__}: {exc}", file=sys.stderr)
    finally:
        os.chdir(cwd)
    after = {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}
    return {"code": code, "err": err.getvalue().strip(), "changed": sorted(map(str, set(before.items()) ^ set(after.items())))}


def command_is_clean(result: dict) -> bool:
    """Status 2, no traceback, one error line (argparse's too: no usage block), nothing changed."""
    err = result["err"]
    lines = err.splitlines()
    one_line = len(lines) == 1
    return (result["code"] == 2 and "Traceback" not in err and bool(lines) and lines[-1].startswith("particle-detect")
            and "error:" in lines[-1] and one_line and not result["changed"])


def try_crafted_state(folder: Path, content: bytes) -> str | None:
    """The error opening a project whose state.json is ``content`` (None if it opened), checked to name
    the file in one line and to write nothing."""
    folder.mkdir(parents=True)
    (folder / "state.json").write_bytes(content)
    before = sorted(folder.parent.rglob("*"))
    try:
        Project.open(folder)
    except ParticleDetectError as exc:
        message = str(exc)
        clean = (message.startswith(f"{folder / 'state.json'}: ") and "\n" not in message and len(message) < 300
                 and sorted(folder.parent.rglob("*")) == before)
        return message if clean else f"UNCLEAN: {message}"
    return None


SCENARIOS = ("saves", "rounds", "writers", "live")

if __name__ == "__main__":
    scenario, folder, kills, seed = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    model = Path(sys.argv[5]) if len(sys.argv) > 5 else None
    for name in SCENARIOS if scenario == "all" else (scenario,):  # one start-up for all of them
        print(json.dumps(run(name, folder / name, kills, seed, model)), flush=True)
