"""The reasons behind a match, as structured data for the app to render."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matching.keys import KeyIndex
from matching.postings import Posting
from matching.results import Match, Reason
from matching.score import Picks, place_in_group
from matching.search import Side
from matching.stopwords import is_filler
from matching.text import FloatMatrix, stem, words
from matching.weights import PART_NAMES

I64 = npt.NDArray[np.int64]

RELATED_SKILL_MIN = 0.5
"""Cosine in the paired space from which an offer's skill counts as related to
one of the need's skills (the ``related_skills`` reason)."""


@dataclass(frozen=True)
class SkillLabels:
    """Skill labels numbered as rows, with their unit vectors in the paired
    space (for the related-skills reason)."""

    names: list[str]
    row: dict[str, int]
    vectors: FloatMatrix

    @classmethod
    def of(
        cls, labels: Sequence[str], vectors: Callable[[Sequence[str]], FloatMatrix]
    ) -> SkillLabels:
        names = sorted(set(labels))
        return cls(names, {s: r for r, s in enumerate(names)}, vectors(names))


@dataclass(frozen=True)
class Listing:
    """Postings' skills as numbers, each skill key once, in order of first
    listing: the key (a number of a `KeyIndex`) and the row of its first
    label; posting i's run from ``starts[i]`` to ``starts[i + 1]``."""

    starts: I64
    keys: I64
    rows: I64

    @classmethod
    def of(
        cls, postings: Sequence[Posting], keys: KeyIndex, row: Mapping[str, int]
    ) -> Listing:
        """`keys` must know every label (a label with no key is left out) and
        `row` number every label."""
        of_label = keys.of_label
        labels = [s for p in postings for s in p.skills]
        owner = np.repeat(np.arange(len(postings)), [len(p.skills) for p in postings])
        key = np.array([of_label[s] for s in labels], dtype=np.int64)
        rows = np.array([row[s] for s in labels], dtype=np.int64)
        # The first label of each (posting, key), in listing order.
        code = owner * max(1, len(keys.ids)) + key
        _, first = np.unique(np.where(key >= 0, code, -1), return_index=True)
        first = np.sort(first[key[first] >= 0])
        starts = np.searchsorted(owner[first], np.arange(len(postings) + 1))
        return cls(starts, key[first], rows[first])

    def take(self, which: I64) -> tuple[I64, I64, I64]:
        """(place in `which`, key, row) of every skill of the postings
        `which`, posting by posting."""
        lo = self.starts[which]
        lengths = self.starts[which + 1] - lo
        owner = np.repeat(np.arange(which.size), lengths)
        before = np.cumsum(lengths) - lengths
        at = np.arange(int(lengths.sum())) + np.repeat(lo - before, lengths)
        return owner, self.keys[at], self.rows[at]

    def subset(self, which: I64) -> Listing:
        """The listing of the postings `which`, in that order."""
        owner, key, row = self.take(which)
        return Listing(np.searchsorted(owner, np.arange(which.size + 1)), key, row)


