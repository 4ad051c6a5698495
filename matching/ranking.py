"""Ranking offers for needs: hard filters, learned text similarity, soft signals.

Two stages. The search: every need's text vector against every offer's of the
same kind (one float32 matrix product per block of needs), with the hard rules
applied to the whole block as masks; the `candidates` best by text go on. The
rescoring: every part of the score for those candidates only (and for any other
offer that could still reach the k-th best), on the block's float32 cosines,
then again with float64 cosines for the pairs near the k-th best; the best k.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, fields, replace
from datetime import date
from os import PathLike

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from matching import modelfile
from matching.errors import (
    InvalidArgument,
    InvalidModelFile,
    InvalidPosting,
    InvalidWeights,
    MatchingError,
)
from matching.geo import EARTH_RADIUS_KM, haversine_km
from matching.postings import Posting, check_unique
from matching.results import Match, Reason
from matching.text import (
    CharNgrams,
    Document,
    FloatMatrix,
    LatentSpace,
    Ngrams,
    PairedSpace,
    dense_product,
    posting_units,
    skill_key,
    stem,
    unit_rows,
    words,
)

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

PART_NAMES = ("text", "skills", "period", "distance", "capacity")


@dataclass(frozen=True)
class _Picks:
    """Ranked pairs as columns, grouped by need and best first within a need:
    need and offer indices, score, parts (one column per `PART_NAMES`), km."""

    need: I64
    offer: I64
    score: F64
    parts: F64
    km: F64

    @classmethod
    def join(cls, blocks: Sequence[_Picks]) -> _Picks:
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


RELATED_SKILL_MIN = 0.5
"""Cosine in the paired space from which an offer's skill counts as related to
one of the need's skills (the ``related_skills`` reason)."""


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
      `Ranker.fit` picks the mix that best retrieves one half of a posting from
      the other on its own self-supervised pairs (mean reciprocal rank, the
      simplest mix within a standard error of the best; see
      `Ranker._learn_weights` and `Ranker.weights_`). The class defaults here
      are what that picks on the T1 postings of bench/quality.py (the paired
      space alone, for every seed); they only apply when `Weights` are passed
      explicitly.
    - `skills` is 0: the share of the need's skill labels that the offer also
      lists. An identical label already gives identical n-grams, so the text
      part counts it, and the self-supervised halves (disjoint by construction)
      cannot teach what an extra weight is worth. The part is still computed
      and shown, and `moraspar refit-ranker` gives it a weight when the
      council's decisions show one helps. (At 0.05, T1 falls from 0.623 to
      0.600: in T1 a need never shares a label with its own group's offer.)
    - `period`, `distance`, `capacity`, `distance_scale_km`: no data with real
      placements exists to learn them from, so they are kept small enough that
      a clearly better text match still wins; they reorder offers of similar
      relevance.
    """

    latent: float = 0.0
    paired: float = 1.0
    chars: float = 0.0
    text: float = 0.8
    skills: float = 0.0
    period: float = 0.05
    distance: float = 0.05
    capacity: float = 0.05
    distance_scale_km: float = 25.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
            ):
                raise InvalidWeights(f"weight {f.name} must be a finite number")
            if value < 0:
                raise InvalidWeights(f"weight {f.name} must be >= 0, got {value}")
        if self.latent + self.paired + self.chars <= 0:
            raise InvalidWeights("latent + paired + chars must be > 0")
        total = sum(self.part_weights())
        if total <= 0:
            raise InvalidWeights("at least one part weight must be > 0")
        if not math.isfinite(total) or not math.isfinite(
            self.latent + self.paired + self.chars
        ):
            raise InvalidWeights("the weights are too large to add up")
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
    chars: sp.csr_matrix | None  # TF-IDF rows, kept only when chars weigh > 0
    keys: sp.csr_matrix  # (n, n_keys) skill-key incidence, for the skills part
    n_skills: F64  # distinct skill keys per posting


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
    used as positive pairs: a CCA over them gives `paired_`, and retrieval of
    one half from the other on a fresh split picks the mix of the latent,
    paired and character cosines.

    When ranking, the text vectors of each kind are first moved towards their
    nearest postings on the other side and offers close to every need are
    penalised (see `_transduce`), so the text similarity of a pair also reads
    the neighbourhoods of both.

    `n_components` is the dimension of the latent cosine and of the paired
    space, `base_components` that of the LSA the paired space is learned from,
    `candidates` how many offers per need the search passes on to the
    rescoring (at least 5 * k; all of them when text weighs less than half of
    the score, so that the other parts can reorder freely), `max_pairs` caps
    the number of self-supervised pairs per fit; `expand_k`, `expand_weight`
    and `hub_k` set the neighbourhood steps (0 turns each off).
    """

    def __init__(
        self,
        *,
        weights: Weights | None = None,
        n_components: int = 100,
        base_components: int = 300,
        candidates: int = 50,
        max_pairs: int = 4000,
        expand_k: int = 10,
        expand_weight: float = 0.5,
        hub_k: int = 10,
        random_state: int = 0,
    ) -> None:
        self.weights = weights
        self.n_components = n_components
        self.base_components = base_components
        self.max_pairs = max_pairs
        self.candidates = candidates
        self.expand_k = expand_k
        self.expand_weight = expand_weight
        self.hub_k = hub_k
        self.random_state = random_state

    def fit(
        self, postings: Sequence[Posting], *, vocabulary: Iterable[str] = ()
    ) -> Ranker:
        """Learn the text model from `postings` (usually needs and offers).

        `vocabulary` (e.g. the skill labels an app offers for autocompletion)
        adds its labels' character n-grams to the model, so that postings
        ranked later that use them are read in full; the latent and paired
        spaces are learned from the postings alone.
        """
        self._check_params()
        for p in postings:
            if not isinstance(p, Posting):
                raise InvalidPosting(
                    f"postings must be Posting objects, got {type(p)!r}"
                )
        self._fit([_document(p) for p in postings], postings, _labels(vocabulary))
        return self

    def save(self, path: str | PathLike[str]) -> None:
        """Write the fitted model to `path` (arrays and JSON, no pickle); read
        it back with `matching.load_model`."""
        self._check_fitted()
        header = {
            "params": {name: getattr(self, name) for name in _PARAMS},
            "weights_given": self.weights is not None,
            "weights": asdict(self.weights_),
            "chars": {
                "low": self.chars_.low,
                "high": self.chars_.high,
                "sublinear_tf": self.chars_.sublinear_tf,
            },
            "latent": {
                "n_components": self.latent_.n_components,
                "max_fit_rows": self.latent_.max_fit_rows,
                "random_state": self.latent_.random_state,
            },
            "paired": {
                "n_components": self.paired_.n_components,
                "reg": self.paired_.reg,
            },
        }
        grams = sorted(self.chars_.vocabulary_, key=self.chars_.vocabulary_.__getitem__)
        modelfile.write(
            path,
            header,
            {
                "grams": np.array(grams, dtype=np.str_),
                "idf": self.chars_.idf_,
                "latent_columns": self.latent_.columns_,
                "paired_mean": self.paired_.mean_,
                "paired_projection": self.paired_.projection_,
                "paired_correlations": self.paired_.correlations_,
            },
        )

    @classmethod
    def load(cls, path: str | PathLike[str]) -> Ranker:
        """A fitted `Ranker` read from a file written by `save`."""
        header, arrays = modelfile.read(path, _ARRAYS)
        try:
            weights = Weights(**header["weights"])
            ranker = cls(
                weights=weights if header["weights_given"] else None,
                **header["params"],
            )
            ranker._check_params()
            chars = CharNgrams(**header["chars"])
            latent = LatentSpace(**header["latent"])
            paired = PairedSpace(**header["paired"])
        except (KeyError, TypeError, MatchingError) as e:
            raise InvalidModelFile(f"{path}: damaged model header ({e})") from e
        grams, idf = arrays["grams"], arrays["idf"]
        columns, projection = arrays["latent_columns"], arrays["paired_projection"]
        mean, correlations = arrays["paired_mean"], arrays["paired_correlations"]
        if not (
            grams.ndim == 1
            and grams.dtype.kind == "U"
            and idf.shape == grams.shape
            and columns.ndim == 2
            and columns.shape[0] == grams.size
            and projection.ndim == 2
            and projection.shape[0] == columns.shape[1]
            and mean.shape == (columns.shape[1],)
            and correlations.shape == (projection.shape[1],)
            and all(
                a.dtype == np.float32 and np.isfinite(a).all()
                for a in (idf, columns, projection, mean)
            )
        ):
            raise InvalidModelFile(f"{path}: the model's arrays do not fit together")
        chars.set_vocabulary(grams.tolist(), idf)
        latent.columns_ = columns
        paired.mean_, paired.projection_ = mean, projection
        paired.correlations_ = correlations.astype(np.float64)
        ranker.chars_, ranker.latent_, ranker.paired_ = chars, latent, paired
        ranker._project = chars.projector(columns)
        ranker.weights_ = weights
        return ranker

    def _check_fitted(self) -> None:
        if not hasattr(self, "weights_"):
            raise InvalidArgument("the Ranker is not fitted: call fit() first")

    def _check_params(self) -> None:
        """Raise `InvalidArgument` (or `InvalidWeights`) for a parameter no fit
        can use."""
        if self.weights is not None and not isinstance(self.weights, Weights):
            raise InvalidWeights(
                f"weights must be a Weights or None, got {type(self.weights)!r}"
            )
        for name, low in (
            ("n_components", 1),
            ("base_components", 1),
            ("candidates", 1),
            ("max_pairs", 1),
            ("expand_k", 0),
            ("hub_k", 0),
            ("random_state", 0),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise InvalidArgument(f"{name} must be an int >= {low}, got {value!r}")
        weight = self.expand_weight
        if (
            isinstance(weight, bool)
            or not isinstance(weight, int | float)
            or not math.isfinite(weight)
            or weight < 0
        ):
            raise InvalidArgument(
                f"expand_weight must be a finite number >= 0, got {weight!r}"
            )

    def _fit(
        self,
        docs: list[Document],
        postings: Sequence[Posting],
        vocabulary: Sequence[str] = (),
    ) -> Ngrams:
        self.chars_ = CharNgrams(3, 4, sublinear_tf=True)
        read = self.chars_.fit(docs, extra=[(label,) for label in vocabulary])
        # Content order, so that neither the LSA sample nor the halves depend
        # on the order of the input.
        order = np.array(
            sorted(range(len(docs)), key=lambda i: tuple(docs[i])), dtype=np.int64
        )
        self.latent_ = LatentSpace(
            max(self.n_components, self.base_components),
            random_state=self.random_state,
        )
        self.latent_.fit_rows(self.chars_.weigh(read.rows(self.latent_.sample(order))))
        self._project = self.chars_.projector(self.latent_.columns_)
        units = [u for u in (_units(postings[i]) for i in order) if len(u) >= 2]
        self._pairs_from = units
        rng = np.random.default_rng(self.random_state)
        a, b = self._halves(units, rng)
        self.paired_ = PairedSpace(self.n_components).fit(
            self._base(self.chars_.read(a)), self._base(self.chars_.read(b))
        )
        if self.weights is not None:
            self.weights_ = self.weights
        else:
            self.weights_ = self._learn_weights(*self._halves(units, rng), rng)
        return read

    def _base(self, read: Ngrams) -> FloatMatrix:
        """Unit rows in the full latent space (the paired space's input)."""
        return unit_rows(self._project(read))

    def _halves(
        self, units: Sequence[list[str]], rng: np.random.Generator
    ) -> tuple[list[Document], list[Document]]:
        """Two random halves of (a sample of) the postings' units (two or more
        each), as documents."""
        if len(units) > self.max_pairs:
            keep = np.sort(rng.choice(len(units), self.max_pairs, replace=False))
            units = [units[i] for i in keep]
        rounds = max(1, min(5, self.max_pairs // max(1, len(units))))
        a: list[Document] = []
        b: list[Document] = []
        for _ in range(rounds):
            for u in units:
                perm = rng.permutation(len(u))
                cut = len(u) // 2
                a.append([u[i] for i in perm[:cut]])
                b.append([u[i] for i in perm[cut:]])
        return a, b

    def _learn_weights(
        self, a: list[Document], b: list[Document], rng: np.random.Generator
    ) -> Weights:
        """The text mix that retrieves best on self-supervised pairs.

        For up to `_MIX_PAIRS` fresh pairs of halves, every half a ranks all
        halves b, scored by the mean reciprocal rank of a's own other half (a
        ranking objective, because ranking is what the mix is for). Mixes of
        the latent, paired and character cosines on a grid in steps of 0.2 are
        compared, and the simplest one within a standard error of the best
        wins.
        """
        default = Weights()
        if (
            len(self._pairs_from) < _MIN_POSTINGS
            or not (self.paired_.correlations_ > 0).any()
        ):
            # Too little to learn a space or a mix from: the plain LSA cosine,
            # or the raw n-gram cosine when the corpus is so small that its LSA
            # has only a few dimensions (every cosine near +-1).
            if self.latent_.components_.shape[0] >= _MIN_LATENT_DIMS:
                return replace(default, latent=1.0, paired=0.0, chars=0.0)
            return replace(default, latent=0.0, paired=0.0, chars=1.0)
        if len(a) > _MIX_PAIRS:
            keep = np.sort(rng.choice(len(a), _MIX_PAIRS, replace=False))
            a, b = [a[i] for i in keep], [b[i] for i in keep]
        ra, rb = self.chars_.read(a), self.chars_.read(b)
        xa, xb = self.chars_.weigh(ra), self.chars_.weigh(rb)
        za, zb = self._project(ra), self._project(rb)
        d = self.n_components
        latent = unit_rows(za[:, :d]) @ unit_rows(zb[:, :d]).T
        paired = (
            self.paired_.transform(unit_rows(za))
            @ self.paired_.transform(unit_rows(zb)).T
        )
        chars = np.asarray(dense_product(xa, xb), dtype=np.float32)
        tried: list[tuple[float, float, tuple[float, float, float]]] = []
        for i in range(_MIX_STEPS + 1):
            for j in range(_MIX_STEPS + 1 - i):
                mix = (
                    i / _MIX_STEPS,
                    1.0 - (i + j) / _MIX_STEPS,
                    j / _MIX_STEPS,
                )
                s = mix[0] * latent + mix[1] * paired + mix[2] * chars
                # Ties count as the middle of the tied places, so a space
                # that gives everything the same score wins nothing.
                own = np.diag(s)[:, None]
                rank = (s > own).sum(axis=1) + 0.5 * ((s == own).sum(axis=1) - 1)
                reciprocal = 1.0 / (1.0 + rank)
                error = float(reciprocal.std() / np.sqrt(len(reciprocal)))
                tried.append((float(reciprocal.mean()), error, mix))
        # The one-standard-error rule: of the mixes within one standard error
        # of the best, take the simplest (fewest similarities mixed), then the
        # best of those; differences smaller than the noise decide nothing.
        top_mrr, top_error, _ = max(tried, key=lambda t: t[0])
        near = [t for t in tried if t[0] >= top_mrr - top_error]
        m_latent, m_paired, m_chars = min(
            near, key=lambda t: (sum(w > 0 for w in t[2]), -t[0])
        )[2]
        if m_latent + m_paired + m_chars <= 0:
            return default
        return replace(
            default,
            latent=round(m_latent, 4),
            paired=round(m_paired, 4),
            chars=round(m_chars, 4),
        )

    def fit_rank(
        self, needs: Sequence[Posting], offers: Sequence[Posting], *, k: int = 10
    ) -> dict[str, list[Match]]:
        """`fit` on needs + offers, then `rank`, vectorising each posting once."""
        _check_k(k)
        self._check_params()
        check_unique(needs, "need")
        check_unique(offers, "offer")
        everything = [*needs, *offers]
        read = self._fit([_document(p) for p in everything], everything)
        # Every posting projected once, for both sides.
        latent = self._project(read)
        n = len(needs)
        keys = _KeyIndex()
        return self._rank(
            k,
            self._side(needs, keys, read, latent, slice(0, n)),
            self._side(offers, keys, read, latent, slice(n, len(everything))),
            keys,
        )

    def rank(
        self, needs: Sequence[Posting], offers: Sequence[Posting], *, k: int = 10
    ) -> dict[str, list[Match]]:
        """Best `k` offers for every need, best first; see `matching.rank`."""
        _check_k(k)
        self._check_fitted()
        check_unique(needs, "need")
        check_unique(offers, "offer")
        keys = _KeyIndex()
        ns, os_ = self._side(needs, keys), self._side(offers, keys)
        return self._rank(k, ns, os_, keys)

    def _side(
        self,
        postings: Sequence[Posting],
        keys: _KeyIndex,
        read: Ngrams | None = None,
        latent: FloatMatrix | None = None,
        rows: slice = slice(None),
    ) -> _Side:
        """The side's columns; `read` and `latent`, when given, are the n-grams
        and latent coordinates of a larger set of postings of which `rows` are
        these."""
        docs = [posting_units(p.title, p.text, p.skills) for p in postings]
        if read is None or latent is None:
            read = self.chars_.read(docs)
            latent = self._project(read)
            rows = slice(None)
        latent = latent[rows]
        # Text vectors once per distinct document, in content order: a dense
        # product can round a row differently by where it sits, and equal
        # texts must get equal vectors whatever the order of the input.
        first: dict[tuple[str, ...], int] = {}
        for i, doc in enumerate(docs):
            first.setdefault(doc, i)
        distinct = sorted(first)
        slot = {doc: r for r, doc in enumerate(distinct)}
        search = self._search_vectors(latent[[first[d] for d in distinct]])[
            [slot[d] for d in docs]
        ]
        n = len(postings)
        lat = np.array([np.nan if p.lat is None else p.lat for p in postings])
        lon = np.array([np.nan if p.lon is None else p.lon for p in postings])
        incidence = keys.incidence(postings)
        return _Side(
            postings=postings,
            ids=[p.id for p in postings],
            kind=[p.kind for p in postings],
            count=np.array([p.count for p in postings], dtype=np.float64),
            start=np.array([_ordinal(p.start, -np.inf) for p in postings]),
            end=np.array([_ordinal(p.end, np.inf) for p in postings]),
            lat=lat.reshape(n),
            lon=lon.reshape(n),
            max_km=np.array(
                [np.inf if p.max_km is None else p.max_km for p in postings],
                dtype=np.float64,
            ).reshape(n),
            xyz=_sphere(lat.reshape(n), lon.reshape(n)),
            search=search,
            chars=(
                self.chars_.weigh(read.rows(np.arange(len(read))[rows]))
                if self.weights_.text_mix()[2] > 0
                else None
            ),
            keys=incidence,
            n_skills=np.diff(incidence.indptr).astype(np.float64),
        )

    def _search_vectors(self, z: FloatMatrix) -> FloatMatrix:
        """Rows whose dot product is the latent and paired cosines, mixed as the
        weights say and rescaled to sum to one (the plain latent cosine when
        both weigh 0), from latent coordinates `z`."""
        m_latent, m_paired, _ = self.weights_.text_mix()
        if m_paired <= 0:
            return unit_rows(z[:, : self.n_components])
        paired = self.paired_.transform(unit_rows(z))
        if m_latent <= 0:
            return paired
        share = m_latent / (m_latent + m_paired)
        lsa = unit_rows(z[:, : self.n_components])
        return np.hstack(
            [np.sqrt(share) * lsa, np.sqrt(1.0 - share) * paired], dtype=np.float32
        )

    def _label_vectors(self, labels: Sequence[str]) -> FloatMatrix:
        """Unit rows of single skill labels in the paired space."""
        if not labels:
            return np.zeros((0, self.paired_.projection_.shape[1]), dtype=np.float32)
        read = self.chars_.read([[label] for label in labels])
        return self.paired_.transform(self._base(read))

    def _rank(
        self, k: int, ns: _Side, os_: _Side, keys: _KeyIndex
    ) -> dict[str, list[Match]]:
        result: dict[str, list[Match]] = {i: [] for i in ns.ids}
        if not ns.ids or not os_.ids:
            return result
        ns = replace(ns, keys=keys.widen(ns.keys))
        os_ = replace(os_, keys=keys.widen(os_.keys))
        picked: list[_Picks] = []
        for kind in sorted(set(ns.kind)):
            # Both sides sorted by id: the computation, and so every tie and
            # every rounding, is the same whatever the order of the input, and
            # index order breaks score ties by offer id.
            ni = np.array(
                sorted(
                    (i for i, x in enumerate(ns.kind) if x == kind),
                    key=ns.ids.__getitem__,
                ),
                dtype=np.int64,
            )
            oi = np.array(
                sorted(
                    (j for j, x in enumerate(os_.kind) if x == kind),
                    key=os_.ids.__getitem__,
                ),
                dtype=np.int64,
            )
            if oi.size == 0:
                continue
            need_vecs, offer_vecs, penalty = self._transduce(
                ns.search[ni], os_.search[oi]
            )
            offers = _Block.of(os_, oi, offer_vecs, penalty)
            step = _block_rows(oi.size)
            for start in range(0, ni.size, step):
                picked.append(
                    self._rank_block(
                        ns,
                        os_,
                        offers,
                        ni[start : start + step],
                        need_vecs[start : start + step],
                        k,
                    )
                )
        result.update(_Explainer(self, ns, os_, keys).matches(_Picks.join(picked)))
        return result

    def _transduce(
        self, needs: FloatMatrix, offers: FloatMatrix
    ) -> tuple[FloatMatrix, FloatMatrix, F32]:
        """Text vectors of one kind's needs and offers, moved towards their
        neighbours on the other side, and each offer's hub penalty.

        Expansion (pseudo-relevance feedback): a need's vector plus
        `expand_weight` times the mean of its `expand_k` nearest offers, and
        the same for offers with their nearest needs, so that two postings
        whose neighbourhoods agree come closer. Hub penalty (CSLS): an offer
        close to every need is less telling, so half of how much its mean
        cosine to its `hub_k` nearest needs exceeds the least crowded offer's
        is taken off its text similarity. Each is skipped while the other side
        has fewer than twice its k postings, where neighbours mean little.
        """
        n, m = needs.shape[0], offers.shape[0]
        k, weight = self.expand_k, self.expand_weight
        new_needs, new_offers = needs, offers
        if weight > 0 and k > 0:
            if m >= 2 * k:
                new_needs = _expand(needs, offers, k, weight)
            if n >= 2 * k:
                new_offers = _expand(offers, needs, k, weight)
        penalty = np.zeros(m, dtype=np.float32)
        if self.hub_k > 0 and n >= 2 * self.hub_k:
            hubness = _top_mean(new_offers, new_needs, self.hub_k)
            # Measured from the least crowded offer, so it never adds: within
            # one need's list only the differences between offers count.
            penalty = np.asarray(0.5 * (hubness - hubness.min()), dtype=np.float32)
        return new_needs, new_offers, penalty

    def _rank_block(
        self,
        ns: _Side,
        os_: _Side,
        offers: _Block,
        block: I64,
        vectors: FloatMatrix,
        k: int,
    ) -> _Picks:
        """For each need of `block`: its best k offers.

        Exact, not a heuristic: the offers with the `candidates` best text
        scores (and every offer tied with the last of them) are scored in full;
        then every other offer whose text score is high enough that the other
        parts could still lift it to the k-th best score is scored too.
        """
        w = self.weights_
        pw = np.array(w.part_weights(), dtype=np.float64)
        pw = pw / pw.sum()
        m_latent, m_paired, m_chars = w.text_mix()
        # A score is at most scale * (searched cosine) + rest.
        scale = pw[0] * (m_latent + m_paired)
        others = float(pw[1:].sum())
        rest = others + pw[0] * m_chars
        m = offers.index.size

        # Stage 1: text scores for the whole block, hard rules as masks.
        text = vectors @ offers.search.T
        text -= offers.penalty[None, :]
        # Scores lie in [-2, 1]; a pair the rules forbid is pushed below -8.
        # Shifting rather than setting one value keeps the scores distinct,
        # which selection needs to stay fast (many equal keys slow it down).
        # (A product with the mask: a masked subtraction is ten times slower.)
        text -= ~_allowed(ns, offers, block) * np.float32(_FORBIDDEN)
        lowest = 2.0 - _FORBIDDEN
        c = min(m, max(self.candidates, 5 * k))
        if scale <= 0 or c >= m:
            cut = np.full(block.size, lowest, dtype=np.float32)
            row, pos = np.nonzero(text >= lowest)
        else:
            # The c best by text and every offer tied with the c-th, but not
            # the forbidden.
            row, pos, value = _top_entries(text, c)
            allowed = value >= lowest
            row, pos = row[allowed], pos[allowed]
            cut = np.full(block.size, lowest, dtype=np.float32)
            last = _place_in_group(row) == c - 1
            cut[row[last]] = value[allowed][last]
        # Skill keys each need of the block shares with each offer.
        shared = sp.csr_matrix(ns.keys[block] @ offers.keys)
        # Scores with the block's float32 cosines first (off by less than
        # _APPROX), then in float64 for the pairs that may be in the top k.
        approx = text[row, pos].astype(np.float64)
        found = self._score(ns, os_, offers, block, vectors, shared, row, pos, approx)

        # Stage 2: offers below the cut that could still reach the k-th best.
        if scale > 0:
            kth = _kth_best(found[0], found[1], block.size, k)
            reach = np.where(
                kth - scale * _APPROX > others,
                (kth - rest) / scale - 2 * _APPROX,
                lowest,
            )
            short = reach < cut
            if short.any():
                band = (text >= reach[:, None]) & (text < cut[:, None])
                band[~short] = False
                row, pos = np.nonzero(band)
                more = self._score(
                    ns,
                    os_,
                    offers,
                    block,
                    vectors,
                    shared,
                    row,
                    pos,
                    text[row, pos].astype(np.float64),
                )
                found = tuple(  # type: ignore[assignment]
                    np.concatenate([a, b], axis=-1)
                    for a, b in zip(found, more, strict=True)
                )
        # A pair more than twice the error below the k-th best cannot be in
        # the top k whatever the exact cosines.
        kth = _kth_best(found[0], found[1], block.size, k)
        near = found[1] >= kth[found[0]] - 2 * _APPROX
        found = self._score(
            ns, os_, offers, block, vectors, shared, found[0][near], found[5][near]
        )
        return _best(block, k, *found)

    def _score(
        self,
        ns: _Side,
        os_: _Side,
        offers: _Block,
        block: I64,
        vectors: FloatMatrix,
        shared: sp.csr_matrix,
        row: I64,
        pos: I64,
        cosine: F64 | None = None,
    ) -> tuple[I64, F64, I64, F64, F64, I64]:
        """Every part for the pairs (block[row], offers.index[pos]) that pass
        the exact distance rule: (row, score, offer, parts, km, pos).
        `shared` is the (block, offers) count of shared skill keys; `cosine`,
        when given, the pairs' searched cosines less the hub penalty (else
        they are computed exactly)."""
        w = self.weights_
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
            cosine = np.einsum(
                "ij,ij->i",
                vectors[row].astype(np.float64),
                offers.search[pos].astype(np.float64),
            ) - offers.penalty[pos].astype(np.float64)
        text_part = (m_latent + m_paired) * cosine
        if m_chars > 0 and ns.chars is not None and os_.chars is not None:
            text_part = (
                text_part
                + m_chars
                * np.asarray(
                    ns.chars[need].multiply(os_.chars[offer]).sum(axis=1)
                ).ravel()
            )
        in_common = _entries(shared, row, pos)
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
                _distance_part(km, w.distance_scale_km),
                np.minimum(os_.count[offer] / ns.count[need], 1.0),
            ]
        )
        score = np.clip(pw @ parts, 0.0, 1.0)
        return row, score, offer, parts, km, pos


def _entries(x: sp.csr_matrix, row: I64, col: I64) -> F64:
    """x[row[i], col[i]] for every i, 0 where x stores nothing (by binary search
    over the stored entries, without densifying x)."""
    x = sp.csr_matrix(x)
    x.sum_duplicates()
    stored = (
        np.repeat(np.arange(x.shape[0]), np.diff(x.indptr)) * x.shape[1] + x.indices
    )
    wanted = np.asarray(row, dtype=np.int64) * x.shape[1] + col
    at = np.minimum(np.searchsorted(stored, wanted), max(stored.size - 1, 0))
    if stored.size == 0:
        return np.zeros(wanted.size)
    return np.where(stored[at] == wanted, x.data[at], 0.0).astype(np.float64)


def _kth_best(row: I64, score: F64, n_rows: int, k: int) -> F64:
    """Per row, the k-th best score (-inf where a row has fewer than k)."""
    out = np.full(n_rows, -np.inf)
    order = np.lexsort((-score, row))
    row_sorted = row[order]
    firsts = np.searchsorted(row_sorted, np.arange(n_rows))
    lasts = np.searchsorted(row_sorted, np.arange(n_rows), side="right")
    has = lasts - firsts >= k
    out[has] = score[order[firsts[has] + k - 1]]
    return out


def _best(
    block: I64,
    k: int,
    row: I64,
    score: F64,
    offer: I64,
    parts: F64,
    km: F64,
    pos: I64,
) -> _Picks:
    """Each need's k best, best first; equal scores (to 9 decimals) go by
    offer id, i.e. by position."""
    order = np.lexsort((pos, -np.round(score, 9), row))
    top = order[_place_in_group(row[order]) < k]
    return _Picks(block[row[top]], offer[top], score[top], parts[:, top].T, km[top])


def _place_in_group(keys: I64) -> I64:
    """For sorted `keys`: each element's place (0, 1, ...) among its equals."""
    if keys.size == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    sizes = np.diff(np.r_[starts, keys.size])
    return np.arange(keys.size) - np.repeat(starts, sizes)


_BLOCK_ENTRIES = 1 << 22
"""Entries of one block of a (rows x columns) similarity matrix (16 MB of
float32): large enough that per-block overheads vanish, small enough that
memory stays flat."""
_GROUP = 32
_FORBIDDEN = 10.0
_APPROX = 1e-4
"""A bound on how far a cosine of the float32 block product (dimension <= a
few hundred, unit rows) lies from the same cosine in float64: about 100 times
the worst rounding, so selections made on the block stay exact."""
_MIX_PAIRS = 1000
_MIN_POSTINGS = 20
_MIN_LATENT_DIMS = 20
_MIX_STEPS = 5


@dataclass(frozen=True)
class _Block:
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

    @classmethod
    def of(cls, side: _Side, index: I64, search: FloatMatrix, penalty: F32) -> _Block:
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
        )


