"""A stop during an import waits for the outermost import under way, told by that frame alone: the hook that looked
for importlib's frames below every call tripled the time torch's import took (CPU 6-8 s against 2 s on this
machine), so a Ctrl-C in detect's first seconds stopped it 6-8 s later, after the time the whole run would have
taken. Here the stop comes in a nested import; the module importing it goes on as a C extension does, turning a
KeyboardInterrupt raised in the rest of its own import into an ImportError: the stop must wait for it too."""

from __future__ import annotations

import importlib
import sys
import textwrap

import pytest

from napari_particle_detect.cli.main import _stop_signals_as_ctrl_c

INNER = textwrap.dedent("""
    import os
    import signal

    os.kill(os.getpid(), signal.SIGINT)
    STEPS = sum(range(1000))  # the handler runs here, two imports deep
""")

OUTER = textwrap.dedent("""
    try:
        import {inner}
        AFTER = [str(n) for n in range(100)]  # the rest of its initialisation, calls and all
    except KeyboardInterrupt:
        raise ImportError("initialization failed") from None
""")


def test_a_stop_in_a_nested_import_waits_for_the_outermost_import(tmp_path, monkeypatch):
    inner, outer = "s61_inner_stopped", "s61_outer_converting"
    (tmp_path / f"{inner}.py").write_text(INNER)
    (tmp_path / f"{outer}.py").write_text(OUTER.format(inner=inner))
    monkeypatch.syspath_prepend(str(tmp_path))
    for module in (inner, outer):
        monkeypatch.delitem(sys.modules, module, raising=False)
    reached = []
    with pytest.raises(KeyboardInterrupt):
        with _stop_signals_as_ctrl_c([]):
            try:
                importlib.import_module(outer)
            except ImportError as failed:  # the stop raised inside the outer import: taken for its failure
                reached.append(f"failed: {failed}")
            reached.append("the next file's work")
    assert reached == []
    assert sys.modules[outer].AFTER[-1] == "99"  # the outer import finished before the stop
    assert sys.getprofile() is None
