"""The council's operations: the review board, decisions, the allocation overview.

Plain functions with keyword arguments and the session passed in; they flush,
never commit, and raise the named errors below. Nothing here imports flask or
wtforms. Match runs live in moraspar.council.runs.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, func, select

from moraspar import audit
from moraspar.bookings import services as bookings
from moraspar.council import runs
from moraspar.council.scope import (
    AREA_KINDS,
    CouncilScope,
    check_organisation,
    within,
)
from moraspar.models import (
    AuditEvent,
    Booking,
    Council,
    CouncilMember,
    CouncilOrganisation,
    MatchProposal,
    MatchRun,
    Need,
    Organisation,
    OrgKind,
    Placement,
    PostingStatus,
    Programme,
    ProposalStatus,
    RunStatus,
    User,
    load_columns,
    utcnow,
)
from moraspar.reference.gazetteer import LOCALITIES, km_between
from moraspar.web.pagination import MAX_PAGE_SIZE, Page

# -- errors ------------------------------------------------------------------


class CouncilError(Exception):
    """A rule of the council's work was broken."""


class InvalidDecision(CouncilError):
    """The proposal is not in a state that allows this decision."""

    def __init__(self, message: str, *, proposal_ids: Sequence[int] = ()) -> None:
        super().__init__(message)
        self.proposal_ids = list(proposal_ids)


class NoFreePlaces(InvalidDecision):
    """Approving would give the placement more students than it has places."""


class NeedCovered(InvalidDecision):
    """Approving would give the need more students than it has: other
    proposals already cover all of them."""


class DeclineReasonRequired(CouncilError):
    pass


class CommentRequired(CouncilError):
    """Declining for "other" reasons needs a comment that says which."""


class ReverseReasonRequired(CouncilError):
    pass


# -- decisions ---------------------------------------------------------------

APPROVE, DECLINE, DEFER = "approve", "decline", "defer"
ACTIONS = (APPROVE, DECLINE, DEFER)
DECLINE_REASONS = ("no_capacity", "wrong_period", "too_far", "not_suitable", "other")

# Which states each decision may be taken from.
DECIDABLE: dict[str, frozenset[str]] = {
    APPROVE: frozenset({ProposalStatus.PROPOSED, ProposalStatus.DEFERRED}),
    DECLINE: frozenset({ProposalStatus.PROPOSED, ProposalStatus.DEFERRED}),
    DEFER: frozenset({ProposalStatus.PROPOSED}),
}
TARGET = {
    APPROVE: ProposalStatus.APPROVED,
    DECLINE: ProposalStatus.DECLINED,
    DEFER: ProposalStatus.DEFERRED,
}
# Decisions that can be taken back (to proposed). An approval can only be
# reversed until one side has answered it; booked is final here.
REVERSIBLE = frozenset(
    {ProposalStatus.APPROVED, ProposalStatus.DECLINED, ProposalStatus.DEFERRED}
)


def may_decide(proposal: MatchProposal, action: str) -> bool:
    return proposal.status in DECIDABLE.get(action, frozenset())


def may_reverse(proposal: MatchProposal) -> bool:
    if proposal.status not in REVERSIBLE:
        return False
    if proposal.status == ProposalStatus.APPROVED:
        return proposal.school_confirmed is None and proposal.company_confirmed is None
    return True


def _free_places(session: Session, placement: Placement, *, besides: int) -> int:
    """Places not booked and not taken by other approved proposals."""
    taken = session.exec(
        select(func.coalesce(func.sum(MatchProposal.students), 0))
        .where(MatchProposal.placement_id == placement.id)
        .where(MatchProposal.status == ProposalStatus.APPROVED)
        .where(MatchProposal.id != besides)
    ).one()
    return placement.places - placement.places_booked - int(taken)


def _students_left(session: Session, need: Need, *, besides: int) -> int:
    """The need's students that no other proposal covers (proposed, deferred,
    approved or booked: what the allocation overview counts as covered)."""
    covered = session.exec(
        select(func.coalesce(func.sum(MatchProposal.students), 0))
        .where(MatchProposal.need_id == need.id)
        .where(col(MatchProposal.status).in_(COVERING))
        .where(MatchProposal.id != besides)
    ).one()
    return need.students - int(covered)


