"""The search: text vectors of one kind's needs against its offers, in blocks.

Each side is kept as columns (`Side`). Before the search, the vectors of both
sides are moved towards their neighbours on the other side and offers close to
every need are penalised (`transduce`). A block of needs is then multiplied
with all offers of its kind in float32, the hard rules (period overlap, radius)
applied to the whole block as masks (`allowed`); the best entries of each row
(`top_entries`) go on to the scoring (`matching.score`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from matching.geo import EARTH_RADIUS_KM
from matching.postings import Posting
from matching.text import FloatMatrix, unit_rows, words

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

BLOCK_ENTRIES = 1 << 22
"""Entries of one block of a (rows x columns) similarity matrix (16 MB of
float32): large enough that per-block overheads vanish, small enough that
memory stays flat."""


@dataclass(frozen=True)
class Side:
    """Column arrays of one side (needs or offers), in input order."""

    postings: Sequence[Posting]
    ids: list[str]
    kind: list[str]
    count: F64
    start: F64  # day ordinal, -inf when open
    end: F64  # day ordinal, +inf when open
    lat: F64  # NaN when unknown
    lon: F64
    max_km: F64  # +inf when none
    xyz: F64  # (n, 4): unit vector on the sphere, or (0, 0, 0, 1) when unknown
    search: FloatMatrix  # rows whose dot is the latent+paired text cosine
    chars: sp.csr_matrix | None  # TF-IDF rows, when the mix or a share reads them
    keys: sp.csr_matrix  # (n, n_keys) skill-key incidence, for the skills part
    n_skills: F64  # distinct skill keys per posting
    bare: npt.NDArray[np.bool_]  # a title alone: no skills, at most five words
    # (n, 2): a need's share of the raw character cosine in its text
    # similarity with an offer, and with a bare-title offer (`Ranker.char_shares`);
    # None: 0 for all
    char_share: F64 | None = None


def _ordinal(d: date | None, open_value: float) -> float:
    return float(d.toordinal()) if d is not None else open_value


def side_columns(
    postings: Sequence[Posting],
    search: FloatMatrix,
    chars: sp.csr_matrix | None,
    keys: sp.csr_matrix,
) -> Side:
    """The `Side` of `postings` with their text vectors and skill keys."""
    n = len(postings)
    lat = np.array([np.nan if p.lat is None else p.lat for p in postings]).reshape(n)
    lon = np.array([np.nan if p.lon is None else p.lon for p in postings]).reshape(n)
    return Side(
        postings=postings,
        ids=[p.id for p in postings],
        kind=[p.kind for p in postings],
        count=np.array([p.count for p in postings], dtype=np.float64),
        start=np.array([_ordinal(p.start, -np.inf) for p in postings]),
        end=np.array([_ordinal(p.end, np.inf) for p in postings]),
        lat=lat,
        lon=lon,
        max_km=np.array(
            [np.inf if p.max_km is None else p.max_km for p in postings],
            dtype=np.float64,
        ).reshape(n),
        xyz=sphere(lat, lon),
        search=search,
        chars=chars,
        keys=keys,
        n_skills=np.diff(keys.indptr).astype(np.float64),
        bare=np.array([is_bare_title(p) for p in postings], dtype=bool).reshape(n),
    )


BARE_TITLE_WORDS = 5


def is_bare_title(p: Posting) -> bool:
    """A posting that is a title alone: no skills and at most
    `BARE_TITLE_WORDS` words of title and text."""
    return not p.skills and len(words(f"{p.title} {p.text}")) <= BARE_TITLE_WORDS


def side_rows(side: Side, rows: I64) -> Side:
    """The `Side` of the postings at positions `rows`."""
    pick = rows.tolist()
    return Side(
        postings=[side.postings[i] for i in pick],
        ids=[side.ids[i] for i in pick],
        kind=[side.kind[i] for i in pick],
        count=side.count[rows],
        start=side.start[rows],
        end=side.end[rows],
        lat=side.lat[rows],
        lon=side.lon[rows],
        max_km=side.max_km[rows],
        xyz=side.xyz[rows],
        search=side.search[rows],
        chars=None if side.chars is None else sp.csr_matrix(side.chars[rows]),
        keys=sp.csr_matrix(side.keys[rows]),
        n_skills=side.n_skills[rows],
        bare=side.bare[rows],
        char_share=None if side.char_share is None else side.char_share[rows],
    )


@dataclass(frozen=True)
class Block:
    """The offers of one kind, in id order, with what the search needs."""

    index: I64
    search: FloatMatrix
    penalty: F32
    start: F64
    end: F64
    xyz: F64
    any_period: bool
    any_position: bool
    keys: sp.csr_matrix  # (n_keys, offers): the offers' skill keys, by column
    chars: sp.csr_matrix | None  # (n_grams, offers): TF-IDF rows, by column
    bare: npt.NDArray[np.bool_]  # bare-title offers (`is_bare_title`)

    @classmethod
    def of(cls, side: Side, index: I64, search: FloatMatrix, penalty: F32) -> Block:
        start, end = side.start[index], side.end[index]
        return cls(
            index=index,
            search=np.ascontiguousarray(search),
            penalty=penalty,
            start=start,
            end=end,
            xyz=side.xyz[index],
            any_period=bool(np.isfinite(start).any() or np.isfinite(end).any()),
            any_position=bool(np.isfinite(side.lat[index]).any()),
            keys=sp.csr_matrix(side.keys[index].T),
            chars=None if side.chars is None else sp.csr_matrix(side.chars[index].T),
            bare=side.bare[index],
        )


def reweigh(vectors: FloatMatrix, factors: FloatMatrix, split: int) -> FloatMatrix:
    """`vectors` with the columns before `split` of each row times its first
    factor and the rest times its second (the rows as they are when every
    factor is 1)."""
    if (factors == 1.0).all():
        return vectors
    out = vectors.copy()
    out[:, :split] *= factors[:, :1]
    out[:, split:] *= factors[:, 1:]
    return out


def widen_rows(x: sp.csr_matrix, rows: int) -> sp.csr_matrix:
    """`x` with empty rows added up to `rows` (keys numbered after it was
    built, which no row of `x` lists)."""
    if x.shape[0] >= rows:
        return x
    indptr = np.concatenate(
        [x.indptr, np.full(rows - x.shape[0], x.indptr[-1], dtype=x.indptr.dtype)]
    )
    return sp.csr_matrix((x.data, x.indices, indptr), shape=(rows, x.shape[1]))


SLAB_ENTRIES = 1 << 25
"""Entries of one slab of rows of a neighbourhood product (128 MB of
float32): rows enough that the chunks of `largest` pay by columns too."""
CHUNK = 16
"""Entries of one chunk of `largest`."""

KEEP_ENTRIES = 1 << 26
"""Largest (needs x offers) text product kept from the hub step for the
search (256 MB of float32); a larger one is computed again block by block."""


@dataclass(frozen=True)
class Neighbourhoods:
    """One kind's text vectors after the neighbourhood steps (`transduce`)."""

    needs: FloatMatrix
    offers: FloatMatrix
    penalty: F32
    # needs @ offers.T of the moved vectors, when kept for the search
    text: FloatMatrix | None = None


