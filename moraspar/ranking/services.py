"""Live matches: the best open placements for one need, while it is shown.

The council's match run proposes and allocates; this only ranks, for one
need, the placements that could take its students now. The hard rules are
applied here, before ranking, so that the list never shows a placement the
need cannot use, whatever the ranking library decides about scores:

- the placement is open, its company approved, and it has not ended;
- same kind (APL with APL, prao with prao);
- the periods overlap (a missing date is "any time");
- within the need's max_km when both positions are known;
- at least one free place (places less booked and approved students);
- not already paired with this need (any proposal for the pair, whatever its
  status: a declined pair stays declined, a proposed one is on the board).

They are ranked with the served model (`moraspar.ranking.served`), never
refitted here.

Nothing here commits.
"""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlmodel import Session, col, select

import matching
from moraspar.council.runs import need_posting, open_placements, placement_posting
from moraspar.models import (
    MatchProposal,
    Need,
    Organisation,
    Placement,
    ProposalStatus,
)
from moraspar.ranking.served import current_model
from moraspar.reference.gazetteer import km_between


@dataclass(frozen=True)
class LiveMatch:
    placement: Placement
    company: Organisation
    match: matching.Match
    free_places: int


def _overlaps(need: Need, placement: Placement) -> bool:
    if (
        need.start_date is not None
        and placement.end_date is not None
        and placement.end_date < need.start_date
    ):
        return False
    return not (
        need.end_date is not None
        and placement.start_date is not None
        and placement.start_date > need.end_date
    )


def _approved_students(session: Session, placement_ids: list[int]) -> dict[int, int]:
    """Students of approved proposals per placement (booked ones are already
    counted in Placement.places_booked)."""
    if not placement_ids:
        return {}
    rows = session.exec(
        select(MatchProposal.placement_id, sa.func.sum(MatchProposal.students))
        .where(MatchProposal.status == ProposalStatus.APPROVED)
        .where(col(MatchProposal.placement_id).in_(placement_ids))
        .group_by(col(MatchProposal.placement_id))
    ).all()
    return {int(pid): int(total or 0) for pid, total in rows}


def _paired(session: Session, need: Need) -> set[int]:
    return set(
        session.exec(
            select(MatchProposal.placement_id).where(MatchProposal.need_id == need.id)
        ).all()
    )


def candidates(
    session: Session, *, need: Need, today: date
) -> list[tuple[Placement, Organisation, matching.Posting, int]]:
    """The placements the need could use now (every hard rule passed), with
    their postings and free places."""
    paired = _paired(session, need)
    found = [
        (placement, company)
        for placement, company in open_placements(session, today=today, kind=need.kind)
        if placement.id not in paired and _overlaps(need, placement)
    ]
    taken = _approved_students(session, [p.id for p, _ in found if p.id is not None])
    need_at = need_posting(need, students=max(1, need.students))
    result = []
    for placement, company in found:
        free = (
            placement.places - placement.places_booked - taken.get(placement.id or 0, 0)
        )
        if free < 1:
            continue
        try:
            offer = placement_posting(placement, company, free=free)
        except matching.InvalidPosting:
            continue  # a broken import row: never shown, the run logs it
        if (
            need.max_km is not None
            and need_at.lat is not None
            and need_at.lon is not None
            and offer.lat is not None
            and offer.lon is not None
            and km_between((need_at.lat, need_at.lon), (offer.lat, offer.lon))
            > need.max_km
        ):
            continue
        result.append((placement, company, offer, free))
    return result


def live_matches(
    session: Session, *, need: Need, limit: int = 10, today: date
) -> list[LiveMatch]:
    """The best `limit` placements for `need`, best first (see the module
    docstring for the rules a placement must pass)."""
    if need.id is None or limit < 1:
        return []
    found = candidates(session, need=need, today=today)
    if not found:
        return []
    need_at = need_posting(need, students=max(1, need.students))
    ranker = current_model(session, today=today)
    ranked = ranker.rank(
        [need_at], [offer for _, _, offer, _ in found], k=min(limit, len(found))
    )
    by_id = {offer.id: (p, c, free) for p, c, offer, free in found}
    result = []
    for m in ranked.get(need_at.id, []):
        placement, company, free = by_id[m.offer_id]
        result.append(
            LiveMatch(placement=placement, company=company, match=m, free_places=free)
        )
    return result
