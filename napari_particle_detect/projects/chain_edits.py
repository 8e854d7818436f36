"""Correcting which beads belong together: link two chain ends (or free beads) with a bond, or cut the
bond between two neighbouring beads. The two mistakes a bead-chain model makes are a missing bond
(one chain found as two) and a spurious one (two touching chains found as one); moving, adding and
deleting beads cannot fix either.

Works on beads in any row order (a napari Points layer's): columns ``chain``, ``index``, ``closed``
and, for stacks, ``frame``; a ``chain`` below 0 is a bead placed by hand (a chain of its own). With
their positions (``y``, ``x``) too, a bond the image does not support is never made: a deleted inner
bead's neighbours stay bonded only where they touch (:func:`close_index_gaps`), and a link far longer
than the frame's bonds is refused. Returns the same rows with new ``chain``, ``index`` and ``closed``.
No Qt here.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ..errors import ParticleDetectError
from ..synthetic.chains import bonds_of

# Bonded beads touch, so a chain's bonds are about equally long (the model's linking penalises a bond
# longer than those beside it: kinds/chains.py LENGTH_FREE). Where a deleted inner bead leaves its two
# neighbours this close, in the chain's median bonds, it was a spurious bead between touching ones and
# they stay bonded; a real bead deleted leaves about two bonds between them, and the chain is split there
# rather than given a bond the image does not show.
GAP_BOND_TOLERANCE = 1.5
# Two ends of a chain found as two are about one bond apart; a link more than this many typical bonds
# long joins beads that do not touch (a bead missing between them is placed, then linked on each side).
LINK_REACH = 2.0
# A ring's bead count when it was drawn (beads layers carry it, kind_layers): its last beads deleted leave
# no gap in its indices, only fewer beads than this; 0 for an open chain or a count not known.
RING_BEADS = "ring_beads"


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
    # The chains as the saved table has them, so a chain split at a deleted bead has two pairs of ends.
    return close_index_gaps(beads) if _has_positions(beads) else beads


def _has_positions(beads: pd.DataFrame) -> bool:
    return {"y", "x"} <= set(beads.columns)


def ring_sizes(beads: pd.DataFrame) -> np.ndarray:
    """Per bead (``frame``, ``chain``, ``closed``), the bead count of its ring (0 in an open chain or for a
    bead placed by hand): the RING_BEADS a beads layer carries."""
    table = beads.reset_index(drop=True).assign(frame=beads["frame"].to_numpy() if "frame" in beads else 0)
    counts = table.groupby(["frame", "chain"])["chain"].transform("size").to_numpy(int)
    return np.where((table["closed"].fillna(0).to_numpy() != 0) & (table["chain"].to_numpy() >= 0), counts, 0)


def close_index_gaps(beads: pd.DataFrame) -> pd.DataFrame:
    """``beads`` (any row order; ``frame``, ``y``, ``x``, ``chain``, ``index``, ``closed``, optionally
    RING_BEADS) with each chain's indices 0..n-1 in their order (beads placed by hand, ``chain`` below 0,
    left as they are). Where a deleted bead left a gap in a chain's indices (a ring's: also its first bead
    deleted, or its last ones, fewer beads than its RING_BEADS), its two neighbours stay bonded only if
    they are at most GAP_BOND_TOLERANCE times the chain's median bond apart (the frame's typical bond for
    a chain that has no bond left); otherwise the chain is split there, the part after the gap a new
    chain numbered on from the frame's highest, and a ring opens there, numbered from the bead after the
    gap. Same rows, same order."""
    table = beads.reset_index(drop=True)
    if not len(table):
        return beads.copy()
    keys = ["frame", "chain"]
    ordered = table[table["chain"] >= 0].sort_values(keys + ["index"], kind="stable")
    chains = ordered.groupby(keys)["index"]
    ring = (ordered["closed"].fillna(0) != 0) & (chains.transform("size") >= 3)
    gapped = (chains.diff() > 1) | (ring & ((chains.transform("min") > 0) | _last_beads_gone(ordered, chains)))
    # Arrays by row position (table's index is 0..n-1, ordered's the same labels).
    chain, index, closed = (table[column].to_numpy().copy() for column in ("chain", "index", "closed"))
    index[ordered.index] = chains.cumcount().to_numpy()
    highest = table.groupby("frame")["chain"].max().to_dict()
    gapped_chains = gapped.groupby([ordered["frame"], ordered["chain"]]).transform("any")
    for (frame, number), members in ordered[gapped_chains].groupby(keys, sort=False):
        pieces, still_ring = _pieces(members, lambda: _typical_bond(ordered[ordered["frame"] == frame])[0])
        for i, piece in enumerate(pieces):
            if i:
                highest[frame] += 1
            chain[piece] = number if i == 0 else highest[frame]
            index[piece] = np.arange(len(piece))
            if not still_ring:
                closed[piece] = 0
    out = beads.copy()
    out["chain"], out["index"], out["closed"] = chain, index, closed
    return out


def _last_beads_gone(ordered: pd.DataFrame, chains) -> pd.Series:
    """Per bead of ``ordered`` (grouped by chain in ``chains``): its ring had beads after its highest index."""
    if RING_BEADS not in ordered:
        return pd.Series(False, index=ordered.index)
    return ordered[RING_BEADS].fillna(0) > chains.transform("max") + 1


def _closing_gap(index: np.ndarray, ring_beads: int) -> bool:
    """Whether a ring's closing bond, from its highest index to its lowest, crosses deleted beads."""
    return bool(index[0] > 0 or index[-1] + 1 < ring_beads)


