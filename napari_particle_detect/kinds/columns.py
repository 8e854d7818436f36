"""Which kind of particle a table's columns make it (rods, chains or spheres), and each kind's columns in the
order every writer gives them: what the centre-table reader and writer (files/centre_csv.py) and the kinds'
encodings (kinds/rods.py, kinds/chains.py) share, with no import of either."""

from __future__ import annotations


# Columns that make a table one of the other kinds' (kinds/rods.py, kinds/chains.py COLUMNS).
KIND_SIGNATURES = {"rods": ("angle", "length"), "chains": ("chain", "index")}
# Each kind's table columns in the order detect, the command line and write_centres give them.
KIND_COLUMNS = {"rods": ("frame", "y", "x", "angle", "length", "width", "y1", "x1", "y2", "x2", "score"),
                "chains": ("frame", "y", "x", "score", "chain", "index", "closed")}


def table_kind(columns) -> str:
    """rods (angle and length columns), chains (chain and index) or spheres, from a table's columns."""
    names = {str(c).strip() for c in columns}
    return next((kind for kind, needed in KIND_SIGNATURES.items() if set(needed) <= names), "spheres")
