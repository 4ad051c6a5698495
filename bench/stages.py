"""Where `matching.rank` spends its time on the speed data (2,000 x 20,000).

Wraps the ranker's internal steps with timers (a look inside, not an API) and
prints seconds per step for one cold call in a fresh process.
Run: python bench/stages.py
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import speed

import matching.ranking as ranking
import matching.text as text

TIMES: dict[str, float] = {}

STEPS = (
    (text.CharNgrams, "fit_transform", "fit: n-gram TF-IDF of all postings"),
    (text.LatentSpace, "fit", "fit: LSA"),
    (text.PairedSpace, "fit", "fit: CCA"),
    (ranking.Ranker, "_learn_weights", "fit: text mix by retrieval"),
    (ranking.Ranker, "_side", "vectors of needs and offers"),
    (ranking.Ranker, "_transduce", "neighbourhood steps"),
    (ranking.Ranker, "_rank_block", "search and rescoring"),
    (ranking._Explainer, "__init__", "reasons: label vectors"),
    (ranking._Explainer, "__call__", "reasons and Match objects"),
)


def _timed(owner: Any, name: str, label: str) -> None:
    inner: Callable[..., Any] = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            TIMES[label] = TIMES.get(label, 0.0) + time.perf_counter() - start

    setattr(owner, name, wrapper)


def main() -> None:
    needs, offers = speed.data(2000, 20000)
    for owner, name, label in STEPS:
        _timed(owner, name, label)
    start = time.perf_counter()
    ranking.rank(needs, offers, k=10)
    total = time.perf_counter() - start
    print("| step | s |\n| --- | ---: |")
    for _, _, label in STEPS:
        print(f"| {label} | {TIMES.get(label, 0.0):.3f} |")
    other = total - sum(TIMES.values())
    print(f"| other (halves, validation, arrays, result) | {other:.3f} |")
    print(f"| **total** | **{total:.3f}** |")


if __name__ == "__main__":
    main()
