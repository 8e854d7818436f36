"""Faults a hostile user or an unlucky machine brings: kills, two writers, crafted files, bad input, full disks.

Every case must end cleanly: one clear line (exit status 2 on the command line), nothing lost, nothing
half-written, nothing executed. The kill scenarios run in one child process (tests/fault_cases.py)
started first, so they overlap with the in-process cases below.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tifffile
import torch

from napari_particle_detect.cli.main import main
from napari_particle_detect.errors import ParticleDetectError
from napari_particle_detect.models.registry import default_model_path
from napari_particle_detect.projects.project import Project, RoundInfo
from napari_particle_detect.synthetic.spheres import SynthConfig, synthesize

from fault_cases import (
    BAD_COMMANDS, CRAFTED_STATES, DISK_FULL, command_is_clean, make_bad_data, try_command, try_crafted_state,
)

HERE = Path(__file__).parent
KILLS = 8


@pytest.fixture(scope="module")
def fake_model(tmp_path_factory) -> Path:
    """Round files for the store: it moves them, it never loads them (so they may be small)."""
    folder = tmp_path_factory.mktemp("fake-model")
    (folder / "m.pt").write_bytes(os.urandom(20_000))
    (folder / "m.json").write_text("{}")
    return folder / "m.pt"


@pytest.fixture(scope="module")
def killed(tmp_path_factory, fake_model):
    """The kill scenarios, running in the background while the other tests of this file run."""
    folder = tmp_path_factory.mktemp("killed")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parent), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen([sys.executable, str(HERE / "fault_cases.py"), "all", str(folder), str(KILLS), "7",
                                str(fake_model)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    results: dict[str, dict] = {}

    def result(scenario: str) -> dict:
        if not results:
            out, err = process.communicate(timeout=240)
            assert process.returncode == 0, err[-2000:]
            results.update({r["scenario"]: r for r in map(json.loads, out.splitlines())})
        return results[scenario]

    yield result
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.fixture(autouse=True, scope="module")
def start_killing_early(killed):
    return killed


def _table(frame: int, n: int = 4) -> pd.DataFrame:
    return pd.DataFrame({"y": np.arange(n, dtype=float) + frame, "x": np.arange(n, dtype=float), "score": 0.5,
                         "source": "model"})


def _commit_copy(project: Project, model: Path, **info) -> RoundInfo:
    workspace = project.new_workspace()
    for suffix in (".pt", ".json"):
        shutil.copyfile(model.with_suffix(suffix), workspace / f"model{suffix}")
    return project.commit_round(workspace, RoundInfo(number=0, origin="test", **info))


# ---- two writers ----------------------------------------------------------------------------------
def test_two_project_objects_in_one_process_lose_nothing(tmp_path, fake_model):
    first = Project.open(tmp_path / "img.tif", n_frames=10)
    second = Project.open(tmp_path / "img.tif", n_frames=10)
    first.accept_frame(0, _table(0))
    second.accept_frame(1, _table(1))  # written from a state read before the first's change
    first.remember_threshold(0.3)
    second.remember_detection(12.0, "dark")
    second.accept_region(2, (0, 0, 5, 5), _table(2))
    assert first.reviewed_frames == second.reviewed_frames == [0, 1]  # reads see the other's changes
    assert (first.threshold, first.diameter, first.polarity) == (0.3, 12.0, "dark")
    assert len(first.regions()) == 1
    a, b = _commit_copy(first, fake_model), _commit_copy(second, fake_model)
    assert (a.number, b.number) == (1, 2) and [r.number for r in first.rounds] == [1, 2]


# ---- crashes between steps, and what they leave ----------------------------------------------------
def test_an_orphan_round_is_recovered_and_never_blocks_the_next(tmp_path, fake_model):
    project = Project.open(tmp_path / "img.tif")
    _commit_copy(project, fake_model)
    _commit_copy(project, fake_model, f1=0.7, held_out=2)
    rounds = project.folder / "rounds"
    # A crash after the rename, before the state: round 3 on disk only. A second writer that dropped round 2
    # from the state. An empty folder someone made: its number is never reused.
    shutil.copytree(rounds / "round-002", rounds / "round-003")
    state = json.loads(project.state_path.read_text())
    state["rounds"] = state["rounds"][:1]
    state["current_round"] = 1
    project.state_path.write_text(json.dumps(state))
    (rounds / "round-007").mkdir()
    with pytest.warns(UserWarning, match="round-007"):
        reopened = Project.open(project.folder)
    assert [r.number for r in reopened.rounds] == [1, 2, 3]
    assert reopened.round(2).f1 == 0.7 and reopened.round(2).held_out == 2  # its info came back with it
    assert any("round-007" in p for p in reopened.problems)
    assert _commit_copy(reopened, fake_model).number == 8


def test_leftovers_are_cleaned_on_open_but_not_a_workspace_in_use(tmp_path, fake_model):
    project = Project.open(tmp_path / "img.tif")
    project.save_frame(1, _table(1))
    live = project.new_workspace()  # a fine-tune running in this window
    dead = project.folder / "rounds" / ".building-killed"
    dead.mkdir()
    (dead / "model.state.pt").write_bytes(b"x" * 1000)
    temporary = [project.folder / ".state.json.abc.tmp", project.folder / "frames" / ".frame-0001.csv.def.tmp"]
    for path in temporary:
        path.write_text("half")
    foreign = project.folder / ".another-program.tmp"  # a folder the user chose may hold others' files
    foreign.write_text("theirs")
    assert project.leftover_workspaces() == [dead]
    with pytest.warns(UserWarning, match=r"interrupted round's work \(.building-killed\) was discarded"):
        second = Project.open(project.folder)  # a second window
    assert not dead.exists() and not any(p.exists() for p in temporary) and foreign.exists()
    assert live.exists() and second.leftover_workspaces() == []
    assert project.commit_round(live, RoundInfo(number=0, origin="test")).number == 1
    (project.folder / "rounds" / ".building-again").mkdir()
    with pytest.warns(UserWarning, match="building-again"):
        assert [p.name for p in second.clean_leftovers()] == [".building-again"]


def test_an_interrupted_rounds_work_removed_on_open_is_said_once(tmp_path):
    # A round killed after its training, only waiting to be added, went without a word when the project was
    # opened again: no warning, no problem line in the dock or on the command line.
    project = Project.open(tmp_path / "img.tif")
    project.save_frame(1, _table(1))
    trained = project.folder / "rounds" / ".building-k1ll3d"
    trained.mkdir(parents=True)
    (trained / "model.pt").write_bytes(b"x" * 1000)
    (project.folder / "rounds" / ".building-k1ll3d.lock").write_text("")  # its program died holding it
    deleted = project.folder / "rounds" / ".building-deleted-round-001-4242"  # no work lost: not said
    deleted.mkdir()
    with pytest.warns(UserWarning, match="interrupted round"):
        reopened = Project.open(project.folder)
    assert not trained.exists() and not deleted.exists()
    assert len(reopened.problems) == 1 and "\n" not in reopened.problems[0]
    said = reopened.problems[0]
    assert said.startswith(f"{project.folder / 'rounds'}: an interrupted round's work (.building-k1ll3d)")
    assert "was discarded" in said and "deleted" not in said
    assert not Project.open(project.folder).problems  # said when it was removed, not at every opening


def test_one_unreadable_frame_is_reported_and_the_rest_load(tmp_path):
    project = Project.open(tmp_path / "img.tif", n_frames=5)
    for frame in range(4):
        project.accept_frame(frame, _table(frame))
    project.frame_path(2).write_bytes(b"\x00\xff garbage, no header")
    project.frame_path(3).write_text("frame,y,x,score,source\n3,1,inf,0.5,model\n")
    with pytest.warns(UserWarning):
        table = Project.open(project.folder).load_all()
    assert sorted(set(table["frame"])) == [0, 1]
    reopened = Project.open(project.folder)
    with pytest.warns(UserWarning):
        assert sorted(set(reopened.corrections()["frame"])) == [0, 1]
    assert len(reopened.problems) == 2 and all("left out" in p for p in reopened.problems)
    assert "frame-0002.csv" in reopened.problems[0] and "\n" not in reopened.problems[0]


# ---- crafted files ------------------------------------------------------------------------------


@pytest.mark.parametrize("content", CRAFTED_STATES.values(), ids=CRAFTED_STATES.keys())
def test_a_crafted_state_is_one_clear_error_naming_the_file(tmp_path, content):
    message = try_crafted_state(tmp_path / "p.particle-detect", content)
    assert message is not None and not message.startswith("UNCLEAN"), message


WRITES_THROUGH = {
    "frames": lambda project: project.save_frame(1, _table(1)),
    "rounds": lambda project: project.new_workspace(),
    "state.json": lambda project: project.remember_threshold(0.2),
}


@pytest.mark.parametrize("link", WRITES_THROUGH)
def test_links_inside_a_project_are_refused(tmp_path, link):
    project = Project.open(tmp_path / "img.tif")
    project.accept_frame(0, _table(0))
    outside = tmp_path / "outside"
    outside.mkdir()
    target = project.folder / link
    if target.exists():
        shutil.move(target, outside / link)
    else:
        (outside / link).mkdir()
    target.symlink_to(outside / link)
    before = sorted((p, p.stat().st_mtime_ns) for p in outside.rglob("*"))
    with pytest.raises(ParticleDetectError, match="symbolic link"):
        Project.open(project.folder)
    with pytest.raises(ParticleDetectError, match="symbolic link"):
        WRITES_THROUGH[link](project)
    assert sorted((p, p.stat().st_mtime_ns) for p in outside.rglob("*")) == before


def test_a_linked_frame_file_is_neither_read_nor_written_through(tmp_path):
    project = Project.open(tmp_path / "img.tif", n_frames=3)
    project.accept_frame(0, _table(0))
    secret = tmp_path / "secret.csv"
    secret.write_text("frame,y,x\n1,5,5\n")
    project.frame_path(1).symlink_to(secret)
    with pytest.warns(UserWarning, match="symbolic link"):
        assert set(project.load_all()["frame"]) == {0}
    with pytest.raises(ParticleDetectError, match="symbolic link"):
        project.save_frame(1, _table(1))
    assert secret.read_text() == "frame,y,x\n1,5,5\n"


class Payload:
    """Creates a file when unpickled: the proof that loading ran code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_pickle_in_a_resume_state_or_weights_runs_nothing(tmp_path, capsys):
    marker = tmp_path / "ran"
    torch.save({"network": Payload(marker), "optimiser": {}, "scheduler": {}, "epoch": 0, "best_f1": 0.0,
                "history": []}, tmp_path / "m.state.pt")
    assert main(["-q", "train", "-o", str(tmp_path / "m"), "--resume", "--epochs", "1", "--device", "cpu"]) == 2
    err = capsys.readouterr().err.strip()
    assert "m.state.pt: refused" in err and "\n" not in err
    shutil.copyfile(default_model_path().with_suffix(".json"), tmp_path / "evil.json")
    torch.save({"weight": Payload(marker)}, tmp_path / "evil.pt")
    image = tmp_path / "img.tif"
    tifffile.imwrite(image, synthesize(SynthConfig(shape=(32, 32)), seed=0).image)
    assert main(["-q", "detect", str(image), "-o", str(tmp_path / "c.csv"), "--model", str(tmp_path / "evil.pt")]) == 2
    assert "evil.pt: refused" in capsys.readouterr().err
    assert not marker.exists()


