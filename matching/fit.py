"""Fitting the text model: character n-grams, the latent and paired spaces,
and the mix of their similarities, all learned from the postings given.

Self-supervision: each posting's skills (or, with fewer than two skills, the
words of its title and text) are split into two random halves. Two halves of
one posting look like a need and an offer of one occupation, so they are used
as positive pairs: a CCA over them gives the paired space. The text score
mixes the latent and paired cosines (`choose_mix`).
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
    posting_units,
    unit_rows,
    words,
)
from matching.weights import Weights

MIN_POSTINGS = 20
"""Postings with two or more units needed to learn a paired space and a mix."""
MIN_LATENT_DIMS = 20


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


def choose_mix(spaces: Spaces, n_units: int) -> Weights:
    """The text mix for a corpus: the latent and the paired cosine, half and
    half (`Weights`' defaults), when the corpus is large enough to learn a
    paired space; else the plain latent cosine, or the raw n-gram cosine when
    the corpus is so small that its LSA has only a few dimensions (every
    cosine near +-1).

    The latent cosine reads the postings' own characters, so that a short
    title or a free text is never scored below what its wording says; the
    paired cosine adds which skills go together. (Chosen across the posting
    shapes of bench/quality.py; the mix that retrieved one half of a posting
    best from the other, as before, picked the paired space alone, which
    matches T1's construction and falls behind on titles.)
    """
    default = Weights()
    if n_units < MIN_POSTINGS or not (spaces.paired.correlations_ > 0).any():
        if spaces.latent.components_.shape[0] >= MIN_LATENT_DIMS:
            return replace(default, latent=1.0, paired=0.0, chars=0.0)
        return replace(default, latent=0.0, paired=0.0, chars=1.0)
    return default