class Explainer:
    """Builds the `Match`es of ranked pairs with their reasons, all pairs at
    once; caches per posting and per value, since the same offer and the same
    distances recur across needs. The offers' skills come prepared (`labels`,
    `listing`, made once per `OfferIndex`); a need's labels that no offer
    lists are read in the paired space per call (`label_vectors`)."""

    def __init__(
        self,
        label_vectors: Callable[[Sequence[str]], FloatMatrix],
        ns: Side,
        os_: Side,
        keys: KeyIndex,
        labels: SkillLabels,
        listing: Listing,
    ) -> None:
        self.label_vectors = label_vectors
        self.ns = ns
        self.os = os_
        self.keys = keys
        self.labels = labels
        self.listing = listing
        self.offer_stems: dict[int, dict[str, str]] = {}
        self.values: dict[tuple[str, float], Reason] = {}
        self.any_time = Reason("any_time")

    def matches(self, picks: Picks) -> dict[str, list[Match]]:
        """{need id: its matches, best first} for the needs with any pick."""
        ns, os_ = self.ns, self.os
        need = picks.need.tolist()
        offer = picks.offer.tolist()
        stems_of_need = {i: _stem_words(ns.postings[i]) for i in dict.fromkeys(need)}
        in_common, related = self.skills(need, offer)
        lo = np.maximum(ns.start[picks.need], os_.start[picks.offer])
        hi = np.minimum(ns.end[picks.need], os_.end[picks.offer])
        known = np.isfinite(lo) & np.isfinite(hi)
        weeks = np.where(known, (hi - lo + 1.0) / 7.0, np.nan).tolist()
        places = os_.count[picks.offer].tolist()
        enough = (os_.count[picks.offer] >= ns.count[picks.need]).tolist()
        shared = (picks.parts[:, 1] > 0).tolist()
        out: dict[str, list[Match]] = {}
        for e, (i, j, score, parts, km) in enumerate(
            zip(
                need,
                offer,
                picks.score.tolist(),
                picks.parts.tolist(),
                picks.km.tolist(),
                strict=True,
            )
        ):
            reasons: list[Reason] = []
            if shared[e]:
                reasons.append(Reason("shared_skills", values=in_common[e]))
            if related[e]:
                reasons.append(Reason("related_skills", values=related[e]))
            need_stems = stems_of_need[i]
            if need_stems:
                terms = self._terms(j, need_stems, in_common[e])
                if terms:
                    reasons.append(Reason("shared_terms", values=terms))
            if not math.isnan(km):
                reasons.append(self._value("distance_km", round(km, 1)))
            if math.isnan(weeks[e]):
                reasons.append(self.any_time)
            else:
                reasons.append(self._value("overlap_weeks", round(weeks[e], 1)))
            code = "all_places" if enough[e] else "free_places"
            reasons.append(self._value(code, places[e]))
            out.setdefault(ns.ids[i], []).append(
                Match(
                    need_id=ns.ids[i],
                    offer_id=os_.ids[j],
                    score=score,
                    parts=dict(zip(PART_NAMES, parts, strict=True)),
                    reasons=tuple(reasons),
                )
            )
        return out

    def _terms(
        self, offer: int, need_stems: dict[str, str], in_common: tuple[str, ...]
    ) -> tuple[str, ...]:
        """Up to five words of the offer whose stems the need shares, less
        the words of the skills already shown as shared."""
        offer_stems = _cached(self.offer_stems, offer, self.os.postings, _stem_words)
        said = {stem(w) for label in in_common for w in words(label)}
        terms = [
            w
            for stem_, w in offer_stems.items()
            if stem_ in need_stems and stem_ not in said
        ]
        return tuple(terms[:5])

    def _value(self, code: str, value: float) -> Reason:
        reason = self.values.get((code, value))
        if reason is None:
            reason = self.values[(code, value)] = Reason(code, value=value)
        return reason

    def skills(
        self, need: Sequence[int], offer: Sequence[int]
    ) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
        """Per pair (grouped by need): the offer's skill labels that the need
        also lists, in the offer's order; and up to 3 of its other labels that
        lie closest to one of the need's skills (at least `RELATED_SKILL_MIN`),
        closest first, then in the offer's order. Each label stands for its
        skill key (the first label with it); each need's skills meet its
        offers' in one matrix product."""
        base = self.labels.row
        needs = np.unique(np.asarray(need, dtype=np.int64))
        postings = [self.ns.postings[i] for i in needs.tolist()]
        # The needs' labels that no offer lists are numbered after the
        # offers'; only the needs' labels are looked up, so that a call for
        # one need does not copy the index's numbering.
        labels = dict.fromkeys(s for p in postings for s in p.skills)
        extra = [s for s in labels if s not in base]
        numbered = {s: base[s] for s in labels if s in base} | {
            s: r for r, s in enumerate(extra, start=len(base))
        }
        own = Listing.of(postings, self.keys, numbered)
        names = [*self.labels.names, *extra]
        n_keys = max(1, len(self.keys.ids))
        # Each (pair, offer key) is an entry, in pair order.
        pair, entry_key, entry_label = self.listing.take(
            np.asarray(offer, dtype=np.int64)
        )
        entry_need = np.searchsorted(needs, np.asarray(need, dtype=np.int64))[pair]
        own_owner = np.repeat(np.arange(needs.size), np.diff(own.starts))
        mutual = _within(
            entry_need * n_keys + entry_key, np.sort(own_owner * n_keys + own.keys)
        )
        shown = np.flatnonzero(mutual)
        in_common = _grouped(pair[shown], entry_label[shown], len(offer), names)
        other = np.flatnonzero(~mutual)
        if other.size == 0:
            return in_common, [()] * len(offer)
        vectors = self.labels.vectors
        if extra:
            vectors = np.vstack([vectors, self.label_vectors(list(extra))])
        best = nearest_cosines(
            vectors, entry_label[other], entry_need[other], own.rows, own.starts
        )
        near = best >= RELATED_SKILL_MIN
        close, close_pair = other[near], pair[other[near]]
        order = closest_first(close_pair, best[near])
        top = close[order[place_in_group(close_pair[order]) < 3]]
        related = _grouped(pair[top], entry_label[top], len(offer), names)
        return in_common, related


