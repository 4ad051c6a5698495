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
refitted here, against the index of the open placements that the process
keeps for that model: a call then vectorises only the need. The index is made
again, for every open placement, when a candidate is not in it as it is now
(a new or edited placement, a place taken or freed). The candidates are read
as the columns their postings need, with their free places counted in the
same query; whole objects are read only for the few placements shown.

Nothing here commits.
"""

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from math import cos, radians
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

import matching
from moraspar.council.runs import (
    need_posting,
    open_placement_rules,
    placement_posting,
)
from moraspar.models import (
    MatchProposal,
    Need,
    Organisation,
    Placement,
    ProposalStatus,
)
from moraspar.ranking import served
from moraspar.ranking.served import PlacementIndex, current_model
from moraspar.reference.gazetteer import km_between


@dataclass(frozen=True)
class LiveMatch:
    placement: Placement
    company: Organisation
    match: matching.Match
    free_places: int


@dataclass(frozen=True)
class _Where:
    lat: float | None
    lon: float | None
    locality: str


@dataclass(frozen=True)
class _Offered:
    """The columns of a placement that its posting reads (`placement_posting`)."""

    id: int
    kind: str
    title: str
    description: str
    tasks: str
    requirements: str
    skills: list[str]
    start_date: date | None
    end_date: date | None
    lat: float | None
    lon: float | None
    locality: str


@dataclass(frozen=True)
class Candidate:
    """A placement the need could use now: its posting and its free places."""

    placement_id: int
    posting: matching.Posting
    free: int


_OFFERED = tuple(getattr(Placement, f.name) for f in fields(_Offered))


def _approved() -> sa.Subquery:
    """Students of approved proposals per placement (booked ones are already
    counted in Placement.places_booked)."""
    return (
        select(
            col(MatchProposal.placement_id).label("placement_id"),
            sa.func.sum(MatchProposal.students).label("students"),
        )
        .where(MatchProposal.status == ProposalStatus.APPROVED)
        .group_by(col(MatchProposal.placement_id))
        .subquery()
    )


def _open_rows(today: date) -> Any:  # a select of more columns than typed
    """The columns a posting needs of every open placement that has a free
    place (`open_placement_rules`), with its company's position and its free
    places (places less booked and approved students), by id. Columns rather
    than whole objects: reading these is most of a live-matches call."""
    approved = _approved()
    free = (
        col(Placement.places)
        - col(Placement.places_booked)
        - sa.func.coalesce(approved.c.students, 0)
    )
    return (
        select(  # type: ignore[call-overload]
            *_OFFERED,
            col(Organisation.lat).label("company_lat"),
            col(Organisation.lon).label("company_lon"),
            col(Organisation.locality).label("company_locality"),
            free.label("free"),
        )
        .join(Organisation, col(Organisation.id) == Placement.company_id)
        .outerjoin(approved, approved.c.placement_id == Placement.id)
        .where(*open_placement_rules(today))
        .where(free >= 1)
        .order_by(col(Placement.id))
    )


def _posting(row: sa.Row[Any]) -> Candidate:
    """A row of `_open_rows` as a candidate (`matching.InvalidPosting` for a
    broken import row)."""
    offered = _Offered(*row[: len(_OFFERED)])
    company = _Where(row.company_lat, row.company_lon, row.company_locality)
    free = int(row.free)
    return Candidate(offered.id, placement_posting(offered, company, free=free), free)


def _placements(
    session: Session, *, need: Need, at: matching.Posting, today: date
) -> Sequence[sa.Row[Any]]:
    """`_open_rows` that pass the rules SQL can check for `need`: kind,
    period, not paired with the need, a box around its reach (the exact
    distance is checked afterwards)."""
    query = (
        _open_rows(today)
        .where(col(Placement.kind) == need.kind)
        .where(
            col(Placement.id).not_in(
                select(MatchProposal.placement_id).where(
                    MatchProposal.need_id == need.id
                )
            )
        )
    )
    if need.start_date is not None:
        query = query.where(
            sa.or_(
                col(Placement.end_date).is_(None),
                col(Placement.end_date) >= need.start_date,
            )
        )
    if need.end_date is not None:
        query = query.where(
            sa.or_(
                col(Placement.start_date).is_(None),
                col(Placement.start_date) <= need.end_date,
            )
        )
    if need.max_km is not None and at.lat is not None and at.lon is not None:
        # A box a little larger than the circle; a placement with no position
        # of its own may take its company's or its locality's, so it stays.
        dlat = need.max_km / 110.0 * 1.01
        dlon = need.max_km / (111.0 * max(cos(radians(at.lat)), 0.01)) * 1.01
        query = query.where(
            sa.or_(
                col(Placement.lat).is_(None),
                col(Placement.lon).is_(None),
                sa.and_(
                    col(Placement.lat).between(at.lat - dlat, at.lat + dlat),
                    col(Placement.lon).between(at.lon - dlon, at.lon + dlon),
                ),
            )
        )
    return session.exec(query).all()


def _need_posting(need: Need) -> matching.Posting | None:
    try:
        return need_posting(need, students=max(1, need.students))
    except matching.InvalidPosting:
        return None


def candidates(session: Session, *, need: Need, today: date) -> list[Candidate]:
    """The placements the need could use now (every hard rule passed), with
    their postings and free places; none for a need the library refuses (an
    imported one ending before it starts), as a match run leaves it out."""
    need_at = _need_posting(need)
    return [] if need_at is None else _candidates(session, need, need_at, today)


def _candidates(
    session: Session, need: Need, at: matching.Posting, today: date
) -> list[Candidate]:
    result = []
    for row in _placements(session, need=need, at=at, today=today):
        try:
            found = _posting(row)
        except matching.InvalidPosting:
            continue  # a broken import row: never shown, the run logs it
        offer = found.posting
        if (
            need.max_km is not None
            and at.lat is not None
            and at.lon is not None
            and offer.lat is not None
            and offer.lon is not None
            and km_between((at.lat, at.lon), (offer.lat, offer.lon)) > need.max_km
        ):
            continue
        result.append(found)
    return result


def live_matches(
    session: Session, *, need: Need, limit: int = 10, today: date
) -> list[LiveMatch]:
    """The best `limit` placements for `need`, best first (see the module
    docstring for the rules a placement must pass)."""
    if need.id is None or limit < 1:
        return []
    need_at = _need_posting(need)
    if need_at is None:
        return []
    found = _candidates(session, need, need_at, today)
    if not found:
        return []
    ranker = current_model(session, today=today)
    k = min(limit, len(found))
    indexed = _indexed(session, ranker, found, today=today)
    ranked = (
        ranker.rank([need_at], indexed, k=k)
        if indexed is not None
        else ranker.rank([need_at], [c.posting for c in found], k=k)
    )
    picked = ranked.get(need_at.id, [])
    if not picked:
        return []
    free = {c.posting.id: c.free for c in found}
    # Whole objects for the few shown only (the page reads their fields).
    shown = {
        placement.id: (placement, company)
        for placement, company in session.exec(
            select(Placement, Organisation)
            .join(Organisation, col(Organisation.id) == Placement.company_id)
            .where(col(Placement.id).in_([int(m.offer_id) for m in picked]))
        ).all()
    }
    result = []
    for m in picked:
        objects = shown.get(int(m.offer_id))
        if objects is None:
            continue  # deleted between the two reads
        placement, company = objects
        result.append(
            LiveMatch(
                placement=placement,
                company=company,
                match=m,
                free_places=free[m.offer_id],
            )
        )
    return result


def _indexed(
    session: Session,
    ranker: matching.Ranker,
    found: list[Candidate],
    *,
    today: date,
) -> matching.OfferIndex | None:
    """The candidates `found` as a subset of the open placements' index held
    for `ranker`, made again when one of them is not in it as it is now; None
    when they still are not (a placement changed between the two reads), to
    rank against the postings themselves."""
    wanted = [(c.placement_id, c.posting) for c in found]
    held = served.recall_index(ranker)
    rows = held.rows_for(wanted) if held is not None else None
    if held is None or rows is None:
        held = _index_open_placements(session, ranker, today=today)
        served.remember_index(held)
        rows = held.rows_for(wanted)
    return held.index.subset(rows) if rows is not None else None


def _index_open_placements(
    session: Session, ranker: matching.Ranker, *, today: date
) -> PlacementIndex:
    """Every open placement that has a free place, posted from the rows
    `candidates` reads (so that an unchanged candidate's posting is equal to
    its indexed one); a placement with no free place is never a candidate
    until one is freed, and the index is made again then."""
    held: list[Candidate] = []
    for row in session.exec(_open_rows(today)).all():
        try:
            held.append(_posting(row))
        except matching.InvalidPosting:
            continue
    return PlacementIndex(
        ranker.index([c.posting for c in held]),
        {c.placement_id: (row, c.posting) for row, c in enumerate(held)},
    )
