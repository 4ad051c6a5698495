"""The scoring: every part of a pair's score, and the bound that keeps the
top k exact.

A score is the weighted mean of the parts (text, skills, period, distance,
capacity; see `Weights`), each in [0, 1]. The search passes each need's best
`candidates` offers by searched cosine; `rank_block` scores them, then bounds
what the offers left out could still reach (their searched cosine, with every
other part at its maximum) and scores every offer that could reach the k-th
best. Selections are made on the block's float32 cosines (off by less than
`APPROX`); pairs within twice that of a need's k-th best are scored again in
float64, so the top k equals what scoring every pair exactly would give (the
tests compare it with a brute-force scorer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from functools import partial

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from matching.geo import haversine_km
from matching.search import Block, Side, allowed, top_entries
from matching.text import FloatMatrix
from matching.weights import PART_NAMES, Weights

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

FORBIDDEN = 10.0
"""How far below the lowest score a pair the hard rules forbid is pushed."""
APPROX = 1e-4
"""A bound on how far a cosine of the float32 block product (dimension <= a
few hundred, unit rows) lies from the same cosine in float64: about 100 times
the worst rounding, so selections made on the block stay exact."""


@dataclass(frozen=True)
class Picks:
    """Ranked pairs as columns, grouped by need and best first within a need:
    need and offer indices, score, parts (one column per `PART_NAMES`), km."""

    need: I64
    offer: I64
    score: F64
    parts: F64
    km: F64

    @classmethod
    def join(cls, blocks: Sequence[Picks]) -> Picks:
        if not blocks:
            empty = np.zeros(0)
            return cls(
                empty.astype(np.int64),
                empty.astype(np.int64),
                empty,
                np.zeros((0, len(PART_NAMES))),
                empty,
            )
        return cls(
            *(np.concatenate([getattr(b, f.name) for b in blocks]) for f in fields(cls))
        )


def rank_block(
    weights: Weights,
    candidates: int,
    ns: Side,
    os_: Side,
    offers: Block,
    block: I64,
    vectors: FloatMatrix,
    k: int,
    text: FloatMatrix | None = None,
) -> Picks:
    """For each need of `block`: its best k offers.

    Exact, not a heuristic: the offers with the `candidates` best text
    scores (and every offer tied with the last of them) are scored in full;
    then every other offer whose text score is high enough that the other
    parts could still lift it to the k-th best score is scored too.
    `text`, when given, is `vectors @ offers.search.T` already computed
    (it is changed in place).
    """
    w = weights
    pw = np.array(w.part_weights(), dtype=np.float64)
    pw = pw / pw.sum()
    m_latent, m_paired, m_chars = w.text_mix()
    # A score is at most scale * (searched cosine) + rest.
    scale = pw[0] * (m_latent + m_paired)
    others = float(pw[1:].sum())
    rest = others + pw[0] * m_chars
    m = offers.index.size

    # Stage 1: text scores for the whole block, hard rules as masks.
    if text is None:
        text = vectors @ offers.search.T
    text -= offers.penalty[None, :]
    add_char_cosines(text, ns, offers, block)
    # Scores lie in [-2, 1]; a pair the rules forbid is pushed below -8.
    # Shifting rather than setting one value keeps the scores distinct,
    # which selection needs to stay fast (many equal keys slow it down).
    # (A product with the mask: a masked subtraction is ten times slower.)
    text -= ~allowed(ns, offers, block) * np.float32(FORBIDDEN)
    lowest = 2.0 - FORBIDDEN
    c = min(m, max(candidates, 5 * k))
    if scale <= 0 or c >= m:
        cut = np.full(block.size, lowest, dtype=np.float32)
        row, pos = np.nonzero(text >= lowest)
    else:
        # The c best by text and every offer tied with the c-th, but not
        # the forbidden.
        row, pos, value = top_entries(text, c)
        kept = value >= lowest
        row, pos = row[kept], pos[kept]
        cut = np.full(block.size, lowest, dtype=np.float32)
        last = place_in_group(row) == c - 1
        cut[row[last]] = value[kept][last]
    # Skill keys each need of the block shares with each offer, where they
    # weigh in the score; else only the final pairs' are counted (their
    # part is still reported), and the selections read none.
    counted = pw[1] > 0
    shared = (
        SharedKeys.of(ns.keys[block] @ offers.keys) if counted else SharedKeys.none()
    )
    # Scores with the block's float32 cosines first (off by less than
    # APPROX), then in float64 for the pairs that may be in the top k.
    score = partial(score_pairs, weights, ns, os_, offers, block, vectors)
    found = score(shared, row, pos, text[row, pos].astype(np.float64))

    # Stage 2: offers below the cut that could still reach the k-th best.
    if scale > 0:
        kth = kth_best(found[0], found[1], block.size, k)
        reach = np.where(
            kth - scale * APPROX > others,
            (kth - rest) / scale - 2 * APPROX,
            lowest,
        )
        short = np.flatnonzero(reach < cut)
        if short.size:
            # Only the short rows are read: where the bound leaves a band.
            every = short.size == block.size
            row, pos = np.nonzero(
                (text if every else text[short]) >= reach[short, None]
            )
            row = row if every else short[row]
            below = text[row, pos] < cut[row]
            row, pos = row[below], pos[below]
            more = score(shared, row, pos, text[row, pos].astype(np.float64))
            found = tuple(  # type: ignore[assignment]
                np.concatenate([a, b], axis=-1)
                for a, b in zip(found, more, strict=True)
            )
    # A pair more than twice the error below the k-th best cannot be in
    # the top k whatever the exact cosines.
    kth = kth_best(found[0], found[1], block.size, k)
    near = found[1] >= kth[found[0]] - 2 * APPROX
    found = score(shared if counted else None, found[0][near], found[5][near])
    return best(block, k, *found)


def add_char_cosines(text: FloatMatrix, ns: Side, offers: Block, block: I64) -> None:
    """Mix the raw character cosine into the rows of `text` (block x offers,
    the search vectors' dot products less the hub penalty) whose need has a
    share of it (`Side.char_share`): share times the cosine of the TF-IDF rows
    (one sparse product), plus the dot product rescaled where the share is
    larger against a bare-title offer (`char_mix`)."""
    if ns.char_share is None or ns.chars is None or offers.chars is None:
        return
    share = ns.char_share[block]
    rows = np.flatnonzero((share > 0).any(axis=1))
    if rows.size == 0:
        return
    cosines = (ns.chars[block[rows]] @ offers.chars).toarray()
    own, bare = share[rows, :1], share[rows, 1:]
    if offers.bare.any():
        cols = np.flatnonzero(offers.bare)
        sub = text[np.ix_(rows, cols)] * _rescale(own, bare).astype(np.float32)
        text[np.ix_(rows, cols)] = sub + bare.astype(np.float32) * cosines[:, cols]
        cosines[:, cols] = 0.0
    text[rows] += own.astype(np.float32) * cosines


def _rescale(own: F64, bare: F64) -> F64:
    """The factor that turns a dot product scaled for share `own` of the raw
    characters into one scaled for share `bare` ((1 - bare) / (1 - own); 0
    when `own` is 1, where the dot product is 0 anyway)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(own < 1.0, (1.0 - bare) / (1.0 - own), 0.0)


def char_mix(ns: Side, os_: Side, need: I64, offer: I64) -> tuple[F64, F64]:
    """For each pair (need[i], offer[i]), in float64: the factor of its
    search vectors' dot product less the hub penalty, and its share times
    the raw character cosine (1 and 0 for a need with no share; see
    `add_char_cosines`)."""
    factor, term = np.ones(need.size), np.zeros(need.size)
    if ns.char_share is None or ns.chars is None or os_.chars is None:
        return factor, term
    share = ns.char_share[need]
    some = np.flatnonzero((share > 0).any(axis=1))
    if some.size:
        bare = os_.bare[offer[some]]
        used = np.where(bare, share[some, 1], share[some, 0])
        factor[some] = np.where(bare, _rescale(share[some, 0], share[some, 1]), 1.0)
        a = ns.chars[need[some]].astype(np.float64)
        b = os_.chars[offer[some]].astype(np.float64)
        term[some] = used * row_dots(a, b)
    return factor, term


def row_dots(a: sp.csr_matrix, b: sp.csr_matrix) -> npt.NDArray[np.floating]:
    """Row i of `a` dot row i of `b`, for every i, in their dtype."""
    return np.asarray(a.multiply(b).sum(axis=1)).ravel()


def score_pairs(
    weights: Weights,
    ns: Side,
    os_: Side,
    offers: Block,
    block: I64,
    vectors: FloatMatrix,
    shared: SharedKeys | None,
    row: I64,
    pos: I64,
    cosine: F64 | None = None,
) -> tuple[I64, F64, I64, F64, F64, I64]:
    """Every part for the pairs (block[row], offers.index[pos]) that pass
    the exact distance rule: (row, score, offer, parts, km, pos).
    `shared` counts the skill keys each need of the block shares with each
    offer (None: count them for these pairs); `cosine`, when given, the
    pairs' searched cosines (with the need's share of the
    raw character cosine, `add_char_cosines`) less the hub penalty (else
    they are computed exactly)."""
    w = weights
    pw = np.array(w.part_weights(), dtype=np.float64)
    pw = pw / pw.sum()
    m_latent, m_paired, m_chars = w.text_mix()
    need = block[row]
    offer = offers.index[pos]
    km = haversine_km(ns.lat[need], ns.lon[need], os_.lat[offer], os_.lon[offer])
    # The search tested the radius on unit vectors with a little slack; here
    # the rule is applied exactly (NaN, an unknown position, never fails it;
    # a micrometre of rounding does not either).
    exact = ~(km > ns.max_km[need] + 1e-9)
    row, pos, need, offer, km = (
        row[exact],
        pos[exact],
        need[exact],
        offer[exact],
        km[exact],
    )
    if cosine is not None:
        cosine = cosine[exact]
    else:
        # The cosine again in float64, pair by pair: the float32 block
        # product can differ in the last bits by where a row sits, and
        # equal texts must get equal scores for ties to go by offer id.
        factor, term = char_mix(ns, os_, need, offer)
        cosine = (
            factor
            * (
                np.einsum(
                    "ij,ij->i",
                    vectors[row].astype(np.float64),
                    offers.search[pos].astype(np.float64),
                )
                - offers.penalty[pos].astype(np.float64)
            )
            + term
        )
    text_part = (m_latent + m_paired) * cosine
    if m_chars > 0 and ns.chars is not None and os_.chars is not None:
        text_part = text_part + m_chars * row_dots(ns.chars[need], os_.chars[offer])
    if shared is not None:
        in_common = shared.at(row, pos)
    else:
        in_common = row_dots(ns.keys[need], os_.keys[offer]).astype(np.float64)
    lo = np.maximum(ns.start[need], os_.start[offer])
    hi = np.minimum(ns.end[need], os_.end[offer])
    need_full = np.isfinite(ns.start[need]) & np.isfinite(ns.end[need])
    with np.errstate(invalid="ignore", divide="ignore"):
        covered = np.where(
            need_full, (hi - lo + 1.0) / (ns.end[need] - ns.start[need] + 1.0), 1.0
        )
        skills = np.where(ns.n_skills[need] > 0, in_common / ns.n_skills[need], 0.0)
    parts = np.vstack(
        [
            np.clip(text_part, 0.0, 1.0),
            np.clip(skills, 0.0, 1.0),
            np.clip(np.nan_to_num(covered, nan=1.0), 0.0, 1.0),
            distance_part(km, w.distance_scale_km),
            np.minimum(os_.count[offer] / ns.count[need], 1.0),
        ]
    )
    score = np.clip(pw @ parts, 0.0, 1.0)
    return row, score, offer, parts, km, pos


@dataclass(frozen=True)
class SharedKeys:
    """How many skill keys each need of a block shares with each offer: the
    stored entries of the (block, offers) count matrix, read by binary search
    (built once per block, without densifying it)."""

    code: I64  # row * columns + column of every stored entry, sorted
    count: F64
    columns: int

    @classmethod
    def none(cls) -> SharedKeys:
        """Counts that read 0 for every pair."""
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0), 1)

    @classmethod
    def of(cls, x: sp.csr_matrix) -> SharedKeys:
        x = sp.csr_matrix(x)
        x.sum_duplicates()
        code = np.repeat(np.arange(x.shape[0]), np.diff(x.indptr)) * x.shape[1]
        return cls(code + x.indices, x.data.astype(np.float64), x.shape[1])

    def at(self, row: I64, col: I64) -> F64:
        """The counts of (row[i], col[i]) for every i, 0 where none is stored."""
        wanted = np.asarray(row, dtype=np.int64) * self.columns + col
        if self.code.size == 0:
            return np.zeros(wanted.size)
        at = np.minimum(np.searchsorted(self.code, wanted), self.code.size - 1)
        return np.where(self.code[at] == wanted, self.count[at], 0.0)


