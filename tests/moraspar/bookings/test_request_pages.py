"""The pages of requests and offers: placement page, need page, offers, routes."""

from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import Session, func, select

from moraspar.bookings import requests
from moraspar.models import (
    Booking,
    MatchProposal,
    Need,
    Organisation,
    Placement,
    ProposalStatus,
    Role,
    User,
)


@pytest.fixture
def school_side(
    make_school: Callable[..., Organisation],
    make_company: Callable[..., Organisation],
    make_user: Callable[..., User],
    make_need: Callable[..., Need],
    make_placement: Callable[..., Placement],
) -> dict[str, Any]:
    school = make_school()
    company = make_company()
    return {
        "teacher": make_user(Role.TEACHER, school, language="en"),
        "contact": make_user(Role.COMPANY, company, language="en"),
        "need": make_need(school, kind="project", students=3, title="Robotprojekt"),
        "other_kind": make_need(school, kind="prao", title="Prao åk 8"),
        "placement": make_placement(
            company, kind="project", places=2, tasks="Bygga en robotarm."
        ),
    }


def _proposals(db: Session) -> int:
    return int(db.exec(select(func.count()).select_from(MatchProposal)).one())


def test_the_placement_page_offers_the_needs_of_its_kind(
    client: Any, auth: Any, school_side: dict[str, Any]
) -> None:
    auth.login(school_side["teacher"])
    page = client.get(f"/school/placements/{school_side['placement'].id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Bygga en robotarm." in text
    assert "Robotprojekt (3 students not yet placed)" in text
    assert "Prao åk 8" not in text  # another kind
    assert "Send request" in text


def test_search_results_link_to_the_placement_page(
    client: Any, auth: Any, school_side: dict[str, Any]
) -> None:
    auth.login(school_side["teacher"])
    text = client.get("/school/search?q=").get_data(as_text=True)
    assert f"/school/placements/{school_side['placement'].id}" in text


def test_a_request_is_sent_and_the_need_page_shows_it(
    client: Any, auth: Any, db: Session, school_side: dict[str, Any]
) -> None:
    auth.login(school_side["teacher"])
    need, placement = school_side["need"], school_side["placement"]
    response = client.post_form(
        f"/school/placements/{placement.id}/request",
        {"need": str(need.id), "students": "2"},
        follow_redirects=True,
    )
    text = response.get_data(as_text=True)
    assert "Your request is sent to the company." in text
    assert "Requested – waiting for the company" in text
    assert "1 student not yet covered" in text
    proposal = db.exec(select(MatchProposal)).one()
    assert (proposal.origin, proposal.students) == ("request", 2)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"students": "3"}, "not that many free places"),
        ({"students": "0"}, "At least one student."),
        ({"need": "other_kind", "students": "1"}, "Not a valid choice."),
        ({"message": "Elev 20080101-1234 kommer"}, "personal identity number"),
    ],
    ids=["places", "zero", "kind", "personal-number"],
)
def test_a_refused_request_says_why_and_writes_nothing(
    client: Any,
    auth: Any,
    db: Session,
    school_side: dict[str, Any],
    form: dict[str, str],
    message: str,
) -> None:
    auth.login(school_side["teacher"])
    need = school_side[form.pop("need", "need")]
    data = {"need": str(need.id), "students": "1", **form}
    response = client.post_form(
        f"/school/placements/{school_side['placement'].id}/request", data
    )
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _proposals(db) == 0


def test_a_duplicate_request_gets_a_clear_message(
    client: Any, auth: Any, db: Session, school_side: dict[str, Any]
) -> None:
    auth.login(school_side["teacher"])
    url = f"/school/placements/{school_side['placement'].id}/request"
    data = {"need": str(school_side["need"].id), "students": "1"}
    assert client.post_form(url, data).status_code == 302
    again = client.post_form(url, data)
    assert again.status_code == 200
    assert "already has a request" in again.get_data(as_text=True)
    assert _proposals(db) == 1


def test_a_paused_need_cannot_request(
    client: Any, auth: Any, db: Session, school_side: dict[str, Any]
) -> None:
    auth.login(school_side["teacher"])
    need = school_side["need"]
    client.post_form(f"/school/needs/{need.id}/pause")
    response = client.post_form(
        f"/school/placements/{school_side['placement'].id}/request",
        {"need": str(need.id), "students": "1"},
    )
    assert response.status_code == 200
    assert _proposals(db) == 0


def test_other_roles_cannot_open_the_placement_page(
    client: Any, auth: Any, school_side: dict[str, Any]
) -> None:
    auth.login(school_side["contact"])
    assert (
        client.get(f"/school/placements/{school_side['placement'].id}").status_code
        == 403
    )


def test_the_company_answers_from_bookings_with_a_reason(
    client: Any, auth: Any, db: Session, school_side: dict[str, Any]
) -> None:
    auth.login(school_side["teacher"])
    client.post_form(
        f"/school/placements/{school_side['placement'].id}/request",
        {"need": str(school_side["need"].id), "students": "2"},
    )
    auth.logout()
    auth.login(school_side["contact"])
    index = client.get("/bookings/").get_data(as_text=True)
    assert "Requested by the school" in index
    proposal = db.exec(select(MatchProposal)).one()
    url = f"/bookings/proposals/{proposal.id}"
    refused = client.post_form(url, {"decline": "Decline"})
    assert "Choose why you decline." in refused.get_data(as_text=True)
    client.post_form(url, {"decline": "Decline", "decline_reason": "wrong_period"})
    db.expire_all()
    assert db.get(MatchProposal, proposal.id).decline_reason == "wrong_period"  # type: ignore[union-attr]
    auth.logout()
    auth.login(school_side["teacher"])
    page = client.get(f"/school/needs/{school_side['need'].id}").get_data(as_text=True)
    assert "Declined" in page
    assert "The period does not suit us" in page


