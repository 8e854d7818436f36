"""Correcting which beads belong together: link two chain ends (or free beads) with a bond, or cut the
bond between two neighbouring beads. The two mistakes a bead-chain model makes are a missing bond
(one chain found as two) and a spurious one (two touching chains found as one); moving, adding and
deleting beads cannot fix either.

Works on beads in any row order (a napari Points layer's): columns ``chain``, ``index``, ``closed``
and, for stacks, ``frame``; a ``chain`` below 0 is a bead placed by hand (a chain of its own).
Returns the same rows with new ``chain``, ``index`` and ``closed``. No Qt here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ParticleDetectError


def _prepared(beads: pd.DataFrame, a: int, b: int) -> pd.DataFrame:
    beads = beads.copy().reset_index(drop=True)
    if "frame" not in beads:
        beads["frame"] = 0
    if "closed" not in beads:
        beads["closed"] = 0
    if a == b or not (0 <= a < len(beads) and 0 <= b < len(beads)):
        raise ParticleDetectError("select two different beads")
    if beads.at[a, "frame"] != beads.at[b, "frame"]:
        raise ParticleDetectError("the two beads are in different frames")
    frame = beads["frame"] == beads.at[a, "frame"]
    free = frame & (beads["chain"] < 0)
    start = int(beads.loc[frame, "chain"].max()) + 1 if frame.any() else 0
    beads.loc[free, "chain"] = np.arange(max(start, 0), max(start, 0) + int(free.sum()))
    beads.loc[free, "index"] = 0
    beads.loc[free, "closed"] = 0
    return beads


def _members(beads: pd.DataFrame, bead: int) -> pd.Index:
    same = (beads["frame"] == beads.at[bead, "frame"]) & (beads["chain"] == beads.at[bead, "chain"])
    return beads.index[same.to_numpy()][np.argsort(beads.loc[same, "index"].to_numpy(), kind="stable")]


def link_ends(beads: pd.DataFrame, a: int, b: int) -> pd.DataFrame:
    """Bond bead ``a`` to bead ``b`` (rows): each an end of its chain or a free bead. Two chains become
    one (``a``'s chain, then ``b``'s); the two ends of one chain close it into a ring."""
    beads = _prepared(beads, a, b)
    first, second = _members(beads, a), _members(beads, b)
    for bead, members in ((a, first), (b, second)):
        if int(beads.at[bead, "closed"]):
            raise ParticleDetectError("a ring has no ends: cut one of its bonds first")
        if bead not in (members[0], members[-1]):
            raise ParticleDetectError("link chain ends (or free beads): a bead inside a chain has its two bonds")
    if beads.at[a, "chain"] == beads.at[b, "chain"]:
        if len(first) < 3:
            raise ParticleDetectError("a ring needs at least three beads")
        beads.loc[first, "closed"] = 1
        return beads
    order = list(first if first[-1] == a else first[::-1]) + list(second if second[0] == b else second[::-1])
    beads.loc[order, "chain"] = beads.at[a, "chain"]
    beads.loc[order, "index"] = np.arange(len(order))
    beads.loc[order, "closed"] = 0
    return beads


def cut_bond(beads: pd.DataFrame, a: int, b: int) -> pd.DataFrame:
    """Remove the bond between neighbouring beads ``a`` and ``b`` (rows): a chain becomes two (the part
    after the bond a new chain); a ring opens there."""
    beads = _prepared(beads, a, b)
    if beads.at[a, "chain"] != beads.at[b, "chain"]:
        raise ParticleDetectError("the two beads are in different chains: there is no bond to cut")
    members = list(_members(beads, a))
    i, j = sorted((members.index(a), members.index(b)))
    closed = bool(int(beads.at[a, "closed"]))
    if j - i != 1 and not (closed and (i, j) == (0, len(members) - 1)):
        raise ParticleDetectError("select two neighbouring beads of one chain: the bond between them is cut")
    if closed:
        order = members if (i, j) == (0, len(members) - 1) else members[j:] + members[: i + 1]
        beads.loc[order, "index"] = np.arange(len(order))
        beads.loc[order, "closed"] = 0
        return beads
    frame = beads["frame"] == beads.at[a, "frame"]
    tail = members[j:]
    beads.loc[tail, "chain"] = int(beads.loc[frame, "chain"].max()) + 1
    beads.loc[tail, "index"] = np.arange(len(tail))
    return beads
