"""Which kind of particle a table's columns make it (rods, chains or spheres), and each kind's columns in the
order every writer gives them: what the centre-table reader and writer (files/centre_csv.py) and the kinds'
encodings (kinds/rods.py, kinds/chains.py) share, with no import of either."""

from __future__ import annotations


# Columns that make a table one of the other kinds' (kinds/rods.py, kinds/chains.py COLUMNS).
KIND_SIGNATURES = {"rods": ("angle", "length"), "chains": ("chain", "index")}
# Each kind's table columns in the order detect, the command line and write_centres give them.
KIND_COLUMNS = {"rods": ("frame", "y", "x", "angle", "length", "width", "y1", "x1", "y2", "x2", "score"),
                "chains": ("frame", "y", "x", "score", "chain", "index", "closed")}
# A rods table of tips alone (ImageJ's line selections), read by its tips (kinds.rods.from_tips); with y or x
# it is no such table: sphere centres with extra columns stay spheres.
ROD_TIPS = ("y1", "x1", "y2", "x2")


def table_kind(columns) -> str:
    """rods (angle and length columns, or the tips y1, x1, y2, x2 without y and x), chains (chain and index) or
    spheres, from a table's columns."""
    names = {str(c).strip() for c in columns}
    found = next((kind for kind, needed in KIND_SIGNATURES.items() if set(needed) <= names), "spheres")
    return "rods" if found == "spheres" and is_tips_table(names) else found


def is_tips_table(columns) -> bool:
    """Whether a table's columns are a rods table's tips alone (ROD_TIPS, no y or x), as kinds.rods.from_tips
    reads them."""
    names = {str(c).strip() for c in columns}
    return set(ROD_TIPS) <= names and not {"y", "x"} & names


# What a table of tips alone may be instead: many detectors (and ImageJ's, CellProfiler's boxes) write boxes' corners
# so, which read as rods are their diagonals, drawn and scored without a word.
BOXES_HINT = "if they are boxes' corners, not rods' tips, add columns y and x (the boxes' centres) to read them as centres"


def tips_note(columns) -> str:
    """For a table of tips alone (:func:`is_tips_table`) read as rods without the user saying so (no --kind rods),
    how it is read and what to add where its y1, x1, y2, x2 are boxes' corners; '' for any other table."""
    if not is_tips_table(columns):
        return ""
    return f"y1, x1, y2, x2 without y and x read as rods' tips (line ends); {BOXES_HINT}"


def columns_said(kind: str, columns) -> str:
    """The columns that make a table of ``columns`` one of ``kind``, as a refusal names them ("angle, length"): a
    rods table of tips alone by its tips, which has no angle or length column to name."""
    return ", ".join(ROD_TIPS if kind == "rods" and is_tips_table(columns) else KIND_SIGNATURES[kind])