def kth_best(row: I64, score: F64, n_rows: int, k: int) -> F64:
    """Per row, the k-th best score (-inf where a row has fewer than k).

    One sort of a float64 key, 2 * row - score (scores lie in [0, 1]): seven
    times faster than sorting by row, then score. The key rounds scores
    within about 2 * n_rows * 2**-52 of each other alike (under 1e-9 for
    any block), so the k-th may be a neighbour that close. The callers'
    margins hold it because `APPROX` is about 100 times the real float32
    error, not because the margins have room of their own."""
    out = np.full(n_rows, -np.inf)
    order = np.argsort(2.0 * row - score)
    row_sorted = row[order]
    firsts = np.searchsorted(row_sorted, np.arange(n_rows))
    lasts = np.searchsorted(row_sorted, np.arange(n_rows), side="right")
    has = lasts - firsts >= k
    out[has] = score[order[firsts[has] + k - 1]]
    return out


def best(
    block: I64,
    k: int,
    row: I64,
    score: F64,
    offer: I64,
    parts: F64,
    km: F64,
    pos: I64,
) -> Picks:
    """Each need's k best, best first; equal scores (to 9 decimals) go by
    offer id, i.e. by position."""
    order = np.lexsort((pos, -np.round(score, 9), row))
    top = order[place_in_group(row[order]) < k]
    return Picks(block[row[top]], offer[top], score[top], parts[:, top].T, km[top])


def place_in_group(keys: I64) -> I64:
    """For sorted `keys`: each element's place (0, 1, ...) among its equals."""
    if keys.size == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    sizes = np.diff(np.r_[starts, keys.size])
    return np.arange(keys.size) - np.repeat(starts, sizes)


def distance_part(km: F64, scale_km: float) -> F64:
    return np.where(np.isnan(km), 0.5, np.exp(-np.nan_to_num(km) / scale_km))
