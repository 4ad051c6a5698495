"""Swedish text features: words, stems, character n-grams and learned spaces.

Everything here is fitted on the postings being ranked; no vocabulary ships
with the library. A document is a sequence of units (a title, a text, each
skill label); units repeat a lot across postings (the same skill label on
thousands of placements), so each distinct unit and each distinct word is
read once per call and documents are assembled with sparse products.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain

import numpy as np
import numpy.typing as npt
import scipy.linalg
import scipy.sparse as sp
import snowballstemmer

_WORD = re.compile(r"[^\W_]+")
_STEMMER = snowballstemmer.stemmer("swedish")

FloatMatrix = npt.NDArray[np.float32]
Document = Sequence[str]

_BLOCK_ROWS = 2048
"""Documents per block where n-gram counts are made block by block (the idf,
the projections; `Ngrams.in_blocks`)."""


def normalise(text: str) -> str:
    """Unicode-compose and lower-case, so "Å" typed two ways is one letter."""
    return unicodedata.normalize("NFKC", text).casefold()


def words(text: str) -> list[str]:
    """Lower-cased words of `text` (letters and digits; punctuation splits)."""
    return _WORD.findall(normalise(text))


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Snowball Swedish stem of a lower-case word ("svetsarna" -> "svets")."""
    return str(_STEMMER.stemWord(word))


def posting_units(title: str, text: str, skills: Sequence[str]) -> tuple[str, ...]:
    """The units a posting is read as: title, text, then each skill label."""
    return (title, text, *skills)


@lru_cache(maxsize=200_000)
def _ngrams(word: str, low: int, high: int) -> tuple[str, ...]:
    # Pad like scikit-learn's char_wb so a word's start and end are features.
    padded = f" {word} "
    grams = [
        padded[i : i + n]
        for n in range(low, high + 1)
        for i in range(len(padded) - n + 1)
    ]
    # A short word shorter than `low` still deserves one feature.
    return tuple(grams) if grams else (padded,)


def _row_range(x: sp.csr_matrix, rows: range) -> sp.csr_matrix:
    """Rows `rows.start` to `rows.stop` of `x`, sharing its arrays."""
    lo, hi = int(x.indptr[rows.start]), int(x.indptr[rows.stop])
    return sp.csr_matrix(
        (x.data[lo:hi], x.indices[lo:hi], x.indptr[rows.start : rows.stop + 1] - lo),
        shape=(len(rows), x.shape[1]),
    )


