"""Postings: the plain input records, and their validation."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from matching.errors import DuplicateId, InvalidPosting


@dataclass(frozen=True, slots=True)
class Posting:
    """A need (a school's students looking for places) or an offer (places).

    `kind` must be equal for a need and an offer to pair (e.g. "apl", "prao").
    `count` is students for a need and places for an offer. `start`/`end` are
    inclusive dates; a missing date means "any time". `lat`/`lon` are WGS84
    degrees. `max_km` (needs only) is the farthest acceptable distance in km.
    `skills` are free labels, e.g. ("Svetsning", "Truckkort").
    """

    id: str
    kind: str
    title: str
    text: str = ""
    skills: tuple[str, ...] = ()
    count: int = 1
    start: date | None = None
    end: date | None = None
    lat: float | None = None
    lon: float | None = None
    max_km: float | None = None

    def __post_init__(self) -> None:
        validate_posting(self)


def _bad(posting: Posting, field: str, message: str) -> InvalidPosting:
    return InvalidPosting(
        f"posting {posting.id!r}: {message}", posting_id=str(posting.id), field=field
    )


def validate_posting(p: Posting) -> None:
    """Raise `InvalidPosting` unless every field of `p` is usable."""
    if not isinstance(p.id, str) or not p.id:
        raise _bad(p, "id", "id must be a non-empty string")
    if not isinstance(p.kind, str) or not p.kind:
        raise _bad(p, "kind", "kind must be a non-empty string")
    if not isinstance(p.title, str) or not isinstance(p.text, str):
        raise _bad(p, "text", "title and text must be strings")
    if not isinstance(p.skills, tuple) or not all(isinstance(s, str) for s in p.skills):
        raise _bad(p, "skills", "skills must be a tuple of strings")
    # bool is an int subclass; True students is a bug, not a count.
    if isinstance(p.count, bool) or not isinstance(p.count, int) or p.count < 1:
        raise _bad(p, "count", f"count must be an integer >= 1, got {p.count!r}")
    for name, value in (("start", p.start), ("end", p.end)):
        # A datetime is a date too, but cannot be compared with one.
        if value is not None and (
            not isinstance(value, date) or isinstance(value, datetime)
        ):
            raise _bad(p, name, f"{name} must be a date (not a datetime) or None")
    if p.start is not None and p.end is not None and p.end < p.start:
        raise _bad(p, "end", f"end {p.end} is before start {p.start}")
    if (p.lat is None) != (p.lon is None):
        raise _bad(p, "lat", "give both lat and lon, or neither")
    if p.lat is not None and not (_finite(p.lat) and -90.0 <= p.lat <= 90.0):
        raise _bad(p, "lat", f"latitude {p.lat!r} outside [-90, 90]")
    if p.lon is not None and not (_finite(p.lon) and -180.0 <= p.lon <= 180.0):
        raise _bad(p, "lon", f"longitude {p.lon!r} outside [-180, 180]")
    if p.max_km is not None and not (_finite(p.max_km) and p.max_km >= 0.0):
        raise _bad(
            p, "max_km", f"max_km must be a finite number >= 0, got {p.max_km!r}"
        )


def _finite(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def check_unique(postings: Sequence[Posting], side: str) -> None:
    """Raise `DuplicateId` if two postings of one side share an id."""
    seen: set[str] = set()
    for p in postings:
        if not isinstance(p, Posting):
            raise InvalidPosting(f"{side} must be Posting objects, got {type(p)!r}")
        if p.id in seen:
            raise DuplicateId(f"duplicate {side} id {p.id!r}", posting_id=p.id)
        seen.add(p.id)
