"""Use the Rods and chains dock as a user would, in a real napari window, on the rods and the chains
sample (File → Open Sample): Detect, correct a few rods or beads, accept a box, Undo, accept it
again, Review next, accept the frame, two fine-tuning rounds, Export, close the dock and open it
again (everything comes back from the project).

Run headless with ``xvfb-run -a .venv/bin/python scripts/kinds_walkthrough.py [STEPS]``. Screenshots
(whole window) go to docs/ (``screenshot_napari_rods.png``, ``screenshot_napari_chains.png`` after
reopening, ``screenshot_napari_<kind>_round.png`` after the rounds); a line per check is printed.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

# The walkthrough's scratch home, settings and checks are dock_walkthrough's (importing it sets them).
from dock_walkthrough import CHECKS, SCRATCH, check, settle, wait_for  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
_parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
_parser.add_argument("steps", nargs="?", type=int, default=None, help="training steps of each round (default: the dock's)")
STEPS = _parser.parse_args().steps


def correct_rods(viewer, session) -> None:
    layer = viewer.layers[session.names[0]]
    scores = layer.features["score"].to_numpy(float)
    layer.selected_data = {int(np.nanargmin(scores))}
    layer.remove_selected()  # the least sure rod is wrong
    lines = [np.array(d) for d in layer.data]
    lines[0][1] = lines[0][1] + 0.2 * (lines[0][1] - lines[0][0])  # a tip dragged out: longer
    layer.data = lines
    layer.shape_type = ["line"] * len(lines)
    layer.add_lines(np.array([[200.0, 20.0], [215.0, 40.0]]))  # a rod the model missed, drawn by hand


def correct_chains(viewer, session) -> None:
    layer = viewer.layers[session.names[0]]
    scores = layer.features["score"].to_numpy(float)
    layer.selected_data = {int(np.nanargmin(scores))}
    layer.remove_selected()
    data = layer.data.copy()
    data[0] += 1.5  # a bead nudged to its centre
    layer.data = data
    layer.add(np.array([[250.0, 250.0]]))  # a free bead the model missed


def walk(kind: str, app) -> None:
    import napari

    from napari_particle_detect.kinds.registry import read_kind_table
    from napari_particle_detect.learning.kinds_rounds import KIND_ROUND

    viewer = napari.Viewer(show=True, title="napari-particle-detect")
    viewer.window._qt_window.resize(1400, 950)
    viewer.open_sample("napari-particle-detect", kind)
    _, widget = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Rods and chains")
    widget.kind_combo.setCurrentText(kind)
    settle(app)
    started = time.monotonic()
    widget.detect()
    wait_for(lambda: widget.worker is None, app)
    session = widget.session
    check(session is not None and len(session.tables.get(0, [])) > 0,
          f"{kind}: Detect fills the layer ({len(session.tables[0])} rows, {time.monotonic() - started:.1f} s under load)")
    before = session.tables[0].copy()
    (correct_rods if kind == "rods" else correct_chains)(viewer, session)
    settle(app)
    after = session.tables[0]
    check((after["source"] == "added").sum() == 1 and len(after) == len(before),
          f"{kind}: a deletion, a move and an addition are saved at once ({len(after)} rows, 1 added)")
    if kind == "chains":
        layer = viewer.layers[session.names[0]]
        features = layer.features
        # A chain's first bond cut, then its two new ends linked again (a link spans a bond at most).
        chain = next(c for c, g in features.groupby("chain") if len(g) >= 3 and not g["closed"].any())
        pair = {int(np.flatnonzero(((features["chain"] == chain) & (features["index"] == i)).to_numpy())[0])
                for i in (0, 1)}
        layer.selected_data = pair
        count = session.tables[0]["chain"].nunique()
        widget.review.cut()
        parted = session.tables[0]["chain"].nunique()
        layer.selected_data = pair
        widget.review.link()
        check(parted == count + 1 and session.tables[0]["chain"].nunique() == count,
              f"chains: Cut between 2 parts a chain ({count} -> {parted}), Link 2 ends joins it again")
    session.regions.propose(0, (-0.5, -0.5, 127.5, 127.5))
    widget.review.accept_region()
    check(len(session.project.regions(0)) == 1, f"{kind}: a box accepted")
    widget.review.undo()
    check(session.project.regions(0) == [], f"{kind}: Undo un-accepts it")
    session.regions.propose(0, (-0.5, -0.5, 127.5, 127.5))
    widget.review.accept_region()
    widget.review.review_next()
    check("Next: frame 0" in widget.review.suggestion.text(), f"{kind}: Review next: {widget.review.suggestion.text()}")
    widget.review.accept_frame()
    check(session.project.reviewed_frames == [0], f"{kind}: frame accepted ({widget.review.status.text()})")
    config = replace(KIND_ROUND, steps_per_epoch=STEPS) if STEPS else None
    for number in (2, 3):
        started = time.monotonic()
        widget.rounds.run(config)
        wait_for(lambda: not widget.rounds.running(), app)
        check(len(session.project.rounds) == number,
              f"{kind}: round {number} in {time.monotonic() - started:.0f} s under load: {widget.rounds.status.text()}")
    settle(app)
    viewer.screenshot(str(ROOT / "docs" / f"screenshot_napari_{kind}_round.png"), canvas_only=False)
    out = SCRATCH / f"{kind}.csv"
    widget.review.export(out)
    again = read_kind_table(out, kind)
    check(len(again) == len(session.whole_table()), f"{kind}: exported {len(again)} rows, read back by the reader")
    opened = viewer.open(out, plugin="napari-particle-detect")
    check(len(opened) == (1 if kind == "rods" else 2), f"{kind}: the exported CSV opens as {len(opened)} layer(s)")
    for layer in opened:
        viewer.layers.remove(layer)
    if kind == "chains":
        summary = pd.read_csv(out.with_suffix(".chains.csv"))
        check(summary["beads"].sum() == len(again), f"chains: per-chain table beside it ({len(summary)} chains)")
    rounds = len(session.project.rounds)
    viewer.window.remove_dock_widget("all")
    for name in session.names:  # the dock's X removed them; the project brings them back
        if name in viewer.layers:
            viewer.layers.remove(name)
    settle(app)
    _, widget = viewer.window.add_plugin_dock_widget("napari-particle-detect", "Rods and chains")
    widget.kind_combo.setCurrentText(kind)
    settle(app, 1.0)
    back = widget.session
    check(back is not None and back.names[0] in viewer.layers and widget.rounds.table.rowCount() == rounds
          and back.project.reviewed_frames == [0],
          f"{kind}: closed and reopened, the layers, the reviewed frame and {rounds} rounds come back")
    viewer.screenshot(str(ROOT / "docs" / f"screenshot_napari_{kind}.png"), canvas_only=False)
    viewer.close()


def main() -> None:
    from napari.settings import get_settings
    from qtpy.QtWidgets import QApplication

    import napari  # noqa: F401

    get_settings().application.gui_notification_level = "error"
    app = QApplication.instance() or QApplication([])
    for kind in ("rods", "chains"):
        walk(kind, app)
    print("\n".join(CHECKS))
    if any(line.startswith("FAIL") for line in CHECKS):
        sys.exit(1)


if __name__ == "__main__":
    main()
