"""What the library returns: matches with their reasons, and assignments."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class Reason:
    """One structured reason behind a match, for the app to render in any language.

    `code` says what the reason is and which field carries its data:

    - ``"shared_skills"``: `values` = the offer's skill labels that the need also
      lists (equal after lower-casing, stemming and ignoring punctuation), in the
      offer's order.
    - ``"related_skills"``: `values` = up to three of the offer's other skill
      labels that lie closest to one of the need's (cosine >= 0.5 in the paired
      space, see `matching.explain.RELATED_SKILL_MIN`), closest first.
    - ``"shared_terms"``: `values` = words of the offer whose stems the need shares
      (title and text, words over three letters), in the offer's order, at most five.
    - ``"distance_km"``: `value` = great-circle distance in km, one decimal.
    - ``"overlap_weeks"``: `value` = weeks (days / 7, one decimal) that the two
      periods overlap, when the overlap has two known ends (an open end of one
      side takes the other side's date).
    - ``"any_time"``: the overlap is open at one end or both (so they overlap).
    - ``"free_places"``: `value` = places the offer has (offer.count) and
      `values` = ``()``; compare with the need's students yourself.
    - ``"all_places"``: the offer has at least as many places as the need has
      students; `value` = offer.count.
    """

    code: str
    value: float | None = None
    values: tuple[str, ...] = ()


def _frozen_parts(parts: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType(dict(parts))


@dataclass(frozen=True, slots=True)
class Match:
    """A ranked (need, offer) pair.

    `score` is in [0, 1], the weighted mean of `parts`. `parts` maps a component
    name to its value in [0, 1]: ``text`` (learned text similarity, less the
    offer's hub penalty), ``skills`` (share of the need's skills the offer
    lists), ``period`` (share of the need's period the offer covers),
    ``distance`` (1 next door, falling with km; 0.5 when a position is unknown)
    and ``capacity`` (share of the need's students the offer has places for).
    `reasons` are structured data, see `Reason`.
    """

    need_id: str
    offer_id: str
    score: float
    parts: Mapping[str, float] = field(default_factory=dict)
    reasons: tuple[Reason, ...] = ()

    def __post_init__(self) -> None:
        # A read-only view keeps the frozen promise for the mapping too.
        object.__setattr__(self, "parts", _frozen_parts(self.parts))


@dataclass(frozen=True, slots=True)
class Assignment:
    """`students` (>= 1) of the need placed at the offer."""

    need_id: str
    offer_id: str
    students: int
