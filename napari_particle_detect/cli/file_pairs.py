"""``evaluate`` on tables of several files: which predictions are scored against which truth, and a
warning for a file only the truth holds (the pooled scores then count it as all missed)."""

from __future__ import annotations

import argparse
import logging

import pandas as pd

log = logging.getLogger("particle-detect")


def paired_files(args: argparse.Namespace, predicted: pd.DataFrame, truth: pd.DataFrame
                 ) -> tuple[pd.DataFrame, pd.DataFrame, list[tuple[str, int]] | None]:
    """The tables scored file by file where they hold several (kinds/evaluation.pair_files), saying which
    files only one of them holds; and the (file, frame) of each frame number (None: no files). The truth only
    in the frames detect's .json beside the predictions says were detected (cli/detected_frames.py)."""
    from ..kinds.file_pairing import pair_files
    from .detected_frames import detected_frames_only

    read = predicted
    predicted, truth, labels, alone = pair_files(predicted, truth, str(args.predicted), str(args.truth),
                                                 getattr(args, "file", None))
    truth, alone = detected_frames_only(args, read, predicted, truth, labels, alone)
    # Predictions without truth are left out (pair_files says so), so only the truth can stand alone.
    for name, source in alone.items():  # a warning: the pooled scores are not what the user may think
        log.warning("file %s is only in %s: its centres count as missed", name, source)
    return predicted, truth, labels