def _expand(a: FloatMatrix, b: FloatMatrix, k: int, weight: float) -> FloatMatrix:
    """Rows of `a` moved towards the mean of their `k` nearest rows of `b`; a
    zero row (a posting with no known text) has no neighbours and stays zero."""
    moved = unit_rows(a + weight * _neighbour_mean(a, b, k))
    moved[~a.any(axis=1)] = 0.0
    return moved


def _neighbour_mean(a: FloatMatrix, b: FloatMatrix, k: int) -> FloatMatrix:
    """(len(a), d): for each row of `a`, the mean of the `k` rows of `b` with
    the largest dot products (blockwise, so memory stays flat)."""
    out = np.empty_like(a)
    step = _block_rows(b.shape[0])
    for start in range(0, a.shape[0], step):
        top = _nearest(a[start : start + step] @ b.T, k)
        out[start : start + step] = b[top].mean(axis=1)
    return out


def _top_mean(a: FloatMatrix, b: FloatMatrix, k: int) -> F64:
    """(len(a),): each row of `a`'s mean dot product with its `k` nearest rows
    of `b`, the products taken again in float64 (equal rows, equal result)."""
    out = np.empty(a.shape[0], dtype=np.float64)
    b64 = b.astype(np.float64)
    step = _block_rows(b.shape[0])
    for start in range(0, a.shape[0], step):
        rows = a[start : start + step]
        top = _nearest(rows @ b.T, k)
        out[start : start + step] = (
            np.einsum("ij,ikj->i", rows.astype(np.float64), b64[top]) / k
        )
    return out


