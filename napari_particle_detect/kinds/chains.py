"""Bead chains as one encoding: table -> maps for training, maps -> table for decoding, their table's
columns and checks, the per-chain table, and the chain metrics.

Maps (the card's ``heads``): ``centre``, a Gaussian at every bead (as :mod:`heatmap`), and ``bond``, a
Gaussian at the midpoint of every bonded pair. Decoding finds the beads, reads the bond map at the
midpoint of every pair of near neighbours, and links the best-supported bonds (evidence, less for a
pair further apart than the bonds beside it, less for a sharp turn), at most two per bead, into paths
and rings. Two touching chains stay two because their contact has no bond evidence, is longer than
their bonds, or would turn a chain sharply.
"""

from __future__ import annotations

import heapq
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from ..errors import ParticleDetectError
from .border_band import ImageShape, checked_kind_tables, kept_within_border, left_out
from .evaluation import Counts, match
from .heatmap import DEFAULT_SIGMA, find_peaks, refine, stencil_values
from .rods import columns_read, gaussians, refuse_infinite, whole_numbers
from .tables import WHOLE_NUMBER_COLUMNS, describe_key, group_keys, numeric_columns
from .columns import KIND_COLUMNS
from ..synthetic.chains import bonds_of

HEADS = ("centre", "bond")
COLUMNS = list(KIND_COLUMNS["chains"])
CHAIN_SUMMARY_COLUMNS = ["frame", "chain", "beads", "contour_length", "end_to_end", "radius_of_gyration", "closed"]
BOND_SIGMA = 1.5
# Measured on held-out images with the shipped model (bond F1 0.98-0.99 at 0.15-0.2, 0.94-0.96 at 0.4):
# its bond peaks are lower than its bead peaks.
BOND_THRESHOLD = 0.1
# A bond that would turn a chain by more than FREE_TURN degrees loses support as a Gaussian in the excess
# (TURN_SCALE degrees): semi-flexible chains turn little per bond, while two chains touching end to end
# or side by side meet at any angle. Both this soft rule and the constants were chosen on tuning images
# (seeds 900000+, 3 looks, the benchmark's chains config), against a hard "weak bonds may not turn more
# than 70 degrees" rule: chains exactly right 0.74 (hard rule) -> 0.84 (soft rule), bond F1 0.975 -> 0.984
# with the first shipped model; re-measured with each retrained model (see weights/chains.json). With the
# length rule below, a scale of 30 (was 20) measured better: chains exactly right 0.872 -> 0.880 (mean of
# the 3 looks, 24 tuning images each); FREE_TURN 20-35 with TURN_SCALE 25-35 all lie within 0.86-0.88.
FREE_TURN = 30.0
TURN_SCALE = 30.0
# Bonded beads touch, so a bond is about as long as the bonds beside it, while beads of two chains that
# touch end to end or side by side are that far apart or further. A candidate longer than the median of
# the strong candidates (evidence >= STRONG_EVIDENCE) at its two beads by more than LENGTH_FREE times
# loses support as a Gaussian in the excess (LENGTH_SCALE, a fraction of that median). The median is
# local because bond lengths differ from chain to chain (and bead sizes across an image). Measured on
# tuning images (seeds 900000+ and 920000+, 24 per look, the benchmark's config, the shipped model):
# chains exactly right 0.779/0.820/0.777 -> 0.880/0.903/0.856 (fluorescent/opaque/brightfield, with
# TURN_SCALE 30; 16 more images, seeds 940000+: 0.782/0.831/0.759 -> 0.870/0.900/0.839), false
# bonds 74/66/73 -> 26/29/38; the image's median neighbour distance as the reference instead: 0.86-0.87.
LENGTH_FREE = 1.0
LENGTH_SCALE = 0.04
STRONG_EVIDENCE = 0.5
# Candidate partners: within this many typical neighbour distances.
NEIGHBOUR_REACH = 1.45


