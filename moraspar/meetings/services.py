"""Council meetings: prepare an agenda of proposals and skill gaps, record the
decisions, mark the meeting held.

Who may: members of the meeting's council, and admins. Once a meeting is held
its agenda is fixed (no items added, moved or removed); decisions can still be
written down or corrected, since minutes are often finished afterwards.

Deciding a proposal from a meeting goes through the council's own decision
service (moraspar.council.services.decide), so the review board and the
meetings share one source of truth, one set of rules (which states allow which
decision, free places, decline reasons) and one audit trail (proposal.approve
etc. beside meeting_item.decide).

Plain functions with keyword arguments and the session passed in; they flush,
never commit; nothing here imports flask or wtforms.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, or_, select

from moraspar import audit
from moraspar.council import scope
from moraspar.council import services as council
from moraspar.models import (
    Council,
    MatchProposal,
    Meeting,
    MeetingItem,
    MeetingStatus,
    Need,
    Organisation,
    Placement,
    PostingStatus,
    ProposalStatus,
    SkillGap,
    User,
)

PLANNED = MeetingStatus.PLANNED
HELD = MeetingStatus.HELD
PICKABLE = (ProposalStatus.PROPOSED, ProposalStatus.DEFERRED)
OUTCOMES = {
    "approve": ProposalStatus.APPROVED,
    "decline": ProposalStatus.DECLINED,
    "defer": ProposalStatus.DEFERRED,
}
MAX_ITEMS = 200


class MeetingError(Exception):
    """A rule of meetings was broken; field names the form field, if any."""

    field: str | None = None


class AlreadyHeld(MeetingError):
    """The meeting is held: its agenda can no longer change."""


class NotAProposal(MeetingError):
    """An outcome (approve/decline/defer) was given for an item without a proposal."""

    field = "outcome"


class DecisionRefused(MeetingError):
    """The council's decision service refused the decision; __cause__ is its
    error (InvalidDecision, NoFreePlaces, DeclineReasonRequired, ...)."""

    field = "outcome"


@dataclass(frozen=True)
class MeetingData:
    title: str
    held_on: date
    council_id: int
    notes: str = ""


@dataclass(frozen=True)
class ProposalLine:
    proposal: MatchProposal
    need: Need
    placement: Placement
    school: Organisation
    company: Organisation


@dataclass(frozen=True)
class GapLine:
    gap: SkillGap
    company: Organisation


@dataclass(frozen=True)
class AgendaItem:
    item: MeetingItem
    proposal: ProposalLine | None
    gap: GapLine | None


@dataclass(frozen=True)
class DecisionResult:
    applied: bool  # True when the proposal's status was changed


# -- who may -------------------------------------------------------------------


def councils_for(session: Session, *, user: User) -> Sequence[Council]:
    """The councils user may hold meetings for: their own, or all for admins."""
    return scope.councils(session, scope=scope.scope_of(session, user=user))


def check_member(session: Session, *, user: User, council_id: int) -> None:
    """NotAMember (moraspar.council.scope) unless the user sits on the council
    or is an admin."""
    scope.check_council(scope.scope_of(session, user=user), council_id)


def _check_planned(meeting: Meeting) -> None:
    if meeting.status == HELD:
        raise AlreadyHeld()


# -- meetings ------------------------------------------------------------------


def meetings_query(*, within: scope.CouncilScope) -> Any:
    """Meetings of the scope's councils (admins: all), next/latest first."""
    query = (
        select(Meeting, Council)
        .join(Council, col(Council.id) == Meeting.council_id)
        .order_by(col(Meeting.held_on).desc(), col(Meeting.id).desc())
    )
    if within.council_ids is not None:
        query = query.where(col(Meeting.council_id).in_(sorted(within.council_ids)))
    return query