# ---- the command line: one line and exit status 2 for every bad input --------------------------
@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return make_bad_data(tmp_path_factory.mktemp("data"))




@pytest.mark.parametrize("command", BAD_COMMANDS.values(), ids=BAD_COMMANDS.keys())
def test_every_bad_input_is_one_line_and_status_2(data, command):
    result = try_command(data, command)
    assert command_is_clean(result), result


def test_a_long_image_name_gets_a_project_folder_that_fits(tmp_path):
    image = tmp_path / ("a" * 245 + ".tif")
    project = Project.open(image)
    project.save_frame(0, _table(0))
    assert len(project.folder.name) <= 255 and project.folder.name.endswith(".particle-detect")
    assert Project.open(image).folder == project.folder




def test_a_full_disk_is_one_line_and_leaves_the_old_files(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parent), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", DISK_FULL, str(tmp_path)], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["synth"] == 2 and "particle-detect: error:" in done.stderr and "Traceback" not in done.stderr
    assert "cannot save the project (File too large)" in result["save"]
    assert result["frame"] == 1 and result["reviewed"] == [0]  # the frame as it was before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["img.particle-detect"]  # no partial synth folder
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="permissions do not bind the root user")
def test_a_read_only_project_still_opens_and_says_why_it_cannot_save(tmp_path):
    project = Project.open(tmp_path / "img.tif")
    project.accept_frame(0, _table(0))
    project.folder.chmod(0o555)
    try:
        reopened = Project.open(project.folder)
        assert reopened.reviewed_frames == [0]
        with pytest.raises(ParticleDetectError, match="cannot save the project"):
            reopened.accept_frame(1, _table(1))
    finally:
        project.folder.chmod(0o755)