def _block_rows(columns: int) -> int:
    """Rows per block of a similarity matrix with `columns` columns."""
    return max(1, _BLOCK_ENTRIES // max(1, columns))


def _nearest(sims: FloatMatrix, k: int) -> I64:
    """(rows, k): the columns of each row's k largest entries (k <= columns),
    in column order, so that the same neighbours always sum the same way."""
    m = sims.shape[1]
    return np.sort(np.argpartition(sims, m - k, axis=1)[:, m - k :], axis=1)


def _top_entries(x: FloatMatrix, k: int) -> tuple[I64, I64, FloatMatrix]:
    """Every entry at least as large as its row's k-th largest (ties with it
    come along; a row with fewer entries gives all): (row, column, value),
    grouped by row, largest first, then by column.

    Exact, without sorting or partitioning whole rows: the columns are dealt
    into groups of `_GROUP` (column j into group j mod g); the k-th largest of
    a row's group maxima is at most its k-th largest entry (those k maxima are
    k entries at least that large) and usually close to it, so only the
    entries of groups reaching it are looked at.
    """
    n, m = x.shape
    g = m // _GROUP
    if g >= k:
        maxima = x[:, : g * _GROUP].reshape(n, _GROUP, g).max(axis=1)
        floor = np.partition(maxima, g - k, axis=1)[:, g - k]
        group_row, group = np.nonzero(maxima >= floor[:, None])
        cols = group[:, None] + g * np.arange(_GROUP)
        found = x[group_row[:, None], cols] >= floor[group_row, None]
        row = np.broadcast_to(group_row[:, None], cols.shape)[found]
        col = cols[found]
        if g * _GROUP < m:
            # The columns left over after the last full group.
            rest_row, rest = np.nonzero(x[:, g * _GROUP :] >= floor[:, None])
            row = np.concatenate([row, rest_row])
            col = np.concatenate([col, rest + g * _GROUP])
    else:
        row, col = np.divmod(np.arange(n * m), m)
    value = x[row, col]
    order = np.lexsort((col, -value, row))
    row, col, value = row[order], col[order], value[order]
    kth = np.full(n, -np.inf, dtype=x.dtype)
    at = _place_in_group(row) == k - 1
    kth[row[at]] = value[at]
    keep = value >= kth[row]
    return row[keep], col[keep], value[keep]


def _allowed(ns: _Side, offers: _Block, block: I64) -> npt.NDArray[np.bool_]:
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
        threshold = np.where(limited & (angle < np.pi), np.cos(angle) - 1e-12, -np.inf)
        need_xyz = ns.xyz[block].copy()
        need_xyz[:, 3] = 1.0
        ok &= need_xyz @ offers.xyz.T >= threshold[:, None]
    return ok


def _sphere(lat: F64, lon: F64) -> F64:
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


class _KeyIndex:
    """Skill keys (stems of a label) numbered across both sides of one call."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.of_label: dict[str, int] = {}

    def _label(self, label: str) -> int:
        """The key number of a label; -1 when it has no letters or digits."""
        key = skill_key(label)
        number = self.ids.setdefault(key, len(self.ids)) if key else -1
        self.of_label[label] = number
        return number

    def incidence(self, postings: Sequence[Posting]) -> sp.csr_matrix:
        """(n, n_keys) 0/1 rows: which keys each posting lists."""
        of_label, number = self.of_label, self._label
        counts = [len(p.skills) for p in postings]
        flat = [
            of_label[s] if s in of_label else number(s)
            for p in postings
            for s in p.skills
        ]
        row = np.repeat(np.arange(len(postings)), counts)
        col = np.array(flat, dtype=np.int64)
        known = col >= 0
        x = sp.csr_matrix(
            (np.ones(int(known.sum()), dtype=np.float32), (row[known], col[known])),
            shape=(len(postings), len(self.ids)),
        )
        # Two labels with one key count once.
        x.data[:] = 1.0
        return x

    def widen(self, x: sp.csr_matrix) -> sp.csr_matrix:
        """`x` with a column for every key numbered so far (the other side may
        have added some after `x` was built)."""
        return sp.csr_matrix(
            (x.data, x.indices, x.indptr), shape=(x.shape[0], len(self.ids))
        )


class _Explainer:
    """Builds the `Match`es of ranked pairs with their reasons, all pairs at
    once; caches per posting and per value, since the same offer and the same
    distances recur across needs."""

    def __init__(self, ranker: Ranker, ns: _Side, os_: _Side, keys: _KeyIndex) -> None:
        self.ranker = ranker
        self.ns = ns
        self.os = os_
        self.keys = keys
        self.offer_stems: dict[int, dict[str, str]] = {}
        self.values: dict[tuple[str, float], Reason] = {}
        self.any_time = Reason("any_time")

    def matches(self, picks: _Picks) -> dict[str, list[Match]]:
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
                terms = [w for stem_, w in offer_stems.items() if stem_ in need_stems]
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
        position = _place_in_group(entry_pair)
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
        vectors = self.ranker._label_vectors(labels)
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
        for e in order[_place_in_group(pair[order]) < 3].tolist():
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


def _check_k(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InvalidArgument(f"k must be an int >= 1, got {k!r}")


def _distance_part(km: F64, scale_km: float) -> F64:
    return np.where(np.isnan(km), 0.5, np.exp(-np.nan_to_num(km) / scale_km))


def _document(p: Posting) -> Document:
    return posting_units(p.title, p.text, p.skills)


def _units(p: Posting) -> list[str]:
    """What a posting is split into for self-supervision: its skills, or the
    words of its title and text when it lists fewer than two skills."""
    if len(p.skills) >= 2:
        return list(p.skills)
    return words(f"{p.title} {p.text}")


def _stem_words(p: Posting) -> dict[str, str]:
    found: dict[str, str] = {}
    for w in words(f"{p.title} {p.text}"):
        # Stop words are too short to tell anyone why two postings match.
        if len(w) > 3:
            found.setdefault(stem(w), w)
    return found


_PARAMS = (
    "n_components",
    "base_components",
    "candidates",
    "max_pairs",
    "expand_k",
    "expand_weight",
    "hub_k",
    "random_state",
)
_ARRAYS = (
    "grams",
    "idf",
    "latent_columns",
    "paired_mean",
    "paired_projection",
    "paired_correlations",
)


def _labels(vocabulary: Iterable[str]) -> list[str]:
    if isinstance(vocabulary, str):
        raise InvalidArgument("vocabulary must be an iterable of labels, not a str")
    labels = list(vocabulary)
    if not all(isinstance(label, str) for label in labels):
        raise InvalidArgument("vocabulary labels must be strings")
    return sorted(set(labels))


def fit(
    postings: Sequence[Posting],
    *,
    vocabulary: Iterable[str] = (),
    weights: Weights | None = None,
) -> Ranker:
    """A text model fitted on `postings` (and `vocabulary`, see `Ranker.fit`),
    to rank with (`Ranker.rank`) as often as needed and to `save`."""
    return Ranker(weights=weights).fit(postings, vocabulary=vocabulary)


def load_model(path: str | PathLike[str]) -> Ranker:
    """A fitted model saved with `Ranker.save`; raises `InvalidModelFile` (or
    its subclass `UnsupportedModelVersion`) when the file cannot be used."""
    return Ranker.load(path)


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
    a fitted `Ranker` to rank many times against one corpus. A pair's text
    similarity also reads the neighbourhoods of both sides among the postings
    of the call, so ranking a subset can score the same pair a little
    differently.
    """
    _check_k(k)
    check_unique(needs, "need")
    check_unique(offers, "offer")
    return Ranker(weights=weights).fit_rank(needs, offers, k=k)
