"""Ranking offers for needs: the `Ranker`, and `fit`, `load_model` and `rank`.

A `Ranker` fits a text model on postings (`matching.fit`), can be saved and
loaded (`matching.modelfile`), and ranks: each kind's needs against its offers
(`matching.search`), every part of the score for the candidates with the bound
that keeps the top k exact (`matching.score`), then the reasons
(`matching.explain`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from os import PathLike

import numpy as np

from matching import modelfile
from matching.errors import (
    InvalidArgument,
    InvalidModelFile,
    InvalidPosting,
    InvalidWeights,
    MatchingError,
)
from matching.explain import Explainer, Listing, SkillLabels
from matching.fit import Spaces, choose_mix, document, halves
from matching.fit import units as split_units
from matching.gcpause import collector_paused
from matching.keys import KeyIndex
from matching.postings import Posting, check_unique
from matching.results import Match
from matching.score import Picks, rank_block
from matching.search import (
    F64,
    I64,
    Block,
    Side,
    block_rows,
    side_columns,
    side_rows,
    transduce,
    widen_rows,
)
from matching.text import (
    CharNgrams,
    Document,
    FloatMatrix,
    LatentSpace,
    Ngrams,
    PairedSpace,
    posting_units,
    unit_rows,
    words,
)
from matching.weights import Weights

__all__ = ["OfferIndex", "Ranker", "Weights", "fit", "load_model", "rank"]


@dataclass(frozen=True, eq=False)
class OfferIndex:
    """Offers prepared once for one fitted `Ranker` (`Ranker.index`): their
    text vectors, rule columns and skill keys, grouped by kind in id order.

    Ranking needs against an index (`Ranker.rank(needs, index)`) gives the
    same matches as ranking them against the offers, and costs only the
    needs' own vectors and the products with the offers of their kind; the
    neighbourhood steps, which read both sides, still run per call. An index
    is read-only, so one index can serve many calls (and threads).
    """

    ranker: Ranker
    weights: Weights
    side: Side
    keys: KeyIndex
    kinds: dict[str, I64]  # offer rows of each kind, in id order
    blocks: dict[str, Block]  # per kind, before the neighbourhood steps
    labels: SkillLabels  # the offers' skill labels, for the related-skills reason
    listing: Listing  # each offer's skill keys and label rows, for the reasons

    def __len__(self) -> int:
        return len(self.side.ids)

    def subset(self, rows: Sequence[int]) -> OfferIndex:
        """The index of the offers at positions `rows` (of the offers this
        index was made from), without reading them again: e.g. the placements
        one piece of a large run can reach. Ranking against it gives the
        matches of ranking against those offers."""
        if self.weights != self.ranker.weights_:
            raise InvalidArgument(
                "the model's weights changed after the OfferIndex was made: "
                "make it again with the model's index()"
            )
        at = np.asarray(rows, dtype=np.int64).reshape(-1)
        if at.size and (at.min() < 0 or at.max() >= len(self)):
            raise InvalidArgument("subset rows must be positions of indexed offers")
        if np.unique(at).size != at.size:
            raise InvalidArgument("subset rows must be distinct")
        return self.ranker._index(
            side_rows(self.side, at), self.keys, self.labels, self.listing.subset(at)
        )


class Ranker:
    """Fits a Swedish text model on postings and ranks offers for needs.

    Follows scikit-learn conventions: parameters in `__init__`, `fit` learns
    from the postings given (and nothing else) the character n-gram vocabulary
    (`chars_`), the latent space (`latent_`, LSA of `base_components` dims), the
    paired space (`paired_`) and, unless `weights` are given, the text mix
    (`weights_`); all randomness comes from `random_state`.

    How the spaces and the mix are learned: `matching.fit`. A fitted Ranker
    can be saved (`save`) and loaded (`matching.load_model`); ranking with it
    (`rank`) never refits.

    When ranking, the text vectors of each kind are first moved towards their
    nearest postings on the other side and offers close to every need are
    penalised (see `matching.search.transduce`), so the text similarity of a
    pair also reads the neighbourhoods of both.

    `n_components` is the dimension of the latent cosine and of the paired
    space, `base_components` that of the LSA the paired space is learned from,
    `candidates` how many offers per need the search passes on to the
    rescoring (at least 5 * k; all of them when text weighs less than half of
    the score, so that the other parts can reorder freely), `max_pairs` caps
    the number of self-supervised pairs per fit; `expand_k`, `expand_weight`
    and `hub_k` set the neighbourhood steps (0 turns each off).

    `list_latent` is the latent cosine's share of the text mix for a need that
    reads as a skill list (`reads_as_skill_list`), in place of the learned
    mix's: a list of skills is best read through which skills go together
    (the paired space), a title or a free text also through its own wording.

    `text_chars` is the raw character cosine's share of the text similarity
    of a need that does not read as a skill list (a title, a free text), the
    rest going to the paired cosine; `title_chars` its share when the offer is
    a bare title too (no skills, at most five words,
    `matching.search.is_bare_title`). Titles and free texts carry their
    meaning in their wording (a compound's head, "plåtslagare"), which the
    latent and paired spaces blur most when both sides are bare titles; with
    the raw characters in the mix such a need does not fall below the
    character baseline (`bench/README.md`). 0 turns each off.
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
        list_latent: float = 0.15,
        text_chars: float = 0.5,
        title_chars: float = 0.9,
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
        self.list_latent = list_latent
        self.text_chars = text_chars
        self.title_chars = title_chars
        self.random_state = random_state

    @collector_paused()
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
        self._fit([document(p) for p in postings], postings, _labels(vocabulary))
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
        for name in ("list_latent", "text_chars", "title_chars"):
            share = getattr(self, name)
            if (
                isinstance(share, bool)
                or not isinstance(share, int | float)
                or not 0 <= share <= 1
            ):
                raise InvalidArgument(
                    f"{name} must be a number in [0, 1], got {share!r}"
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
        units = [u for u in (split_units(postings[i]) for i in order) if len(u) >= 2]
        rng = np.random.default_rng(self.random_state)
        a, b = halves(units, rng, self.max_pairs)
        self.paired_ = PairedSpace(self.n_components).fit(
            unit_rows(self._project(self.chars_.read(a))),
            unit_rows(self._project(self.chars_.read(b))),
        )
        if self.weights is not None:
            self.weights_ = self.weights
        else:
            self.weights_ = choose_mix(self._spaces(), len(units))
        return read

    def _spaces(self) -> Spaces:
        return Spaces(
            self.chars_, self.latent_, self.paired_, self._project, self.n_components
        )

    @collector_paused()
    def fit_rank(
        self, needs: Sequence[Posting], offers: Sequence[Posting], *, k: int = 10
    ) -> dict[str, list[Match]]:
        """`fit` on needs + offers, then `rank`, vectorising each posting once."""
        _check_k(k)
        self._check_params()
        check_unique(needs, "need")
        check_unique(offers, "offer")
        everything = [*needs, *offers]
        fitted = self._fit([document(p) for p in everything], everything)
        # Every posting projected once, for both sides.
        latent = self._project(fitted)
        n = len(needs)
        keys = KeyIndex()
        # The offers' TF-IDF rows only when a need reads them.
        listed = [reads_as_skill_list(p) for p in needs]
        raw = not all(listed)
        # The n-gram counts, the fit's largest arrays, are freed before the
        # ranking's arrays are made when no side reads them again, so that
        # these reuse the memory rather than touch fresh (`bench/README.md`).
        read = fitted if self._reads_tfidf(raw) else None
        del fitted
        os_ = self._side(offers, keys, read, latent, slice(n, len(everything)), raw=raw)
        index = self._index(os_, keys)
        # The offers' keys were numbered first: the needs' go on from there.
        ns = self._side(needs, keys, read, latent, slice(0, n), raw=raw)
        del read, latent
        return self._rank(k, ns, index, keys, listed)

    @collector_paused()
    def index(self, offers: Sequence[Posting]) -> OfferIndex:
        """The offers prepared once for this fitted model, to rank many needs
        (or one need at a time) against with `rank(needs, index)`."""
        return self._offer_index(offers, raw=True)

    def _offer_index(self, offers: Sequence[Posting], *, raw: bool) -> OfferIndex:
        """`index`; `raw=False` leaves out the offers' TF-IDF rows, which
        only needs that do not read as skill lists use (`char_shares`), for
        a call that ranks skill lists alone."""
        self._check_fitted()
        check_unique(offers, "offer")
        for p in offers:
            if not isinstance(p, Posting):
                raise InvalidPosting(f"offers must be Posting objects, got {type(p)!r}")
        keys = KeyIndex()
        return self._index(self._side(offers, keys, raw=raw), keys)

    def _index(
        self,
        os_: Side,
        keys: KeyIndex,
        labels: SkillLabels | None = None,
        listing: Listing | None = None,
    ) -> OfferIndex:
        kinds: dict[str, list[int]] = {}
        for j in sorted(range(len(os_.ids)), key=os_.ids.__getitem__):
            kinds.setdefault(os_.kind[j], []).append(j)
        rows = {kind: np.array(js, dtype=np.int64) for kind, js in kinds.items()}
        if labels is None:
            # The related-skills reason compares labels in the paired space:
            # the offers' labels once here, so that a call reads only the
            # needs'.
            labels = SkillLabels.of(
                [s for p in os_.postings for s in p.skills], self.skill_vectors
            )
        if listing is None:
            listing = Listing.of(os_.postings, keys, labels.row)
        return OfferIndex(
            ranker=self,
            weights=self.weights_,
            side=os_,
            keys=keys,
            kinds=rows,
            blocks={
                kind: Block.of(os_, oi, os_.search[oi], np.zeros(oi.size, np.float32))
                for kind, oi in rows.items()
            },
            labels=labels,
            listing=listing,
        )

    @collector_paused()
    def rank(
        self,
        needs: Sequence[Posting],
        offers: Sequence[Posting] | OfferIndex,
        *,
        k: int = 10,
    ) -> dict[str, list[Match]]:
        """Best `k` offers for every need, best first; see `matching.rank`.

        `offers` is a sequence of `Posting`s or an `OfferIndex` made by this
        model's `index` (the same matches, without preparing the offers
        again)."""
        _check_k(k)
        self._check_fitted()
        check_unique(needs, "need")
        listed = [reads_as_skill_list(p) for p in needs]
        raw = not all(listed)
        if isinstance(offers, OfferIndex):
            if offers.ranker is not self or offers.weights != self.weights_:
                raise InvalidArgument(
                    "the OfferIndex was made by another model (or before its "
                    "weights changed): make it again with this model's index()"
                )
            index = offers
        else:
            # An index for this call only: the offers' TF-IDF rows only when
            # a need reads them.
            index = self._offer_index(offers, raw=raw)
        # A copy, so that the needs' keys never grow the shared index.
        keys = index.keys.copy()
        return self._rank(k, self._side(needs, keys, raw=raw), index, keys, listed)

    def _side(
        self,
        postings: Sequence[Posting],
        keys: KeyIndex,
        read: Ngrams | None = None,
        latent: FloatMatrix | None = None,
        rows: slice = slice(None),
        *,
        raw: bool = True,
    ) -> Side:
        """The side's columns; `read` and `latent`, when given, are the n-grams
        and latent coordinates of a larger set of postings of which `rows` are
        these. The TF-IDF rows are kept when the text mix reads them, or when
        `raw` and the ranker has raw character shares (`char_shares`); a
        caller that knows no need reads them passes `raw=False`."""
        docs = [posting_units(p.title, p.text, p.skills) for p in postings]
        if latent is None:
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
        tfidf = None
        if self._reads_tfidf(raw):
            if read is None:
                raise MatchingError("the TF-IDF rows are read but no n-grams given")
            tfidf = self.chars_.weigh(read.rows(np.arange(len(read))[rows]))
        return side_columns(postings, search, tfidf, keys.incidence(postings))

    def _reads_tfidf(self, raw: bool) -> bool:
        """Whether a side keeps its TF-IDF rows: when the text mix reads them,
        or when `raw` and the ranker has raw character shares
        (`char_shares`)."""
        return self.weights_.text_mix()[2] > 0 or (
            raw and (self.text_chars > 0 or self.title_chars > 0)
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

    def latent_width(self) -> int:
        """Columns of the latent block of a search vector (the LSA may have
        fewer dimensions than `n_components` on a small corpus)."""
        return min(self.n_components, int(self.latent_.columns_.shape[1]))

    def lean(
        self, needs: Sequence[Posting], listed: Sequence[bool] | None = None
    ) -> FloatMatrix:
        """(n, 2) factors of the latent and paired blocks of each need's search
        vector (see `matching.search.reweigh`).

        A need that reads as a skill list (`reads_as_skill_list`): its dot
        product with an offer is `list_latent` * latent cosine + (1 -
        `list_latent`) * paired cosine (only when the learned mix has both
        cosines; the offers keep it). Any other need: (1 - `text_chars`) *
        paired cosine, its other `text_chars` being the raw character cosine
        (`char_shares`); without a paired space, (1 - `text_chars`) * the
        learned mix. `listed`, when given, says which needs read as skill
        lists."""
        out = np.ones((len(needs), 2), dtype=np.float32)
        m_latent, m_paired, _ = self.weights_.text_mix()
        if m_latent + m_paired <= 0:
            return out
        share = m_latent / (m_latent + m_paired)
        if listed is None:
            listed = [reads_as_skill_list(p) for p in needs]
        if m_latent > 0 and m_paired > 0:
            out[[i for i, is_list in enumerate(listed) if is_list]] = (
                self.list_latent / share,
                (1.0 - self.list_latent) / (1.0 - share),
            )
        if self.text_chars > 0:
            rest = 1.0 - self.text_chars
            out[[i for i, is_list in enumerate(listed) if not is_list]] = (
                (0.0, rest / (1.0 - share)) if m_paired > 0 else (rest, rest)
            )
        return out

    def char_shares(
        self, needs: Sequence[Posting], listed: Sequence[bool] | None = None
    ) -> F64:
        """(n, 2): the raw character cosine's share of each need's text
        similarity beside its search vector's dot product, with an offer and
        with a bare-title offer: `text_chars` and `title_chars` for a need
        that does not read as a skill list, else 0 (see `lean`)."""
        out = np.zeros((len(needs), 2), dtype=np.float64)
        m_latent, m_paired, _ = self.weights_.text_mix()
        if m_latent + m_paired > 0:
            if listed is None:
                listed = [reads_as_skill_list(p) for p in needs]
            out[[i for i, is_list in enumerate(listed) if not is_list]] = (
                self.text_chars,
                self.title_chars,
            )
        return out

    def skill_vectors(self, labels: Sequence[str]) -> FloatMatrix:
        """Unit rows of single skill labels in the paired space: the dot
        product of two rows is the cosine the related-skills reason compares
        with `RELATED_SKILL_MIN`."""
        if not labels:
            return np.zeros((0, self.paired_.projection_.shape[1]), dtype=np.float32)
        read = self.chars_.read([[label] for label in labels])
        return self.paired_.transform(self._spaces().base(read))

    def _rank(
        self,
        k: int,
        ns: Side,
        index: OfferIndex,
        keys: KeyIndex,
        listed: Sequence[bool],
    ) -> dict[str, list[Match]]:
        result: dict[str, list[Match]] = {i: [] for i in ns.ids}
        os_ = index.side
        if not ns.ids or not os_.ids:
            return result
        n_keys = len(keys.ids)
        ns = replace(
            ns,
            keys=keys.widen(ns.keys),
            char_share=self.char_shares(ns.postings, listed),
        )
        os_ = replace(os_, keys=keys.widen(os_.keys))
        kinds: dict[str, list[int]] = {}
        for i in sorted(range(len(ns.ids)), key=ns.ids.__getitem__):
            kinds.setdefault(ns.kind[i], []).append(i)
        picked: list[Picks] = []
        for kind in sorted(kinds):
            # Both sides sorted by id: the computation, and so every tie and
            # every rounding, is the same whatever the order of the input, and
            # index order breaks score ties by offer id.
            oi = index.kinds.get(kind)
            if oi is None:
                continue
            ni = np.array(kinds[kind], dtype=np.int64)
            prepared = index.blocks[kind]
            hood = transduce(
                ns.search[ni],
                prepared.search,
                expand_k=self.expand_k,
                expand_weight=self.expand_weight,
                hub_k=self.hub_k,
                lean=self.lean([ns.postings[i] for i in ni], [listed[i] for i in ni]),
                split=self.latent_width(),
                keep=True,
            )
            offers = replace(
                prepared,
                search=np.ascontiguousarray(hood.offers),
                penalty=hood.penalty,
                keys=widen_rows(prepared.keys, n_keys),
            )
            step = block_rows(oi.size)
            for start in range(0, ni.size, step):
                picked.append(
                    rank_block(
                        self.weights_,
                        self.candidates,
                        ns,
                        os_,
                        offers,
                        ni[start : start + step],
                        hood.needs[start : start + step],
                        k,
                        None if hood.text is None else hood.text[start : start + step],
                    )
                )
        explainer = Explainer(
            self.skill_vectors, ns, os_, keys, index.labels, index.listing
        )
        result.update(explainer.matches(Picks.join(picked)))
        return result


def reads_as_skill_list(p: Posting) -> bool:
    """A posting that is mostly a list of skills: three or more, holding at
    least as many words as its title and text."""
    if len(p.skills) < 3:
        return False
    listed = sum(_word_count(s) for s in p.skills)
    return listed >= len(words(f"{p.title} {p.text}"))


@lru_cache(maxsize=100_000)
def _word_count(label: str) -> int:
    # Labels recur across postings: each is split once.
    return len(words(label))


def _check_k(k: int) -> None:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InvalidArgument(f"k must be an int >= 1, got {k!r}")


_PARAMS = (
    "n_components",
    "base_components",
    "candidates",
    "max_pairs",
    "expand_k",
    "expand_weight",
    "hub_k",
    "list_latent",
    "text_chars",
    "title_chars",
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


@collector_paused()
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


@collector_paused()
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
