"""Teachers' requests and companies' offers: routing, checks, transitions."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlmodel import Session, func, select

from moraspar.bookings import requests, services
from moraspar.council import services as council
from moraspar.models import (
    ActionLink,
    AuditEvent,
    Booking,
    Council,
    MatchProposal,
    Need,
    Notification,
    Organisation,
    OutboxMessage,
    Placement,
    PostingStatus,
    ProposalStatus,
    Role,
    User,
)
from moraspar.notifications.unsubscribe import SIGNING_INFO


@dataclass
class Sides:
    school: Organisation
    company: Organisation
    teacher: User
    contact: User
    need: Need
    placement: Placement


@pytest.fixture
def signed_db(db: Session) -> Session:
    # As moraspar.db gives a request's Session the key for signed links.
    db.info[SIGNING_INFO] = "test-secret-key"
    return db


@pytest.fixture
def make_sides(
    signed_db: Session,
    make_school: Callable[..., Organisation],
    make_company: Callable[..., Organisation],
    make_user: Callable[..., User],
    make_need: Callable[..., Need],
    make_placement: Callable[..., Placement],
) -> Callable[..., Sides]:
    def make(
        kind: str = "study_visit",
        need_kw: dict[str, Any] | None = None,
        placement_kw: dict[str, Any] | None = None,
    ) -> Sides:
        school = make_school()
        company = make_company(contact_email="info@verkstad.example")
        teacher = make_user(Role.TEACHER, school, language="en")
        contact = make_user(Role.COMPANY, company, language="en")
        need = make_need(school, **{"kind": kind, **(need_kw or {})})
        placement = make_placement(company, **{"kind": kind, **(placement_kw or {})})
        return Sides(school, company, teacher, contact, need, placement)

    return make


def _request(db: Session, s: Sides, students: int = 2) -> MatchProposal:
    proposal = requests.send_request(
        db,
        placement_id=s.placement.id,  # type: ignore[arg-type]
        user=s.teacher,
        data=requests.RequestData(need_id=s.need.id, students=students),  # type: ignore[arg-type]
    )
    db.commit()
    return proposal


def _kinds(db: Session, user: User) -> list[str]:
    return list(
        db.exec(select(Notification.kind).where(Notification.user_id == user.id))
    )


def _count(db: Session, model: Any) -> int:
    return int(db.exec(select(func.count()).select_from(model)).one())


@pytest.mark.parametrize("kind", ["study_visit", "guest_lecture", "project", "prao"])
def test_a_request_of_a_short_kind_goes_straight_to_the_company(
    signed_db: Session, make_sides: Any, kind: str
) -> None:
    db = signed_db
    s = make_sides(kind)
    proposal = _request(db, s)

    assert proposal.origin == "request"
    assert proposal.status == ProposalStatus.APPROVED
    assert proposal.school_confirmed is True
    assert proposal.company_confirmed is None
    assert proposal.requested_by_id == s.teacher.id
    assert _kinds(db, s.contact) == ["request_received"]
    assert _kinds(db, s.teacher) == []  # the teacher asked: not asked again
    (mail,) = db.exec(select(OutboxMessage)).all()
    assert mail.to_address == s.contact.email
    assert "/bookings/answer/" in mail.body_text
    (link,) = db.exec(select(ActionLink)).all()
    assert link.proposal_id == proposal.id
    assert link.organisation_id == s.company.id
    assert link.used_at is None
    assert link.token_hash not in mail.body_text  # only the hash is stored
    actions = db.exec(select(AuditEvent.action)).all()
    assert "proposal.request" in actions


def test_an_apl_request_goes_to_the_council_then_only_the_company_is_asked(
    signed_db: Session, make_sides: Any, make_user: Callable[..., User]
) -> None:
    db = signed_db
    s = make_sides("apl")
    member = make_user(Role.COUNCIL)
    proposal = _request(db, s)
    assert proposal.status == ProposalStatus.PROPOSED
    assert _kinds(db, s.contact) == []
    assert _count(db, ActionLink) == 0

    council.decide(db, proposal=proposal, action=council.APPROVE, actor=member)
    db.commit()

    db.refresh(proposal)
    assert proposal.status == ProposalStatus.APPROVED
    assert proposal.school_confirmed is True  # not asked again
    assert proposal.company_confirmed is None
    assert _kinds(db, s.contact) == ["request_received"]
    assert _kinds(db, s.teacher) == []
    assert _count(db, ActionLink) == 1


def test_a_request_via_the_council_tells_the_members_of_the_schools_council(
    signed_db: Session, make_sides: Any, make_user: Callable[..., User]
) -> None:
    db = signed_db
    s = make_sides("apl")
    member = make_user(Role.COUNCIL, language="sv")
    elsewhere = Council(name="Annat råd", description="Annat råd")
    db.add(elsewhere)
    db.flush()
    stranger = make_user(Role.COUNCIL, councils=[elsewhere])
    proposal = _request(db, s)

    assert proposal.status == ProposalStatus.PROPOSED
    (notice,) = db.exec(
        select(Notification).where(Notification.user_id == member.id)
    ).all()
    assert notice.kind == "request_for_council"
    assert notice.link == f"/council/proposals/{proposal.id}"
    assert notice.params["placement_title"] == s.placement.title
    assert _kinds(db, stranger) == []
    (mail,) = db.exec(
        select(OutboxMessage).where(OutboxMessage.to_address == member.email)
    ).all()
    assert "rådet" in mail.subject
    assert f"/council/proposals/{proposal.id}" in mail.body_text
    assert s.placement.title in mail.body_text


def test_a_request_straight_to_the_company_leaves_the_council_alone(
    signed_db: Session, make_sides: Any, make_user: Callable[..., User]
) -> None:
    db = signed_db
    s = make_sides("study_visit")
    member = make_user(Role.COUNCIL)
    _request(db, s)
    assert _kinds(db, member) == []


def test_the_admins_route_is_respected_and_audited(
    signed_db: Session, make_sides: Any, make_user: Callable[..., User]
) -> None:
    db = signed_db
    admin = make_user(Role.ADMIN)
    assert requests.routes(db)["apl"] is True
    assert requests.routes(db)["study_visit"] is False
    changed = requests.set_routes(
        db, choices={"study_visit": True, "apl": False, "prao": False}, actor=admin
    )
    db.commit()
    assert sorted(changed) == ["apl", "study_visit"]  # prao was direct already
    assert requests.routes(db)["study_visit"] is True
    events = db.exec(
        select(AuditEvent).where(AuditEvent.action == "kind_route.update")
    ).all()
    assert sorted(e.details["kind"] for e in events) == ["apl", "study_visit"]

    visit = _request(db, make_sides("study_visit"))
    apl = _request(db, make_sides("apl"))
    assert visit.status == ProposalStatus.PROPOSED
    assert apl.status == ProposalStatus.APPROVED


def test_the_company_confirms_and_the_booking_is_made_once(
    signed_db: Session, make_sides: Any
) -> None:
    db = signed_db
    s = make_sides()
    proposal = _request(db, s, students=2)
    booking = services.respond(
        db, proposal_id=proposal.id, user=s.contact, confirm=True
    )
    db.commit()
    assert booking is not None
    assert booking.students == 2
    db.refresh(s.placement)
    assert s.placement.places_booked == 2
    assert "booking_created" in _kinds(db, s.teacher)
    # Booked: any further answer is refused and changes nothing.
    with pytest.raises(services.NotAwaitingResponse):
        services.respond(db, proposal_id=proposal.id, user=s.contact, confirm=False)
    db.rollback()
    assert _count(db, Booking) == 1
    db.refresh(proposal)
    assert proposal.status == ProposalStatus.BOOKED


def test_the_company_declines_with_a_reason(
    signed_db: Session, make_sides: Any
) -> None:
    db = signed_db
    s = make_sides()
    proposal = _request(db, s)
    services.respond(
        db,
        proposal_id=proposal.id,
        user=s.contact,
        confirm=False,
        reason="Vi har inventering den veckan.",
        decline_reason="no_supervisor",
    )
    db.commit()
    db.refresh(proposal)
    assert proposal.status == ProposalStatus.WITHDRAWN
    assert proposal.decline_reason == "no_supervisor"
    assert "proposal_declined_by_party" in _kinds(db, s.teacher)
    (item,) = requests.need_items(db, need=s.need)
    assert item.standing == requests.Standing.DECLINED
    with pytest.raises(services.NotAwaitingResponse):
        services.respond(db, proposal_id=proposal.id, user=s.contact, confirm=True)
    db.rollback()
    assert _count(db, Booking) == 0


def test_an_unknown_decline_reason_is_refused(
    signed_db: Session, make_sides: Any
) -> None:
    db = signed_db
    s = make_sides()
    proposal = _request(db, s)
    with pytest.raises(ValueError):
        services.respond(
            db,
            proposal_id=proposal.id,
            user=s.contact,
            confirm=False,
            decline_reason="because",
        )
    db.rollback()
    db.refresh(proposal)
    assert proposal.status == ProposalStatus.APPROVED


def test_the_school_cannot_answer_its_own_request_again(
    signed_db: Session, make_sides: Any
) -> None:
    db = signed_db
    s = make_sides()
    proposal = _request(db, s)
    with pytest.raises(services.AlreadyResponded):
        services.respond(db, proposal_id=proposal.id, user=s.teacher, confirm=False)
    db.rollback()
    db.refresh(proposal)
    assert proposal.status == ProposalStatus.APPROVED


def test_a_request_waiting_for_the_council_takes_no_answer(
    signed_db: Session, make_sides: Any
) -> None:
    db = signed_db
    s = make_sides("apl")
    proposal = _request(db, s)
    with pytest.raises(services.NotAwaitingResponse):
        services.respond(db, proposal_id=proposal.id, user=s.contact, confirm=True)
    db.rollback()
    db.refresh(proposal)
    assert proposal.status == ProposalStatus.PROPOSED
    assert proposal.company_confirmed is None


REFUSALS: list[tuple[str, dict[str, Any], dict[str, Any], int, type[Exception]]] = [
    ("kind", {}, {"kind": "guest_lecture"}, 1, requests.KindMismatch),
    ("paused", {"status": PostingStatus.PAUSED}, {}, 1, requests.NeedNotOpen),
    ("closed", {"status": PostingStatus.CLOSED}, {}, 1, requests.NeedNotOpen),
    (
        "placement paused",
        {},
        {"status": PostingStatus.PAUSED},
        1,
        requests.PlacementNotOpen,
    ),
    ("full", {}, {"places": 2, "places_booked": 2}, 1, requests.NoFreePlaces),
    ("fewer places", {}, {"places": 1}, 2, requests.NoFreePlaces),
    ("too many", {"students": 2}, {"places": 5}, 3, requests.TooManyStudents),
    ("none", {}, {}, 0, requests.TooManyStudents),
    (
        "periods",
        {"start_date": date(2027, 8, 1), "end_date": date(2027, 9, 1)},
        {},
        1,
        requests.PeriodsApart,
    ),
]


@pytest.mark.parametrize(
    ("case", "need_kw", "placement_kw", "students", "error"),
    REFUSALS,
    ids=[r[0] for r in REFUSALS],
)
def test_a_request_is_refused_and_nothing_is_written(
    signed_db: Session,
    make_sides: Any,
    case: str,
    need_kw: dict[str, Any],
    placement_kw: dict[str, Any],
    students: int,
    error: type[Exception],
) -> None:
    db = signed_db
    s = make_sides("study_visit", need_kw=need_kw, placement_kw=placement_kw)
    with pytest.raises(error):
        _request(db, s, students=students)
    db.rollback()
    assert _count(db, MatchProposal) == 0
    assert _count(db, OutboxMessage) == 0


def test_a_second_request_for_the_same_pair_is_refused(
    signed_db: Session, make_sides: Any
) -> None:
    db = signed_db
    s = make_sides()
    _request(db, s, students=1)
    with pytest.raises(requests.AlreadyAsked):
        _request(db, s, students=1)
    db.rollback()
    assert _count(db, MatchProposal) == 1


def test_a_teacher_cannot_request_for_another_schools_need(
    signed_db: Session, make_sides: Any, make_user: Callable[..., User]
) -> None:
    db = signed_db
    s = make_sides()
    stranger = make_user(Role.TEACHER)
    with pytest.raises(requests.NotYours):
        requests.send_request(
            db,
            placement_id=s.placement.id,
            user=stranger,
            data=requests.RequestData(need_id=s.need.id, students=1),  # type: ignore[arg-type]
        )
    db.rollback()
    assert _count(db, MatchProposal) == 0


def _offer(db: Session, s: Sides, students: int = 2) -> MatchProposal:
    proposal = requests.make_offer(
        db,
        need_id=s.need.id,  # type: ignore[arg-type]
        user=s.contact,
        data=requests.OfferData(placement_id=s.placement.id, students=students),  # type: ignore[arg-type]
    )
    db.commit()
    return proposal


def test_an_offer_asks_the_school_and_its_acceptance_books(
    signed_db: Session, make_sides: Any
) -> None:
    db = signed_db
    s = make_sides("apl")  # offers skip the council whatever the route
    proposal = _offer(db, s)
    assert proposal.origin == "offer"
    assert proposal.status == ProposalStatus.APPROVED
    assert proposal.company_confirmed is True
    assert _kinds(db, s.teacher) == ["offer_received"]
    assert _kinds(db, s.contact) == []
    (item,) = requests.need_items(db, need=s.need)
    assert item.standing == requests.Standing.OFFERED
    assert item.school_answers
    waiting = services.waiting_for(db, user=s.teacher, today=date(2027, 1, 1))
    assert [p.proposal.id for p in waiting.proposals] == [proposal.id]
    assert services.waiting_count(db, user=s.teacher, today=date(2027, 1, 1)) == 1
    assert services.waiting_count(db, user=s.contact, today=date(2027, 1, 1)) == 0

    booking = services.respond(
        db, proposal_id=proposal.id, user=s.teacher, confirm=True
    )
    db.commit()
    assert booking is not None
    (item,) = requests.need_items(db, need=s.need)
    assert item.standing == requests.Standing.BOOKED


def test_a_company_offers_only_its_own_placements(
    signed_db: Session, make_sides: Any, make_user: Callable[..., User]
) -> None:
    db = signed_db
    s = make_sides()
    other = make_user(Role.COMPANY)
    with pytest.raises(requests.NotYours):
        requests.make_offer(
            db,
            need_id=s.need.id,
            user=other,
            data=requests.OfferData(placement_id=s.placement.id, students=1),  # type: ignore[arg-type]
        )
    db.rollback()
    assert _count(db, MatchProposal) == 0


def test_a_company_without_accounts_is_emailed_at_its_contact_address(
    signed_db: Session,
    make_school: Callable[..., Organisation],
    make_company: Callable[..., Organisation],
    make_user: Callable[..., User],
    make_need: Callable[..., Need],
    make_placement: Callable[..., Placement],
) -> None:
    db = signed_db
    school = make_school()
    teacher = make_user(Role.TEACHER, school)
    company = make_company(contact_email="kontakt@snickeri.example")
    need = make_need(school, kind="guest_lecture")
    placement = make_placement(company, kind="guest_lecture")
    requests.send_request(
        db,
        placement_id=placement.id,  # type: ignore[arg-type]
        user=teacher,
        data=requests.RequestData(need_id=need.id, students=1),  # type: ignore[arg-type]
    )
    db.commit()
    (mail,) = db.exec(select(OutboxMessage)).all()
    assert mail.to_address == "kontakt@snickeri.example"
    assert "/bookings/answer/" in mail.body_text
    assert "ber om" in mail.subject  # Swedish: the address has no language


def test_the_need_shows_where_each_request_stands(
    signed_db: Session,
    make_sides: Any,
    make_company: Callable[..., Organisation],
    make_placement: Callable[..., Placement],
    make_user: Callable[..., User],
) -> None:
    db = signed_db
    s = make_sides("apl", need_kw={"students": 6})
    requested = _request(db, s, students=1)  # apl: waiting for the council
    other_company = make_company()
    direct = make_placement(other_company, kind="apl")
    admin = make_user(Role.ADMIN)
    requests.set_routes(db, choices={"apl": False}, actor=admin)
    second = requests.send_request(
        db,
        placement_id=direct.id,  # type: ignore[arg-type]
        user=s.teacher,
        data=requests.RequestData(need_id=s.need.id, students=1),  # type: ignore[arg-type]
    )
    db.commit()
    standings = {
        item.proposal.id: item.standing for item in requests.need_items(db, need=s.need)
    }
    assert standings == {
        requested.id: requests.Standing.COUNCIL,
        second.id: requests.Standing.REQUESTED,
    }
    assert requests.uncovered_students(db, need=s.need) == 4


def test_a_council_proposal_the_school_confirmed_asks_the_company_by_link(
    signed_db: Session, make_sides: Any
) -> None:
    db = signed_db
    s = make_sides("apl")
    proposal = MatchProposal(
        need_id=s.need.id,
        placement_id=s.placement.id,
        students=1,
        status=ProposalStatus.APPROVED,
    )
    db.add(proposal)
    db.commit()
    services.on_proposal_approved(db, proposal=proposal, actor=None)
    db.commit()
    assert _count(db, ActionLink) == 1  # the approval asks the company
    assert _kinds(db, s.teacher) == ["proposal_approved"]
    services.respond(db, proposal_id=proposal.id, user=s.teacher, confirm=True)
    db.commit()
    assert _count(db, ActionLink) == 2  # and so does the school's yes
    mails = db.exec(
        select(OutboxMessage).where(OutboxMessage.to_address == s.contact.email)
    ).all()
    assert len(mails) == 2
    assert all("/bookings/answer/" in m.body_text for m in mails)
