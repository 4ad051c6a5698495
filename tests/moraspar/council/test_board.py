"""The review board: listing, filters, groups, decisions, bulk, reversal."""

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlmodel import Session, select

from moraspar.bookings.services import respond_path
from moraspar.council import services
from moraspar.models import (
    AuditEvent,
    MatchProposal,
    Notification,
    Organisation,
    OutboxMessage,
    ProposalStatus,
    Role,
)
from moraspar.notifications.services import Kind

REASONS = [
    {"code": "shared_skills", "value": None, "values": ["fordonsteknik"]},
    {"code": "distance_km", "value": 12.5, "values": []},
    {"code": "overlap_weeks", "value": 14.7, "values": []},
    {"code": "free_places", "value": 2.0, "values": []},
]
PARTS = {"text": 0.8, "skills": 0.5, "period": 1.0, "distance": 0.6, "capacity": 0.66}


@pytest.fixture
def propose(
    db: Session,
    make_school: Callable[..., Organisation],
    make_company: Callable[..., Organisation],
    make_need: Any,
    make_placement: Any,
) -> Callable[..., MatchProposal]:
    """A stored proposal between a fresh need and placement (or given ones)."""
    school = make_school(name="Mora gymnasium")

    def make(
        score: float,
        *,
        need: Any = None,
        placement: Any = None,
        company: Organisation | None = None,
        kind: str = "apl",
        status: str = ProposalStatus.PROPOSED,
        students: int = 2,
        title: str = "APL fordon",
    ) -> MatchProposal:
        if need is None:
            need = make_need(school, kind=kind, title=title)
        if placement is None:
            placement = make_placement(company or make_company(), kind=kind, places=4)
        proposal = MatchProposal(
            need_id=need.id,
            placement_id=placement.id,
            score=score,
            parts=PARTS,
            reasons=REASONS,
            students=students,
            status=status,
        )
        db.add(proposal)
        db.commit()
        return proposal

    return make


def _titles(page: str) -> list[str]:
    return re.findall(r'<label for="select-(\d+)">', page)


