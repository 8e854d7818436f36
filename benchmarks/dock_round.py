"""A fine-tuning round in the napari dock against the same round outside it (issue 17: no longer).

Two 512 x 512 frames of loop.py's dim_small optics are written to a TIFF and opened as a user
opens a file (``viewer.open``; ``--add-image`` adds the array instead, which leaves napari's
activity spinner off: README, known limits), detected in the dock and accepted as detected. Then,
alternating: the round as the dock's worker runs it (``learning.rounds.run_round``, called here
directly, its result discarded) and the round from the dock's Fine-tune (a worker thread, the
window shown, the event loop running), both with the same settings. Run it under Xvfb:

    xvfb-run -a .venv/bin/python benchmarks/dock_round.py [--repeats 2] [--add-image]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import napari_particle_detect  # noqa: F401 - before torch: its OpenMP wait policy, as users run it
import numpy as np
import tifffile

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C  # noqa: E402
import loop  # noqa: E402

from napari_particle_detect.learning.finetune import FINE_TUNE  # noqa: E402
from napari_particle_detect.learning.rounds import run_round  # noqa: E402
from napari_particle_detect.projects.project import HOME_ENV  # noqa: E402
from napari_particle_detect.synthetic.spheres import synthesize  # noqa: E402


def wait_while(busy, timeout_s: float = 600.0) -> None:
    """Run Qt's event loop, as napari's own does while a user waits, until ``busy()`` turns false (looked
    at every 0.1 s; a busy loop of processEvents would take CPU from the round it measures)."""
    from qtpy.QtCore import QEventLoop, QTimer

    loop, check = QEventLoop(), QTimer()
    end = time.monotonic() + timeout_s
    timed_out = []

    def look() -> None:
        if time.monotonic() > end:
            timed_out.append(True)
            loop.quit()
        elif not busy():
            loop.quit()

    check.timeout.connect(look)
    check.start(100)
    loop.exec_()
    check.stop()
    if timed_out:
        raise TimeoutError("the dock did not finish in time")


def interface_thread_cost(busy, profile: bool) -> float:
    """CPU seconds the interface thread spends while ``busy()`` (the round runs on a worker);
    with ``profile``, what it spent them on."""
    import cProfile
    import pstats

    profiler = cProfile.Profile() if profile else None
    start = time.thread_time()
    if profiler:
        profiler.enable()
    wait_while(busy)
    if profiler:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
    return time.thread_time() - start


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    C.add_common_args(p)
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--add-image", action="store_true", help="add the array instead of opening the file")
    p.add_argument("--loss-redraw-ms", type=int, default=None,
                   help="the loss curve's redraw interval (plots.LOSS_REDRAW_MS; 0: on every progress event, as before)")
    p.add_argument("--profile", action="store_true", help="print what the interface thread spends its time on "
                   "during the rounds in the dock")
    args = p.parse_args(argv)
    C.setup(args.threads)
    import napari

    from napari_particle_detect._napari import plots
    from napari_particle_detect._napari.widget import ParticleDetectWidget

    if args.loss_redraw_ms is not None:
        plots.LOSS_REDRAW_MS = args.loss_redraw_ms

    print(C.environment_line())
    _, synth = loop.DOMAINS["dim_small"]
    stack = np.stack([synthesize(replace(synth, shape=(512, 512)), seed=loop.SEED_BASE + 50_000 + i).image
                      for i in range(2)])
    folder = Path(tempfile.mkdtemp(prefix="dock-round-"))
    # The added array's project goes under a home of its own, not the user's.
    os.environ[HOME_ENV] = str(folder / "home")
    path = folder / "dim_spheres.tif"
    tifffile.imwrite(path, stack)
    viewer = napari.Viewer(show=True)
    if args.add_image:
        viewer.add_image(stack, name="dim_spheres")
    else:
        viewer.open(str(path), plugin="napari")
    widget = ParticleDetectWidget(viewer)
    viewer.window.add_dock_widget(widget)
    widget.detect.device_combo.setCurrentText("cpu")
    widget.detect.scope_combo.setCurrentIndex(1)
    widget.detect.run_button.click()
    wait_while(widget.detect.running)
    viewer.dims.set_current_step(0, 0)
    widget.review.accept_and_next()
    widget.review.accept_and_next()
    project = widget.annotation.project
    print(f"{'viewer.add_image' if args.add_image else 'viewer.open'}; reviewed frames {project.reviewed_frames}; "
          f"{args.threads} torch threads; {FINE_TUNE.steps_per_epoch} steps")
    config = replace(FINE_TUNE, threads=args.threads)
    layer = viewer.layers[0]
    outside, inside = [], []
    for _ in range(args.repeats):
        start = time.monotonic()
        outcome = run_round(project, layer.data, config, "cpu")
        outside.append(time.monotonic() - start)
        project.discard_workspace(outcome.workspace)
        start = time.monotonic()
        widget.finetune.run(config)
        interface = interface_thread_cost(widget.finetune.running, args.profile)
        inside.append(time.monotonic() - start)
        print(f"  outside the dock {outside[-1]:.1f} s, in the dock {inside[-1]:.1f} s, of which the interface "
              f"thread's CPU {interface:.2f} s ({widget.finetune.status.text()[:70]})", flush=True)
    ratio = float(np.median(inside) / np.median(outside))
    C.print_targets([("a round in the dock takes no longer than outside it (within 10 %)", ratio <= 1.1,
                      f"{ratio:.2f}x (medians {np.median(inside):.1f} s and {np.median(outside):.1f} s)")])
    viewer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
