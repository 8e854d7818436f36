"""Faults tried as a hostile user and an unlucky machine would: how many are handled cleanly.

Cases (shared with tests/test_faults.py, from tests/fault_cases.py):

* bad command lines: options out of range, outputs that would destroy an input, broken images,
  tables and model cards; clean = exit status 2, one line, no file changed;
* crafted ``state.json`` files and symbolic links inside a project: one error naming the file, nothing
  read or written outside the project;
* crafted pickles in a training state (``train --resume``), in ``--model``/``--from`` weights and in a
  project round: counted as "code executed" if the payload ran;
* SIGKILLs at random moments during frame saves, round commits and real fine-tuning rounds; two
  processes accepting 50 frames each at once; two Project objects in one process; a full disk
  (a file-size limit, which fails writes as a full disk does, without root); an orphan round.

Run: ``.venv/bin/python benchmarks/faults.py`` (~3-5 min on 2 cores; ``--quick``: fewer kills).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd
import napari_particle_detect  # noqa: F401 - before torch: its OpenMP wait policy, as users run it
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from fault_cases import (  # noqa: E402
    BAD_COMMANDS, CRAFTED_STATES, DISK_FULL, command_is_clean, make_bad_data, try_command, try_crafted_state,
)

from napari_particle_detect.cli.main import main  # noqa: E402
from napari_particle_detect.errors import ParticleDetectError  # noqa: E402
from napari_particle_detect.models import load_model  # noqa: E402
from napari_particle_detect.models.registry import default_model_path  # noqa: E402
from napari_particle_detect.projects.project import Project, RoundInfo  # noqa: E402

ROW = dict.fromkeys(["tried", "handled cleanly", "lost updates", "leftovers seen after kills",
                     "leftover or partial files after reopening", "code executed"], 0)


def row(case: str, **values) -> dict:
    return {"case": case, **ROW, **values}


def bad_commands(work: Path) -> dict:
    data = make_bad_data(work / "data")
    results = {name: try_command(data, command) for name, command in BAD_COMMANDS.items()}
    unclean = [name for name, result in results.items() if not command_is_clean(result)]
    partial = sum(len(r["changed"]) for r in results.values())
    return row("bad command lines", tried=len(results), **{"handled cleanly": len(results) - len(unclean),
               "leftover or partial files after reopening": partial}), unclean


def crafted_states(work: Path) -> tuple[dict, list[str]]:
    unclean = []
    for i, (name, content) in enumerate(CRAFTED_STATES.items()):
        message = try_crafted_state(work / f"state-{i}" / "p.particle-detect", content)
        if message is None or message.startswith("UNCLEAN"):
            unclean.append(name)
    return row("crafted state.json", tried=len(CRAFTED_STATES),
               **{"handled cleanly": len(CRAFTED_STATES) - len(unclean)}), unclean


def links(work: Path) -> tuple[dict, list[str]]:
    """A link for frames/, rounds/, state.json and one frame file, each pointing outside the project."""
    unclean = []
    table = pd.DataFrame({"y": [1.0], "x": [1.0]})
    writes = {"frames": lambda p: p.save_frame(1, table), "rounds": lambda p: p.new_workspace(),
              "state.json": lambda p: p.remember_threshold(0.2), "frames/frame-0001.csv": lambda p: p.save_frame(1, table)}
    for i, (link, write) in enumerate(writes.items()):
        project = Project.open(work / f"links-{i}" / "img.tif", n_frames=3)
        project.accept_frame(0, table)
        outside = work / f"links-{i}" / "outside"
        outside.mkdir()
        target = project.folder / link
        if target.exists():
            shutil.move(target, outside / target.name)
        else:
            (outside / target.name).mkdir()
        target.symlink_to(outside / target.name)
        before = sorted((p, p.stat().st_mtime_ns) for p in outside.rglob("*"))
        refused = 0
        for attempt in (lambda: Project.open(project.folder).load_all(), lambda: write(project)):
            try:
                attempt()
            except ParticleDetectError as exc:
                refused += "symbolic link" in str(exc)
            except Exception:  # noqa: BLE001 - a raw error is what this counts
                pass
        if refused == 0 or sorted((p, p.stat().st_mtime_ns) for p in outside.rglob("*")) != before:
            unclean.append(link)
    return row("symbolic links in a project", tried=len(writes), **{"handled cleanly": len(writes) - len(unclean)}), unclean


class Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def pickles(work: Path) -> tuple[dict, list[str]]:
    folder = work / "pickles"
    folder.mkdir()
    marker = folder / "ran"
    card = default_model_path().with_suffix(".json")
    torch.save({"network": Payload(marker), "optimiser": {}, "scheduler": {}, "epoch": 0, "best_f1": 0.0,
                "history": []}, folder / "m.state.pt")
    torch.save({"weight": Payload(marker)}, folder / "evil.pt")
    shutil.copyfile(card, folder / "evil.json")
    image = make_bad_data(work / "pickle-data") / "img.tif"
    project = Project.open(folder / "img.tif")
    project.ensure_initial_round(default_model_path())
    workspace = project.new_workspace()
    shutil.copyfile(folder / "evil.pt", workspace / "model.pt")
    shutil.copyfile(card, workspace / "model.json")
    project.commit_round(workspace, RoundInfo(number=0, origin="crafted"))
    cases = {
        "train --resume": lambda: main(["-q", "train", "-o", str(folder / "m"), "--resume", "--epochs", "1"]),
        "detect --model": lambda: main(["-q", "detect", str(image), "-o", str(folder / "c.csv"),
                                        "--model", str(folder / "evil.pt")]),
        "train --from": lambda: main(["-q", "train", str(image), "-o", str(folder / "t"), "--from",
                                      str(folder / "evil.pt"), "--epochs", "1"]),
        "a project round": lambda: load_model(project.round_path(2)),
    }
    executed, unclean = 0, []
    for name, case in cases.items():
        marker.unlink(missing_ok=True)
        try:
            with contextlib.redirect_stderr(io.StringIO()):
                clean = case() == 2
        except ParticleDetectError:
            clean = True
        except Exception:  # noqa: BLE001
            clean = False
        executed += marker.exists()
        if not clean or marker.exists():
            unclean.append(name)
    return row("crafted pickles", tried=len(cases), **{"handled cleanly": len(cases) - len(unclean),
               "code executed": executed}), unclean


def kills(work: Path, scenario: str, n: int, label: str, model: Path) -> tuple[dict, list[str]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, str(REPO / "tests" / "fault_cases.py"), scenario, str(work / scenario),
                           str(n), "11", str(model)], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        return row(label, tried=n), [done.stderr.strip().splitlines()[-1]]
    result = json.loads(done.stdout.splitlines()[-1])
    unclean = result["errors"] + result["problems"]
    if scenario == "writers":
        tried, clean = 100, result["kept"]
    elif scenario == "live":
        tried, clean = 1, int(result["live_kept"] and result["dead_removed"])
    else:
        tried = result["kills"]
        clean = tried - result["unreadable"] - len(result["errors"])
    if scenario in ("rounds", "finetune") and not result["rounds_on_disk"] == result["rounds_in_state"] == result["next_round"]:
        unclean.append(f"disk {result['rounds_on_disk']} rounds, state {result['rounds_in_state']}")
        clean -= 1
    name = f"{label} ({result['completed_calls']} calls completed)" if result["kills"] else label
    return row(name, tried=tried, **{"handled cleanly": max(clean, 0), "lost updates": result["lost"],
               "leftovers seen after kills": result["leftovers_seen"],
               "leftover or partial files after reopening": len(result["leftovers_after"])}), unclean


def two_objects(work: Path) -> tuple[dict, list[str]]:
    first = Project.open(work / "objects" / "img.tif", n_frames=100)
    second = Project.open(work / "objects" / "img.tif", n_frames=100)
    table = pd.DataFrame({"y": [1.0], "x": [1.0]})
    for frame in range(0, 100, 2):
        first.accept_frame(frame, table)
        second.accept_frame(frame + 1, table)
    lost = 100 - len(set(Project.open(first.folder).reviewed_frames))
    return row("two Project objects, one process (50 + 50 accepts)", tried=100,
               **{"handled cleanly": 100 - lost, "lost updates": lost}), []


def full_disk(work: Path) -> tuple[dict, list[str]]:
    folder = work / "disk"
    folder.mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", DISK_FULL, str(folder)], capture_output=True, text=True, env=env)
    result = json.loads(done.stdout.splitlines()[-1]) if done.returncode == 0 else {}
    checks = {"synth": result.get("synth") == 2 and "Traceback" not in done.stderr,
              "project save": "File too large" in result.get("save", "") and result.get("frame") == 1}
    partial = len([p for p in folder.rglob("*") if p.name.endswith(".tmp")]) + (folder / "synth").exists()
    unclean = [name for name, ok in checks.items() if not ok]
    return row("full disk (file-size limit)", tried=len(checks), **{"handled cleanly": len(checks) - len(unclean),
               "leftover or partial files after reopening": partial}), unclean


def orphan_round(work: Path, model: Path) -> tuple[dict, list[str]]:
    project = Project.open(work / "orphan" / "img.tif")
    project.ensure_initial_round(model)
    rounds = project.folder / "rounds"
    shutil.copytree(rounds / "round-001", rounds / "round-002")  # renamed into place, state never written
    (rounds / "round-004").mkdir()  # an empty folder someone made
    try:
        reopened = Project.open(project.folder)
        workspace = reopened.new_workspace()
        for suffix in (".pt", ".json"):
            shutil.copyfile(model.with_suffix(suffix), workspace / f"model{suffix}")
        ok = reopened.commit_round(workspace, RoundInfo(number=0, origin="next")).number == 5
        ok &= [r.number for r in reopened.rounds] == [1, 2, 5]
    except Exception:  # noqa: BLE001
        ok = False
    return row("orphan round on disk, missing from the state", tried=1, **{"handled cleanly": int(ok)}), [] if ok else ["orphan"]


def main_(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer kills, for a smoke run")
    parser.add_argument("--save-kills", type=int, default=80)
    parser.add_argument("--round-kills", type=int, default=32)
    parser.add_argument("--finetune-kills", type=int, default=16)
    parser.add_argument("--model", type=Path, default=default_model_path(), help="default: the shipped UNet")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    if args.quick:
        args.save_kills, args.round_kills, args.finetune_kills = 10, 6, 3
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore", UserWarning)  # the project's reports of the damage done on purpose here
    started = time.monotonic()
    rows, problems = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        steps = [
            lambda: bad_commands(work), lambda: crafted_states(work), lambda: links(work), lambda: pickles(work),
            lambda: kills(work, "saves", args.save_kills, "SIGKILL during frame saves", args.model),
            lambda: kills(work, "rounds", args.round_kills, "SIGKILL during round commits", args.model),
            lambda: kills(work, "finetune", args.finetune_kills, "SIGKILL during fine-tuning", args.model),
            lambda: kills(work, "writers", 0, "two processes, 50 accepts each", args.model),
            lambda: kills(work, "live", 0, "second window beside a running fine-tune", args.model),
            lambda: two_objects(work), lambda: full_disk(work), lambda: orphan_round(work, args.model),
        ]
        for step in steps:
            result, unclean = step()
            rows.append(result)
            if unclean:
                problems[result["case"]] = unclean
    table = pd.DataFrame(rows)
    total = table.drop(columns="case").sum()
    table.loc[len(table)] = {"case": "all", **total.to_dict()}
    print(table.to_string(index=False))
    print(f"\n({time.monotonic() - started:.0f} s)")
    for case, names in problems.items():
        print(f"not clean in {case}: {', '.join(map(str, names))}")
    print("\nTargets")
    for label, ok, figure in [
        ("every case handled cleanly", total["handled cleanly"] == total["tried"], f"{total['handled cleanly']}/{total['tried']}"),
        ("0 lost updates", total["lost updates"] == 0, total["lost updates"]),
        ("0 leftovers after reopening", total["leftover or partial files after reopening"] == 0, total["leftover or partial files after reopening"]),
        ("0 code executed", total["code executed"] == 0, total["code executed"]),
    ]:
        print(f"  {'PASS' if ok else 'MISS'}  {label}: {figure}")


if __name__ == "__main__":
    main_()
