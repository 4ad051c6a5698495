"""Speed and memory: rank 2,000 needs x 20,000 offers (k=10), fitted once or
per call, one need against 2,000 open placements, and allocate (k=20).

Each method runs in its own subprocess so that peak memory (ru_maxrss) is its
own; the methods run in turn for `--repeat` rounds and the median is
reported. Postings are built from the Swedish skill vocabulary (skills.json labels)
with a fixed seed: two kinds, random periods in 2025 and positions within about
30 km of Mora, and skill lists of one of two lengths (`--postings`):
- short: 2-6 skills each (about 4);
- long: as many skills as the halves of protocol T1 in bench/quality.py have
  (drawn from those sizes: 4-198, mean 23, median 16), i.e. postings shaped like
  the ones the quality is measured on. Only the group sizes are read, not which
  skills a group has.
Prints a markdown table per length.
Run: python bench/speed.py [--quick] [--repeat N] [--postings short|long|both]
  [--methods plain,baseline,onecall,...]
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _jobtech as jt

from matching import OfferIndex, Posting, allocate, fit, rank

MORA = (61.004, 14.537)


def make_postings(
    n: int, prefix: str, seed: int, vocab: list[str], sizes: list[int] | None = None
) -> list[Posting]:
    """`n` postings; skill lists of 2-6 labels, or of lengths drawn from `sizes`."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        size = int(rng.choice(sizes)) if sizes else int(rng.integers(2, 7))
        skills = tuple(vocab[j] for j in rng.choice(len(vocab), size))
        start = date(2025, 1, 1) + timedelta(days=int(rng.integers(0, 300)))
        end = start + timedelta(days=int(rng.integers(7, 70)))
        has_period = rng.random() < 0.7
        out.append(
            Posting(
                id=f"{prefix}{i:06d}",
                kind="apl" if rng.random() < 0.8 else "prao",
                title="",
                skills=tuple(dict.fromkeys(skills)),
                count=int(rng.integers(1, 5)),
                start=start if has_period else None,
                end=end if has_period else None,
                lat=MORA[0] + float(rng.normal(0, 0.15)),
                lon=MORA[1] + float(rng.normal(0, 0.3)),
                max_km=float(rng.choice([20.0, 40.0, 80.0])) if prefix == "n" else None,
            )
        )
    return out


def t1_half_sizes() -> list[int]:
    """How many skills the need halves of protocol T1 have (ceil(n/2))."""
    return [math.ceil(len(g.skills) / 2) for g in jt.t1_groups()]


def data(
    n_needs: int, n_offers: int, postings: str = "short"
) -> tuple[list[Posting], list[Posting]]:
    vocab = jt.skill_vocabulary()
    sizes = t1_half_sizes() if postings == "long" else None
    return (
        make_postings(n_needs, "n", 1, vocab, sizes),
        make_postings(n_offers, "o", 2, vocab, sizes),
    )


def _text(p: Posting) -> str:
    return " ".join([p.title, p.text, *p.skills])


def plain(needs: list[Posting], offers: list[Posting], k: int) -> None:
    """The issue's plain baseline: sklearn char_wb 3-5 TF-IDF, one sparse matrix
    product of needs x offers, then top-k per row (kinds compared per row)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5))
    vec.fit([_text(p) for p in [*needs, *offers]])
    sims = sp.csr_matrix(
        vec.transform([_text(p) for p in needs])
        @ vec.transform([_text(p) for p in offers]).T
    )
    kinds_o = np.array([p.kind for p in offers])
    for i, p in enumerate(needs):
        row = sims.getrow(i).toarray().ravel()
        row[kinds_o != p.kind] = -np.inf
        np.argpartition(-row, k)[:k]


def baseline(needs: list[Posting], offers: list[Posting], k: int) -> None:
    """Optimised char_wb 3-5 TF-IDF: float32, sparse products in blocks of 200
    needs, top-k, same kind filter."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    def text(p: Posting) -> str:
        return " ".join([p.title, p.text, *p.skills])

    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), dtype=np.float32)
    vec.fit([text(p) for p in [*needs, *offers]])
    xn = vec.transform([text(p) for p in needs])
    xo = vec.transform([text(p) for p in offers]).T.tocsc()
    kinds_o = np.array([p.kind for p in offers])
    for b in range(0, len(needs), 200):
        block = needs[b : b + 200]
        sims = (xn[b : b + 200] @ xo).toarray()
        same = np.array([p.kind for p in block])[:, None] == kinds_o[None, :]
        sims[~same] = -np.inf
        np.argpartition(-sims, k, axis=1)[:, :k]