def transduce(
    needs: FloatMatrix,
    offers: FloatMatrix,
    *,
    expand_k: int,
    expand_weight: float,
    hub_k: int,
    lean: FloatMatrix | None = None,
    split: int = 0,
    keep: bool = False,
) -> Neighbourhoods:
    """Text vectors of one kind's needs and offers, moved towards their
    neighbours on the other side, and each offer's hub penalty.

    Expansion (pseudo-relevance feedback): a need's vector plus
    `expand_weight` times the mean of its `expand_k` nearest offers, and
    the same for offers with their nearest needs, so that two postings
    whose neighbourhoods agree come closer. Then the needs' blocks are
    scaled by `lean` (see `reweigh`; `split` columns in the first block).
    Hub penalty (CSLS): an offer close to every need is less telling, so
    half of how much its mean cosine to its `hub_k` nearest needs exceeds
    the least crowded offer's is taken off its text similarity. Each is
    skipped while the other side has fewer than twice its k postings,
    where neighbours mean little.

    Both expansions read one product of the original vectors (each need's
    nearest offers by row, each offer's nearest needs by column), and the
    hub step one product of the moved ones, which is returned as `text`
    when `keep` and it has at most `KEEP_ENTRIES` entries.
    """
    n, m = needs.shape[0], offers.shape[0]
    k, weight = expand_k, expand_weight
    grow_needs = weight > 0 and k > 0 and m >= 2 * k
    grow_offers = weight > 0 and k > 0 and n >= 2 * k
    hub = hub_k > 0 and n >= 2 * hub_k
    keep = keep and n * m <= KEEP_ENTRIES
    # The kept product's memory serves the first product too: fresh memory
    # costs more than the product itself here (`bench/README.md`).
    text = np.empty((n, m), dtype=np.float32) if keep else None
    new_needs, new_offers = needs, offers
    if grow_needs or grow_offers:
        need_top, offer_top = _nearest_both(
            needs, offers, k if grow_needs else 0, k if grow_offers else 0, text
        )
        if need_top is not None:
            new_needs = _moved(needs, offers, need_top, weight)
        if offer_top is not None:
            new_offers = _moved(offers, needs, offer_top, weight)
    if lean is not None:
        new_needs = reweigh(new_needs, lean, split)
    penalty = np.zeros(m, dtype=np.float32)
    if hub or keep:
        _, crowd = _nearest_both(new_needs, new_offers, 0, hub_k if hub else 0, text)
        if crowd is not None:
            hubness = _mean_dot(new_offers, new_needs, crowd)
            # Measured from the least crowded offer, so it never adds: within
            # one need's list only the differences between offers count.
            penalty = np.asarray(0.5 * (hubness - hubness.min()), dtype=np.float32)
    return Neighbourhoods(new_needs, new_offers, penalty, text)