def test_the_company_offers_a_place_and_the_teacher_accepts_on_the_need_page(
    client: Any, auth: Any, db: Session, school_side: dict[str, Any]
) -> None:
    need, placement = school_side["need"], school_side["placement"]
    auth.login(school_side["contact"])
    listing = client.get("/company/needs").get_data(as_text=True)
    assert f"/company/needs/{need.id}/offer" in listing
    assert f"/company/needs/{school_side['other_kind'].id}/offer" not in listing
    form = client.get(f"/company/needs/{need.id}/offer").get_data(as_text=True)
    assert placement.title in form
    response = client.post_form(
        f"/company/needs/{need.id}/offer",
        {"placement": str(placement.id), "students": "2"},
    )
    assert response.status_code == 302
    auth.logout()

    auth.login(school_side["teacher"])
    assert "Offered by the company – your answer" in client.get(
        f"/school/needs/{need.id}"
    ).get_data(as_text=True)
    proposal = db.exec(select(MatchProposal)).one()
    response = client.post_form(
        f"/bookings/proposals/{proposal.id}?next=/school/needs/{need.id}",
        {"confirm": "Accept"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/school/needs/{need.id}")
    booking = db.exec(select(Booking)).one()
    assert booking.students == 2
    page = client.get(f"/school/needs/{need.id}").get_data(as_text=True)
    assert f"/bookings/{booking.id}" in page


def test_an_offer_of_too_many_students_is_refused(
    client: Any, auth: Any, db: Session, school_side: dict[str, Any]
) -> None:
    auth.login(school_side["contact"])
    response = client.post_form(
        f"/company/needs/{school_side['need'].id}/offer",
        {"placement": str(school_side["placement"].id), "students": "3"},
    )
    assert response.status_code == 200
    assert "not that many free places" in response.get_data(as_text=True)
    assert _proposals(db) == 0


def test_the_admin_sets_the_route_per_kind(
    client: Any, auth: Any, db: Session, school_side: dict[str, Any]
) -> None:
    auth.login(Role.ADMIN, language="en")
    page = client.get("/admin/routing").get_data(as_text=True)
    assert "Through the council first" in page
    assert "/admin/routing" in client.get("/admin/").get_data(as_text=True)
    choices = {f"route_{kind}": "direct" for kind in requests.DEFAULT_VIA_COUNCIL}
    choices["route_project"] = "council"
    response = client.post_form("/admin/routing", choices, follow_redirects=True)
    assert "Where requests go is saved." in response.get_data(as_text=True)
    auth.logout()

    auth.login(school_side["teacher"])
    client.post_form(
        f"/school/placements/{school_side['placement'].id}/request",
        {"need": str(school_side["need"].id), "students": "1"},
    )
    proposal = db.exec(select(MatchProposal)).one()
    assert proposal.status == ProposalStatus.PROPOSED
    page = client.get(f"/school/needs/{school_side['need'].id}").get_data(as_text=True)
    assert "Waiting for the council" in page


def test_only_admins_set_routes(client: Any, auth: Any) -> None:
    auth.login(Role.COUNCIL)
    assert client.get("/admin/routing").status_code == 403


def test_the_need_page_ranks_placements_with_a_request_button_each(
    client: Any, auth: Any, db: Session, school_side: dict[str, Any]
) -> None:
    auth.login(school_side["teacher"])
    need, placement = school_side["need"], school_side["placement"]
    page = client.get(f"/school/needs/{need.id}").get_data(as_text=True)
    assert "Placements that fit" in page
    assert f'action="/school/placements/{placement.id}/request"' in page
    assert "for 2 students" in page  # 3 wanted, 2 free places
    response = client.post_form(
        f"/school/placements/{placement.id}/request",
        {"need": str(need.id), "students": "2"},
        follow_redirects=True,
    )
    text = response.get_data(as_text=True)
    assert "Requested – waiting for the company" in text
    # Asked already: the placement leaves the ranked list.
    assert f'action="/school/placements/{placement.id}/request"' not in text
    assert db.exec(select(MatchProposal)).one().students == 2


def test_a_request_through_the_council_is_on_its_board(
    client: Any,
    auth: Any,
    make_school: Callable[..., Organisation],
    make_company: Callable[..., Organisation],
    make_user: Callable[..., User],
    make_need: Callable[..., Need],
    make_placement: Callable[..., Placement],
) -> None:
    school = make_school()
    teacher = make_user(Role.TEACHER, school, language="en")
    need = make_need(school, kind="apl", title="APL el åk 3")
    placement = make_placement(make_company(), kind="apl")
    auth.login(teacher)
    response = client.post_form(
        f"/school/placements/{placement.id}/request",
        {"need": str(need.id), "students": "1"},
        follow_redirects=True,
    )
    assert "sent to the council" in response.get_data(as_text=True)
    auth.logout()
    auth.login(Role.COUNCIL, language="en")
    board = client.get("/council/board").get_data(as_text=True)
    assert "APL el åk 3" in board