def run_child(method: str, n_needs: int, n_offers: int, postings: str) -> None:
    needs, offers = data(n_needs, n_offers, postings)
    t0 = time.perf_counter()
    if method == "plain":
        plain(needs, offers, 10)
        extra = {}
    elif method == "baseline":
        baseline(needs, offers, 10)
        extra = {}
    elif method == "onecall":
        ranked = rank(needs, offers, k=10)
        extra = {"matches": sum(len(v) for v in ranked.values())}
    elif method == "fitrank":
        model = fit([*needs, *offers])
        ranked = model.rank(needs, offers, k=10)
        extra = {"matches": sum(len(v) for v in ranked.values())}
    elif method == "warm":
        model = fit([*needs, *offers])
        model.rank(needs, offers, k=10)
        t0 = time.perf_counter()
        ranked = model.rank(needs, offers, k=10)
        extra = {"matches": sum(len(v) for v in ranked.values())}
    elif method == "indexed":
        # The offers prepared once (Ranker.index, timed apart), then a
        # second call against the index, as the app ranks.
        model = fit([*needs, *offers])
        t1 = time.perf_counter()
        index = model.index(offers)
        index_s = time.perf_counter() - t1
        model.rank(needs, index, k=10)
        t0 = time.perf_counter()
        ranked = model.rank(needs, index, k=10)
        extra = {
            "matches": sum(len(v) for v in ranked.values()),
            "index_s": round(index_s, 2),
        }
    elif method in ("one", "one-index"):
        # One need against 2,000 open placements of its kind, with a model
        # fitted once (and, for one-index, the placements indexed once, not
        # timed); the median over 50 needs, after one warm-up call.
        model = fit([*needs, *offers])
        open_ = [o for o in offers if o.kind == "apl"][:2000]
        asking = [n for n in needs if n.kind == "apl"][:51]
        against: list[Posting] | OfferIndex = open_
        if method == "one-index":
            against = model.index(open_)
        model.rank(asking[:1], against, k=10)
        times = []
        for n in asking[1:]:
            t1 = time.perf_counter()
            model.rank([n], against, k=10)
            times.append(time.perf_counter() - t1)
        t0 = time.perf_counter() - statistics.median(times)
        extra = {"offers": len(open_), "needs_timed": len(times)}
    else:
        ranked = rank(needs, offers, k=20)
        t0 = time.perf_counter()
        result = allocate(needs, offers, ranked)
        extra = {
            "pairs": sum(len(v) for v in ranked.values()),
            "placed": sum(a.students for a in result),
            "students": sum(p.count for p in needs),
        }
    took = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": took, "peak_mb": peak_mb, **extra}))


def measure(
    n_needs: int, n_offers: int, postings: str, rounds: int, methods: list[str]
) -> dict[str, list[dict[str, float]]]:
    """Every method's results for `rounds` rounds, each method once per round
    in turn, so that a slow spell of a shared machine falls on all of them."""
    runs: dict[str, list[dict[str, float]]] = {method: [] for method in methods}
    for _ in range(rounds):
        for method in methods:
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    method,
                    str(n_needs),
                    str(n_offers),
                    postings,
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            runs[method].append(json.loads(out.stdout.strip().splitlines()[-1]))
    return runs


def report(
    n_needs: int, n_offers: int, postings: str, runs: dict[str, list[dict[str, float]]]
) -> None:
    rounds = len(next(iter(runs.values())))
    print(
        f"{n_needs} needs x {n_offers} offers from the skills.json vocabulary, "
        f"{postings} postings; median of {rounds} rounds (min-max in brackets)\n"
    )
    print("| task | method | wall s | peak MB (process) | notes |")
    print("| --- | --- | --- | --- | --- |")
    seconds = {}
    for task, method, label in ROWS:
        if method not in runs:
            continue
        got = runs[method]
        times = sorted(r["seconds"] for r in got)
        seconds[method] = statistics.median(times)
        peak = max(r["peak_mb"] for r in got)
        notes = ", ".join(
            f"{k}={v}" for k, v in got[-1].items() if k not in ("seconds", "peak_mb")
        )
        # Milliseconds count for one need: three decimals below a second.
        digits = 3 if seconds[method] < 1 else 2
        spread = (
            f" ({times[0]:.{digits}f}-{times[-1]:.{digits}f})" if len(times) > 1 else ""
        )
        print(
            f"| {task} | {label} | {seconds[method]:.{digits}f}{spread} | {peak:.0f} "
            f"| {notes} |"
        )
    if {"plain", "baseline", "onecall"} <= seconds.keys():
        print(
            "\nspeed-up of matching.rank over the plain baseline: "
            f"{seconds['plain'] / seconds['onecall']:.1f}x (over the optimised "
            f"one: {seconds['baseline'] / seconds['onecall']:.1f}x)\n"
        )


ROWS = [
    ("rank k=10", "plain", "plain baseline: char_wb 3-5 TF-IDF + sparse top-k"),
    ("rank k=10", "baseline", "optimised baseline: same, float32, blockwise"),
    (
        "rank k=10",
        "onecall",
        "matching.rank: fit and rank in one call (each posting read once)",
    ),
    ("rank k=10", "fitrank", "matching.fit, then model.rank (postings read again)"),
    ("rank k=10", "warm", "model.rank, fitted model, warm (second call)"),
    ("rank k=10", "indexed", "model.rank against model.index(offers), warm"),
    ("1 need x 2,000 offers", "one", "model.rank, fitted model, warm (median)"),
    (
        "1 need x 2,000 offers",
        "one-index",
        "model.rank against model.index(offers) (median)",
    ),
    ("allocate k=20", "allocate", "matching.allocate (rank not timed)"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="200 x 2,000")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="rounds; each round runs every method once, in turn (default 3)",
    )
    parser.add_argument("--postings", choices=("short", "long", "both"), default="both")
    names = [method for _, method, _ in ROWS]
    parser.add_argument(
        "--methods",
        default=",".join(names),
        help=f"comma-separated subset of {', '.join(names)} (default: all)",
    )
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        method, n_needs, n_offers, postings = args.child
        run_child(method, int(n_needs), int(n_offers), postings)
        return
    n_needs, n_offers = (200, 2000) if args.quick else (2000, 20000)
    lengths = ("short", "long") if args.postings == "both" else (args.postings,)
    methods = [m for m in args.methods.split(",") if m]
    if not methods or set(methods) - set(names):
        parser.error(f"--methods: choose from {', '.join(names)}")
    for postings in lengths:
        runs = measure(n_needs, n_offers, postings, max(1, args.repeat), methods)
        report(n_needs, n_offers, postings, runs)


if __name__ == "__main__":
    main()
