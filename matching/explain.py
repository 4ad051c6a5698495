"""The reasons behind a match, as structured data for the app to render."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

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


class Explainer:
    """Builds the `Match`es of ranked pairs with their reasons, all pairs at
    once; caches per posting and per value, since the same offer and the same
    distances recur across needs."""

    def __init__(
        self,
        label_vectors: Callable[[Sequence[str]], FloatMatrix],
        ns: Side,
        os_: Side,
        keys: KeyIndex,
    ) -> None:
        self.label_vectors = label_vectors
        self.ns = ns
        self.os = os_
        self.keys = keys
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
        days = np.where(known, hi - lo + 1.0, np.nan).tolist()
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
                offer_stems = _cached(self.offer_stems, j, os_.postings, _stem_words)
                # A word already shown as a shared skill is not repeated.
                said = {stem(w) for label in in_common[e] for w in words(label)}
                terms = [
                    w
                    for stem_, w in offer_stems.items()
                    if stem_ in need_stems and stem_ not in said
                ]
                if terms:
                    reasons.append(Reason("shared_terms", values=tuple(terms[:5])))
            if not math.isnan(km):
                reasons.append(self._value("distance_km", round(km, 1)))
            if math.isnan(days[e]):
                reasons.append(self.any_time)
            else:
                reasons.append(self._value("overlap_weeks", round(days[e] / 7.0, 1)))
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
        closest first. Each label stands for its skill key (the first label
        with it); each need's skills meet its offers' in one matrix product."""
        label_row: dict[str, int] = {}
        of_need = self._keyed(self.ns.postings, dict.fromkeys(need), label_row)
        of_offer = self._keyed(self.os.postings, dict.fromkeys(offer), label_row)
        n_keys = max(1, len(self.keys.ids))
        # Each (pair, offer key) is an entry, in pair order.
        lengths = np.array([of_offer[j][0].size for j in offer], dtype=np.int64)
        entry_pair = np.repeat(np.arange(len(offer)), lengths)
        entry_key = np.concatenate(
            [of_offer[j][0] for j in offer] or [np.zeros(0, np.int64)]
        )
        entry_label = np.concatenate(
            [of_offer[j][1] for j in offer] or [np.zeros(0, np.int64)]
        )
        position = place_in_group(entry_pair)
        entry_need = np.asarray(need, dtype=np.int64)[entry_pair]
        own_codes = np.concatenate(
            [i * n_keys + keys for i, (keys, _) in of_need.items()]
            or [np.zeros(0, np.int64)]
        )
        mutual = np.isin(entry_need * n_keys + entry_key, own_codes)
        labels = sorted(label_row, key=label_row.__getitem__)
        in_common: list[tuple[str, ...]] = [() for _ in offer]
        for e in np.flatnonzero(mutual).tolist():
            p = int(entry_pair[e])
            in_common[p] = (*in_common[p], labels[entry_label[e]])
        related: list[tuple[str, ...]] = [() for _ in offer]
        other = np.flatnonzero(~mutual)
        if other.size == 0:
            return in_common, related
        vectors = self.label_vectors(labels)
        best = np.full(other.size, -np.inf, dtype=np.float32)
        other_need = entry_need[other]
        starts = np.flatnonzero(np.r_[True, other_need[1:] != other_need[:-1]])
        ends = np.r_[starts[1:], other.size]
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            own = of_need[int(other_need[a])][1]
            if own.size:
                sims = vectors[entry_label[other[a:b]]] @ vectors[own].T
                best[a:b] = sims.max(axis=1)
        close = np.flatnonzero(best >= RELATED_SKILL_MIN)
        pair, first = entry_pair[other[close]], position[other[close]]
        # By pair, then most similar first, then the offer's order.
        order = np.lexsort((first, -best[close], pair))
        for e in order[place_in_group(pair[order]) < 3].tolist():
            p = int(pair[e])
            related[p] = (*related[p], labels[entry_label[other[close[e]]]])
        return in_common, related

    def _keyed(
        self,
        postings: Sequence[Posting],
        which: Iterable[int],
        label_row: dict[str, int],
    ) -> dict[int, tuple[I64, I64]]:
        """For each posting index in `which`: its skill keys (numbers of
        `self.keys`) in order of first listing, and the row in `label_row` of
        the first label with each (a label with no letters or digits has no
        key)."""
        of_label = self.keys.of_label
        index = list(which)
        labels = [s for i in index for s in postings[i].skills]
        lengths = [len(postings[i].skills) for i in index]
        owner = np.repeat(np.arange(len(index)), lengths)
        key = np.array([of_label[s] for s in labels], dtype=np.int64)
        row = np.array(
            [label_row.setdefault(s, len(label_row)) for s in labels], dtype=np.int64
        )
        # The first label of each (posting, key), in listing order.
        code = owner * max(1, len(self.keys.ids)) + key
        _, first = np.unique(np.where(key >= 0, code, -1), return_index=True)
        first = np.sort(first[key[first] >= 0])
        starts = np.searchsorted(owner[first], np.arange(len(index) + 1))
        return {
            i: (key[first[a:b]], row[first[a:b]])
            for i, a, b in zip(index, starts[:-1], starts[1:], strict=True)
        }


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
