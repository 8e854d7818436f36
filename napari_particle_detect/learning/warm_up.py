"""What a process's first training round pays for before its first step, paid ahead of time.

The first optimiser a process builds imports ``torch._dynamo`` (torch's optimisers are wrapped by it):
1.3 s on the idle 2-core CPU this project is measured on, 2 s beside other work. A round on two 512 px
frames takes 11-17 s there, so a dock's first round was about a tenth slower than every later one
(outside the dock, two rounds in one fresh process on one thread: 20.4 s then 17.5 s; with the import
done before them, 16.3 s then 16.0 s). The docks start :func:`prepare_training` in a worker when they
open, while the user is still reviewing; ``particle-detect train`` starts it in a thread
(:func:`prepare_training_meanwhile`) as it begins to read its examples, which it does for seconds before its
first step.
"""

from __future__ import annotations

import importlib
import sys
import threading

FIRST_OPTIMISER_IMPORT = "torch._dynamo"


def training_prepared() -> bool:
    """Whether this process has already imported what its first optimiser would."""
    return FIRST_OPTIMISER_IMPORT in sys.modules


def prepare_training() -> None:
    """Import what the process's first optimiser would import (idempotent, and quick once done)."""
    importlib.import_module(FIRST_OPTIMISER_IMPORT)


def prepare_training_meanwhile() -> None:
    """:func:`prepare_training` in a background thread, for a process about to read its training examples: the
    import runs while they are read, which mostly waits in NumPy and torch with Python's lock released.

    A daemon thread: a command refused before its first step is not kept waiting for an import it no longer needs.
    Its failure is not said here: the first optimiser imports again and says it where it matters."""
    if training_prepared():
        return
    threading.Thread(target=_prepare_quietly, name="prepare-training", daemon=True).start()


def _prepare_quietly() -> None:
    try:
        prepare_training()
    except BaseException:  # noqa: BLE001 - said by the first optimiser's own import, if it fails there too
        pass