def nearest_cosines(
    vectors: FloatMatrix, labels: I64, owner: I64, rows: I64, starts: I64
) -> npt.NDArray[np.float32]:
    """For each entry (a row `labels[e]` of `vectors`, of need `owner[e]`,
    each need's entries next to each other): its largest dot product with
    the rows of its need, ``rows[starts[i]:starts[i + 1]]``; -inf where the
    need has none. One small product per run of a need's entries: a batched
    product of needs padded to one size costs more (`bench/README.md`)."""
    best = np.full(labels.size, -np.inf, dtype=np.float32)
    if labels.size == 0:
        return best
    bounds = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1], True]).tolist()
    for a, b in itertools.pairwise(bounds):
        i = int(owner[a])
        own = rows[starts[i] : starts[i + 1]]
        if own.size:
            best[a:b] = (vectors[labels[a:b]] @ vectors[own].T).max(axis=1)
    return best


def _within(codes: I64, known: I64) -> npt.NDArray[np.bool_]:
    """Which `codes` are among `known` (sorted): a binary search each,
    faster than `np.isin`'s sort of both when `known` is the smaller."""
    if known.size == 0:
        return np.zeros(codes.size, dtype=bool)
    at = np.minimum(np.searchsorted(known, codes), known.size - 1)
    return np.asarray(known[at] == codes)


def closest_first(pair: I64, nearness: npt.NDArray[np.float32]) -> I64:
    """The order of entries by `pair` (sorted), then by `nearness` (float32
    cosines, at least 0.5) from high to low, equals in their given order.

    One stable sort of a float64 key that holds both exactly: 2 * pair +
    (1 - nearness), where 1 - nearness lies in [-1e-6, 0.5] and needs 25
    bits below the point, so the sum is exact while the pair numbers stay
    below 2**27. Eight times faster than `np.lexsort` on the speed data
    (673,000 entries: 0.03 s against 0.27 s)."""
    if pair.size and int(pair[-1]) >= 1 << 27:
        return np.lexsort((-nearness, pair))
    key = 2.0 * pair + (1.0 - nearness.astype(np.float64))
    return np.argsort(key, kind="stable")


def _grouped(
    group: I64, row: I64, n: int, names: Sequence[str]
) -> list[tuple[str, ...]]:
    """For groups 0 to n - 1: the names of the rows of each group, in order
    (`group` sorted)."""
    out: list[tuple[str, ...]] = [()] * n
    if group.size == 0:
        return out
    labels = [names[r] for r in row.tolist()]
    bounds = np.flatnonzero(np.r_[True, group[1:] != group[:-1], True]).tolist()
    of_group = group.tolist()
    for a, b in itertools.pairwise(bounds):
        out[of_group[a]] = tuple(labels[a:b])
    return out


def _cached(
    cache: dict[int, dict[str, str]],
    index: int,
    postings: Sequence[Posting],
    make: Callable[[Posting], dict[str, str]],
) -> dict[str, str]:
    found = cache.get(index)
    if found is None:
        found = cache[index] = make(postings[index])
    return found


def _stem_words(p: Posting) -> dict[str, str]:
    """{stem: the first word with it} of the title and text, without filler."""
    found: dict[str, str] = {}
    for w in words(f"{p.title} {p.text}"):
        if not is_filler(w):
            found.setdefault(stem(w), w)
    return found