def _mean_dot(a: FloatMatrix, b: FloatMatrix, top: I64) -> F64:
    """(len(a),): each row of `a`'s mean dot product with its rows `top` of
    `b`, taken again in float64 (equal rows, equal result)."""
    means = _neighbour_mean(top, b.astype(np.float64))
    return np.asarray(
        np.einsum("ij,ij->i", a.astype(np.float64), means), dtype=np.float64
    )


def _neighbour_mean(top: I64, b: npt.NDArray[np.floating]) -> npt.NDArray[np.floating]:
    """(len(top), d): the mean of the rows `top[i]` of `b` for every i, as
    one sparse product (each row's neighbours summed in index order)."""
    n, k = top.shape
    weights = sp.csr_matrix(
        (
            np.full(n * k, 1.0 / k, dtype=b.dtype),
            top.reshape(-1),
            np.arange(0, n * k + 1, k),
        ),
        shape=(n, b.shape[0]),
    )
    return np.asarray(weights @ b, dtype=b.dtype)


def _nearest_both(
    a: FloatMatrix,
    b: FloatMatrix,
    k_rows: int,
    k_columns: int,
    out: FloatMatrix | None = None,
) -> tuple[I64 | None, I64 | None]:
    """From the product a @ b.T: each row's `k_rows` largest columns and each
    column's `k_columns` largest rows, each in index order, so that the same
    neighbours always sum the same way (None when 0). The product is written
    to `out` when given, else made slab by slab of rows."""
    n, m = a.shape[0], b.shape[0]
    rows = np.empty((n, k_rows), dtype=np.int64) if k_rows else None
    value: FloatMatrix | None = None
    index: I64 | None = None
    step = max(1, n) if out is not None else max(1, SLAB_ENTRIES // max(1, m))
    for start in range(0, n, step):
        if out is not None:
            sims = np.matmul(a, b.T, out=out)
        else:
            sims = a[start : start + step] @ b.T
        if rows is not None:
            rows[start : start + step] = np.sort(largest(sims, k_rows, 1)[1], axis=1)
        if k_columns:
            found, at = largest(sims, min(k_columns, sims.shape[0]), 0)
            at += start
            if value is None or index is None:
                value, index = found, at
            else:
                value, index = _keep_best(
                    np.hstack([value, found]), np.hstack([index, at]), k_columns
                )
    columns = np.sort(index, axis=1) if index is not None else None
    return rows, columns


def largest(x: FloatMatrix, k: int, axis: int) -> tuple[FloatMatrix, I64]:
    """The `k` largest entries of each row (`axis` 1) or each column (`axis`
    0) of `x`, k at most their number: (values, positions along `axis`), one
    row of k per row or column of `x`, in no order. A tie with the k-th
    largest may go either way.

    Exact, by chunk maxima (`_chunk_reads`): an entry of a chunk not read is
    at most its chunk's maximum, so at most the k-th largest maximum, while
    the k chunks read hold k entries at least as large."""
    y = x if axis == 1 else x.T
    if not _chunks_pay(y.shape[1], k):
        # Too few chunks to pay: the whole rows, contiguous (a selection
        # along strided columns reads a cache line per entry).
        y = np.ascontiguousarray(y)
        top = _top_positions(y, k)
        return np.take_along_axis(y, top, axis=1), top
    found, at, _ = _chunk_reads(x, k, axis)
    top = _top_positions(found, k)
    return np.take_along_axis(found, top, axis=1), np.take_along_axis(at, top, axis=1)


def _chunks_pay(length: int, k: int) -> bool:
    """Whether rows of `length` entries hold enough chunks (four per entry
    selected) for reading by chunk maxima to beat a whole-row partition."""
    return length // CHUNK >= 4 * k


def _chunk_reads(
    x: FloatMatrix, k: int, axis: int
) -> tuple[FloatMatrix, I64, FloatMatrix]:
    """What the chunk maxima leave to read of each row (`axis` 1) or column
    (`axis` 0) of `x`: (values, their positions along `axis`, every chunk's
    maximum), one row each. The entries along the axis are dealt into
    chunks (entry i into chunk i mod c, `CHUNK` entries each); the values
    are those of the k chunks with the largest maxima, then the few entries
    left over, which are always read. Each chunk's maximum is one pass over
    `x` (`bench/README.md`)."""
    n, m = x.shape if axis == 1 else x.shape[::-1]
    c = m // CHUNK
    if axis == 1:
        maxima = x[:, : c * CHUNK].reshape(n, CHUNK, c).max(axis=1)
    else:
        maxima = np.ascontiguousarray(x[: c * CHUNK].reshape(CHUNK, c, n).max(axis=0).T)
    chunk = _top_positions(maxima, k)
    wide = k * CHUNK
    at = np.empty((n, wide + m - c * CHUNK), dtype=np.int64)
    at[:, :wide] = (chunk[:, :, None] + c * np.arange(CHUNK)).reshape(n, wide)
    at[:, wide:] = np.arange(c * CHUNK, m)
    # One gather by flat positions: on many short columns a pair of index
    # arrays costs twice as much (`bench/README.md`).
    if axis == 1:
        flat = at + m * np.arange(n)[:, None]
    else:
        flat = at * n + np.arange(n)[:, None]
    return np.take(np.ravel(x), flat), at, maxima


def _top_positions(x: FloatMatrix, k: int) -> I64:
    """(rows, k): the positions of each row's k largest entries, in position
    order. The k-th largest value by `np.partition`, then the entries at
    least as large: on many short rows twice as fast as `np.argpartition`;
    the rare row with a tie at the k-th value takes k by `np.argpartition`."""
    w = x.shape[1]
    kth = np.partition(x, w - k, axis=1)[:, w - k, None]
    keep = x >= kth
    tied = np.flatnonzero(np.count_nonzero(keep, axis=1) > k)
    if tied.size:
        keep[tied] = False
        top = np.argpartition(x[tied], w - k, axis=1)[:, w - k :]
        keep[tied[:, None], top] = True
    return np.nonzero(keep)[1].reshape(-1, k)


def _keep_best(value: FloatMatrix, index: I64, k: int) -> tuple[FloatMatrix, I64]:
    """Each row's `k` largest values (and their indices), in no order."""
    if value.shape[1] <= k:
        return value, index
    best = np.argpartition(value, value.shape[1] - k, axis=1)[:, -k:]
    return np.take_along_axis(value, best, axis=1), np.take_along_axis(
        index, best, axis=1
    )


def _moved(a: FloatMatrix, b: FloatMatrix, top: I64, weight: float) -> FloatMatrix:
    """Rows of `a` moved towards the mean of their rows `top` of `b`; a zero
    row (a posting with no known text) has no neighbours and stays zero."""
    moved = unit_rows(a + weight * _neighbour_mean(top, b))
    moved[~a.any(axis=1)] = 0.0
    return moved


def block_rows(columns: int) -> int:
    """Rows per block of a similarity matrix with `columns` columns."""
    return max(1, BLOCK_ENTRIES // max(1, columns))


def top_entries(x: FloatMatrix, k: int) -> tuple[I64, I64, FloatMatrix]:
    """Every entry at least as large as its row's k-th largest (ties with it
    come along; a row with fewer entries gives all): (row, column, value),
    grouped by row, largest first, then by column."""
    n, m = x.shape
    if k >= m:
        row, col = np.divmod(np.arange(n * m), m)
    elif not _chunks_pay(m, k):
        kth = np.partition(x, m - k, axis=1)[:, m - k, None]
        row, col = np.nonzero(x >= kth)
    else:
        row, col = _at_least_kth(x, k)
    value = x[row, col]
    order = np.lexsort((col, -value, row))
    return row[order], col[order], value[order]


def _at_least_kth(x: FloatMatrix, k: int) -> tuple[I64, I64]:
    """(row, column) of every entry of `x` at least as large as its row's
    k-th largest, read by chunk maxima (`_chunk_reads`), not in a pass over
    `x`.

    The k-th largest of the entries read is the row's own: an entry not read
    is at most the k-th largest chunk maximum, and the chunks read hold k
    entries at least that large. An entry not read can only tie with it, and
    only where more than k chunk maxima reach it (else every such chunk was
    read); such a rare row is read whole."""
    found, at, maxima = _chunk_reads(x, k, 1)
    w = found.shape[1]
    kth = np.partition(found, w - k, axis=1)[:, w - k, None]
    whole = np.count_nonzero(maxima >= kth, axis=1) > k
    keep = found >= kth
    keep[whole] = False
    row, pos = np.nonzero(keep)
    col = at[row, pos]
    if whole.any():
        rows = np.flatnonzero(whole)
        more, more_col = np.nonzero(x[rows] >= kth[rows])
        row = np.concatenate([row, rows[more]])
        col = np.concatenate([col, more_col])
    return row, col


def allowed(ns: Side, offers: Block, block: I64) -> npt.NDArray[np.bool_]:
    """(b, m) mask of the pairs that pass the period and distance rules."""
    ok = np.ones((block.size, offers.index.size), dtype=bool)
    n_start, n_end = ns.start[block], ns.end[block]
    if offers.any_period and (np.isfinite(n_start).any() or np.isfinite(n_end).any()):
        # Open ends are -+inf, so "any time" always overlaps.
        ok &= n_start[:, None] <= offers.end[None, :]
        ok &= offers.start[None, :] <= n_end[:, None]
    limited = np.isfinite(ns.max_km[block]) & np.isfinite(ns.lat[block])
    if offers.any_position and limited.any():
        # Within max_km on the sphere <=> the unit vectors' dot product is at
        # least cos(max_km / R): one small matrix product instead of a
        # haversine per pair. An offer with no position has (0, 0, 0, 1) and
        # every need a 1 in that slot, so it always passes; the slack of a
        # metre keeps rounding from dropping a pair the exact rule keeps.
        angle = (ns.max_km[block] + 1e-3) / EARTH_RADIUS_KM
        # Antipodes may come out a hair below -1, so half a turn or more
        # admits everything.
        # (A need with no limit has an infinite angle; its cosine is not
        # taken.)
        threshold = np.where(
            limited & (angle < np.pi), np.cos(np.minimum(angle, np.pi)) - 1e-12, -np.inf
        )
        need_xyz = ns.xyz[block].copy()
        need_xyz[:, 3] = 1.0
        ok &= need_xyz @ offers.xyz.T >= threshold[:, None]
    return ok


def sphere(lat: F64, lon: F64) -> F64:
    """(n, 4) rows: the unit vector of each position and a 4th slot that is 1
    (and the vector 0) when the position is unknown."""
    phi, lam = np.radians(lat), np.radians(lon)
    known = np.isfinite(lat)
    xyz = np.column_stack(
        [
            np.cos(phi) * np.cos(lam),
            np.cos(phi) * np.sin(lam),
            np.sin(phi),
            np.zeros_like(phi),
        ]
    )
    xyz[~known] = (0.0, 0.0, 0.0, 1.0)
    return np.asarray(xyz, dtype=np.float64)