def encode(table: pd.DataFrame, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(maps (2, H, W), mask (H, W) of ones) for a chains table (y, x, chain, index[, closed])."""
    table = table.reset_index(drop=True)
    centres = table[["y", "x"]].to_numpy(float).reshape(-1, 2)
    pairs = bonds_of(table)
    mids = 0.5 * (centres[pairs[:, 0]] + centres[pairs[:, 1]]) if len(pairs) else np.zeros((0, 2))
    maps = np.stack([gaussians(centres, shape, DEFAULT_SIGMA), gaussians(mids, shape, BOND_SIGMA)])
    return maps, np.ones(shape, np.float32)


def bond_evidence(bond_map: np.ndarray, centres: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """The bond map's maximum over the 3x3 pixels around each pair's midpoint."""
    h, w = bond_map.shape
    mid = np.rint(0.5 * (centres[pairs[:, 0]] + centres[pairs[:, 1]])).astype(int)
    best = np.zeros(len(pairs))
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            best = np.maximum(best, bond_map[np.clip(mid[:, 0] + dy, 0, h - 1), np.clip(mid[:, 1] + dx, 0, w - 1)])
    return best


def relative_length(centres: np.ndarray, pairs: np.ndarray, evidence: np.ndarray, spacing: float) -> np.ndarray:
    """Each pair's length over the median length of the other strong candidates at its two beads
    (over ``spacing`` where there are none)."""
    length = np.hypot(*(centres[pairs[:, 0]] - centres[pairs[:, 1]]).T)
    strong = np.flatnonzero(evidence >= STRONG_EVIDENCE)
    if not len(strong):
        return length / spacing
    # Per bead, the strong candidates touching it (their index, NaN-padded lengths), in one table.
    ends = np.concatenate([pairs[strong, 0], pairs[strong, 1]])
    ids = np.concatenate([strong, strong])
    order = np.argsort(ends, kind="stable")
    ends, ids = ends[order], ids[order]
    slot = np.arange(len(ends)) - np.searchsorted(ends, ends)
    index = np.full((len(centres), int(slot.max()) + 1), -1)
    index[ends, slot] = ids
    both = np.concatenate([index[pairs[:, 0]], index[pairs[:, 1]]], axis=1)
    others = np.where((both >= 0) & (both != np.arange(len(pairs))[:, None]), length[both], np.nan)
    counted = np.isfinite(others).any(axis=1)
    reference = np.full(len(pairs), float(spacing))
    reference[counted] = np.nanmedian(others[counted], axis=1)
    return length / reference


def length_penalty(relative: np.ndarray, length_scale: float = LENGTH_SCALE) -> np.ndarray:
    """Support kept by a pair of this relative length (see LENGTH_FREE)."""
    excess = np.clip(relative - LENGTH_FREE, 0.0, None)
    return np.exp(-0.5 * (excess / length_scale) ** 2)


def _turn(centres: np.ndarray, a: int, b: int, neighbours: list[list[int]]) -> float:
    """Degrees the chain through ``a`` would turn going on to ``b`` (0 when ``a`` has no bond yet)."""
    if not neighbours[a]:
        return 0.0
    before = centres[a] - centres[neighbours[a][0]]
    after = centres[b] - centres[a]
    cos = np.dot(before, after) / max(np.linalg.norm(before) * np.linalg.norm(after), 1e-9)
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


def link(centres: np.ndarray, bond_map: np.ndarray, bond_threshold: float = BOND_THRESHOLD,
         spacing: float | None = None, free_turn: float = FREE_TURN,
         turn_scale: float = TURN_SCALE, length_scale: float = LENGTH_SCALE) -> list[tuple[list[int], bool]]:
    """Chains as (bead indices in order, closed) from bead centres and the bond map.

    Candidate bonds (near neighbours with bond evidence of at least ``bond_threshold``) are taken best
    first, at most two per bead, where a bond's support is its evidence times a penalty for its length
    (see LENGTH_FREE) and one for the turn it would make at either bead given the bonds already taken
    (see FREE_TURN). Supports change as bonds are taken, so a heap holds them and a stale entry is
    re-scored when it comes up. (Choosing the bond set that maximises the summed log support globally,
    by local search from this greedy set, measured no better: 0.880 -> 0.877 chains exactly right.)"""
    n = len(centres)
    if n == 0:
        return []
    if spacing is None:
        if n > 1:
            d, _ = cKDTree(centres).query(centres, k=2)
            spacing = float(np.median(d[:, 1]))
        else:
            spacing = 1.0
    pairs = cKDTree(centres).query_pairs(NEIGHBOUR_REACH * spacing, output_type="ndarray") if n > 1 else np.zeros((0, 2), int)
    neighbours: list[list[int]] = [[] for _ in range(n)]
    if not len(pairs):
        return walk_chains(neighbours)
    evidence = bond_evidence(bond_map, centres, pairs)
    keep = evidence >= bond_threshold
    pairs, evidence = pairs[keep], evidence[keep]
    base = evidence * length_penalty(relative_length(centres, pairs, evidence, spacing), length_scale)

    def support(k: int) -> float:
        a, b = (int(v) for v in pairs[k])
        value = float(base[k])
        for turn in (_turn(centres, a, b, neighbours), _turn(centres, b, a, neighbours)):
            if turn > free_turn:
                value *= float(np.exp(-0.5 * ((turn - free_turn) / turn_scale) ** 2))
        return value

    # Entries: (-support, pair, versions of both beads when scored); a bead's version counts its bonds.
    version = np.zeros(n, int)
    heap = [(-float(base[k]), k, 0, 0) for k in range(len(pairs))]
    heapq.heapify(heap)
    while heap:
        value, k, va, vb = heapq.heappop(heap)
        a, b = (int(v) for v in pairs[k])
        if len(neighbours[a]) >= 2 or len(neighbours[b]) >= 2:
            continue
        if va != version[a] or vb != version[b]:
            heapq.heappush(heap, (-support(k), k, int(version[a]), int(version[b])))
            continue
        if -value < bond_threshold:
            break  # the best remaining support is too weak, and supports only fall
        neighbours[a].append(b)
        neighbours[b].append(a)
        version[a] += 1
        version[b] += 1
    return walk_chains(neighbours)


def walk_chains(neighbours: list[list[int]]) -> list[tuple[list[int], bool]]:
    """Chains (bead order, closed) from each bead's at most two bonded partners."""
    n = len(neighbours)
    chains, seen = [], np.zeros(n, bool)
    # Paths first, walked from one end; what is left with every bead bonded twice are rings.
    for start in [i for i in range(n) if len(neighbours[i]) < 2] + list(range(n)):
        if seen[start]:
            continue
        order, prev, cur = [start], -1, start
        seen[start] = True
        while True:
            nxt = [j for j in neighbours[cur] if j != prev and not seen[j]]
            if not nxt:
                break
            prev, cur = cur, nxt[0]
            seen[cur] = True
            order.append(cur)
        closed = len(order) > 2 and all(len(neighbours[i]) == 2 for i in order)
        chains.append((order, closed))
    return chains


def decode(maps: np.ndarray, threshold: float = 0.4, min_distance: int = 2, frame: int = 0,
           bond_threshold: float = BOND_THRESHOLD) -> pd.DataFrame:
    """One row per bead (COLUMNS) from a model's maps (2, H, W) of one frame."""
    peaks = find_peaks(maps[0], threshold, min_distance)
    if len(peaks) == 0:
        return empty_table()
    values = stencil_values(maps[0], peaks)
    centres, scores = refine(peaks, values), values[0].astype(float)
    return chain_rows(centres, scores, link(centres, maps[1], bond_threshold), frame)


def chain_rows(centres: np.ndarray, scores: np.ndarray, chains: list[tuple[list[int], bool]], frame: int = 0) -> pd.DataFrame:
    rows = []
    for chain_id, (order, closed) in enumerate(chains):
        for index, bead in enumerate(order):
            rows.append((int(frame), centres[bead, 0], centres[bead, 1], scores[bead], chain_id, index, int(closed)))
    table = pd.DataFrame(rows, columns=COLUMNS)
    return table.astype({"frame": int, "chain": int, "index": int, "closed": int})


def empty_table() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=float if c in ("y", "x", "score") else int) for c in COLUMNS})


