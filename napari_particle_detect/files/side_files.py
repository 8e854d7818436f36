"""The names of the files a detection run writes beside its table: its metadata and a chains run's per-chain
table. Read by writers and checkers in every layer (files, kinds, cli) from here, a module that imports nothing
of the package, so naming them draws no import circle."""

from __future__ import annotations

from pathlib import Path


def metadata_path(output: Path) -> Path:
    """The metadata detect writes beside its table ``output`` (OUT.json): every writer and reader of it names it
    here, as :func:`kind_tables` names a chains run's per-chain table, so a table and its records never part."""
    return Path(output).with_suffix(".json")


def kind_tables(output: Path) -> Path:
    """The per-chain table written beside a chains output (kinds.registry.write_kind_table)."""
    return Path(output).with_suffix(".chains.csv")


def side_tables(output: Path, kind: str) -> list[Path]:
    """The tables a ``kind`` run writes beside ``output`` besides its metadata: a chains run's per-chain table."""
    return [kind_tables(output)] if kind == "chains" else []
