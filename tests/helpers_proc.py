"""Helpers of the tests that run the command line in a process of its own."""

from __future__ import annotations

import sys

CLI_MODULE = "napari_particle_detect.cli.main"


def particle_detect_argv(*args: str, same_stop_s: float | None = None) -> list[str]:
    """The argv of ``particle-detect ARGS`` run as ``python -m``. ``same_stop_s``: stop_signals.SAME_STOP_S in that
    process, for a test sending it one stop signal: a command stopped by SIGTERM or SIGHUP waits that window out
    before it ends (1 s by default). Its spawned cluster workers import the command's module as ``-m`` has them."""
    if same_stop_s is None:
        return [sys.executable, "-m", CLI_MODULE, *args]
    launch = ("import runpy, napari_particle_detect.stop_signals as stop_signals\n"
              f"stop_signals.SAME_STOP_S = {same_stop_s!r}\n"
              f"runpy.run_module({CLI_MODULE!r}, run_name='__main__', alter_sys=True)")
    return [sys.executable, "-c", launch, *args]



def closed_at_once(cluster) -> None:
    """Close ``cluster`` (a LocalCluster of worker processes) once its tests are done with it, its worker processes
    killed first, as close_local_client closes one quietly: closed gracefully, a worker process that had imported
    torch took a second or more to end."""
    from napari_particle_detect.files.distributed import _kill_worker_processes

    _kill_worker_processes(cluster)
    cluster.close()