def chain_summary(table: pd.DataFrame, source: str = "chain_summary") -> pd.DataFrame:
    """The per-chain table of a chains table (what ``detect --kind chains`` writes beside it, ``OUT.chains.csv``):
    per chain (by frame, and by file where the table has a file column, then written last), its beads,
    contour length (along its bonds, a ring's closing bond included), end-to-end distance (first to last
    bead; NaN for a ring, which has no ends: its first and last beads are one bond apart), radius of
    gyration, closed (1 for a ring, as in the beads table).

    The table is checked as ``evaluate --kind chains`` reads one (:func:`check_table`): a chain with a gap
    in its index (beads filtered with ``table[keep]``, not :func:`keep_beads`) is one ParticleDetectError
    naming ``source``, not a contour measured across the missing beads."""
    table = check_table(table, source)
    keys = group_keys(table, "frame", "chain")
    rows = []
    for key, group in table.groupby(keys, sort=True):
        group = group.sort_values("index")
        pts = group[["y", "x"]].to_numpy(float)
        closed = bool(int(group["closed"].iloc[0]))
        steps = np.hypot(*np.diff(pts, axis=0).T) if len(pts) > 1 else np.zeros(0)
        contour = float(steps.sum() + (np.hypot(*(pts[0] - pts[-1])) if closed else 0.0))
        end_to_end = np.nan if closed else float(np.hypot(*(pts[-1] - pts[0])))
        rg = float(np.sqrt(((pts - pts.mean(axis=0)) ** 2).sum(axis=1).mean()))
        found = dict(zip(keys, key))
        rows.append({"frame": int(found["frame"]), "chain": int(found["chain"]), "beads": len(pts),
                     "contour_length": contour, "end_to_end": end_to_end, "radius_of_gyration": rg,
                     "closed": int(closed), **({"file": found["file"]} if "file" in found else {})})
    summary = pd.DataFrame(rows, columns=CHAIN_SUMMARY_COLUMNS + (["file"] if "file" in table.columns else []))
    # Typed even without rows: a frame without chains gave object columns, which spread to every concat with it.
    return summary.astype({c: "int64" if c in WHOLE_NUMBER_COLUMNS or c == "beads" else float
                           for c in CHAIN_SUMMARY_COLUMNS})


