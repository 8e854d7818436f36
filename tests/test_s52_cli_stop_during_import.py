"""A stop (SIGTERM, SIGHUP, Ctrl-C) that comes while a module is being imported stops the command once the import is
done. Raised within it, a C extension's import (onnxruntime's, any importing numpy's C API) turned the
KeyboardInterrupt into an ImportError ('initialization failed'): a folder run took that for its file's failure,
marked the file failed with that reason and went on with the rest, the stop lost."""

from __future__ import annotations

import importlib
import os
import signal
import sys
import textwrap
from pathlib import Path

import pytest

from napari_particle_detect.cli.main import _stop_signals_as_ctrl_c

# A module whose import receives a stop signal and, as a C extension's initialisation does, turns a
# KeyboardInterrupt raised within it into an ImportError.
CONVERTING_MODULE = textwrap.dedent("""
    import os
    import signal

    try:
        os.kill(os.getpid(), signal.{signal_name})
        STEPS = sum(range(1000))  # the handler runs here, within the import
    except KeyboardInterrupt:
        raise ImportError("initialization failed") from None
""")


def a_file_detected() -> str:
    """What a folder run does after a file fails: the next file's work, in Python."""
    return "".join(str(number) for number in range(3))


def import_as_a_file_does(module: str) -> str:
    """A folder run's per-file step: an import that fails is that file's failure, and the run goes on."""
    try:
        importlib.import_module(module)
    except Exception as exc:  # noqa: BLE001 - as cli/volumes.py and files/distributed.py catch a file's failure
        return f"failed: {exc}"
    return "imported"


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGINT"])
def test_a_stop_during_an_import_stops_the_run_once_the_import_is_done(tmp_path, monkeypatch, signal_name):
    module = f"s52_converts_interrupt_{signal_name.lower()}"
    (tmp_path / f"{module}.py").write_text(CONVERTING_MODULE.format(signal_name=signal_name))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, module, raising=False)
    stopped_by: list[int] = []
    said = []
    with pytest.raises(KeyboardInterrupt):
        with _stop_signals_as_ctrl_c(stopped_by):
            said.append(import_as_a_file_does(module))
            said.append(a_file_detected())
    assert said == []  # neither a failure of the file nor the next file's work: stopped as the import returned
    assert stopped_by == ([signal.SIGTERM] if signal_name == "SIGTERM" else [])
    assert sys.getprofile() is None


def test_a_stop_outside_an_import_stops_at_once_and_the_handlers_are_put_back():
    before = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    stopped_by: list[int] = []
    reached = []
    with pytest.raises(KeyboardInterrupt):
        with _stop_signals_as_ctrl_c(stopped_by):
            os.kill(os.getpid(), signal.SIGTERM)
            reached.append(sum(range(1000)))
    assert reached == [] and stopped_by == [signal.SIGTERM]
    assert {number: signal.getsignal(number) for number in before} == before
    assert Path(__file__).exists()