def _lock(session: Session, proposals: Sequence[MatchProposal]) -> None:
    """Lock the needs and placements of the proposals (PostgreSQL: SELECT ...
    FOR UPDATE, needs then placements, each in id order, so that two decisions
    never wait on each other in a circle), then read the proposals again.

    Approvals on one placement or for one need thus run one after another and
    each sees the students the one before it approved: the free-places check
    and the write that uses it are one step. SQLite has no row locks; there a
    writing request holds the database's write lock from its first statement
    (moraspar.db), which serialises the same way.
    """
    need_ids = sorted({p.need_id for p in proposals})
    placement_ids = sorted({p.placement_id for p in proposals})
    session.exec(
        select(Need)
        .where(col(Need.id).in_(need_ids))
        .order_by(col(Need.id))
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    session.exec(
        select(Placement)
        .where(col(Placement.id).in_(placement_ids))
        .order_by(col(Placement.id))
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    session.exec(
        select(MatchProposal)
        .where(col(MatchProposal.id).in_([p.id for p in proposals]))
        .execution_options(populate_existing=True)
    ).all()


def _check(
    proposals: Sequence[MatchProposal],
    action: str,
    decline_reason: str,
    comment: str,
) -> None:
    if action not in ACTIONS:
        raise InvalidDecision(f"unknown action {action!r}")
    if action == DECLINE:
        if decline_reason not in DECLINE_REASONS:
            raise DeclineReasonRequired(decline_reason)
        if decline_reason == "other" and not comment.strip():
            raise CommentRequired()
    wrong = [p.id or 0 for p in proposals if not may_decide(p, action)]
    if wrong:
        raise InvalidDecision(
            f"cannot {action} proposals in their current state", proposal_ids=wrong
        )


def _apply(
    session: Session,
    proposal: MatchProposal,
    *,
    action: str,
    actor: User | None,
    decline_reason: str,
    comment: str,
) -> None:
    previous = proposal.status
    if action == APPROVE:
        placement = session.get(Placement, proposal.placement_id)
        need = session.get(Need, proposal.need_id)
        if placement is None or need is None:  # pragma: no cover - FKs
            raise InvalidDecision("the need or placement is gone")
        if need.status != PostingStatus.OPEN or placement.status != PostingStatus.OPEN:
            raise InvalidDecision(
                "the need or the placement is no longer open",
                proposal_ids=[proposal.id or 0],
            )
        free = _free_places(session, placement, besides=proposal.id or 0)
        if free < 1:
            raise NoFreePlaces(
                "the placement has no free places left", proposal_ids=[proposal.id or 0]
            )
        left = _students_left(session, need, besides=proposal.id or 0)
        if left < 1:
            raise NeedCovered(
                "other proposals cover all of the need's students",
                proposal_ids=[proposal.id or 0],
            )
        # A ranked-only pair (0 students allocated) is approved for as many
        # students as fit, so the booking knows how many to confirm; no
        # approval gives the placement or the need more than it has.
        wanted = proposal.students or need.students
        proposal.students = min(wanted, free, left)
    proposal.status = TARGET[action]
    proposal.decided_by_id = actor.id if actor else None
    proposal.decided_at = utcnow()
    proposal.decline_reason = decline_reason if action == DECLINE else ""
    proposal.comment = comment.strip()
    proposal.updated_at = utcnow()
    session.add(proposal)
    details: dict[str, Any] = {"from": previous, "to": proposal.status}
    if action == DECLINE:
        details["reason"] = decline_reason
    if proposal.comment:
        details["comment"] = proposal.comment
    if action == APPROVE:
        details["students"] = proposal.students
    audit.record(
        session,
        proposal,
        actor=actor,
        action=f"proposal.{action}",
        **details,
    )
    session.flush()
    if action == APPROVE:
        bookings.on_proposal_approved(session, proposal=proposal, actor=actor)


def decide(
    session: Session,
    *,
    proposal: MatchProposal,
    action: str,
    actor: User | None,
    decline_reason: str = "",
    comment: str = "",
) -> MatchProposal:
    """Approve, decline (with a reason from DECLINE_REASONS) or defer one proposal.

    Raises InvalidDecision (nothing written) when the proposal's state does not
    allow it, NoFreePlaces when approving a full placement, NeedCovered when
    other proposals already cover the need's students, and
    DeclineReasonRequired / CommentRequired for an incomplete decline. An
    approval is for the proposal's students, or the need's for a ranked-only
    pair, but never more than the placement's free places and the need's
    uncovered students.
    Approving asks both sides to confirm, through
    moraspar.bookings.services.on_proposal_approved.
    """
    _lock(session, [proposal])
    _check([proposal], action, decline_reason, comment)
    _apply(
        session,
        proposal,
        action=action,
        actor=actor,
        decline_reason=decline_reason,
        comment=comment,
    )
    return proposal


def decide_many(
    session: Session,
    *,
    proposal_ids: Sequence[int],
    action: str,
    actor: User | None,
    decline_reason: str = "",
    comment: str = "",
    scope: CouncilScope,
) -> list[MatchProposal]:
    """The same decision on several proposals: all of them or none.

    Raises InvalidDecision naming the proposals that cannot take it (unknown
    ids and proposals outside the scope's councils included) before anything
    is written.
    """
    wanted = sorted(set(proposal_ids))
    if not wanted:
        raise InvalidDecision("no proposals selected")
    proposals = session.exec(
        select(MatchProposal)
        .join(Need, col(Need.id) == MatchProposal.need_id)
        .where(col(MatchProposal.id).in_(wanted))
        .where(within(scope, Need.school_id))
        .order_by(col(MatchProposal.score).desc(), col(MatchProposal.id))
    ).all()
    missing = set(wanted) - {p.id for p in proposals}
    if missing:
        raise InvalidDecision("unknown proposals", proposal_ids=sorted(missing))
    _lock(session, proposals)
    _check(proposals, action, decline_reason, comment)
    for proposal in proposals:
        _apply(
            session,
            proposal,
            action=action,
            actor=actor,
            decline_reason=decline_reason,
            comment=comment,
        )
    return list(proposals)


def reverse(
    session: Session, *, proposal: MatchProposal, actor: User | None, reason: str
) -> MatchProposal:
    """Take a decision back: the proposal is proposed again. `reason` required.

    Raises InvalidDecision for proposed, booked or withdrawn proposals, and for
    approvals that the school or the company has already answered.
    """
    if not reason.strip():
        raise ReverseReasonRequired()
    if not may_reverse(proposal):
        raise InvalidDecision(
            f"cannot reverse a {proposal.status} proposal",
            proposal_ids=[proposal.id or 0],
        )
    exists = session.exec(
        select(Booking.id).where(Booking.proposal_id == proposal.id)
    ).first()
    if exists is not None:
        raise InvalidDecision("the proposal is booked", proposal_ids=[proposal.id or 0])
    previous = proposal.status
    proposal.status = ProposalStatus.PROPOSED
    proposal.decided_by_id = None
    proposal.decided_at = None
    proposal.decline_reason = ""
    proposal.comment = ""
    proposal.school_confirmed = None
    proposal.company_confirmed = None
    proposal.updated_at = utcnow()
    session.add(proposal)
    audit.record(
        session,
        proposal,
        actor=actor,
        action="proposal.reverse",
        **_transition_detail(previous, ProposalStatus.PROPOSED, reason.strip()),
    )
    session.flush()
    return proposal


# -- councils ------------------------------------------------------------------


def councils_of(session: Session, *, user: User) -> Sequence[Council]:
    """The councils the user sits on, by name."""
    return session.exec(
        select(Council)
        .join(CouncilMember, col(CouncilMember.council_id) == Council.id)
        .where(CouncilMember.user_id == user.id)
        .order_by(col(Council.name), col(Council.id))
    ).all()


# -- the review board --------------------------------------------------------

GROUPS = ("", "need", "company")
STATUS_ALL = "all"


@dataclass(frozen=True)
class BoardFilters:
    status: str = ProposalStatus.PROPOSED  # or STATUS_ALL
    kind: str = ""
    programme_id: int | None = None
    locality: str = ""
    period_from: date | None = None
    period_to: date | None = None
    group: str = ""  # "", "need" or "company"
    text: str = ""  # words to find in the need, school, company or locality


@dataclass(frozen=True)
class BoardRow:
    proposal: MatchProposal
    need: Need
    placement: Placement
    company: Organisation
    school: Organisation
    programme: Programme | None

    @property
    def free_places(self) -> int:
        return max(0, self.placement.places - self.placement.places_booked)

    def group_key(self, group: str) -> tuple[Any, str]:
        if group == "need":
            return self.need.id, self.need.title
        if group == "company":
            return self.company.id, self.company.name
        return None, ""


School = aliased(Organisation, name="school")


MAX_SEARCH_WORDS = 8


def _contains_any_case(column: Any, word: str) -> Any:
    """column contains word, ignoring case. SQLite's lower() folds ASCII only,
    so "Älvdalen" stays "Älvdalen" there: the word is also tried with a
    capital first letter, which finds the names that start with Å, Ä or Ö."""
    lowered = func.lower(column)
    variants = {word.lower(), word[:1].upper() + word[1:].lower()}
    return sa.or_(*(lowered.contains(v, autoescape=True) for v in variants))


def _text_matches(text: str) -> Any:
    """Every word of text is in the need's title, the school's or company's
    name, or the placement's title or locality."""
    columns = (
        Need.title,
        School.name,
        Organisation.name,
        Placement.title,
        Placement.locality,
    )
    words = text.split()[:MAX_SEARCH_WORDS]
    return sa.and_(
        *(sa.or_(*(_contains_any_case(c, w) for c in columns)) for w in words)
    )


def _board_where(query: Any, filters: BoardFilters, *, scope: CouncilScope) -> Any:
    """The board's filters, on a query that joins MatchProposal, Need,
    Placement, the company (Organisation) and the school (School)."""
    query = query.where(within(scope, Need.school_id))
    if filters.text.strip():
        query = query.where(_text_matches(filters.text))
    if filters.status != STATUS_ALL:
        query = query.where(MatchProposal.status == filters.status)
    if filters.kind:
        query = query.where(Need.kind == filters.kind)
    if filters.programme_id is not None:
        query = query.where(Need.programme_id == filters.programme_id)
    if filters.locality:
        query = query.where(
            func.lower(Placement.locality) == filters.locality.strip().lower()
        )
    # Period filter: the need's period overlaps [from, to]; open ends overlap.
    if filters.period_from is not None:
        query = query.where(
            sa.or_(
                col(Need.end_date).is_(None), col(Need.end_date) >= filters.period_from
            )
        )
    if filters.period_to is not None:
        query = query.where(
            sa.or_(
                col(Need.start_date).is_(None),
                col(Need.start_date) <= filters.period_to,
            )
        )
    return query


def board_count(session: Session, *, filters: BoardFilters, scope: CouncilScope) -> int:
    """How many proposals board_query finds, without reading the proposals'
    rows or joining what no filter reads (`_lean_board`)."""
    query = _lean_board(func.count(col(MatchProposal.id)), filters, scope=scope)
    return int(session.exec(query).one())


def _lean_board(
    column: Any, filters: BoardFilters, *, scope: CouncilScope, company: bool = False
) -> Any:
    """`column` over board_query's proposals, joining only what the filters
    read (and the company when `company`): the placement, the company and
    the school each match one row per proposal, and the programme is an
    outer join, so leaving them out never changes which proposals are found."""
    text = bool(filters.text.strip())
    query = select(column).join(Need, col(Need.id) == MatchProposal.need_id)
    if text or filters.locality or company:
        query = query.join(Placement, col(Placement.id) == MatchProposal.placement_id)
    if text or company:
        query = query.join(Organisation, col(Organisation.id) == Placement.company_id)
    if text:
        query = query.join(School, col(School.id) == Need.school_id)
    return _board_where(query, filters, scope=scope)


def board_query(filters: BoardFilters, *, scope: CouncilScope) -> Any:
    """Proposals with their need, placement, company, school and programme in
    one statement (no N+1), best first, or grouped and best first within; only
    those of needs of schools in the scope's areas."""
    query = (
        select(  # type: ignore[call-overload]  # six entities: past the stubs' overloads
            MatchProposal, Need, Placement, Organisation, School, Programme
        )
        .join(Need, col(Need.id) == MatchProposal.need_id)
        .join(Placement, col(Placement.id) == MatchProposal.placement_id)
        .join(Organisation, col(Organisation.id) == Placement.company_id)
        .join(School, School.id == Need.school_id)
        .outerjoin(Programme, col(Programme.id) == Need.programme_id)
    )
    return _board_where(query, filters, scope=scope).order_by(*_board_order(filters))


def _board_order(filters: BoardFilters) -> list[Any]:
    order: list[Any] = []
    if filters.group == "need":
        order += [col(Need.title), col(Need.id)]
    elif filters.group == "company":
        order += [col(Organisation.name), col(Organisation.id)]
    return [*order, col(MatchProposal.score).desc(), col(MatchProposal.id)]


def _board_page_ids(filters: BoardFilters, *, scope: CouncilScope) -> Any:
    """The ids of board_query's proposals in its order, on the lean query
    (plus the company when the board is grouped by it): a page's ids are
    found on narrow rows, and only its own rows are joined to everything a
    card shows. PostgreSQL would otherwise join every proposal in the scope
    to its placement, company, school and programme before sorting them
    (25 ms for the 5,000 proposals of the load data against 4 ms)."""
    company = filters.group == "company"
    query = _lean_board(col(MatchProposal.id), filters, scope=scope, company=company)
    return query.order_by(*_board_order(filters))


BOARD_COLUMNS = (
    load_columns(
        Need.id,
        Need.title,
        Need.students,
        Need.kind,
        Need.start_date,
        Need.end_date,
        Need.school_id,
        Need.programme_id,
    ),
    load_columns(
        Placement.id,
        Placement.title,
        Placement.locality,
        Placement.places,
        Placement.places_booked,
        Placement.company_id,
    ),
    load_columns(Organisation.id, Organisation.name),
    load_columns(School.id, School.name),
    load_columns(Programme.id, Programme.name),
)


def board(
    session: Session,
    *,
    filters: BoardFilters,
    page: int,
    per_page: int,
    scope: CouncilScope,
) -> Page[BoardRow]:
    per_page = max(1, min(per_page, MAX_PAGE_SIZE))
    ids = (
        _board_page_ids(filters, scope=scope)
        .limit(per_page)
        .offset((page - 1) * per_page)
        .scalar_subquery()
    )
    rows = session.exec(
        board_query(BoardFilters(status=STATUS_ALL, group=filters.group), scope=scope)
        .where(col(MatchProposal.id).in_(ids))
        # Only the columns a card shows: the wide texts stay unread.
        .options(*BOARD_COLUMNS)
    ).all()
    return Page(
        items=[BoardRow(*row) for row in rows],
        page=page,
        per_page=per_page,
        total=board_count(session, filters=filters, scope=scope),
    )


def board_options(session: Session, *, scope: CouncilScope) -> dict[str, Any]:
    """What the board's filters can choose from: programmes and localities."""
    programmes = session.exec(
        select(Programme.id, Programme.name, Organisation.name)
        .join(Organisation, col(Organisation.id) == Programme.school_id)
        .where(within(scope, Programme.school_id))
        .where(
            col(Programme.id).in_(
                select(Need.programme_id)
                .join(MatchProposal, col(MatchProposal.need_id) == Need.id)
                .where(col(Need.programme_id).is_not(None))
            )
        )
        .order_by(col(Programme.name), col(Programme.id))
    ).all()
    # The region's localities, as the teacher's search offers them (a
    # placement's locality is one of them): the council's proposals can pair
    # its schools with placements anywhere in the region.
    localities = sorted(LOCALITIES)
    return {"programmes": programmes, "localities": localities}


@dataclass(frozen=True)
class ProposalView:
    proposal: MatchProposal
    need: Need
    placement: Placement
    company: Organisation
    school: Organisation
    programme: Programme | None
    history: Sequence[tuple[AuditEvent, User | None]]

    @property
    def free_places(self) -> int:
        return max(0, self.placement.places - self.placement.places_booked)


def check_proposal(
    session: Session, *, scope: CouncilScope, proposal: MatchProposal
) -> None:
    """NotAMember unless the proposal's need is of a school in the scope's areas."""
    need = session.get(Need, proposal.need_id)
    check_organisation(
        session, scope=scope, organisation_id=need.school_id if need else None
    )


def proposal_view(
    session: Session, *, proposal_id: int, scope: CouncilScope
) -> ProposalView | None:
    """The proposal with its parties and history; None if there is no such
    proposal, NotAMember if it is outside the scope's councils."""
    proposal = session.get(MatchProposal, proposal_id)
    if proposal is None:
        return None
    check_proposal(session, scope=scope, proposal=proposal)
    row = session.exec(
        board_query(BoardFilters(status=STATUS_ALL), scope=scope).where(
            MatchProposal.id == proposal_id
        )
    ).first()
    if row is None:
        return None
    history = session.exec(
        select(AuditEvent, User)
        .outerjoin(User, col(User.id) == AuditEvent.actor_id)
        .where(AuditEvent.entity == "match_proposal")
        .where(AuditEvent.entity_id == proposal_id)
        .order_by(col(AuditEvent.at), col(AuditEvent.id))
    ).all()
    proposal, need, placement, company, school, programme = row
    return ProposalView(
        proposal=proposal,
        need=need,
        placement=placement,
        company=company,
        school=school,
        programme=programme,
        history=history,
    )


def status_counts(session: Session, *, scope: CouncilScope) -> dict[str, int]:
    rows = session.exec(
        select(MatchProposal.status, func.count())
        .join(Need, col(Need.id) == MatchProposal.need_id)
        .where(within(scope, Need.school_id))
        .group_by(col(MatchProposal.status))
    ).all()
    return {status: int(n) for status, n in rows}


# -- the allocation overview -------------------------------------------------

# Why a need is not (fully) covered, checked in this order.
NO_HOST = "no_host"  # no open placement of the need's kind
TOO_FAR = "too_far"  # hosts of that kind, but all beyond the need's max_km
NO_PERIOD = "no_period"  # hosts within reach, but no period overlaps
NO_PLACES = "no_places"  # hosts within reach and period, too few free places
TAKEN = "taken"  # suitable free places exist but went to other needs
NOT_RANKED = "not_ranked"  # new since the run, or left out of it


@dataclass
class NeedCoverage:
    need: Need
    school: Organisation
    students: int
    covered: int = 0  # students in non-declined proposals
    proposals: int = 0
    reason: str = ""  # one of the constants above when covered < students
    hosts: int = 0  # open placements of the need's kind
    nearest_km: float | None = None

    @property
    def uncovered(self) -> int:
        return max(0, self.students - self.covered)


@dataclass
class AllocationOverview:
    run: MatchRun | None
    needs: list[NeedCoverage] = field(default_factory=list)

    @property
    def students(self) -> int:
        return sum(n.students for n in self.needs)

    @property
    def covered(self) -> int:
        return sum(min(n.covered, n.students) for n in self.needs)

    @property
    def uncovered_needs(self) -> list[NeedCoverage]:
        return [n for n in self.needs if n.uncovered > 0]

    def count(self, reason: str) -> int:
        return sum(1 for n in self.uncovered_needs if n.reason == reason)


COVERING = (
    ProposalStatus.PROPOSED,
    ProposalStatus.DEFERRED,
    ProposalStatus.APPROVED,
    ProposalStatus.BOOKED,
)

# Proposals holding places that places_booked does not count yet.
PLANNED = (ProposalStatus.PROPOSED, ProposalStatus.DEFERRED, ProposalStatus.APPROVED)


def _overlaps(
    a_start: date | None, a_end: date | None, b_start: date | None, b_end: date | None
) -> bool:
    lo = max(d for d in (a_start, b_start, date.min) if d is not None)
    hi = min(d for d in (a_end, b_end, date.max) if d is not None)
    return lo <= hi


@dataclass(frozen=True, slots=True)
class _Host:
    """What the diagnosis reads of an open placement: where it is (its own
    position, else its company's), its period and its places."""

    id: int
    position: tuple[float | None, float | None]
    start: date | None
    end: date | None
    free: int  # places less those booked


def _open_hosts(session: Session, today: date) -> dict[str, list[_Host]]:
    """The open placements by kind, as the few columns the diagnosis reads
    (no placement objects: the overview reads every open placement)."""
    hosts: dict[str, list[_Host]] = defaultdict(list)
    for (
        pid,
        kind,
        lat,
        lon,
        locality,
        c_lat,
        c_lon,
        c_locality,
        start,
        end,
        places,
        booked,
    ) in session.execute(
        sa.select(
            col(Placement.id),
            col(Placement.kind),
            col(Placement.lat),
            col(Placement.lon),
            col(Placement.locality),
            col(Organisation.lat),
            col(Organisation.lon),
            col(Organisation.locality),
            col(Placement.start_date),
            col(Placement.end_date),
            col(Placement.places),
            col(Placement.places_booked),
        )
        .join(Organisation, col(Organisation.id) == Placement.company_id)
        .where(*runs.open_placement_rules(today))
        .order_by(col(Placement.id))
    ).all():
        position = runs._position(lat, lon, locality)
        if position[0] is None:
            position = runs._position(c_lat, c_lon, c_locality)
        hosts[kind].append(_Host(pid or 0, position, start, end, places - booked))
    return hosts


def _diagnose(
    coverage: NeedCoverage,
    hosts: Sequence[_Host],
    allocated: dict[int, dict[int, int]],
) -> None:
    """Set coverage.reason; `allocated` = {placement id: {need id: students}}
    of the proposals not yet booked (proposed, deferred, approved)."""
    need = coverage.need
    coverage.hosts = len(hosts)
    if not hosts:
        coverage.reason = NO_HOST
        return
    here = runs._position(need.lat, need.lon, need.locality)
    in_reach = []
    for host in hosts:
        km: float | None = None
        if here[0] is not None and host.position[0] is not None:
            km = km_between(here, host.position)  # type: ignore[arg-type]
            if coverage.nearest_km is None or km < coverage.nearest_km:
                coverage.nearest_km = km
        # Like the ranker: an unknown position never fails the radius.
        if km is None or need.max_km is None or km <= need.max_km:
            in_reach.append(host)
    if not in_reach:
        coverage.reason = TOO_FAR
        return
    in_time = [
        h for h in in_reach if _overlaps(need.start_date, need.end_date, h.start, h.end)
    ]
    if not in_time:
        coverage.reason = NO_PERIOD
        return
    # Places still free once every proposal (of any need) has its students;
    # booked students are already in places_booked.
    left = 0
    to_others = 0
    for h in in_time:
        planned = allocated.get(h.id, {})
        left += max(0, h.free - sum(planned.values()))
        to_others += sum(n for need_id, n in planned.items() if need_id != need.id)
    if coverage.covered + left >= coverage.students:
        coverage.reason = NOT_RANKED  # free places unused: the run has not seen it
    elif to_others > 0:
        coverage.reason = TAKEN
    else:
        coverage.reason = NO_PLACES


def allocation_overview(
    session: Session, *, scope: CouncilScope, today: date | None = None
) -> AllocationOverview:
    """Per open need of the scope's schools: students, students covered by
    non-declined proposals, and for needs not fully covered the first reason
    that explains it. Places are counted over every council: a placement
    taken by another council's need is taken."""
    run = runs.latest_run(session, status=RunStatus.DONE, scope=scope)
    overview = AllocationOverview(run=run)
    if run is None:
        return overview
    today = today or date.today()
    needs = session.exec(
        select(Need, Organisation)
        .join(Organisation, col(Organisation.id) == Need.school_id)
        .where(Need.status == PostingStatus.OPEN)
        .where(sa.or_(col(Need.end_date).is_(None), col(Need.end_date) >= today))
        .where(within(scope, Need.school_id))
        .order_by(col(Need.start_date), col(Need.id))
    ).all()
    covered: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for need_id, students, n in session.exec(
        select(
            MatchProposal.need_id,
            func.coalesce(func.sum(MatchProposal.students), 0),
            func.count(),
        )
        .where(col(MatchProposal.status).in_(COVERING))
        .group_by(col(MatchProposal.need_id))
    ).all():
        covered[need_id] = [int(students), int(n)]
    allocated: dict[int, dict[int, int]] = defaultdict(dict)
    for placement_id, need_id, students in session.exec(
        select(
            MatchProposal.placement_id,
            MatchProposal.need_id,
            func.coalesce(func.sum(MatchProposal.students), 0),
        )
        .where(col(MatchProposal.status).in_(PLANNED))
        .group_by(col(MatchProposal.placement_id), col(MatchProposal.need_id))
    ).all():
        allocated[placement_id][need_id] = int(students)
    hosts = _open_hosts(session, today)
    for need, school in needs:
        students, proposals = covered.get(need.id or 0, [0, 0])
        coverage = NeedCoverage(
            need=need,
            school=school,
            students=need.students,
            covered=students,
            proposals=proposals,
        )
        if coverage.uncovered > 0:
            _diagnose(coverage, hosts.get(need.kind, []), allocated)
        overview.needs.append(coverage)
    return overview


def _reason_detail(reason: str) -> dict[str, Any]:
    """The audit detail for an optional reason: none when it is empty."""
    return {"reason": reason} if reason else {}


def _transition_detail(previous: str, new: str, reason: str) -> dict[str, Any]:
    # "from" is a keyword, so these details go in as a mapping
    return {"from": previous, "to": new, "reason": reason}


# --- a council's area: the schools and companies it works for --------------


class UnknownOrganisation(CouncilError):
    """An id that is not a school's or a company's."""


@dataclass(frozen=True)
class AreaData:
    """An area form's answer: the ticked organisations among those shown (a
    filtered page shows some; the others keep their place in the area)."""

    takes_new_organisations: bool
    ticked: frozenset[int]
    shown: frozenset[int]


@dataclass(frozen=True)
class AreaChange:
    added: tuple[int, ...]
    removed: tuple[int, ...]
    flag_changed: bool

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.flag_changed)


def area_candidates(session: Session) -> Sequence[Organisation]:
    """Every school and company, schools first, by name: what an area holds."""
    return session.exec(
        select(Organisation)
        .where(col(Organisation.kind).in_(sorted(AREA_KINDS)))
        .order_by(col(Organisation.kind).desc(), col(Organisation.name))
    ).all()


def matching_name(
    organisations: Sequence[Organisation], text: str
) -> list[Organisation]:
    """The organisations whose name or locality contains text, ignoring case
    (in Python: SQLite's lower() leaves å, ä and ö alone)."""
    wanted = text.strip().casefold()
    if not wanted:
        return list(organisations)
    return [
        o
        for o in organisations
        if wanted in o.name.casefold() or wanted in o.locality.casefold()
    ]


def area_ids(session: Session, *, council: Council) -> set[int]:
    return set(
        session.exec(
            select(CouncilOrganisation.organisation_id).where(
                CouncilOrganisation.council_id == council.id
            )
        ).all()
    )


def save_area(
    session: Session, *, council: Council, data: AreaData, actor: User
) -> AreaChange:
    """Set the council's area among the shown organisations, and its flag.

    Organisations that were not shown are left as they are, so saving a
    filtered list removes nothing the administrator did not see. Raises
    UnknownOrganisation for an id that is not a school or company."""
    assert council.id is not None
    known = {
        o.id
        for o in session.exec(
            select(Organisation).where(
                col(Organisation.id).in_(sorted(data.ticked | data.shown))
            )
        ).all()
        if o.kind in AREA_KINDS
    }
    if (data.ticked | data.shown) - known:
        raise UnknownOrganisation()
    current = area_ids(session, council=council)
    shown = data.shown | data.ticked
    added = tuple(sorted(data.ticked - current))
    removed = tuple(sorted((shown - data.ticked) & current))
    if removed:
        session.exec(
            sa.delete(CouncilOrganisation).where(
                col(CouncilOrganisation.council_id) == council.id,
                col(CouncilOrganisation.organisation_id).in_(removed),
            )
        )
    session.add_all(
        CouncilOrganisation(council_id=council.id, organisation_id=organisation_id)
        for organisation_id in added
    )
    flag_changed = council.takes_new_organisations != data.takes_new_organisations
    if flag_changed:
        council.takes_new_organisations = data.takes_new_organisations
        session.add(council)
    change = AreaChange(added=added, removed=removed, flag_changed=flag_changed)
    if change.changed:
        audit.record(
            session,
            council,
            actor=actor,
            action="council.area",
            added=list(added),
            removed=list(removed),
            takes_new_organisations=council.takes_new_organisations,
        )
    session.flush()
    return change


@dataclass(frozen=True)
class AreaSummary:
    council: Council
    schools: int
    companies: int


def area_summaries(session: Session) -> list[AreaSummary]:
    """Every council, by name, with how many schools and companies its area
    holds (one query for the counts)."""
    counts: dict[tuple[int, str], int] = {
        (council_id, kind): int(n)
        for council_id, kind, n in session.exec(
            select(CouncilOrganisation.council_id, Organisation.kind, func.count())
            .join(
                Organisation,
                col(Organisation.id) == col(CouncilOrganisation.organisation_id),
            )
            .group_by(col(CouncilOrganisation.council_id), col(Organisation.kind))
        ).all()
    }
    councils = session.exec(
        select(Council).order_by(col(Council.name), col(Council.id))
    ).all()
    return [
        AreaSummary(
            council=c,
            schools=counts.get((c.id or 0, OrgKind.SCHOOL), 0),
            companies=counts.get((c.id or 0, OrgKind.COMPANY), 0),
        )
        for c in councils
    ]
