"""Where `matching.rank` spends its time on the speed data (2,000 x 20,000).

Wraps the ranker's internal steps with timers (a look inside, not an API) and
prints seconds and minor page faults per step for one cold call in a fresh
process; with `--warm N`, the best of N warm calls against an index of the
offers (after one untimed call), per step and for the whole call, and the
median call. Steps nest (the projections happen inside the fit and the
vectors), so the rows do not add up to the total.
Run: python bench/stages.py [short|long] [--warm N]  (the postings of
bench/speed.py)
"""

from __future__ import annotations

import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import speed

import matching
import matching.explain as explain
import matching.ranking as ranking
import matching.text as text

TIMES: dict[str, float] = {}
FAULTS: dict[str, int] = {}


def _faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


STEPS = (
    (text.CharNgrams, "fit", "fit: n-grams and idf of all postings"),
    (text.LatentSpace, "fit_rows", "fit: LSA"),
    (text.PairedSpace, "fit", "fit: CCA"),
    (text.Projector, "__call__", "projections into the latent space"),
    (ranking.Ranker, "_side", "vectors of needs and offers"),
    (ranking, "transduce", "neighbourhood steps"),
    (ranking, "rank_block", "search and rescoring"),
    (explain.Explainer, "skills", "reasons: shared and related skills"),
    (explain.Explainer, "matches", "reasons and Match objects"),
)


def _timed(owner: Any, name: str, label: str) -> None:
    inner: Callable[..., Any] = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start, faults = time.perf_counter(), _faults()
        try:
            return inner(*args, **kwargs)
        finally:
            TIMES[label] = TIMES.get(label, 0.0) + time.perf_counter() - start
            FAULTS[label] = FAULTS.get(label, 0) + _faults() - faults

    setattr(owner, name, wrapper)


def warm(needs: list[Any], offers: list[Any], calls: int) -> None:
    model = matching.fit([*needs, *offers])
    index = model.index(offers)
    model.rank(needs, index, k=10)
    for owner, name, label in STEPS:
        _timed(owner, name, label)
    best: dict[str, float] = {}
    totals = []
    for _ in range(calls):
        TIMES.clear()
        start = time.perf_counter()
        model.rank(needs, index, k=10)
        totals.append(time.perf_counter() - start)
        for label, took in TIMES.items():
            best[label] = min(best.get(label, took), took)
    print(f"best of {calls} warm calls against an index")
    print("| step | s |\n| --- | ---: |")
    for _, _, label in STEPS:
        if label in best:
            print(f"| {label} | {best[label]:.3f} |")
    print(f"| **whole call, best** | **{min(totals):.3f}** |")
    print(f"| whole call, median | {statistics.median(totals):.3f} |")


def main() -> None:
    args = sys.argv[1:]
    postings = args[0] if args and not args[0].startswith("--") else "short"
    needs, offers = speed.data(2000, 20000, postings)
    if "--warm" in args:
        warm(needs, offers, int(args[args.index("--warm") + 1]))
        return
    for owner, name, label in STEPS:
        _timed(owner, name, label)
    start, faults = time.perf_counter(), _faults()
    ranking.rank(needs, offers, k=10)
    total, faults = time.perf_counter() - start, _faults() - faults
    print("| step | s | page faults |\n| --- | ---: | ---: |")
    for _, _, label in STEPS:
        print(f"| {label} | {TIMES.get(label, 0.0):.3f} | {FAULTS.get(label, 0)} |")
    print(f"| **total** | **{total:.3f}** | **{faults}** |")


if __name__ == "__main__":
    main()
