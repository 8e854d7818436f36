"""What ``evaluate`` reads beside its two tables: synth's ``synth.json`` beside the truth and detect's ``.json``
beside the predictions (the images' sizes for ``--border``, the volumes' voxel sizes), each read once, and only
where asked for."""

from __future__ import annotations

import argparse
import json
from functools import cached_property
from pathlib import Path
from typing import TypeVar

import pandas as pd

from ..errors import ParticleDetectError

Value = TypeVar("Value")


class RecordsBesideTables:
    """The records beside ``args.truth`` and ``args.predicted``, read on first use."""

    def __init__(self, args: argparse.Namespace):
        self.args = args

    @property
    def synth_path(self) -> Path:
        return Path(self.args.truth).parent / "synth.json"

    @property
    def detect_path(self) -> Path:
        from ..files.file_detection import metadata_path

        return metadata_path(self.args.predicted)

    @cached_property
    def synth(self) -> dict:
        """synth.json beside the truth; {} without one (or one that is no JSON object)."""
        try:
            record = json.loads(self.synth_path.read_text())
        except (OSError, ValueError):
            return {}
        return record if isinstance(record, dict) else {}

    @cached_property
    def detect_metadata(self) -> dict:
        """Detect's .json beside the predictions; {} without one (or one detect did not write)."""
        from ..files.file_detection import is_detect_metadata, read_metadata

        meta = read_metadata(self.args.predicted)
        return meta if is_detect_metadata(meta) else {}

    @cached_property
    def inputs(self) -> dict[str, dict]:
        """Each input's record in detect's .json beside the predictions, by the file as the table names it; {}
        without one."""
        from ..files.tables import input_records

        return input_records(self.detect_metadata)

    def for_file(self, values: dict[str, Value], name: str | None) -> Value | None:
        """What detect's .json records (``values``, by file) of the file ``name``; where the paired tables name no
        file (None), of the one ``--file`` picks, else the one value every input shares (None where they differ)."""
        from ..kinds.file_pairing import chosen_file

        if name is not None:
            return values.get(name)
        if self.args.file is not None and values:
            try:
                return values.get(chosen_file(pd.DataFrame({"file": list(values)}), self.args.file,
                                              str(self.args.predicted)))
            except ParticleDetectError:  # not one of its inputs: the .json is of other images
                return None
        distinct = list(dict.fromkeys(values.values()))
        return distinct[0] if len(distinct) == 1 else None
