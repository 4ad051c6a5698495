"""Ranking quality on the JobTech SSYK-4 groups, one protocol per posting shape.

Protocols (each group is a need and an offer; relevance 3/2/1 for the same
4/3/2 SSYK digits; see bench/README.md):
- T1 "skills -> skills": half of a group's skills against the other halves;
- "definition -> skills": the group's definition text against the halves;
- "title -> skills": the group's label (at most five words) with 0-2 of its
  skills against the halves;
- "title -> titles+definitions": the label against the other groups' labels
  with definitions (the need's own group is left out);
- "title -> occupation titles": an occupation name against all 2,412 names,
  graded by the curated substitutability (not by SSYK groups; no seeds).
Seeds re-split the same groups at random; they are not held-out data.
With --reworded every skill label of every posting is rewritten as a phrase
("kunna svetsning", "erfarenhet av ..."; `jt.reworded`), a stand-in for data
worded otherwise than JobTech's; the occupation-title protocol has no skills
and is left out then.

Prints a markdown table: protocol, method, seed, nDCG@10 with linear gain (the
relevance itself, as sklearn's ndcg_score) and with exponential gain
(2^rel - 1), and the mean over seeds; then the mean over protocols.
Run: python bench/quality.py [--quick] [--all] [--held-out] [--vocabulary]
    [--reworded] [--protocol NAME ...]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _jobtech as jt

from matching import Posting, Ranker, Weights

Ranking = dict[str, list[str]]
Method = Callable[[list[Posting], list[Posting], int], Ranking]
Build = Callable[[list[jt.Group], int], tuple[list[Posting], list[Posting]]]

VOCABULARY: list[str] = []
"""Labels passed to `matching.fit` as its vocabulary (--vocabulary: skills.json)."""


def _text(p: Posting) -> str:
    return " ".join([p.title, p.text, *p.skills])


def baseline(needs: list[Posting], offers: list[Posting], k: int = 10) -> Ranking:
    """Plain char_wb 3-5 TF-IDF cosine, fitted on needs + offers; ties by id."""
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5))
    vec.fit([_text(p) for p in [*needs, *offers]])
    sims = (
        vec.transform([_text(p) for p in needs])
        @ vec.transform([_text(p) for p in offers]).T
    ).toarray()
    offer_ids = np.array([p.id for p in offers])
    id_rank = np.argsort(np.argsort(offer_ids))
    out = {}
    for i, p in enumerate(needs):
        order = np.lexsort((id_rank, -sims[i]))[:k]
        out[p.id] = list(offer_ids[order])
    return out


def ours(weights: Weights | None = None, **params: Any) -> Method:
    def run(needs: list[Posting], offers: list[Posting], k: int = 10) -> Ranking:
        ranker = Ranker(weights=weights, **params).fit(
            [*needs, *offers], vocabulary=VOCABULARY
        )
        got = ranker.rank(needs, offers, k=k)
        return {n: [m.offer_id for m in ms] for n, ms in got.items()}

    return run


METHODS: dict[str, Method] = {
    "baseline: char 3-5 TF-IDF": baseline,
    "chars only (sublinear TF-IDF)": ours(
        Weights(latent=0.0, paired=0.0, chars=1.0, skills=0.0)
    ),
    "latent only (LSA of chars)": ours(
        Weights(latent=1.0, paired=0.0, chars=0.0, skills=0.0),
        text_chars=0.0,
        title_chars=0.0,
    ),
    "paired only (self-supervised CCA)": ours(
        Weights(latent=0.0, paired=1.0, chars=0.0, skills=0.0),
        text_chars=0.0,
        title_chars=0.0,
    ),
    "skills only (shared labels)": ours(
        Weights(text=0.0, skills=1.0, period=0.0, distance=0.0, capacity=0.0)
    ),
    "default without neighbourhood steps": ours(expand_weight=0, hub_k=0),
    "default without raw characters": ours(text_chars=0.0, title_chars=0.0),
    "matching.rank (default)": ours(),
}


CORE = (
    "baseline: char 3-5 TF-IDF",
    "default without raw characters",
    "matching.rank (default)",
)

PROTOCOLS: dict[str, tuple[Build, bool]] = {
    "T1 skills -> skills": (jt.t1_postings, False),
    "definition -> skills": (
        lambda groups, seed: jt.t1_postings(groups, seed, free_text=True),
        False,
    ),
    "title -> skills": (jt.title_postings, False),
    "title -> titles+definitions": (jt.title_definition_postings, True),
}
OCCUPATIONS = "title -> occupation titles"
"""Judged by substitutability instead of SSYK codes (`jt.occupation_postings`)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one seed, 120 groups")
    parser.add_argument("--all", action="store_true", help="also the single-space rows")
    parser.add_argument(
        "--held-out",
        action="store_true",
        help="seeds 3-7 instead of 0-2 (new random splits of the same groups)",
    )
    parser.add_argument(
        "--vocabulary",
        action="store_true",
        help="fit with the skills.json labels as vocabulary",
    )
    parser.add_argument(
        "--reworded",
        action="store_true",
        help="skills rewritten as phrases (jt.reworded); no occupation titles",
    )
    parser.add_argument("--protocol", action="append", help="only these protocols")
    args = parser.parse_args()
    if args.vocabulary:
        VOCABULARY.extend(jt.skill_vocabulary())
    groups = jt.t1_groups()
    seeds = [0] if args.quick else [3, 4, 5, 6, 7] if args.held_out else [0, 1, 2]
    if args.quick:
        groups = groups[:120]
    codes = {g.id: g.code for g in groups}
    print(
        f"{len(groups)} SSYK-4 groups with >= 8 skills "
        f"({len(jt.short_titled(groups))} with a label of at most five words), "
        f"seeds {seeds}"
        f"{', skills reworded as phrases (jt.reworded)' if args.reworded else ''}\n"
    )
    print("| protocol | method | seed | nDCG@10 (lin) | nDCG@10 (exp) | s |")
    print("| --- | --- | --- | --- | --- | --- |")
    methods = {k: v for k, v in METHODS.items() if args.all or k in CORE}
    means: dict[str, dict[str, float]] = {}
    for protocol, (build, exclude_self) in [
        *PROTOCOLS.items(),
        (OCCUPATIONS, (lambda groups, seed: jt.occupation_postings()[:2], True)),
    ]:
        if args.protocol and protocol not in args.protocol:
            continue
        if args.reworded and protocol == OCCUPATIONS:
            continue
        judged = jt.occupation_postings()[2] if protocol == OCCUPATIONS else None
        for name, method in methods.items():
            lin: list[float] = []
            exp: list[float] = []
            for seed in seeds if judged is None else seeds[:1]:
                needs, offers = build(groups, seed)
                if args.reworded:
                    needs = jt.reworded(needs, seed)
                    offers = jt.reworded(offers, seed + 100)
                t0 = time.perf_counter()
                ranked = method(needs, offers, 11 if exclude_self else 10)
                took = time.perf_counter() - t0
                for out, gain in ((lin, "linear"), (exp, "exponential")):
                    out.append(
                        jt.ndcg_at_k(
                            ranked, codes, gain=gain, exclude_self=exclude_self
                        )
                        if judged is None
                        else jt.ndcg_judged(ranked, judged, gain=gain)
                    )
                print(
                    f"| {protocol} | {name} | {seed} | {lin[-1]:.4f} | {exp[-1]:.4f} "
                    f"| {took:.1f} |",
                    flush=True,
                )
            means.setdefault(name, {})[protocol] = float(np.mean(lin))
            print(
                f"| {protocol} | **{name}** | mean | **{np.mean(lin):.4f}** "
                f"| **{np.mean(exp):.4f}** | |",
                flush=True,
            )
    print("\n| method | " + " | ".join(next(iter(means.values()))) + " | mean |")
    print("| --- |" + " ---: |" * (len(next(iter(means.values()))) + 1))
    for name, row in means.items():
        cells = " | ".join(f"{v:.4f}" for v in row.values())
        print(f"| {name} | {cells} | {np.mean(list(row.values())):.4f} |")


if __name__ == "__main__":
    main()
