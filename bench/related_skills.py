"""How telling the related-skills reason is: paired-space cosines between
skill labels of one SSYK-4 group against labels drawn at random, and how
often T1's top-10 matches carry the reason.

A model is fitted on T1's postings of one seed (as bench/quality.py fits it,
without a vocabulary); each group gives 20 random pairs of its own labels,
and 20,000 pairs are drawn from all labels. Prints the share of pairs at or
above each threshold and the reason's frequency on T1.
Run: python bench/related_skills.py [--seed N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _jobtech as jt

from matching import Ranker
from matching.explain import RELATED_SKILL_MIN


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    groups = jt.t1_groups()
    needs, offers = jt.t1_postings(groups, args.seed)
    model = Ranker().fit([*needs, *offers])
    labels = sorted({s for g in groups for s in g.skills})
    row = {label: i for i, label in enumerate(labels)}
    vectors = model.skill_vectors(labels)
    rng = np.random.default_rng(args.seed)
    within = np.array(
        [
            float(vectors[a] @ vectors[b])
            for g in groups
            for a, b in (
                rng.choice([row[s] for s in g.skills], 2, replace=False)
                for _ in range(20)
            )
        ]
    )
    pairs = rng.integers(0, len(labels), (20_000, 2))
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    drawn = np.einsum("ij,ij->i", vectors[pairs[:, 0]], vectors[pairs[:, 1]])
    print(f"{len(groups)} groups, {len(labels)} labels, seed {args.seed}\n")
    print("| cosine at least | same group | drawn at random |")
    print("| ---: | ---: | ---: |")
    for t in (0.3, 0.4, RELATED_SKILL_MIN, 0.6, 0.7, 0.8):
        print(f"| {t} | {(within >= t).mean():.1%} | {(drawn >= t).mean():.2%} |")
    p95, p99, p999 = np.percentile(drawn, [95, 99, 99.9])
    print(
        f"\n{within.size} same-group pairs (median {np.median(within):.2f}); "
        f"{drawn.size} drawn pairs, percentiles 95/99/99.9: "
        f"{p95:.2f} / {p99:.2f} / {p999:.2f}"
    )
    ranked = model.rank(needs, offers, k=10)
    counts = [
        sum(len(r.values) for r in m.reasons if r.code == "related_skills")
        for ms in ranked.values()
        for m in ms
    ]
    print(
        f"T1 top-10 matches with the reason: {np.mean(np.array(counts) > 0):.1%}, "
        f"labels a match: {np.mean(counts):.2f}"
    )


if __name__ == "__main__":
    main()
