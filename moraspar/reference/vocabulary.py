"""Shipped vocabularies: Swedish skill labels, SNI 2007 industry codes and SSYK
2012 occupation codes."""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_DATA = Path(__file__).resolve().parent.parent / "data"


@dataclass(frozen=True)
class Industry:
    code: str
    label: str
    level: int


@cache
def skills() -> tuple[str, ...]:
    text = (_DATA / "skills-sv.txt").read_text(encoding="utf-8")
    return tuple(line for line in text.splitlines() if line)


@cache
def _skills_folded() -> tuple[tuple[str, str], ...]:
    return tuple((label.casefold(), label) for label in skills())


def suggest_skills(prefix: str, limit: int = 15) -> list[str]:
    """Skill labels that start with prefix (first), then that contain it."""
    needle = prefix.strip().casefold()
    if len(needle) < 2:
        return []
    starts = [label for folded, label in _skills_folded() if folded.startswith(needle)]
    if len(starts) >= limit:
        return starts[:limit]
    contains = [
        label
        for folded, label in _skills_folded()
        if needle in folded and not folded.startswith(needle)
    ]
    return (starts + contains)[:limit]


@cache
def industries() -> tuple[Industry, ...]:
    rows = json.loads((_DATA / "sni-2007.json").read_text(encoding="utf-8"))
    return tuple(Industry(r["code"], r["label"], r["level"]) for r in rows)


def industry_choices() -> list[tuple[str, str]]:
    """SNI level-2 codes for a pick list: ("16", "16 – Trävaruindustri")."""
    return [
        (i.code, f"{i.code} – {i.label}")
        for i in sorted(industries(), key=lambda i: i.code)
        if i.level == 2
    ]


def industry_label(code: str | None) -> str:
    for industry in industries():
        if industry.code == code:
            return industry.label
    return code or ""


@cache
def occupations() -> dict[str, str]:
    """SSYK 2012 four-digit occupation codes and their Swedish labels."""
    rows = json.loads((_DATA / "ssyk-2012.json").read_text(encoding="utf-8"))
    return {row["code"]: row["label"] for row in rows}


@cache
def _occupation_work() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """code -> (other names, typical words of the work), from lines such as
    "7231 [bilmekaniker]: fordonsteknik, bilverkstad"."""
    text = (_DATA / "occupation-work-sv.txt").read_text(encoding="utf-8")
    rows: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        head, _, words = line.partition(":")
        code, _, names = head.partition("[")
        rows[code.strip()] = (
            tuple(n.strip() for n in names.rstrip("] ").split(",") if n.strip()),
            tuple(w.strip() for w in words.split(",") if w.strip()),
        )
    return rows


def occupation_terms() -> dict[str, tuple[str, ...]]:
    """Typical words of the work of some SSYK 2012 groups, by code: what the
    placement search reads as work for that occupation."""
    return {code: work for code, (_, work) in _occupation_work().items()}


def occupation_other_names() -> dict[str, tuple[str, ...]]:
    """Everyday names of some SSYK 2012 groups besides their labels
    ("bilmekaniker" for "Motorfordonsmekaniker och fordonsreparatörer")."""
    return {code: names for code, (names, _) in _occupation_work().items() if names}


def parse_tags(raw: str, *, max_tags: int = 30, max_length: int = 80) -> list[str]:
    """'svetsning, Truckkort;  svetsning' -> ['svetsning', 'Truckkort'].

    Commas, semicolons and new lines separate tags; duplicates (ignoring case)
    and empty tags are dropped; order is kept.
    """
    seen: set[str] = set()
    tags: list[str] = []
    for part in raw.replace(";", ",").replace("\n", ",").split(","):
        tag = " ".join(part.split())[:max_length]
        if tag and tag.casefold() not in seen:
            seen.add(tag.casefold())
            tags.append(tag)
    return tags[:max_tags]