def check_table(table: pd.DataFrame, source: str, from_file: bool = False) -> pd.DataFrame:
    """A chains table with the right columns, whole frame, chain and index numbers, every chain's indices 0..n-1
    without a gap, and one ``closed`` value per chain (1 only for a ring of three beads or more); a chain is
    numbered within its frame (and its file, where the table has a file column). ``from_file``: the table was
    read from the file ``source`` names, so a gap is said with how to mend the file, not how to filter a table
    in Python (a file's name does not tell: a table given in Python may be named after the file it came from)."""
    missing = [c for c in ("y", "x", "chain", "index") if c not in table.columns]
    if missing:
        hint = " (it looks like a rods table)" if "angle" in table.columns else ""
        raise ParticleDetectError(f"{source}: not a chains table: no {', '.join(missing)} column{hint}"
                                  f"{columns_read(table.columns)}")
    # An empty closed cell reads as an open chain (as synthetic.chains.bonds_of reads it).
    table = numeric_columns(table, ("frame", "y", "x", "score", "chain", "index", "closed"), source,
                            gaps_allowed=("score", "closed"))
    # Chain -1 is what the dock gives a bead placed by hand until it is numbered.
    table = whole_numbers(table, source, ("frame", "chain", "index"), signed=("chain",)).copy()
    refuse_infinite(table, source, ("y", "x"))
    if "frame" not in table.columns:
        table.insert(0, "frame", 0)
    table["closed"] = table["closed"].fillna(0) if "closed" in table.columns else 0
    _check_chains(table, source, from_file)
    return table