def _pieces(chain: pd.DataFrame, frame_typical: Callable[[], float]) -> tuple[list[np.ndarray], bool]:
    """One chain's rows (in index order) cut at every bond across a deleted bead that is too long (see
    :func:`close_index_gaps`), each piece's rows in bond order; and whether it is still a ring.
    ``frame_typical``: the frame's typical bond, asked for only when the chain has no bond left."""
    index = chain["index"].to_numpy()
    points = chain[["y", "x"]].to_numpy(float)
    ring = len(chain) >= 3 and bool(chain["closed"].fillna(0).iloc[0])
    nexts = np.r_[np.arange(1, len(chain)), 0] if ring else np.arange(1, len(chain))
    steps = np.hypot(*(points[nexts] - points[: len(nexts)]).T)
    across = np.diff(index) > 1
    if ring:
        across = np.append(across, _closing_gap(index, _ring_beads(chain)))
    intact = _bond_lengths(chain)
    typical = float(np.median(intact)) if len(intact) else frame_typical()
    cut = across & (steps > GAP_BOND_TOLERANCE * typical)
    rows = chain.index.to_numpy()
    if not cut.any():
        return [rows], ring
    if ring:  # opened at its first cut: the bead after it comes first, the cut bond is no longer there
        start = int(np.flatnonzero(cut)[0]) + 1
        rows, cut = np.roll(rows, -start), np.roll(cut, -start)[:-1]
    return np.split(rows, np.flatnonzero(cut) + 1), False


def _ring_beads(chain: pd.DataFrame) -> int:
    return int(chain[RING_BEADS].fillna(0).iloc[0]) if RING_BEADS in chain and len(chain) else 0