def create_meeting(session: Session, *, actor: User, data: MeetingData) -> Meeting:
    check_member(session, user=actor, council_id=data.council_id)
    meeting = Meeting(
        council_id=data.council_id,
        title=data.title.strip(),
        held_on=data.held_on,
        notes=data.notes.strip(),
        status=PLANNED,
    )
    session.add(meeting)
    session.flush()
    audit.record(
        session,
        meeting,
        actor=actor,
        action="meeting.create",
        title=meeting.title,
        council_id=meeting.council_id,
        held_on=meeting.held_on.isoformat(),
    )
    return meeting


def _record_update(
    session: Session, *, actor: User, meeting: Meeting, **details: Any
) -> None:
    """One "meeting.update" audit event: an edit of the meeting or its agenda,
    with details saying what changed."""
    audit.record(
        session,
        meeting,
        actor=actor,
        action="meeting.update",
        **details,
    )


def update_meeting(
    session: Session, *, actor: User, meeting: Meeting, data: MeetingData
) -> Meeting:
    check_member(session, user=actor, council_id=meeting.council_id)
    check_member(session, user=actor, council_id=data.council_id)
    changed = {}
    for name, value in (
        ("title", data.title.strip()),
        ("held_on", data.held_on),
        ("council_id", data.council_id),
        ("notes", data.notes.strip()),
    ):
        if getattr(meeting, name) != value:
            setattr(meeting, name, value)
            changed[name] = value.isoformat() if isinstance(value, date) else value
    session.add(meeting)
    session.flush()
    if changed:
        _record_update(session, actor=actor, meeting=meeting, changed=changed)
    return meeting


def mark_held(session: Session, *, actor: User, meeting: Meeting) -> Meeting:
    check_member(session, user=actor, council_id=meeting.council_id)
    _check_planned(meeting)
    meeting.status = HELD
    session.add(meeting)
    session.flush()
    audit.record(
        session,
        meeting,
        actor=actor,
        action="meeting.held",
    )
    return meeting


# -- the agenda ----------------------------------------------------------------


def _items(session: Session, meeting_id: int | None) -> list[MeetingItem]:
    return list(
        session.exec(
            select(MeetingItem)
            .where(MeetingItem.meeting_id == meeting_id)
            .order_by(col(MeetingItem.position), col(MeetingItem.id))
        ).all()
    )


def _proposal_select() -> Any:
    school = aliased(Organisation)
    company = aliased(Organisation)
    return (
        # sqlmodel types select() up to four entities; it takes any number.
        select(MatchProposal, Need, Placement, school, company)  # type: ignore[call-overload]
        .join(Need, col(Need.id) == MatchProposal.need_id)
        .join(Placement, col(Placement.id) == MatchProposal.placement_id)
        .join(school, col(school.id) == Need.school_id)
        .join(company, col(company.id) == Placement.company_id)
    )


def agenda(session: Session, *, meeting: Meeting) -> list[AgendaItem]:
    """The meeting's items in order, with their proposal or gap loaded."""
    items = _items(session, meeting.id)
    proposal_ids = [i.proposal_id for i in items if i.proposal_id is not None]
    gap_ids = [i.skill_gap_id for i in items if i.skill_gap_id is not None]
    proposals: dict[int, ProposalLine] = {}
    if proposal_ids:
        for row in session.exec(
            _proposal_select().where(col(MatchProposal.id).in_(proposal_ids))
        ).all():
            line = ProposalLine(*row)
            assert line.proposal.id is not None
            proposals[line.proposal.id] = line
    gaps: dict[int, GapLine] = {}
    if gap_ids:
        for gap, company in session.exec(
            select(SkillGap, Organisation)
            .join(Organisation, col(Organisation.id) == SkillGap.company_id)
            .where(col(SkillGap.id).in_(gap_ids))
        ).all():
            assert gap.id is not None
            gaps[gap.id] = GapLine(gap=gap, company=company)
    return [
        AgendaItem(
            item=i,
            proposal=proposals.get(i.proposal_id) if i.proposal_id else None,
            gap=gaps.get(i.skill_gap_id) if i.skill_gap_id else None,
        )
        for i in items
    ]


