"""Fitting the text model: character n-grams, the latent and paired spaces,
and the mix of their similarities, all learned from the postings given.

Self-supervision: each posting's skills (or, with fewer than two skills, the
words of its title and text) are split into two random halves. Two halves of
one posting look like a need and an offer of one occupation, so they are used
as positive pairs: a CCA over them gives the paired space, and retrieval of
one half from the other on a fresh split picks the mix of the latent, paired
and character cosines (`learn_mix`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from matching.postings import Posting
from matching.text import (
    CharNgrams,
    Document,
    FloatMatrix,
    LatentSpace,
    Ngrams,
    PairedSpace,
    Projector,
    dense_product,
    posting_units,
    unit_rows,
    words,
)
from matching.weights import Weights

MIX_PAIRS = 1000
"""Pairs of halves the text mix is chosen on."""
MIN_POSTINGS = 20
"""Postings with two or more units needed to learn a paired space and a mix."""
MIN_LATENT_DIMS = 20
MIX_STEPS = 5


@dataclass(frozen=True)
class Spaces:
    """The fitted text spaces: n-grams, the latent space, its projector, the
    paired space; `n_components` is the dimension of the latent cosine."""

    chars: CharNgrams
    latent: LatentSpace
    paired: PairedSpace
    project: Projector
    n_components: int

    def base(self, read: Ngrams) -> FloatMatrix:
        """Unit rows in the full latent space (the paired space's input)."""
        return unit_rows(self.project(read))


def document(p: Posting) -> Document:
    return posting_units(p.title, p.text, p.skills)


def units(p: Posting) -> list[str]:
    """What a posting is split into for self-supervision: its skills, or the
    words of its title and text when it lists fewer than two skills."""
    if len(p.skills) >= 2:
        return list(p.skills)
    return words(f"{p.title} {p.text}")


def halves(
    units: Sequence[list[str]], rng: np.random.Generator, max_pairs: int
) -> tuple[list[Document], list[Document]]:
    """Two random halves of (a sample of) the postings' units (two or more
    each), as documents."""
    if len(units) > max_pairs:
        keep = np.sort(rng.choice(len(units), max_pairs, replace=False))
        units = [units[i] for i in keep]
    rounds = max(1, min(5, max_pairs // max(1, len(units))))
    a: list[Document] = []
    b: list[Document] = []
    for _ in range(rounds):
        for u in units:
            perm = rng.permutation(len(u))
            cut = len(u) // 2
            a.append([u[i] for i in perm[:cut]])
            b.append([u[i] for i in perm[cut:]])
    return a, b


def learn_mix(
    spaces: Spaces,
    n_units: int,
    a: list[Document],
    b: list[Document],
    rng: np.random.Generator,
) -> Weights:
    """The text mix that retrieves best on self-supervised pairs.

    For up to `MIX_PAIRS` fresh pairs of halves, every half a ranks all
    halves b, scored by the mean reciprocal rank of a's own other half (a
    ranking objective, because ranking is what the mix is for). Mixes of
    the latent, paired and character cosines on a grid in steps of 0.2 are
    compared, and the simplest one within a standard error of the best
    wins.
    """
    default = Weights()
    if n_units < MIN_POSTINGS or not (spaces.paired.correlations_ > 0).any():
        # Too little to learn a space or a mix from: the plain LSA cosine,
        # or the raw n-gram cosine when the corpus is so small that its LSA
        # has only a few dimensions (every cosine near +-1).
        if spaces.latent.components_.shape[0] >= MIN_LATENT_DIMS:
            return replace(default, latent=1.0, paired=0.0, chars=0.0)
        return replace(default, latent=0.0, paired=0.0, chars=1.0)
    if len(a) > MIX_PAIRS:
        keep = np.sort(rng.choice(len(a), MIX_PAIRS, replace=False))
        a, b = [a[i] for i in keep], [b[i] for i in keep]
    ra, rb = spaces.chars.read(a), spaces.chars.read(b)
    xa, xb = spaces.chars.weigh(ra), spaces.chars.weigh(rb)
    za, zb = spaces.project(ra), spaces.project(rb)
    d = spaces.n_components
    latent = unit_rows(za[:, :d]) @ unit_rows(zb[:, :d]).T
    paired = (
        spaces.paired.transform(unit_rows(za))
        @ spaces.paired.transform(unit_rows(zb)).T
    )
    chars = np.asarray(dense_product(xa, xb), dtype=np.float32)
    tried: list[tuple[float, float, tuple[float, float, float]]] = []
    for i in range(MIX_STEPS + 1):
        for j in range(MIX_STEPS + 1 - i):
            mix = (
                i / MIX_STEPS,
                1.0 - (i + j) / MIX_STEPS,
                j / MIX_STEPS,
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