def _audit(db: Session, action: str) -> list[AuditEvent]:
    return list(db.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def _reload(db: Session, proposal: MatchProposal) -> MatchProposal:
    db.expire_all()
    found = db.get(MatchProposal, proposal.id)
    assert found is not None
    return found


def test_board_lists_best_first_with_reasons_in_english(
    client: Any, auth: Any, propose: Any
) -> None:
    low = propose(0.41)
    high = propose(0.93)
    mid = propose(0.67)
    auth.login(Role.COUNCIL, language="en")

    page = client.get("/council/board").get_data(as_text=True)

    assert _titles(page) == [str(high.id), str(mid.id), str(low.id)]
    assert "Shared skills: fordonsteknik" in page
    assert "Distance: 12.5 km" in page
    assert "Periods overlap by 14.7 weeks" in page
    assert "2 free places for 3 students" in page
    assert '<meter min="0" max="1"' in page
    assert "style=" not in page


def test_board_filters_by_kind_and_status(client: Any, auth: Any, propose: Any) -> None:
    apl = propose(0.9)
    prao = propose(0.8, kind="prao")
    approved = propose(0.7, status=ProposalStatus.APPROVED)
    auth.login(Role.COUNCIL, language="en")

    assert _titles(client.get("/council/board?kind=prao").get_data(as_text=True)) == [
        str(prao.id)
    ]
    assert _titles(
        client.get("/council/board?status=approved").get_data(as_text=True)
    ) == [str(approved.id)]
    everything = client.get("/council/board?status=all").get_data(as_text=True)
    assert _titles(everything) == [str(apl.id), str(prao.id), str(approved.id)]


def test_board_filters_by_period_and_programme(
    client: Any,
    auth: Any,
    propose: Any,
    make_school: Any,
    make_need: Any,
    make_programme: Any,
) -> None:
    school = make_school()
    programme = make_programme(school)
    spring = propose(0.9)  # the factory's need runs Feb–May 2027
    autumn = propose(
        0.5,
        need=make_need(
            school,
            programme_id=programme.id,
            start_date=date(2027, 9, 1),
            end_date=date(2027, 11, 1),
        ),
    )
    auth.login(Role.COUNCIL, language="en")

    page = client.get("/council/board?from=2027-08-01&to=2027-12-31")
    assert _titles(page.get_data(as_text=True)) == [str(autumn.id)]
    page = client.get(f"/council/board?programme={programme.id}")
    assert _titles(page.get_data(as_text=True)) == [str(autumn.id)]
    page = client.get("/council/board?to=2027-06-01")
    assert _titles(page.get_data(as_text=True)) == [str(spring.id)]


def test_board_groups_by_need_and_by_company(
    client: Any, auth: Any, propose: Any, make_company: Any, make_need: Any
) -> None:
    first = propose(0.5, title="A need")
    same_need = propose(0.9, need=None, title="B need")
    company = make_company(name="Zeta Bil AB")
    by_zeta = propose(0.7, company=company, title="C need")
    auth.login(Role.COUNCIL, language="en")

    page = client.get("/council/board?group=need").get_data(as_text=True)
    assert page.count('class="board__group"') == 3
    assert _titles(page) == [str(first.id), str(same_need.id), str(by_zeta.id)]

    page = client.get("/council/board?group=company").get_data(as_text=True)
    assert "Company: Zeta Bil AB" in page
    assert _titles(page)[-1] == str(by_zeta.id)


def test_board_groups_several_proposals_of_one_need(
    client: Any, auth: Any, propose: Any, make_school: Any, make_need: Any
) -> None:
    need = make_need(make_school(), title="Shared need")
    worse = propose(0.3, need=need)
    better = propose(0.8, need=need)
    auth.login(Role.COUNCIL, language="en")

    page = client.get("/council/board?group=need").get_data(as_text=True)

    assert page.count("Need: Shared need") == 1
    assert _titles(page) == [str(better.id), str(worse.id)]


def test_board_query_count_does_not_grow_with_rows(
    client: Any, auth: Any, propose: Any, count_queries: Any
) -> None:
    auth.login(Role.COUNCIL, language="en")
    propose(0.5)
    client.get("/council/board")
    before = count_queries.count
    client.get("/council/board")
    one_row = count_queries.count - before
    for i in range(6):
        propose(0.1 * i)
    before = count_queries.count
    page = client.get("/council/board").get_data(as_text=True)
    many_rows = count_queries.count - before

    assert len(_titles(page)) == 7
    assert many_rows == one_row


def test_approve_writes_audit_and_notifies(
    client: Any, auth: Any, propose: Any, db: Session
) -> None:
    proposal = propose(0.8)
    user = auth.login(Role.COUNCIL, language="en")

    response = client.post_form(
        f"/council/proposals/{proposal.id}/decide",
        {"action": "approve", "next": "/council/board"},
    )

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/council/board")
    stored = _reload(db, proposal)
    assert stored.status == ProposalStatus.APPROVED
    assert stored.decided_by_id == user.id and stored.decided_at is not None
    (event,) = _audit(db, "proposal.approve")
    assert event.entity_id == proposal.id and event.actor_id == user.id
    assert event.details["from"] == "proposed"


def test_approve_asks_both_sides_to_confirm(
    client: Any,
    auth: Any,
    propose: Any,
    db: Session,
    make_user: Any,
    make_need: Any,
    make_placement: Any,
    make_school: Any,
    make_company: Any,
) -> None:
    school, company = make_school(), make_company()
    teacher = make_user(Role.TEACHER, organisation=school)
    contact = make_user(Role.COMPANY, organisation=company)
    make_user(Role.TEACHER)  # another school's teacher: not asked
    proposal = propose(
        0.8,
        need=make_need(school),
        placement=make_placement(company, places=4),
    )
    auth.login(Role.COUNCIL, language="en")

    response = client.post_form(
        f"/council/proposals/{proposal.id}/decide", {"action": "approve"}
    )

    assert response.status_code == 302
    stored = _reload(db, proposal)
    assert stored.status == ProposalStatus.APPROVED
    assert (stored.school_confirmed, stored.company_confirmed) == (None, None)
    asked = db.exec(
        select(Notification.user_id, Notification.link).where(
            Notification.kind == Kind.PROPOSAL_APPROVED
        )
    ).all()
    link = respond_path(proposal.id)
    assert sorted(asked) == sorted([(teacher.id, link), (contact.id, link)])
    outbox = db.exec(select(OutboxMessage.to_address)).all()
    assert sorted(outbox) == sorted([teacher.email, contact.email])
    (event,) = _audit(db, "proposal.notify")
    assert event.entity_id == proposal.id


def test_a_refused_approval_asks_nobody(
    client: Any, auth: Any, propose: Any, db: Session, make_user: Any
) -> None:
    proposal = propose(0.8, status=ProposalStatus.DECLINED)
    auth.login(Role.COUNCIL, language="en")

    client.post_form(f"/council/proposals/{proposal.id}/decide", {"action": "approve"})

    assert _reload(db, proposal).status == ProposalStatus.DECLINED
    assert not db.exec(select(Notification)).all()
    assert not _audit(db, "proposal.notify")


def test_decline_needs_a_reason_and_records_it(
    client: Any, auth: Any, propose: Any, db: Session
) -> None:
    proposal = propose(0.8)
    auth.login(Role.COUNCIL, language="en")

    refused = client.post_form(
        f"/council/proposals/{proposal.id}/decide", {"action": "decline"}
    )
    assert refused.status_code == 400
    assert "Choose why the proposal is declined." in refused.get_data(as_text=True)
    assert _reload(db, proposal).status == ProposalStatus.PROPOSED

    other = client.post_form(
        f"/council/proposals/{proposal.id}/decide",
        {"action": "decline", "decline_reason": "other"},
    )
    assert other.status_code == 400
    assert _reload(db, proposal).status == ProposalStatus.PROPOSED

    personal = client.post_form(
        f"/council/proposals/{proposal.id}/decide",
        {"action": "decline", "decline_reason": "other", "comment": "Elev 0501011234"},
    )
    assert personal.status_code == 400
    assert "personal identity number" in personal.get_data(as_text=True)

    client.post_form(
        f"/council/proposals/{proposal.id}/decide",
        {"action": "decline", "decline_reason": "too_far", "comment": "Bussen går ej"},
    )
    stored = _reload(db, proposal)
    assert stored.status == ProposalStatus.DECLINED
    assert (stored.decline_reason, stored.comment) == ("too_far", "Bussen går ej")
    (event,) = _audit(db, "proposal.decline")
    assert event.details["reason"] == "too_far"


def test_defer_then_reverse_with_reason(
    client: Any, auth: Any, propose: Any, db: Session
) -> None:
    proposal = propose(0.8)
    auth.login(Role.COUNCIL, language="en")

    client.post_form(f"/council/proposals/{proposal.id}/decide", {"action": "defer"})
    assert _reload(db, proposal).status == ProposalStatus.DEFERRED
    assert len(_audit(db, "proposal.defer")) == 1

    missing = client.post_form(f"/council/proposals/{proposal.id}/reverse", {})
    assert missing.status_code == 400
    assert _reload(db, proposal).status == ProposalStatus.DEFERRED

    client.post_form(
        f"/council/proposals/{proposal.id}/reverse", {"reason": "Nya uppgifter"}
    )
    stored = _reload(db, proposal)
    assert stored.status == ProposalStatus.PROPOSED
    assert stored.decided_at is None
    (event,) = _audit(db, "proposal.reverse")
    assert event.details == {
        "from": "deferred",
        "to": "proposed",
        "reason": "Nya uppgifter",
    }
    page = client.get(f"/council/proposals/{proposal.id}").get_data(as_text=True)
    assert "Decision reversed" in page and "Nya uppgifter" in page


def test_undecidable_proposal_is_refused_without_writing(
    client: Any, auth: Any, propose: Any, db: Session
) -> None:
    proposal = propose(0.8, status=ProposalStatus.DECLINED)
    auth.login(Role.COUNCIL, language="en")

    response = client.post_form(
        f"/council/proposals/{proposal.id}/decide",
        {"action": "approve"},
        follow_redirects=True,
    )

    assert "Nothing was changed" in response.get_data(as_text=True)
    assert _reload(db, proposal).status == ProposalStatus.DECLINED
    assert _audit(db, "proposal.approve") == []


def test_bulk_decline_with_reason_and_all_or_nothing(
    client: Any, auth: Any, propose: Any, db: Session
) -> None:
    a, b = propose(0.8), propose(0.7)
    done = propose(0.6, status=ProposalStatus.APPROVED)
    auth.login(Role.COUNCIL, language="en")

    mixed = client.post_form(
        "/council/proposals/bulk",
        {"proposal": [a.id, done.id], "bulk_action": "defer"},
        follow_redirects=True,
    )
    assert "Nothing was changed" in mixed.get_data(as_text=True)
    assert _reload(db, a).status == ProposalStatus.PROPOSED

    no_reason = client.post_form(
        "/council/proposals/bulk", {"proposal": [a.id, b.id], "bulk_action": "decline"}
    )
    assert no_reason.status_code == 302
    assert _reload(db, a).status == ProposalStatus.PROPOSED

    client.post_form(
        "/council/proposals/bulk",
        {
            "proposal": [a.id, b.id],
            "bulk_action": "decline",
            "bulk_reason": "wrong_period",
            "next": "/council/board?kind=apl",
        },
    )
    assert _reload(db, a).status == ProposalStatus.DECLINED
    assert _reload(db, b).decline_reason == "wrong_period"
    assert {e.entity_id for e in _audit(db, "proposal.decline")} == {a.id, b.id}


def test_bulk_approve(client: Any, auth: Any, propose: Any, db: Session) -> None:
    a, b = propose(0.8), propose(0.7)
    auth.login(Role.ADMIN, language="en")

    response = client.post_form(
        "/council/proposals/bulk",
        {"proposal": [a.id, b.id], "bulk_action": "approve"},
        follow_redirects=True,
    )

    assert "Approve: 2 proposals." in response.get_data(as_text=True)
    assert _reload(db, a).status == _reload(db, b).status == ProposalStatus.APPROVED
    assert len(_audit(db, "proposal.approve")) == 2


def test_approval_is_limited_by_free_places(
    db: Session, propose: Any, make_company: Any, make_placement: Any, make_user: Any
) -> None:
    placement = make_placement(make_company(), places=3)
    first = propose(0.9, placement=placement, students=2)
    second = propose(0.8, placement=placement, students=0)
    third = propose(0.7, placement=placement, students=1)
    council = make_user(Role.COUNCIL)

    services.decide(db, proposal=first, action="approve", actor=council)
    services.decide(db, proposal=second, action="approve", actor=council)
    assert second.students == 1  # ranked only: as many as still fit
    with pytest.raises(services.NoFreePlaces):
        services.decide(db, proposal=third, action="approve", actor=council)


def test_a_ranked_only_approval_never_over_covers_the_need(
    client: Any, auth: Any, db: Session, propose: Any, make_need: Any, make_school: Any
) -> None:
    need = make_need(make_school(), students=4)
    covering = propose(0.9, need=need, students=4, status=ProposalStatus.APPROVED)
    ranked_only = propose(0.8, need=need, students=0)
    auth.login(Role.COUNCIL, language="en")

    response = client.post_form(
        f"/council/proposals/{ranked_only.id}/decide",
        {"action": "approve"},
        follow_redirects=True,
    )

    assert "other proposals already cover all of the need" in (
        response.get_data(as_text=True)
    )
    stored = _reload(db, ranked_only)
    assert (stored.status, stored.students) == (ProposalStatus.PROPOSED, 0)
    assert not _audit(db, "proposal.approve")
    assert _reload(db, covering).students == 4


def test_an_approval_gets_only_the_students_the_need_still_lacks(
    client: Any, auth: Any, db: Session, propose: Any, make_need: Any, make_school: Any
) -> None:
    need = make_need(make_school(), students=4)
    propose(0.9, need=need, students=3, status=ProposalStatus.APPROVED)
    ranked_only = propose(0.8, need=need, students=0)
    council = auth.login(Role.COUNCIL, language="en")

    response = client.post_form(
        f"/council/proposals/{ranked_only.id}/decide",
        {"action": "approve"},
        follow_redirects=True,
    )

    assert "The proposal is approved for 1 student." in response.get_data(as_text=True)
    assert _reload(db, ranked_only).students == 1
    (event,) = _audit(db, "proposal.approve")
    assert event.details["students"] == 1
    allocated_before = propose(0.7, need=need, students=3)
    with pytest.raises(services.NeedCovered):
        services.decide(db, proposal=allocated_before, action="approve", actor=council)


def test_approval_answered_by_a_side_cannot_be_reversed(
    db: Session, propose: Any, make_user: Any
) -> None:
    proposal = propose(0.9, status=ProposalStatus.APPROVED)
    proposal.school_confirmed = True
    with pytest.raises(services.InvalidDecision):
        services.reverse(
            db, proposal=proposal, actor=make_user(Role.COUNCIL), reason="Oops"
        )


@pytest.mark.parametrize(
    "url",
    [
        "/council/board",
        "/council/allocation",
        "/council/runs",
        "/council/proposals/1",
    ],
)
def test_teacher_is_refused(client: Any, auth: Any, url: str) -> None:
    auth.login(Role.TEACHER)
    assert client.get(url).status_code == 403


def test_teacher_cannot_decide(
    client: Any, auth: Any, propose: Any, db: Session
) -> None:
    proposal = propose(0.8)
    auth.login(Role.TEACHER)
    response = client.post_form(
        f"/council/proposals/{proposal.id}/decide", {"action": "approve"}
    )
    assert response.status_code == 403
    assert _reload(db, proposal).status == ProposalStatus.PROPOSED


def test_proposal_of_a_closed_placement_cannot_be_approved(
    db: Session, propose: Any, make_company: Any, make_placement: Any, make_user: Any
) -> None:
    placement = make_placement(make_company(), status="closed")
    proposal = propose(0.9, placement=placement)

    with pytest.raises(services.InvalidDecision):
        services.decide(
            db, proposal=proposal, action="approve", actor=make_user(Role.COUNCIL)
        )
    assert proposal.status == ProposalStatus.PROPOSED


# -- text search, filters in the address, an empty bulk action ----------------


def test_text_search_finds_need_school_company_and_locality(
    client: Any,
    auth: Any,
    propose: Any,
    make_company: Any,
    make_school: Any,
    make_need: Any,
) -> None:
    bil = make_company(name="Mora Lastvagnar AB")
    sten = make_company(name="Älvdalens Sten AB")
    by_need = propose(0.9, title="APL svetsning")
    by_company = propose(0.8, company=bil)
    by_accent = propose(0.7, company=sten)
    orsa = make_school(name="Orsa skola")
    by_school = propose(0.6, need=make_need(orsa, title="APL handel"))
    auth.login(Role.COUNCIL)

    def found(query: str) -> set[int]:
        page = client.get("/council/board", query_string={"q": query})
        return {int(i) for i in _titles(page.get_data(as_text=True))}

    assert found("svetsning") == {by_need.id}
    assert found("SVETS") == {by_need.id}
    assert found("lastvagnar mora") == {by_company.id}
    assert found("älvdalens") == {by_accent.id}
    assert found("orsa") == {by_school.id}
    assert found("50%_") == set()  # LIKE wildcards are taken literally
    everyone = {by_need.id, by_company.id, by_accent.id, by_school.id}
    assert found("") == everyone
    page = client.get("/council/board?q=ingenting").get_data(as_text=True)
    assert "Inget förslag matchar filtren." in page


def test_search_is_kept_in_the_form_and_the_pages(
    client: Any, auth: Any, propose: Any, app: Any
) -> None:
    app.config["PAGE_SIZE"] = 2
    for score in (0.9, 0.8, 0.7):
        propose(score, title="APL svetsning")
    propose(0.6, title="APL handel")
    auth.login(Role.COUNCIL)

    page = client.get("/council/board?q=svetsning&kind=apl").get_data(as_text=True)

    assert 'name="q" type="search" value="svetsning"' in page
    assert "3 förslag" in page
    next_link = re.search(r'<a rel="next" href="([^"]+)"', page)
    assert next_link is not None
    href = next_link.group(1).replace("&amp;", "&")
    assert "q=svetsning" in href and "kind=apl" in href and "page=2" in href
    second = client.get(href).get_data(as_text=True)
    assert len(_titles(second)) == 1
    # Decisions send the reader back to the same filtered address.
    assert 'name="next" value="/council/board?q=svetsning&amp;kind=apl"' in page


def test_search_counts_the_same_proposals_it_lists(
    db: Session, propose: Any, make_company: Any
) -> None:
    from moraspar.council.scope import EVERYTHING

    propose(0.9, title="APL svetsning")
    propose(0.8, company=make_company(name="Svetsarna AB"))
    propose(0.7, title="APL handel")
    filters = services.BoardFilters(text="svets")
    page = services.board(db, filters=filters, page=1, per_page=10, scope=EVERYTHING)
    assert page.total == len(page.items) == 2


def test_bulk_action_with_nothing_ticked_says_so(
    client: Any, auth: Any, propose: Any, db: Session
) -> None:
    proposal = propose(0.8)
    auth.login(Role.COUNCIL)

    response = client.post_form(
        "/council/proposals/bulk",
        {"bulk_action": "approve", "next": "/council/board?q=fordon"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/council/board?q=fordon")
    page = client.get("/council/board?q=fordon").get_data(as_text=True)
    assert "Du har inte markerat några förslag." in page
    assert "Välj ett beslut." not in page
    assert _reload(db, proposal).status == ProposalStatus.PROPOSED

    neither = client.post_form("/council/proposals/bulk", {}, follow_redirects=True)
    assert neither.status_code == 200
    assert "Du har inte markerat några förslag." in neither.get_data(as_text=True)


def test_the_board_shows_a_decision_at_once_through_its_card_memo(
    client: Any, auth: Any, db: Session, propose: Any
) -> None:
    proposal = propose(0.8)
    auth.login(Role.COUNCIL, language="en")
    before = client.get("/council/board?status=all").get_data(as_text=True)
    assert f'id="select-{proposal.id}"' in before and "status--proposed" in before

    client.post_form(
        f"/council/proposals/{proposal.id}/decide",
        {"action": "approve", "next": "/council/board"},
    )
    after = client.get("/council/board?status=all").get_data(as_text=True)

    assert f"proposal--{ProposalStatus.APPROVED}" in after
    assert "status--proposed" not in after


def test_a_decision_shows_on_a_board_served_from_the_page_cache(
    client: Any, auth: Any, propose: Any
) -> None:
    proposal = propose(0.8)
    auth.login(Role.COUNCIL, language="en")
    client.get("/council/board?status=all")
    cached = client.get("/council/board?status=all").get_data(as_text=True)
    assert "status--proposed" in cached

    answer = client.post_form(
        f"/council/proposals/{proposal.id}/decide",
        {"action": "defer", "next": "/council/board?status=all"},
    )
    with_notice = client.get(answer.headers["Location"]).get_data(as_text=True)
    again = client.get("/council/board?status=all").get_data(as_text=True)

    for page in (with_notice, again):
        assert f"proposal--{ProposalStatus.DEFERRED}" in page
        assert "status--proposed" not in page
    assert "The proposal is deferred." in with_notice
    assert "The proposal is deferred." not in again
