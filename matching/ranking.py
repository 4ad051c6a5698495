"""Ranking offers for needs: hard filters, learned text similarity, soft signals."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from datetime import date

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from matching.errors import InvalidArgument, InvalidWeights
from matching.geo import haversine_km
from matching.postings import Posting, check_unique
from matching.results import Match, Reason
from matching.text import (
    CharNgrams,
    FloatMatrix,
    LatentSpace,
    PairedSpace,
    posting_text,
    skill_key,
    stem,
    words,
)

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

PART_NAMES = ("text", "skills", "period", "distance", "capacity")


@dataclass(frozen=True, slots=True)
class Weights:
    """How much each part counts in a match's score (a weighted mean of parts).

    `latent`, `paired` and `chars` mix three text similarities into the ``text``
    part: cosine in the latent space (LSA of character n-grams), in the paired
    space (a CCA learned from halves of the same postings, see `Ranker`) and in
    raw character n-grams. `text`, `skills`, `period`, `distance` and `capacity`
    weigh the parts; `distance_scale_km` is the distance at which the
    ``distance`` part has fallen to 1/e.

    How the defaults were obtained:
    - `latent`/`paired`/`chars` are learned, not set: when no `Weights` are given,
      `Ranker.fit` fits a logistic regression on its own self-supervised pairs
      (two random halves of one posting = positive, halves of two different
      postings = negative; features = the three cosines) and uses its clipped,
      normalised coefficients (see `Ranker.weights_`). The class defaults here
      are those learned values rounded, from fitting on the T1 postings of
      bench/quality.py (seeds 0-2 gave latent 0.32-0.35, paired 0.65-0.69,
      chars 0.0); they only apply when `Weights` are passed explicitly.
    - `skills`: kept small by hand. The self-supervised halves are disjoint by
      construction, so they cannot teach the value of a shared label.
    - `period`, `distance`, `capacity`, `distance_scale_km`: no data with real
      placements exists to learn them from, so they are kept small enough that
      a clearly better text match still wins; they reorder offers of similar
      relevance.
    """

    latent: float = 0.35
    paired: float = 0.65
    chars: float = 0.0
    text: float = 0.8
    skills: float = 0.05
    period: float = 0.05
    distance: float = 0.05
    capacity: float = 0.05
    distance_scale_km: float = 25.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int | float) or not math.isfinite(value):
                raise InvalidWeights(f"weight {f.name} must be a finite number")
            if value < 0:
                raise InvalidWeights(f"weight {f.name} must be >= 0, got {value}")
        if self.latent + self.paired + self.chars <= 0:
            raise InvalidWeights("latent + paired + chars must be > 0")
        if sum(self.part_weights()) <= 0:
            raise InvalidWeights("at least one part weight must be > 0")
        if self.distance_scale_km <= 0:
            raise InvalidWeights("distance_scale_km must be > 0")

    def text_mix(self) -> tuple[float, float, float]:
        """(latent, paired, chars), normalised to sum to 1."""
        total = self.latent + self.paired + self.chars
        return (self.latent / total, self.paired / total, self.chars / total)

    def part_weights(self) -> tuple[float, float, float, float, float]:
        """Weights in the order of `PART_NAMES`."""
        return (self.text, self.skills, self.period, self.distance, self.capacity)


@dataclass(frozen=True)
class _Side:
    """Column arrays of one side (needs or offers), in input order."""

    ids: list[str]
    kind: list[str]
    count: F64
    start: F64  # day ordinal, -inf when open
    end: F64  # day ordinal, +inf when open
    lat: F64  # NaN when unknown
    lon: F64
    max_km: F64  # +inf when none
    chars: sp.csr_matrix
    latent: FloatMatrix  # search vectors: their dot is the latent+paired cosine
    skill_keys: list[dict[str, str]]
    stems: list[dict[str, str]]  # stem -> first word with it


def _ordinal(d: date | None, open_value: float) -> float:
    return float(d.toordinal()) if d is not None else open_value


class Ranker:
    """Fits a Swedish text model on postings and ranks offers for needs.

    Follows scikit-learn conventions: parameters in `__init__`, `fit` learns
    from the postings given (and nothing else) the character n-gram vocabulary
    (`chars_`), the latent space (`latent_`, LSA of `base_components` dims), the
    paired space (`paired_`) and, unless `weights` are given, the text mix
    (`weights_`); all randomness comes from `random_state`.

    Self-supervision: each posting's skills (or, with fewer than two skills, the
    words of its title and text) are split into two random halves. Two halves of
    one posting look like a need and an offer of one occupation, so they are
    used as positive pairs: a CCA over them gives `paired_`, and a logistic
    regression of positive against mismatched halves on a fresh split gives the
    weights of the latent, paired and character cosines.

    `n_components` is the dimension of the latent cosine and of the paired
    space, `candidates` how many offers per need the fast latent search passes
    on to exact scoring (at least 5 * k are used), `max_pairs` caps the number
    of self-supervised pairs per fit.
    """

    def __init__(
        self,
        *,
        weights: Weights | None = None,
        n_components: int = 100,
        base_components: int = 200,
        candidates: int = 50,
        max_pairs: int = 4000,
        random_state: int = 0,
    ) -> None:
        self.weights = weights
        self.n_components = n_components
        self.base_components = base_components
        self.max_pairs = max_pairs
        self.candidates = candidates
        self.random_state = random_state

    def fit(self, postings: Sequence[Posting]) -> Ranker:
        """Learn the text model from `postings` (usually needs and offers)."""
        self._fit_chars(postings)
        return self

    def _fit_chars(self, postings: Sequence[Posting]) -> sp.csr_matrix:
        docs = [posting_text(p.title, p.text, p.skills) for p in postings]
        self.chars_ = CharNgrams(3, 5, sublinear_tf=True)
        x = self.chars_.fit_transform(docs)
        self.latent_ = LatentSpace(
            max(self.n_components, self.base_components),
            random_state=self.random_state,
        ).fit(x)
        # Content order, so the halves do not depend on the order of the input.
        ordered = sorted(postings, key=lambda p: (p.title, p.text, p.skills))
        rng = np.random.default_rng(self.random_state)
        a, b = self._halves(ordered, rng)
        self.paired_ = PairedSpace(self.n_components).fit(
            self.latent_.transform(self.chars_.transform(a)),
            self.latent_.transform(self.chars_.transform(b)),
        )
        if self.weights is not None:
            self.weights_ = self.weights
        else:
            self.weights_ = self._learn_weights(*self._halves(ordered, rng), rng)
        return x

    def _halves(
        self, postings: Sequence[Posting], rng: np.random.Generator
    ) -> tuple[list[str], list[str]]:
        """Texts of two random halves of (a sample of) the postings."""
        units = [_units(p) for p in postings]
        units = [u for u in units if len(u) >= 2]
        if len(units) > self.max_pairs:
            keep = np.sort(rng.choice(len(units), self.max_pairs, replace=False))
            units = [units[i] for i in keep]
        rounds = max(1, min(5, self.max_pairs // max(1, len(units))))
        a: list[str] = []
        b: list[str] = []
        for _ in range(rounds):
            for u in units:
                perm = rng.permutation(len(u))
                cut = len(u) // 2
                a.append(" ".join(u[i] for i in perm[:cut]))
                b.append(" ".join(u[i] for i in perm[cut:]))
        return a, b

    def _learn_weights(
        self, a: list[str], b: list[str], rng: np.random.Generator
    ) -> Weights:
        """The text mix from a logistic regression on self-supervised pairs."""
        default = Weights()
        if len(a) < 20:
            return default
        xa, xb = self.chars_.transform(a), self.chars_.transform(b)
        za, zb = self.latent_.transform(xa), self.latent_.transform(xb)
        la = self.latent_.transform(xa, self.n_components)
        lb = self.latent_.transform(xb, self.n_components)
        pa, pb = self.paired_.transform(za), self.paired_.transform(zb)
        same = np.arange(len(a))
        other = rng.permutation(len(a))

        def features(j: npt.NDArray[np.int64]) -> F64:
            return np.column_stack(
                [
                    (la * lb[j]).sum(axis=1),
                    (pa * pb[j]).sum(axis=1),
                    np.asarray(xa.multiply(xb[j]).sum(axis=1)).ravel(),
                ]
            ).astype(np.float64)

        x = np.vstack([features(same), features(other)])
        y = np.r_[np.ones(len(a)), np.zeros(len(a))]
        coef = LogisticRegression(C=1.0).fit(x, y).coef_[0]
        coef = np.maximum(coef, 0.0)
        if coef.sum() <= 0:
            return default
        coef = np.round(coef / coef.sum(), 4)
        return replace(
            default,
            latent=float(coef[0]),
            paired=float(coef[1]),
            chars=float(coef[2]),
        )

    def fit_rank(
        self, needs: Sequence[Posting], offers: Sequence[Posting], *, k: int = 10
    ) -> dict[str, list[Match]]:
        """`fit` on needs + offers, then `rank`, vectorising each posting once."""
        _check_k(k)
        check_unique(needs, "need")
        check_unique(offers, "offer")
        x = self._fit_chars([*needs, *offers])
        n = len(needs)
        return self._rank(
            needs, offers, k, self._side(needs, x[:n]), self._side(offers, x[n:])
        )

    def _side(
        self, postings: Sequence[Posting], chars: sp.csr_matrix | None = None
    ) -> _Side:
        if chars is None:
            docs = [posting_text(p.title, p.text, p.skills) for p in postings]
            chars = self.chars_.transform(docs)
        n = len(postings)
        return _Side(
            ids=[p.id for p in postings],
            kind=[p.kind for p in postings],
            count=np.array([p.count for p in postings], dtype=np.float64),
            start=np.array([_ordinal(p.start, -np.inf) for p in postings]),
            end=np.array([_ordinal(p.end, np.inf) for p in postings]),
            lat=np.array(
                [np.nan if p.lat is None else p.lat for p in postings], dtype=np.float64
            ).reshape(n),
            lon=np.array(
                [np.nan if p.lon is None else p.lon for p in postings], dtype=np.float64
            ).reshape(n),
            max_km=np.array(
                [np.inf if p.max_km is None else p.max_km for p in postings],
                dtype=np.float64,
            ).reshape(n),
            chars=chars,
            latent=self._search_vectors(chars),
            skill_keys=[{skill_key(s): s for s in p.skills} for p in postings],
            stems=[_stem_words(f"{p.title} {p.text}") for p in postings],
        )

    def _search_vectors(self, chars: sp.csr_matrix) -> FloatMatrix:
        """Rows whose dot product is the latent and paired cosines, mixed as the
        weights say and rescaled to sum to one (the plain latent cosine when
        both weigh 0)."""
        m_latent, m_paired, _ = self.weights_.text_mix()
        lsa = self.latent_.transform(chars, self.n_components)
        if m_latent + m_paired <= 0:
            return lsa
        share = m_latent / (m_latent + m_paired)
        paired = self.paired_.transform(self.latent_.transform(chars))
        return np.hstack(
            [np.sqrt(share) * lsa, np.sqrt(1.0 - share) * paired], dtype=np.float32
        )

    def rank(
        self, needs: Sequence[Posting], offers: Sequence[Posting], *, k: int = 10
    ) -> dict[str, list[Match]]:
        """Best `k` offers for every need, best first; see `matching.rank`."""
        _check_k(k)
        check_unique(needs, "need")
        check_unique(offers, "offer")
        return self._rank(needs, offers, k, self._side(needs), self._side(offers))

    def _rank(
        self,
        needs: Sequence[Posting],
        offers: Sequence[Posting],
        k: int,
        need_side: _Side,
        offer_side: _Side,
    ) -> dict[str, list[Match]]:
        result: dict[str, list[Match]] = {p.id: [] for p in needs}
        if not needs or not offers:
            return result
        for kind in sorted(set(need_side.kind)):
            ni = np.array([i for i, x in enumerate(need_side.kind) if x == kind])
            # Offers sorted by id, so index order breaks score ties by offer id.
            oi = np.array(
                sorted(
                    (j for j, x in enumerate(offer_side.kind) if x == kind),
                    key=lambda j: offer_side.ids[j],
                ),
                dtype=np.int64,
            )
            if oi.size == 0:
                continue
            for start in range(0, ni.size, _BLOCK):
                block = ni[start : start + _BLOCK]
                for i, matches in self._rank_block(
                    need_side, offer_side, block, oi, k
                ).items():
                    result[need_side.ids[i]] = matches
        return result

    def _rank_block(
        self,
        ns: _Side,
        os_: _Side,
        block: npt.NDArray[np.int64],
        oi: npt.NDArray[np.int64],
        k: int,
    ) -> dict[int, list[Match]]:
        w = self.weights_
        pw = np.array(w.part_weights(), dtype=np.float64)
        pw = pw / pw.sum()
        m_latent, m_paired, m_chars = w.text_mix()
        m_search = m_latent + m_paired

        # (b, m); rounded so that float32 summation order (which depends on
        # where a row sits in the input) cannot reorder equal texts.
        latent = np.round(ns.latent[block] @ os_.latent[oi].T, 6)
        ok, period, km = _hard_and_soft(ns, os_, block, oi)
        soft = (
            pw[2] * period
            + pw[3] * _distance_part(km, w.distance_scale_km)
            + pw[4] * np.minimum(os_.count[oi][None, :] / ns.count[block][:, None], 1.0)
        )
        # Cheap score for the search: chars and skills are only added for the
        # candidates, so give them their most likely value, the latent one.
        quick = pw[0] * np.clip(latent, 0.0, 1.0) + soft
        quick = np.where(ok, quick, -np.inf)

        n_cand = min(oi.size, max(self.candidates, 5 * k))
        out: dict[int, list[Match]] = {}
        cand = _top_indices(quick, n_cand)  # (b, c) positions into oi, -1 = none
        valid = cand >= 0
        flat_r = np.repeat(block, valid.sum(axis=1))
        flat_j = oi[cand[valid]]
        # Row-wise dot products of the pairs only, in one sparse operation.
        chars_all = np.zeros(cand.shape, dtype=np.float64)
        chars_all[valid] = np.asarray(
            ns.chars[flat_r].multiply(os_.chars[flat_j]).sum(axis=1)
        ).ravel()
        for r, i in enumerate(block):
            pos = cand[r][cand[r] >= 0]
            if pos.size == 0:
                out[int(i)] = []
                continue
            offers_j = oi[pos]
            chars = chars_all[r][valid[r]]
            lat = latent[r, pos].astype(np.float64)
            text = np.clip(
                (m_search * lat if m_search > 0 else 0.0) + m_chars * chars, 0.0, 1.0
            )
            need_keys = ns.skill_keys[int(i)]
            skills = np.array(
                [_skill_share(need_keys, os_.skill_keys[int(j)]) for j in offers_j]
            )
            dist = _distance_part(km[r, pos], w.distance_scale_km)
            cap = np.minimum(os_.count[offers_j] / ns.count[int(i)], 1.0)
            parts = np.vstack([text, skills, period[r, pos], dist, cap])
            score = np.clip(pw @ parts, 0.0, 1.0)
            # Best first; equal scores fall back to offer id via position order.
            order = np.lexsort((pos, -np.round(score, 6)))[:k]
            out[int(i)] = [
                self._match(
                    ns,
                    os_,
                    int(i),
                    int(offers_j[o]),
                    float(score[o]),
                    parts[:, o],
                    float(km[r, pos[o]]),
                )
                for o in order
            ]
        return out

    def _match(
        self, ns: _Side, os_: _Side, i: int, j: int, score: float, parts: F64, km: float
    ) -> Match:
        return Match(
            need_id=ns.ids[i],
            offer_id=os_.ids[j],
            score=score,
            parts={name: float(v) for name, v in zip(PART_NAMES, parts, strict=True)},
            reasons=_reasons(ns, os_, i, j, km, self),
        )


_BLOCK = 256


def _check_k(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InvalidArgument(f"k must be an int >= 1, got {k!r}")


def _hard_and_soft(
    ns: _Side, os_: _Side, block: npt.NDArray[np.int64], oi: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.bool_], F64, F64]:
    """Hard-filter mask, period part and km matrix for a block of needs."""
    n_start, n_end = ns.start[block][:, None], ns.end[block][:, None]
    o_start, o_end = os_.start[oi][None, :], os_.end[oi][None, :]
    lo = np.maximum(n_start, o_start)
    hi = np.minimum(n_end, o_end)
    ok = lo <= hi  # open ends are +-inf, so "any time" always overlaps
    need_full = np.isfinite(n_start) & np.isfinite(n_end)
    with np.errstate(invalid="ignore"):
        covered = np.where(need_full, (hi - lo + 1.0) / (n_end - n_start + 1.0), 1.0)
    period = np.clip(np.nan_to_num(covered, nan=1.0), 0.0, 1.0)
    n_lat, o_lat = ns.lat[block], os_.lat[oi]
    if np.isnan(n_lat).all() or np.isnan(o_lat).all():
        km = np.full(ok.shape, np.nan)
    else:
        # float32 keeps metres-level precision at Mora's scale and halves the time.
        km = haversine_km(
            n_lat.astype(np.float32)[:, None],
            ns.lon[block].astype(np.float32)[:, None],
            o_lat.astype(np.float32)[None, :],
            os_.lon[oi].astype(np.float32)[None, :],
        )
    # NaN (unknown position) compares False, so it never fails the radius.
    ok &= ~(km > ns.max_km[block][:, None])
    return ok, period, km


def _distance_part(km: F64, scale_km: float) -> F64:
    return np.where(np.isnan(km), 0.5, np.exp(-np.nan_to_num(km) / scale_km))


def _top_indices(scores: F64, c: int) -> npt.NDArray[np.int64]:
    """Column indices of each row's `c` best finite scores, -1 padding; ties go
    to the lower index so the choice is deterministic."""
    b, m = scores.shape
    if c >= m:
        idx = np.broadcast_to(np.arange(m), (b, m)).copy()
    else:
        part = np.argpartition(-scores, c, axis=1)
        idx = part[:, :c].copy()
        thr = np.take_along_axis(scores, idx, 1).min(axis=1)
        # Only rows where the cut falls inside a run of equal scores need care.
        tied_rows = np.flatnonzero(
            np.take_along_axis(scores, part[:, c : c + 1], 1)[:, 0] == thr
        )
        for r in tied_rows:
            above = np.flatnonzero(scores[r] > thr[r])
            tied = np.flatnonzero(scores[r] == thr[r])
            idx[r] = np.concatenate([above, tied])[:c]
    finite = np.isfinite(np.take_along_axis(scores, idx, 1))
    return np.where(finite, idx, -1)


def _units(p: Posting) -> list[str]:
    """What a posting is split into for self-supervision: its skills, or the
    words of its title and text when it lists fewer than two skills."""
    if len(p.skills) >= 2:
        return list(p.skills)
    return words(f"{p.title} {p.text}")


def _stem_words(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for w in words(text):
        # Stop words are too short to tell anyone why two postings match.
        if len(w) > 3:
            found.setdefault(stem(w), w)
    return found


def _skill_share(need: dict[str, str], offer: dict[str, str]) -> float:
    if not need:
        return 0.0
    return sum(1 for key in need if key in offer) / len(need)


def _reasons(
    ns: _Side, os_: _Side, i: int, j: int, km: float, ranker: Ranker
) -> tuple[Reason, ...]:
    reasons: list[Reason] = []
    need_keys, offer_keys = ns.skill_keys[i], os_.skill_keys[j]
    shared = tuple(label for key, label in offer_keys.items() if key in need_keys)
    if shared:
        reasons.append(Reason("shared_skills", values=shared))
    terms = [word for s, word in os_.stems[j].items() if s in ns.stems[i]]
    if terms:
        reasons.append(Reason("shared_terms", values=tuple(terms[:5])))
    if not math.isnan(km):
        reasons.append(Reason("distance_km", value=round(km, 1)))
    lo = max(ns.start[i], os_.start[j])
    hi = min(ns.end[i], os_.end[j])
    if math.isfinite(lo) and math.isfinite(hi):
        reasons.append(
            Reason("overlap_weeks", value=round(float(hi - lo + 1.0) / 7.0, 1))
        )
    else:
        reasons.append(Reason("any_time"))
    places = float(os_.count[j])
    if places >= ns.count[i]:
        reasons.append(Reason("all_places", value=places))
    else:
        reasons.append(Reason("free_places", value=places))
    return tuple(reasons)


def rank(
    needs: Sequence[Posting],
    offers: Sequence[Posting],
    *,
    k: int = 10,
    weights: Weights | None = None,
) -> dict[str, list[Match]]:
    """Rank offers for every need.

    `needs` (n) and `offers` (m) are `Posting`s; returns {need id: up to `k`
    matches, best first} with every need id present (an empty list when nothing
    passes the hard filters). A pair is ranked only when the kinds are equal, the
    periods overlap where both are known (a missing date is "any time"), and,
    when the need has `max_km` and both have coordinates, the great-circle
    distance is at most `max_km` km. Equal scores are ordered by offer id.

    The text model is fitted on the needs and offers given (see `Ranker`); reuse
    a fitted `Ranker` to rank many times against one corpus.
    """
    _check_k(k)
    check_unique(needs, "need")
    check_unique(offers, "offer")
    return Ranker(weights=weights).fit_rank(needs, offers, k=k)