def _add(
    session: Session,
    *,
    actor: User,
    meeting: Meeting,
    column: str,
    ids: Sequence[int],
    valid: set[int],
) -> int:
    check_member(session, user=actor, council_id=meeting.council_id)
    _check_planned(meeting)
    items = _items(session, meeting.id)
    present = {getattr(i, column) for i in items}
    position = max([-1, *(i.position for i in items)]) + 1
    added: list[int] = []
    for item_id in dict.fromkeys(ids):
        if item_id in present or item_id not in valid:
            continue
        if len(items) + len(added) >= MAX_ITEMS:
            break
        assert meeting.id is not None
        item = MeetingItem(meeting_id=meeting.id, position=position)
        setattr(item, column, item_id)
        session.add(item)
        added.append(item_id)
        position += 1
    if added:
        session.flush()
        _record_update(session, actor=actor, meeting=meeting, added={column: added})
    return len(added)


def add_proposals(
    session: Session, *, actor: User, meeting: Meeting, proposal_ids: Sequence[int]
) -> int:
    """Put proposals (still proposed or deferred, of needs of schools in the
    meeting's council's area) on the agenda; returns how many were added (ones
    already there or not pickable are skipped)."""
    valid = set(
        session.exec(
            select(MatchProposal.id)
            .join(Need, col(Need.id) == MatchProposal.need_id)
            .where(
                col(MatchProposal.id).in_(list(proposal_ids)),
                col(MatchProposal.status).in_(PICKABLE),
                col(Need.school_id).in_(scope.council_area(meeting.council_id)),
            )
        ).all()
    )
    return _add(
        session,
        actor=actor,
        meeting=meeting,
        column="proposal_id",
        ids=proposal_ids,
        valid={v for v in valid if v is not None},
    )


def add_gaps(
    session: Session, *, actor: User, meeting: Meeting, gap_ids: Sequence[int]
) -> int:
    """Put open skill gaps of companies in the meeting's council's area on the
    agenda; returns how many were added."""
    valid = set(
        session.exec(
            select(SkillGap.id).where(
                col(SkillGap.id).in_(list(gap_ids)),
                SkillGap.status == PostingStatus.OPEN,
                col(SkillGap.company_id).in_(scope.council_area(meeting.council_id)),
            )
        ).all()
    )
    return _add(
        session,
        actor=actor,
        meeting=meeting,
        column="skill_gap_id",
        ids=gap_ids,
        valid={v for v in valid if v is not None},
    )


def _renumber(session: Session, items: list[MeetingItem]) -> None:
    for position, item in enumerate(items):
        if item.position != position:
            item.position = position
            session.add(item)


def move_item(
    session: Session, *, actor: User, meeting: Meeting, item: MeetingItem, step: int
) -> None:
    """Move item one place up (step -1) or down (+1) on the agenda."""
    check_member(session, user=actor, council_id=meeting.council_id)
    _check_planned(meeting)
    items = _items(session, meeting.id)
    index = next(n for n, i in enumerate(items) if i.id == item.id)
    target = index + (1 if step > 0 else -1)
    if not 0 <= target < len(items):
        return
    items[index], items[target] = items[target], items[index]
    _renumber(session, items)
    session.flush()
    _record_update(
        session, actor=actor, meeting=meeting, moved=item.id, position=target
    )


def remove_item(
    session: Session, *, actor: User, meeting: Meeting, item: MeetingItem
) -> None:
    check_member(session, user=actor, council_id=meeting.council_id)
    _check_planned(meeting)
    removed = {"proposal_id": item.proposal_id, "skill_gap_id": item.skill_gap_id}
    session.delete(item)
    session.flush()
    _renumber(session, _items(session, meeting.id))
    session.flush()
    _record_update(session, actor=actor, meeting=meeting, removed=removed)


