"""What a process's first training round pays for before its first step, paid ahead of time.

The first optimiser a process builds imports ``torch._dynamo`` (torch's optimisers are wrapped by it):
1.3 s on the idle 2-core CPU this project is measured on, 2 s beside other work. A round on two 512 px
frames takes 11-17 s there, so a dock's first round was about a tenth slower than every later one
(outside the dock, two rounds in one fresh process on one thread: 20.4 s then 17.5 s; with the import
done before them, 16.3 s then 16.0 s). The docks start :func:`prepare_training` in a worker when they
open, while the user is still reviewing.
"""

from __future__ import annotations

import importlib
import sys

FIRST_OPTIMISER_IMPORT = "torch._dynamo"


def training_prepared() -> bool:
    """Whether this process has already imported what its first optimiser would."""
    return FIRST_OPTIMISER_IMPORT in sys.modules


def prepare_training() -> None:
    """Import what the process's first optimiser would import (idempotent, and quick once done)."""
    importlib.import_module(FIRST_OPTIMISER_IMPORT)