def dense_product(a: sp.csr_matrix, b: sp.csr_matrix) -> npt.NDArray[np.floating]:
    """`a @ b.T` as a dense array. Columns that many rows of either side use
    (common n-grams such as "ing ") are multiplied as dense blocks, where BLAS
    is fast; the rest as sparse matrices, where most products are zero."""
    same = a is b
    a, b = sp.csr_matrix(a), sp.csr_matrix(b)
    used = np.bincount(a.indices, minlength=a.shape[1]) + np.bincount(
        b.indices, minlength=b.shape[1]
    )
    common = np.flatnonzero(used > (a.shape[0] + b.shape[0]) // _COMMON_SHARE)
    rare = np.ones(a.shape[1], dtype=bool)
    rare[common] = False
    out = np.asarray((a[:, rare] @ b[:, rare].T).toarray(), dtype=np.result_type(a, b))
    if common.size:
        dense = a[:, common].toarray()
        # numpy multiplies an array by its own transpose as a symmetric
        # product (BLAS syrk), half the work of a general one.
        out += dense @ (dense if same else b[:, common].toarray()).T
    return out


_COMMON_SHARE = 50
"""A column is multiplied dense when more than 1/_COMMON_SHARE of the rows of
the two sides use it."""


def l2_rows(x: sp.csr_matrix) -> sp.csr_matrix:
    """`x` with every non-zero row scaled to unit length (in place, returned);
    the squares summed in float64 straight from the stored entries (a third
    of the time of a sparse `x.multiply(x)`). `x` must hold no duplicate
    entries, as n-gram counts do (`Ngrams.counts`): summing them first would
    sort every row, which costs more than the rest."""
    lengths = np.diff(x.indptr)
    squares = np.zeros(x.shape[0])
    some = np.flatnonzero(lengths)
    if some.size:
        squares[some] = np.add.reduceat(
            np.square(x.data, dtype=np.float64), x.indptr[some]
        )
    norms = np.sqrt(squares).astype(x.data.dtype)
    norms[norms == 0.0] = 1.0
    x.data /= np.repeat(norms, lengths)
    return x


def unit_rows(z: npt.NDArray[np.floating]) -> FloatMatrix:
    """Dense rows scaled to unit length (zero rows stay zero), as float32."""
    norms = np.linalg.norm(z, axis=1, keepdims=True)
    norms[norms == 0.0] = 1.0
    return np.asarray(z / norms, dtype=np.float32)


@dataclass(frozen=True)
class Ngrams:
    """A batch of documents read as character n-grams, kept factored.

    `doc_unit` counts each document's units (a title, a text, a skill label;
    columns in sorted order of the units, so a row's entries come in an order
    set by its content alone) and `unit_gram` each of those units' known
    n-grams. Their product is the documents' n-gram counts (`counts`); kept
    apart, a linear map of the counts can be taken per distinct unit instead
    of per document (see `Projector`), and the counts are made block by
    block where a pass over them is all that is needed: the counts of 22,000
    long postings take 115 MB, and fresh memory is slow to come by on a
    virtual machine (`bench/README.md`).
    """

    doc_unit: sp.csr_matrix
    unit_gram: sp.csr_matrix

    @property
    def counts(self) -> sp.csr_matrix:
        """(n_docs, n_grams) n-gram counts, float32, without duplicate
        entries; made anew on each use."""
        return self.counts_of(range(len(self)))

    def counts_of(self, rows: range) -> sp.csr_matrix:
        """The counts of the documents `rows` (a row's entries are the same
        as in `counts`, in the same order)."""
        return sp.csr_matrix(_row_range(self.doc_unit, rows) @ self.unit_gram)

    def rows(self, index: npt.ArrayLike) -> Ngrams:
        """The documents at `index` (the same units)."""
        return Ngrams(sp.csr_matrix(self.doc_unit[index]), self.unit_gram)

    def in_blocks(self, work: Callable[[range], None]) -> None:
        """`work(rows)` for consecutive blocks of `_BLOCK_ROWS` documents,
        on two threads when there are two blocks or more (scipy's sparse
        products and numpy's loops release the GIL); `work` must write only
        what belongs to its rows."""
        n = len(self)
        blocks = [range(a, min(n, a + _BLOCK_ROWS)) for a in range(0, n, _BLOCK_ROWS)]
        if len(blocks) < 2:
            for rows in blocks:
                work(rows)
        else:
            with ThreadPoolExecutor(max_workers=2) as pool:
                list(pool.map(work, blocks))

    def __len__(self) -> int:
        return int(self.doc_unit.shape[0])


class CharNgrams:
    """TF-IDF over character n-grams inside word boundaries (like char_wb).

    Documents are sequences of units. Each distinct unit is split into words
    once, each distinct word into n-grams once (see `Ngrams`).
    """

    def __init__(self, low: int = 3, high: int = 4, *, sublinear_tf: bool = True):
        self.low = low
        self.high = high
        self.sublinear_tf = sublinear_tf

    def _read(self, docs: Sequence[Document], grow: bool) -> Ngrams:
        # Every non-empty unit of every document, numbered in sorted order, so
        # that every row's entries come out in an order set by its content
        # alone: sums over a row (norms, the projection) then round the same
        # whatever the order of the input.
        # (With C-level iteration: a Python loop per unit is the slow part.)
        flat = list(chain.from_iterable(docs))
        units = sorted(set(flat) - {""})
        number = dict(zip(units, range(len(units)), strict=True))
        number[""] = -1
        column = np.fromiter(map(number.__getitem__, flat), np.int64, len(flat))
        row = np.repeat(np.arange(len(docs)), np.fromiter(map(len, docs), np.int64))
        kept = column >= 0
        doc_unit = sp.csr_matrix(
            (
                np.ones(int(kept.sum()), dtype=np.float32),
                (row[kept], column[kept]),
            ),
            shape=(len(docs), len(units)),
        )
        doc_unit.sort_indices()
        # The words of each distinct unit, numbered the same way.
        word_ids: dict[str, int] = {}
        indptr = [0]
        indices: list[int] = []
        for unit in units:
            indices.extend(word_ids.setdefault(w, len(word_ids)) for w in words(unit))
            indptr.append(len(indices))
        ordered = sorted(word_ids)
        renumber = np.empty(len(ordered), dtype=np.int64)
        renumber[[word_ids[w] for w in ordered]] = np.arange(len(ordered))
        unit_word = sp.csr_matrix(
            (
                np.ones(len(indices), dtype=np.float32),
                renumber[np.asarray(indices, dtype=np.int64)],
                indptr,
            ),
            shape=(len(units), len(word_ids)),
        )
        if grow:
            seen: set[str] = set()
            for w in word_ids:
                seen.update(_ngrams(w, self.low, self.high))
            # Sorted, so the feature order (and everything fitted on it) does
            # not depend on the order of the documents.
            self.vocabulary_ = {g: i for i, g in enumerate(sorted(seen))}
            self._word_grams: dict[str, list[int]] = {}
        vocab = self.vocabulary_
        known = self._word_grams
        w_indptr = [0]
        w_indices: list[int] = []
        for w in ordered:
            grams = known.get(w)
            if grams is None:
                grams = known[w] = [
                    j
                    for j in map(vocab.get, _ngrams(w, self.low, self.high))
                    if j is not None
                ]
            w_indices.extend(grams)
            w_indptr.append(len(w_indices))
        word_gram = sp.csr_matrix(
            (np.ones(len(w_indices), dtype=np.float32), w_indices, w_indptr),
            shape=(len(word_ids), len(vocab)),
        )
        word_gram.sum_duplicates()
        unit_gram = sp.csr_matrix(unit_word @ word_gram)
        unit_gram.sort_indices()
        return Ngrams(doc_unit, unit_gram)

    def fit(self, docs: Sequence[Document], extra: Sequence[Document] = ()) -> Ngrams:
        """Learn n-grams and idf from `docs` and `extra`; return `docs` read."""
        read = self._read([*docs, *extra] if extra else docs, grow=True)
        width = read.unit_gram.shape[1]
        found: list[npt.NDArray[np.int64]] = []

        def count(rows: range) -> None:
            # Each document counts once per n-gram (the counts hold no
            # duplicate entries).
            found.append(np.bincount(read.counts_of(rows).indices, minlength=width))

        read.in_blocks(count)
        df = (
            np.sum(found, axis=0, dtype=np.int64)
            if found
            else np.zeros(width, np.int64)
        )
        n = len(read)
        self.idf_ = (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)
        return self.read(docs) if extra else read

    def set_vocabulary(
        self, grams: Sequence[str], idf: npt.NDArray[np.float32]
    ) -> None:
        """Take n-grams (in feature order) and their idf from a saved model."""
        self.vocabulary_ = {g: i for i, g in enumerate(grams)}
        self._word_grams = {}
        self.idf_ = idf

    def read(self, docs: Sequence[Document]) -> Ngrams:
        """`docs` read with the fitted n-grams (unseen n-grams dropped)."""
        return self._read(docs, grow=False)

    def transform(self, docs: Sequence[Document]) -> sp.csr_matrix:
        """(n_docs, n_grams) l2-normalised TF-IDF rows; unseen n-grams dropped."""
        return self.weigh(self.read(docs))

    def weigh(self, read: Ngrams) -> sp.csr_matrix:
        """(n_docs, n_grams) l2-normalised TF-IDF rows of documents read."""
        x = sp.csr_matrix(read.counts, dtype=np.float32)
        if self.sublinear_tf:
            np.log(x.data, out=x.data)
            x.data += 1.0
        x.data *= self.idf_[x.indices]
        return l2_rows(x)

    def projector(self, columns: npt.NDArray[np.floating]) -> Projector:
        """A `Projector` of documents' TF-IDF rows onto `columns` (n_grams, d)."""
        return Projector(self, columns)


class Projector:
    """Documents' l2-normalised TF-IDF rows times fixed `columns`, computed
    without forming the rows.

    With w(c) the term weight of a count c (1 + ln c, or c), a row times the
    columns is sum_g w(c_g) idf_g columns_g / norm. Since w(c) = c - (c - w(c))
    and the counts are a sum over the document's units, that is
    (doc_unit @ (unit_gram * idf) @ columns - (extra * idf) @ columns) / norm,
    where `extra` is non-zero only for n-grams that occur more than once in a
    document; the result equals the direct product up to rounding. The idf
    weighs the sparse factors, so the (n_grams, d) columns are shared with
    the latent space, not copied (28 MB for 23,000 n-grams and 300 dims).
    """

    def __init__(self, chars: CharNgrams, columns: npt.NDArray[np.floating]):
        self.sublinear_tf = chars.sublinear_tf
        self.idf = chars.idf_
        self.columns = np.asarray(columns, dtype=np.float32)

    def __call__(self, read: Ngrams) -> FloatMatrix:
        """(n_docs, d) float32 coordinates, not normalised further.

        In blocks of documents on two threads (scipy's sparse products and
        numpy's loops release the GIL), so that the temporaries stay small
        (fresh memory is slow to come by on a virtual machine) and both cores
        work; each row's result is the same either way."""
        grams = read.unit_gram
        weighed = sp.csr_matrix(
            (grams.data * self.idf[grams.indices], grams.indices, grams.indptr),
            shape=grams.shape,
        )
        units_in = weighed @ self.columns
        out = np.empty((len(read), self.columns.shape[1]), dtype=np.float32)

        def block(rows: range) -> None:
            out[rows.start : rows.stop] = self._rows(
                _row_range(read.doc_unit, rows), read.counts_of(rows), units_in
            )

        read.in_blocks(block)
        return out

    def _rows(
        self, doc_unit: sp.csr_matrix, counts: sp.csr_matrix, units_in: FloatMatrix
    ) -> FloatMatrix:
        c = counts.data
        weight = 1.0 + np.log(c) if self.sublinear_tf else c
        idf = self.idf[counts.indices]
        weighted = weight * idf
        # float32 throughout: a float64 operand would make scipy copy the
        # (n_grams, d) columns to float64 on every call.
        squares = sp.csr_matrix(
            (np.square(weighted), counts.indices, counts.indptr), shape=counts.shape
        )
        norms = np.sqrt(np.asarray(squares.sum(axis=1), dtype=np.float32).ravel())
        norms[norms == 0.0] = 1.0
        out = np.asarray(doc_unit @ units_in, dtype=np.float32)
        # What the counts add beyond their weights, for n-grams that occur
        # more than once in a document (zero elsewhere, and dropped).
        extra = sp.csr_matrix(
            (
                (c - weight) * idf,
                counts.indices.copy(),
                counts.indptr.copy(),
            ),
            shape=counts.shape,
        )
        extra.eliminate_zeros()
        if extra.nnz:
            out -= extra @ self.columns
        out /= norms[:, None]
        return out


class LatentSpace:
    """LSA: a truncated SVD of TF-IDF rows, giving dense unit vectors.

    Fitted on at most `max_fit_rows` rows drawn with `random_state`, so the cost
    stays flat for large inputs while every row is still projected.
    """

    def __init__(
        self,
        n_components: int = 100,
        *,
        max_fit_rows: int = 1000,
        random_state: int = 0,
    ):
        self.n_components = n_components
        self.max_fit_rows = max_fit_rows
        self.random_state = random_state

    def sample(self, order: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """The rows a fit uses: at most `max_fit_rows` of `order` (a permutation
        of the rows that depends only on their content), drawn with
        `random_state`, in that order."""
        if order.size > self.max_fit_rows:
            rng = np.random.default_rng(self.random_state)
            return order[
                np.sort(rng.choice(order.size, self.max_fit_rows, replace=False))
            ]
        return order

    def fit(
        self, x: sp.csr_matrix, order: npt.NDArray[np.int64] | None = None
    ) -> LatentSpace:
        """Fit on the (n_docs, n_features) TF-IDF matrix `x`.

        `order`, when given, is a permutation of the rows that depends only on
        their content (the caller may know a cheaper one than sorting rows).
        """
        # Rows in an order set by their content, so that the sample and the fit
        # do not depend on the order of the input.
        if order is None:
            order = _canonical_order(x)
        return self.fit_rows(x[self.sample(order)])

    def fit_rows(self, x: sp.csr_matrix) -> LatentSpace:
        """Fit on exactly the TF-IDF rows `x`, in their order (see `sample`)."""
        # float32 throughout: the top eigenvalues come out within a few parts
        # per million of float64's, at half the time of the Gram matrix, the
        # eigensolver and the columns (`bench/README.md`).
        rows = sp.csr_matrix(x, dtype=np.float32)
        # The SVD needs fewer components than either side of the matrix.
        dims = max(0, min(self.n_components, rows.shape[0] - 1, rows.shape[1] - 1))
        if dims < 1:
            self.columns_ = np.zeros((x.shape[1], 0), dtype=np.float32)
            return self
        # Exact truncated SVD through the small (rows x rows) Gram matrix: with
        # at most `max_fit_rows` rows this is far cheaper than a randomized SVD
        # over ~10^4 n-gram columns, and it needs no random numbers.
        gram = dense_product(rows, rows)
        n = gram.shape[0]
        vals, vecs = scipy.linalg.eigh(
            gram, subset_by_index=[n - dims, n - 1], driver="evx"
        )
        keep = np.argsort(-vals, kind="stable")
        keep = keep[vals[keep] > 1e-10 * max(float(vals.max()), 1e-30)]
        vals, vecs = vals[keep], vecs[:, keep]
        # (n_features, dims): the layout products with sparse rows want.
        columns = np.asarray(
            sp.csr_matrix(rows.T) @ (vecs / np.sqrt(vals)).astype(np.float32),
            dtype=np.float32,
        )
        # Fix each component's sign so the result does not depend on LAPACK.
        # (In place: a selection of the columns would copy them.)
        columns *= np.where(columns.sum(axis=0) < 0, -1.0, 1.0).astype(np.float32)
        self.columns_ = columns
        return self

    @property
    def components_(self) -> FloatMatrix:
        """(dims, n_features): the components, one per row."""
        return self.columns_.T

    def project(self, x: sp.csr_matrix) -> FloatMatrix:
        """(n_docs, n_components) float32 coordinates, not normalised (for
        documents read in n-grams, `CharNgrams.projector` is faster)."""
        return np.asarray(sp.csr_matrix(x) @ self.columns_, dtype=np.float32)


def _canonical_order(x: sp.csr_matrix) -> npt.NDArray[np.int64]:
    """A row order that depends only on each row's content."""
    x = sp.csr_matrix(x, copy=True)
    x.sort_indices()
    keys = [
        (x.indices[a:b].tobytes(), x.data[a:b].tobytes())
        for a, b in zip(x.indptr[:-1], x.indptr[1:], strict=True)
    ]
    return np.array(sorted(range(len(keys)), key=keys.__getitem__), dtype=np.int64)


class PairedSpace:
    """A shared space learned from pairs of halves of the same postings.

    Splitting a posting's skills (or words) in two gives the same structure as a
    need and an offer of one occupation; a symmetric, ridge-regularised CCA on the
    two halves' latent vectors finds the directions in which the halves agree, so
    skills that occur together embed close even when two postings share no label.
    Closed form (eigendecompositions only), so it is deterministic and fast.
    """

    def __init__(self, n_components: int = 100, *, reg: float = 1.0):
        self.n_components = n_components
        self.reg = reg

    def fit(self, za: FloatMatrix, zb: FloatMatrix) -> PairedSpace:
        """Fit on two (n_pairs, d) arrays whose rows i are halves of one posting."""
        a = za.astype(np.float64)
        b = zb.astype(np.float64)
        d = a.shape[1]
        if a.shape[0] < 2 or d == 0:
            self.mean_ = np.zeros(d, dtype=np.float32)
            self.projection_ = np.zeros((d, 0), dtype=np.float32)
            self.correlations_ = np.zeros(0)
            return self
        mean = (a.mean(axis=0) + b.mean(axis=0)) / 2.0
        a -= mean
        b -= mean
        n = a.shape[0]
        cov = (a.T @ a + b.T @ b) / (2.0 * n)
        cross = (a.T @ b + b.T @ a) / (2.0 * n)
        cov += np.eye(d) * (self.reg * np.trace(cov) / d + 1e-12)
        w, v = np.linalg.eigh(cov)
        whiten = (v * np.maximum(w, 1e-12) ** -0.5) @ v.T
        rho, u = np.linalg.eigh(whiten @ cross @ whiten)
        top = np.argsort(-rho, kind="stable")[: self.n_components]
        # Fix each direction's sign so the result does not depend on LAPACK.
        u = u[:, top] * np.where(u[:, top].sum(axis=0) < 0, -1.0, 1.0)
        self.mean_ = mean.astype(np.float32)
        self.correlations_ = rho[top]
        # Directions weighed by how well the halves agree along them.
        self.projection_ = np.asarray(
            whiten @ u * np.maximum(rho[top], 0.0), dtype=np.float32
        )
        return self

    def transform(self, z: FloatMatrix) -> FloatMatrix:
        """(n, n_components) float32 unit rows of the (n, d) latent rows `z`;
        a zero row (no known n-gram) stays zero rather than becoming -mean."""
        out = unit_rows((z - self.mean_) @ self.projection_)
        out[~z.any(axis=1)] = 0.0
        return out
