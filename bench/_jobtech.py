"""Load the JobTech taxonomy extracts and build protocol T1 for the benchmarks.

Only the benchmarks read these files; `matching/` never does (the group-to-skill
relations and the SSYK codes are evaluation ground truth).
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from matching import Posting

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "jobtech"


def data_dir() -> Path:
    """The jobtech folder: ../shared/data/jobtech beside the repository."""
    for candidate in (DATA, Path("/work/shared/data/jobtech")):
        if candidate.is_dir():
            return candidate
    raise SystemExit(f"JobTech data not found at {DATA}")


def _concepts(name: str) -> list[dict[str, object]]:
    with (data_dir() / name).open(encoding="utf-8") as f:
        concepts: list[dict[str, object]] = json.load(f)["data"]["concepts"]
    return concepts


def skill_vocabulary() -> list[str]:
    """Every skill label in skills.json, in file order (a vocabulary only)."""
    return [str(c["preferred_label"]) for c in _concepts("skills.json")]


@dataclass(frozen=True)
class Group:
    id: str
    code: str
    label: str
    definition: str
    skills: tuple[str, ...]


def t1_groups(min_skills: int = 8) -> list[Group]:
    """SSYK-4 groups with at least `min_skills` related skills, in file order."""
    codes = {
        str(c["id"]): str(c["ssyk_code_2012"])
        for c in _concepts("ssyk-level-4-groups.json")
    }
    groups = []
    for c in _concepts("ssyk-level-4-groups-with-related-skills.json"):
        related = c.get("related") or []
        assert isinstance(related, list)
        skills = tuple(str(r["preferred_label"]) for r in related)
        if len(skills) >= min_skills:
            groups.append(
                Group(
                    id=str(c["id"]),
                    code=codes[str(c["id"])],
                    label=str(c["preferred_label"]),
                    definition=str(c.get("definition") or ""),
                    skills=skills,
                )
            )
    return groups


def t1_split(
    groups: list[Group], seed: int
) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """Shuffle each group's skills with one rng per seed; first ceil(n/2) -> need."""
    rng = np.random.default_rng(seed)
    need_sides, offer_sides = [], []
    for g in groups:
        labels = list(g.skills)
        rng.shuffle(labels)
        cut = math.ceil(len(labels) / 2)
        need_sides.append(tuple(labels[:cut]))
        offer_sides.append(tuple(labels[cut:]))
    return need_sides, offer_sides


def t1_postings(
    groups: list[Group], seed: int, *, free_text: bool = False
) -> tuple[list[Posting], list[Posting]]:
    """Needs and offers of protocol T1; ids are the group ids.

    With `free_text`, the need side is the group's definition text instead of a
    skill list (the offer side stays the skill half).
    """
    need_sides, offer_sides = t1_split(groups, seed)
    needs = [
        Posting(id=g.id, kind="apl", title="", text=g.definition)
        if free_text
        else Posting(id=g.id, kind="apl", title="", skills=half)
        for g, half in zip(groups, need_sides, strict=True)
    ]
    offers = [
        Posting(id=g.id, kind="apl", title="", skills=half)
        for g, half in zip(groups, offer_sides, strict=True)
    ]
    return needs, offers


MAX_TITLE_WORDS = 5


def short_titled(groups: list[Group]) -> list[Group]:
    """The groups whose label has at most `MAX_TITLE_WORDS` words."""
    return [g for g in groups if len(g.label.split()) <= MAX_TITLE_WORDS]


def title_postings(
    groups: list[Group], seed: int
) -> tuple[list[Posting], list[Posting]]:
    """Protocol "title -> skill lists": a need is a short group label (at most
    five words) with 0-2 of its group's skills (from the need half); the
    offers are every group's other skill half, as in T1."""
    need_sides, offer_sides = t1_split(groups, seed)
    rng = np.random.default_rng(1000 + seed)
    needs = [
        Posting(
            id=g.id, kind="apl", title=g.label, skills=half[: int(rng.integers(0, 3))]
        )
        for g, half in zip(groups, need_sides, strict=True)
        if len(g.label.split()) <= MAX_TITLE_WORDS
    ]
    offers = [
        Posting(id=g.id, kind="apl", title="", skills=half)
        for g, half in zip(groups, offer_sides, strict=True)
    ]
    return needs, offers


def title_definition_postings(
    groups: list[Group], seed: int
) -> tuple[list[Posting], list[Posting]]:
    """Protocol "title -> titles with definitions": a need is a short group
    label, the offers are every group's label with its definition; the need's
    own group is left out of its ranking and of its ideal (see `ndcg_at_k`),
    so only related groups count. No randomness: `seed` changes nothing."""
    del seed
    needs = [Posting(id=g.id, kind="apl", title=g.label) for g in short_titled(groups)]
    offers = [
        Posting(id=g.id, kind="apl", title=g.label, text=g.definition) for g in groups
    ]
    return needs, offers