def _check_chains(table: pd.DataFrame, source: str, from_file: bool = False) -> None:
    """One ParticleDetectError for the first chain with a gap or repeat in its indices, or with a closed
    value that is not one 0 or 1 for all its beads, or closed with fewer than three beads."""
    if not len(table):
        return
    keys = group_keys(table, "frame", "chain")
    # Per chain at once (an untrained model's table can hold thousands of one-bead chains).
    groups = table.groupby(keys, sort=True)
    per_chain = groups.agg(beads=("index", "size"), first=("index", "min"), last=("index", "max"),
                           distinct=("index", "nunique"), closed_min=("closed", "min"), closed_max=("closed", "max"))
    gapped = ((per_chain["first"] != 0) | (per_chain["last"] != per_chain["beads"] - 1)
              | (per_chain["distinct"] != per_chain["beads"]))
    flag = ~per_chain["closed_min"].isin([0, 1]) | ~per_chain["closed_max"].isin([0, 1])
    mixed = per_chain["closed_min"] != per_chain["closed_max"]
    short_ring = (per_chain["closed_min"] == 1) & (per_chain["beads"] < 3)
    for key in per_chain.index[gapped | flag | mixed | short_ring][:1]:  # the first bad chain, by file, frame, chain
        row = per_chain.loc[key]
        name = _chain_name(key, keys)
        if gapped.loc[key]:
            elsewhere = _numbered_elsewhere(per_chain.index, key, keys)
            raise ParticleDetectError(_gap_message(source, name, groups.get_group(key)["index"].to_numpy(),
                                                   f"chain {key[-1]} of frame {', '.join(map(str, elsewhere))}"
                                                   if elsewhere else "", from_file))
        if flag.loc[key]:
            bad = row["closed_max"] if row["closed_max"] not in (0, 1) else row["closed_min"]
            raise ParticleDetectError(f"{source}: {name} has closed {bad:g}; closed is 1 for a ring, 0 otherwise")
        if mixed.loc[key]:
            raise ParticleDetectError(f"{source}: {name} is closed on some beads and open on others; give all "
                                      "its beads one closed value (1 for a ring)")
        raise ParticleDetectError(f"{source}: {name} is closed (a ring) with {int(row['beads'])} "
                                  f"bead{'s' if row['beads'] > 1 else ''}; a ring needs at least 3")


def _gap_message(source: str, name: str, index: np.ndarray, elsewhere: str, from_file: bool) -> str:
    """The refusal of a chain whose indices are not 0..n-1: for a file (``from_file``), how to mend the
    file; for a table given in Python, how to drop beads without leaving a gap (keep_beads). ``elsewhere``: the
    chain of the same number in other frames ('chain 3 of frame 0'; one chain written across frames), or ''."""
    index = np.sort(index)
    gap = next((i for i, v in enumerate(index) if v != i), len(index))
    said = f"{source}: {name} has a gap or repeat in its index at {gap} (indices must run 0..{len(index) - 1}"
    if not from_file:
        return (said + "); to drop beads from a chains table use napari_particle_detect.keep_beads(table, keep), not "
                "table[keep]: it cuts a chain where beads are left out and numbers each piece from 0")
    across = f", and {elsewhere} is another chain: a chain lies in one frame" if elsewhere and index[0] > 0 else ""
    return (f"{said}; it has {_listed(index)}{across}); in the file, number its beads 0..{len(index) - 1} from one "
            "end, or split it into two chains, each indexed from 0")