def test_tiff_pages_saved_one_by_one_are_all_read(tmp_path):
    from napari_particle_detect.files.io import read_image

    frames = [synthesize(SynthConfig(shape=(32, 32)), seed=s).image for s in range(3)]
    with tifffile.TiffWriter(tmp_path / "pages.tif") as tif:
        for frame in frames:
            tif.write(frame)  # three separate images in one file, as some acquisition programs write them
    for lazy in (False, True):
        np.testing.assert_array_equal(np.asarray(read_image(tmp_path / "pages.tif", lazy=lazy)), np.stack(frames))


# ---- the kill scenarios' results, last: the child process running them overlaps every test above -------
def test_two_processes_keep_every_acceptance(killed):
    result = killed("writers")
    assert result["errors"] == []
    assert result["kept"] == 100 and result["lost"] == 0


def test_a_workspace_another_program_builds_in_survives_until_it_dies(killed):
    result = killed("live")
    assert result["live_kept"] and result["dead_removed"]


def test_kills_during_saves_lose_nothing_and_leave_nothing(killed):
    result = killed("saves")
    assert result["kills"] == KILLS and result["completed_calls"] > 0
    assert result["errors"] == [] and result["unreadable"] == 0 and result["lost"] == 0
    assert result["leftovers_after"] == [] and result["problems"] == []


def test_kills_during_rounds_keep_disk_and_state_in_step(killed):
    result = killed("rounds")
    assert result["kills"] == KILLS and result["completed_calls"] > 0
    assert result["errors"] == [] and result["unreadable"] == 0 and result["lost"] == 0
    assert result["leftovers_after"] == []
    assert result["rounds_on_disk"] == result["rounds_in_state"] == result["next_round"]