PHRASES = (
    "{}",
    "kunna {}",
    "erfarenhet av {}",
    "god kännedom om {}",
    "arbeta med {}",
    "vana vid {}",
    "goda kunskaper inom {}",
)
"""How a posting written by someone else than the taxonomy's editors might
phrase a skill: the label in lower case inside a phrase, or as it is."""


def reworded(postings: list[Posting], seed: int) -> list[Posting]:
    """The postings with every skill label rewritten as one of `PHRASES`,
    drawn with one rng per seed (a stand-in for data worded otherwise than
    JobTech's, such as skills as verb phrases; the labels' own words stay)."""
    rng = np.random.default_rng(2000 + seed)
    out = []
    for p in postings:
        picks = rng.integers(0, len(PHRASES), len(p.skills)).tolist()
        skills = tuple(
            PHRASES[i].format(s if i == 0 else s.lower())
            for i, s in zip(picks, p.skills, strict=True)
        )
        out.append(replace(p, skills=skills))
    return out


@functools.cache
def occupation_postings() -> tuple[
    list[Posting], list[Posting], dict[str, dict[str, int]]
]:
    """Protocol "title -> occupation titles": a need is an occupation name
    that another one can substitute or be substituted by; the offers are all
    2,412 occupation names (titles only). Relevance from the curated
    substitutability, either way: 2 for 75 %, 1 for 25 % (the larger when
    both are given). The need's own name is among the offers and is left out
    of its ranking (`ndcg_judged`). No randomness; read once per process."""
    concepts = _concepts("substitutability-relations-between-occupations.json")
    label = {str(c["id"]): str(c["preferred_label"]) for c in concepts}
    judged: dict[str, dict[str, int]] = {}
    for c in concepts:
        for side in ("substitutes", "substituted_by"):
            related = c.get(side) or []
            assert isinstance(related, list)
            for r in related:
                grade = 2 if int(r["substitutability_percentage"]) >= 75 else 1
                own = judged.setdefault(str(c["id"]), {})
                own[str(r["id"])] = max(grade, own.get(str(r["id"]), 0))
    ids = sorted(label)
    needs = [Posting(id=i, kind="apl", title=label[i]) for i in ids if judged.get(i)]
    offers = [Posting(id=i, kind="apl", title=label[i]) for i in ids]
    return needs, offers, judged


def ndcg_judged(
    ranked: dict[str, list[str]],
    judged: dict[str, dict[str, int]],
    k: int = 10,
    *,
    gain: str = "linear",
) -> float:
    """Mean nDCG@k over needs with graded judgements {need: {offer: grade}};
    the offer with the need's own id is dropped from its ranking."""
    discounts = 1.0 / np.log2(np.arange(2, k + 2))

    def g(rel: int) -> float:
        return float(rel) if gain == "linear" else float(2**rel - 1)

    scores = []
    for need_id, offer_ids in ranked.items():
        grades = judged[need_id]
        kept = [o for o in offer_ids if o != need_id][:k]
        dcg = float(np.dot([g(grades.get(o, 0)) for o in kept], discounts[: len(kept)]))
        ideal = sorted((g(v) for v in grades.values()), reverse=True)[:k]
        scores.append(dcg / float(np.dot(ideal, discounts[: len(ideal)])))
    return float(np.mean(scores))


def relevance(code_a: str, code_b: str) -> int:
    """3 same SSYK-4 code, 2 same first three digits, 1 same first two, else 0."""
    if code_a == code_b:
        return 3
    if code_a[:3] == code_b[:3]:
        return 2
    if code_a[:2] == code_b[:2]:
        return 1
    return 0


def ndcg_at_k(
    ranked: dict[str, list[str]],
    codes: dict[str, str],
    k: int = 10,
    *,
    gain: str = "linear",
    exclude_self: bool = False,
) -> float:
    """Mean nDCG@k over needs; ideal from all offers' codes.

    gain "linear" uses the relevance itself (sklearn's ndcg_score), "exponential"
    uses 2^rel - 1. With `exclude_self`, the offer with the need's own id is
    dropped from its ranking and from its ideal.
    """

    def g(rel: int) -> float:
        return float(rel) if gain == "linear" else float(2**rel - 1)

    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    scores = []
    for need_id, offer_ids in ranked.items():
        code = codes[need_id]
        if exclude_self:
            offer_ids = [o for o in offer_ids if o != need_id]
        gains = [g(relevance(code, codes[o])) for o in offer_ids[:k]]
        dcg = float(np.dot(gains, discounts[: len(gains)]))
        others = [c for o, c in codes.items() if o != need_id or not exclude_self]
        ideal = sorted((g(relevance(code, c)) for c in others), reverse=True)
        idcg = float(np.dot(ideal[:k], discounts[: min(k, len(ideal))]))
        scores.append(dcg / idcg if idcg > 0 else 0.0)
    return float(np.mean(scores))