def _numbered_elsewhere(chain_keys: pd.Index, key: tuple, keys: list[str]) -> list:
    """The other frames (of the same file) holding a chain numbered as ``key``'s."""
    if "frame" not in keys:
        return []
    at = keys.index("frame")
    return [other[at] for other in chain_keys
            if other[-1] == key[-1] and other[:at] == key[:at] and other[at] != key[at]]


def _listed(index: np.ndarray, most: int = 8) -> str:
    """A chain's indices for a message, the middle of a long chain left out."""
    values = [str(int(v)) for v in index]
    return ", ".join(values if len(values) <= most else values[:most // 2] + ["..."] + values[-most // 2:])


def keep_beads(table: pd.DataFrame, keep: np.ndarray) -> pd.DataFrame:
    """The beads of ``table`` where ``keep``: a chain kept in part (an accepted box's edge crossing it) is cut
    into its runs of consecutive beads, each a chain of its own indexed from 0, so no chain has a gap in its
    index (which a chains table may not hold); a ring kept whole stays closed, a ring cut is open, its
    beads on both sides of its closing bond one run. Chains are numbered from 0 within each frame (and file).
    ``keep``: one True or False per row, in the table's order (a boolean array, list or Series); anything else
    is a TypeError or ValueError."""
    keep = bead_mask(table, keep)
    if not len(table) or keep.all():
        return table[keep].reset_index(drop=True)
    keys = group_keys(table, "frame")
    sizes = table.groupby(keys + ["chain"])["chain"].transform("size")
    kept = table.assign(_size=sizes)[keep]
    kept = kept.assign(index=_from_the_cut(kept)).sort_values(keys + ["chain", "index"], kind="stable")
    kept = kept.reset_index(drop=True)
    if not len(kept):
        return kept.drop(columns="_size")
    chain_keys = kept[keys + ["chain"]]
    same_chain = (chain_keys == chain_keys.shift()).all(axis=1)
    piece = (~(same_chain & (kept["index"].diff() == 1))).cumsum()
    length = piece.map(piece.value_counts())
    kept["index"] = kept.groupby(piece).cumcount()
    if "closed" in kept.columns:
        kept["closed"] = np.where(length == kept["_size"], kept["closed"], 0)
    firsts = kept.groupby(piece).head(1)
    numbers = firsts.groupby(keys).cumcount() if keys else pd.Series(np.arange(len(firsts)), index=firsts.index)
    kept["chain"] = piece.map(pd.Series(numbers.to_numpy(), index=piece[firsts.index].to_numpy()))
    return kept.drop(columns="_size")


def bead_mask(table: pd.DataFrame, keep: object) -> np.ndarray:
    """``keep`` as one bool per row of ``table``. Cast with ``astype(bool)``, indices ([0, 2, 5]) or scores
    read as "nonzero" and a mask of another table's length failed deep in pandas ("Item wrong length")."""
    if isinstance(keep, pd.Series) and not keep.index.equals(table.index):
        raise ValueError("keep_beads: keep is a Series whose index is not the table's; a mask of another table "
                         "would pick beads by position")
    mask = np.asarray(keep)
    if mask.dtype != bool and mask.size:  # [] is float to NumPy, yet keeps nothing of an empty table
        raise TypeError(f"keep_beads: keep must hold True or False for each bead (a boolean mask such as "
                        f"table.score > 0.5), got {mask.dtype} values; for row numbers give np.isin(np.arange(len("
                        f"table)), rows)")
    if mask.shape != (len(table),):
        raise ValueError(f"keep_beads: keep must hold one value per bead: the table has {len(table)} rows, keep "
                         f"has shape {mask.shape}")
    return mask.astype(bool)


def _from_the_cut(kept: pd.DataFrame) -> pd.Series:
    """The kept beads' indices; those of a ring cut open counted on from its first missing bead, so the beads
    before and after its closing bond (the last index and 0) follow one another."""
    index = kept["index"].copy()
    if "closed" not in kept.columns:
        return index
    keys = group_keys(kept, "frame") + ["chain"]
    for _, ring in kept[(kept["closed"] == 1) & (kept.groupby(keys)["chain"].transform("size") < kept["_size"])
                        ].groupby(keys):
        size, present = int(ring["_size"].iloc[0]), set(ring["index"].astype(int))
        first_missing = next(i for i in range(size) if i not in present)
        index[ring.index] = (ring["index"] - first_missing) % size
    return index


def open_short_rings(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with every ring of fewer than three beads made an open chain: deleting beads of a ring in
    the viewer leaves such a ring, which a table read from a file may not hold (see :func:`check_table`);
    its beads are still bonded in order, as :func:`bonds_of` reads them."""
    if "closed" not in table.columns or not len(table):
        return table
    keys = group_keys(table, "frame", "chain")
    short = table.groupby(keys)["chain"].transform("size") < 3
    return table.assign(closed=np.where(short, 0, table["closed"]))


def _chain_name(key: tuple, keys: list[str]) -> str:
    """'chain C (frame F)', or 'chain C (file NAME, frame F)' for a table of several files."""
    return f"chain {key[-1]} ({describe_key(key[:-1], keys[:-1])})"


def count_chains(table: pd.DataFrame) -> int:
    """Chains in a beads table: chain ids restart in every frame (and every file), so a chain is a
    distinct (file, frame, chain)."""
    keys = group_keys(table, "frame", "chain")
    return int(len(table[keys].drop_duplicates()))


@dataclass
class ChainScores:
    bead_precision: float
    bead_recall: float
    bead_f1: float
    bond_precision: float
    bond_recall: float
    bond_f1: float
    chains_exact: float  # share of true chains of two or more beads recovered exactly
    beads_right_chain: float  # share of true beads matched and given their chain's predicted chain
    beads: int
    bonds: int
    chains: int

    def to_dict(self) -> dict:
        return asdict(self)


def _bond_set(table: pd.DataFrame) -> set[tuple[int, int]]:
    return {tuple(sorted(p)) for p in bonds_of(table).tolist()}


def chain_counts(predicted: pd.DataFrame, truth: pd.DataFrame, tolerance: float = 3.0) -> dict:
    """Raw counts for one frame (add them up across frames and images, then :func:`scores_from`)."""
    predicted, truth = predicted.reset_index(drop=True), truth.reset_index(drop=True)
    rows, cols = match(predicted[["y", "x"]].to_numpy(float), truth[["y", "x"]].to_numpy(float), tolerance)
    to_pred = dict(zip(cols.tolist(), rows.tolist()))
    true_bonds, pred_bonds = _bond_set(truth), _bond_set(predicted)
    found = sum(1 for a, b in true_bonds if a in to_pred and b in to_pred
                and tuple(sorted((to_pred[a], to_pred[b]))) in pred_bonds)
    counts = {"bead_tp": len(rows), "bead_fp": len(predicted) - len(rows), "bead_fn": len(truth) - len(rows),
              "bond_tp": found, "bond_fp": len(pred_bonds) - found, "bond_fn": len(true_bonds) - found,
              "chains": 0, "chains_exact": 0, "beads": len(truth), "beads_right": 0}
    pred_chain = predicted["chain"].to_numpy()
    pred_sizes = predicted.groupby("chain").size().to_dict()
    # Each true chain's predicted chain: where most of its matched beads went; and the reverse.
    best_pred, best_true = {}, {}
    pairs = pd.DataFrame({"true": truth["chain"].to_numpy()[cols], "pred": pred_chain[rows]})
    if len(pairs):
        tally = pairs.groupby(["true", "pred"]).size().reset_index(name="n")
        best_pred = tally.sort_values("n", ascending=False).drop_duplicates("true").set_index("true")["pred"].to_dict()
        best_true = tally.sort_values("n", ascending=False).drop_duplicates("pred").set_index("pred")["true"].to_dict()
    for chain, group in truth.groupby("chain"):
        members = group.index.tolist()
        right = [m for m in members if m in to_pred and pred_chain[to_pred[m]] == best_pred.get(chain)
                 and best_true.get(best_pred.get(chain)) == chain]
        counts["beads_right"] += len(right)
        if len(members) < 2:
            continue
        counts["chains"] += 1
        chain_bonds = {b for b in true_bonds if b[0] in members}
        # Exact is the same beads bonded alike and nothing more: an open chain predicted closed has its
        # every true bond and one extra.
        best_bonds = sum(1 for a, _ in pred_bonds if pred_chain[a] == best_pred.get(chain))
        exact = (len(right) == len(members) and pred_sizes.get(best_pred.get(chain)) == len(members)
                 and best_bonds == len(chain_bonds)
                 and all(a in to_pred and b in to_pred and tuple(sorted((to_pred[a], to_pred[b]))) in pred_bonds
                         for a, b in chain_bonds))
        counts["chains_exact"] += int(exact)
    return counts


def add_counts(total: dict, more: dict) -> dict:
    return {k: total.get(k, 0) + v for k, v in more.items()}


def scores_from(c: dict) -> ChainScores:
    beads = Counts(c["bead_tp"], c["bead_fp"], c["bead_fn"])
    bonds = Counts(c["bond_tp"], c["bond_fp"], c["bond_fn"])
    return ChainScores(
        beads.precision, beads.recall, beads.f1, bonds.precision, bonds.recall, bonds.f1,
        c["chains_exact"] / c["chains"] if c["chains"] else 1.0, c["beads_right"] / c["beads"] if c["beads"] else 1.0,
        c["beads"], c["bond_tp"] + c["bond_fn"], c["chains"])


def evaluate_chains(predicted: pd.DataFrame, truth: pd.DataFrame, tolerance: float = 3.0, border: float = 0.0,
                    shape: ImageShape | None = None) -> tuple[ChainScores, dict]:
    """Pooled scores over the frames of two chains tables, and the raw counts.

    Both are chains tables (``y, x, chain, index``, optionally ``frame``, ``closed``; tables with a ``file``
    column scored file by file); a column missing or holding non-numbers is one ParticleDetectError
    naming the table (predicted or truth).

    ``border`` and ``shape`` as ``kinds.evaluation.evaluate_frames`` takes them, bead by bead: the beads within
    ``border`` px of the image edge are left out (a matched pair counts where its true bead lies), a chain
    crossing the band cut into its runs of beads left in; the raw counts then gain ``left_out_truth`` and
    ``left_out_predicted`` (beads). Every frame of the truth is scored: of predictions of part of a stack the
    caller picks the truth's frames, as for ``evaluate_frames``."""
    predicted, truth, labels = checked_kind_tables(predicted, truth, "chains", check_table)

    def bead_pairs(p: pd.DataFrame, t: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        return match(p[["y", "x"]].to_numpy(float), t[["y", "x"]].to_numpy(float), tolerance)

    kept = kept_within_border(predicted, truth, labels, bead_pairs, border, shape)
    if kept is not None:
        predicted, truth = keep_beads(predicted, kept[0]), keep_beads(truth, kept[1])
    total: dict = {}
    pf = predicted["frame"] if "frame" in predicted else pd.Series(0, index=predicted.index)
    tf = truth["frame"] if "frame" in truth else pd.Series(0, index=truth.index)
    for f in sorted(set(pf) | set(tf)):
        total = add_counts(total, chain_counts(predicted[pf == f], truth[tf == f], tolerance))
    if not total:
        total = chain_counts(predicted.iloc[:0], truth.iloc[:0], tolerance)
    if kept is not None:
        total.update(left_out(kept))
    return scores_from(total), total