# -- decisions -----------------------------------------------------------------


def decide_item(
    session: Session,
    *,
    actor: User,
    meeting: Meeting,
    item: MeetingItem,
    decision: str,
    outcome: str = "",
    decline_reason: str = "",
) -> DecisionResult:
    """Record the decision text of an agenda item and, for a proposal with an
    outcome (approve/decline/defer), decide the proposal through the council's
    decision service, with the decision text as its comment.

    Raises NotAProposal for an outcome on a gap item and DecisionRefused (with
    the council's error as its cause) when the council's rules refuse it; then
    nothing is changed."""
    check_member(session, user=actor, council_id=meeting.council_id)
    if outcome and (outcome not in OUTCOMES or item.proposal_id is None):
        raise NotAProposal()
    applied = False
    if outcome:
        proposal = session.get(MatchProposal, item.proposal_id)
        if proposal is None:
            raise NotAProposal()
        if proposal.status != OUTCOMES[outcome]:
            try:
                council.decide(
                    session,
                    proposal=proposal,
                    action=outcome,
                    actor=actor,
                    decline_reason=decline_reason if outcome == "decline" else "",
                    comment=decision.strip(),
                )
            except council.CouncilError as error:
                raise DecisionRefused(str(error)) from error
            applied = True
    item.decision = decision.strip()
    session.add(item)
    session.flush()
    audit.record(
        session,
        item,
        actor=actor,
        action="meeting_item.decide",
        meeting_id=meeting.id,
        decision=item.decision,
        outcome=outcome,
        applied=applied,
    )
    return DecisionResult(applied=applied)


# -- picking items -------------------------------------------------------------


@dataclass(frozen=True)
class ProposalFilters:
    status: str = ""  # "", proposed or deferred
    q: str = ""
    locality: str = ""


def proposal_candidates_query(filters: ProposalFilters, *, meeting: Meeting) -> Any:
    """Proposals that may go on the meeting's agenda (of needs of schools in
    its council's area), best first."""
    statuses = [filters.status] if filters.status in PICKABLE else list(PICKABLE)
    query = (
        _proposal_select()
        .where(col(MatchProposal.status).in_(statuses))
        .where(col(Need.school_id).in_(scope.council_area(meeting.council_id)))
    )
    if filters.q.strip():
        like = f"%{filters.q.strip().lower()}%"
        query = query.where(
            or_(
                func.lower(Need.title).like(like),
                func.lower(Placement.title).like(like),
            )
        )
    if filters.locality:
        query = query.where(
            or_(
                Placement.locality == filters.locality,
                Need.locality == filters.locality,
            )
        )
    return query.order_by(col(MatchProposal.score).desc(), col(MatchProposal.id))


def gap_candidates_query(*, meeting: Meeting, q: str = "", locality: str = "") -> Any:
    """Open skill gaps that may go on the meeting's agenda (of companies in its
    council's area), biggest first."""
    query = (
        select(SkillGap, Organisation)
        .join(Organisation, col(Organisation.id) == SkillGap.company_id)
        .where(SkillGap.status == PostingStatus.OPEN)
        .where(col(SkillGap.company_id).in_(scope.council_area(meeting.council_id)))
    )
    if q.strip():
        like = f"%{q.strip().lower()}%"
        query = query.where(
            or_(
                func.lower(SkillGap.title).like(like),
                func.lower(Organisation.name).like(like),
            )
        )
    if locality:
        query = query.where(Organisation.locality == locality)
    return query.order_by(col(SkillGap.headcount).desc(), col(SkillGap.id))


def on_agenda(session: Session, *, meeting: Meeting) -> tuple[set[int], set[int]]:
    """(proposal ids, skill gap ids) already on the meeting's agenda."""
    items = _items(session, meeting.id)
    return (
        {i.proposal_id for i in items if i.proposal_id is not None},
        {i.skill_gap_id for i in items if i.skill_gap_id is not None},
    )
