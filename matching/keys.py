"""Skill keys: when two skill labels name the same skill."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import scipy.sparse as sp

from matching.postings import Posting
from matching.text import stem, words


@lru_cache(maxsize=100_000)
def skill_key(label: str) -> str:
    """What makes two skill labels the same skill: the label's words, case
    folded and stemmed (Snowball Swedish), in sorted order. So "Svetsning,
    MIG", "MIG-svetsning" and "mig svetsning" are one skill, and "Lödning"
    and "lödningar" too; "" for a label with no letters or digits.

    The one meaning of "the same skill" for the ranker (the ``skills`` part,
    the ``shared_skills`` reason) and for anything that groups labels."""
    return " ".join(sorted(stem(w) for w in words(label)))


class KeyIndex:
    """Skill keys (stems of a label) numbered across both sides of one call."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.of_label: dict[str, int] = {}

    def copy(self) -> KeyIndex:
        """An independent copy: numbering more keys leaves this one as it is."""
        other = KeyIndex()
        other.ids = dict(self.ids)
        other.of_label = dict(self.of_label)
        return other

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