def _bond_lengths(frame_beads: pd.DataFrame) -> np.ndarray:
    """Lengths of the bonds of one frame's chains, those across a deleted bead left out."""
    table = frame_beads.reset_index(drop=True)
    pairs = bonds_of(table)
    index = table["index"].to_numpy()
    first, second = pairs[:, 0], pairs[:, 1]
    # bonds_of bonds beads in index order even across a gap; a ring's closing bond runs back to index 0, and
    # from a bead before the ring's last (RING_BEADS) it crosses deleted ones.
    ring_beads = table[RING_BEADS].fillna(0).to_numpy(int) if RING_BEADS in table else np.zeros(len(table), int)
    follows = (index[second] - index[first] == 1) | (
        (index[second] == 0) & (index[first] > 0) & (index[first] + 1 >= ring_beads[first]))
    points = table[["y", "x"]].to_numpy(float)
    return np.hypot(*(points[second[follows]] - points[first[follows]]).T)


def _typical_bond(frame_beads: pd.DataFrame) -> tuple[float, str]:
    """One frame's typical bond length (px) and what it is: its chains' median bond or, with no bond
    there, a bead diameter (touching beads' distance: the beads' median distance to their nearest)."""
    lengths = _bond_lengths(frame_beads)
    if len(lengths):
        return float(np.median(lengths)), "the median bond of this frame's chains"
    from scipy.spatial import cKDTree

    points = frame_beads[["y", "x"]].to_numpy(float)
    nearest = cKDTree(points).query(points, k=2)[0][:, 1]
    return float(np.median(nearest)), "a bead diameter, from the beads' nearest neighbours: this frame has no bond"


def _check_link_length(beads: pd.DataFrame, a: int, b: int) -> None:
    ends = beads.loc[[a, b], ["y", "x"]].to_numpy(float)
    distance = float(np.hypot(*(ends[1] - ends[0])))
    typical, what = _typical_bond(beads[beads["frame"] == beads.at[a, "frame"]])
    if distance > LINK_REACH * typical:
        raise ParticleDetectError(f"not linked: the two beads are {distance:.1f} px apart, more than {LINK_REACH:g} x "
                                  f"the typical bond of {typical:.1f} px ({what}); a bond joins touching beads "
                                  "(place any missing bead between them and link it on each side)")


def _members(beads: pd.DataFrame, bead: int) -> pd.Index:
    same = (beads["frame"] == beads.at[bead, "frame"]) & (beads["chain"] == beads.at[bead, "chain"])
    return beads.index[same.to_numpy()][np.argsort(beads.loc[same, "index"].to_numpy(), kind="stable")]


def link_ends(beads: pd.DataFrame, a: int, b: int) -> pd.DataFrame:
    """Bond bead ``a`` to bead ``b`` (rows): each an end of its chain or a free bead. Two chains become
    one (``a``'s chain, then ``b``'s); the two ends of one chain close it into a ring. With positions, a
    link more than LINK_REACH typical bonds long (see :func:`_typical_bond`) is refused."""
    beads = _prepared(beads, a, b)
    first, second = _members(beads, a), _members(beads, b)
    for bead, members in ((a, first), (b, second)):
        if int(beads.at[bead, "closed"]):
            raise ParticleDetectError("a ring has no ends: cut one of its bonds first")
        if bead not in (members[0], members[-1]):
            raise ParticleDetectError("link chain ends (or free beads): a bead inside a chain has its two bonds")
    if _has_positions(beads):
        _check_link_length(beads, a, b)
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


def bonded_beads(beads: pd.DataFrame, where: np.ndarray, decimals: int = 2) -> tuple[set, set]:
    """What one frame's chains table says at the beads ``where`` (one bool per row): their positions, and the
    bonds reaching one of them as pairs of positions. Two tables give the same where the same beads are bonded
    alike, whatever their chains' numbers and indices: a cut or a deleted bead elsewhere renumbers those."""
    beads = beads.reset_index(drop=True)
    where = np.asarray(where, bool)
    spots = [tuple(p) for p in np.round(beads[["y", "x"]].to_numpy(float), decimals).tolist()]
    kept = {spots[i] for i in np.flatnonzero(where)}
    bonds = {tuple(sorted((spots[a], spots[b]))) for a, b in bonds_of(beads).tolist() if where[a] or where[b]}
    return kept, bonds
