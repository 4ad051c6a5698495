"""The bookings list, the calendar file, evaluations and the company's ratings."""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import icalendar
import pytest
from sqlmodel import Session, select

from moraspar.bookings import services
from moraspar.models import Booking, Evaluation, Notification, Role, User

PAST = {"start_date": date(2024, 2, 5), "end_date": date(2024, 3, 15)}


@pytest.fixture
def booked(db: Session, make_pair: Any) -> Callable[..., Any]:
    """A pair whose proposal both sides have confirmed: (pair, booking)."""

    def make(**kw: Any) -> Any:
        pair = make_pair(**kw)
        services.respond(
            db, proposal_id=pair.proposal.id, user=pair.teacher, confirm=True
        )
        booking = services.respond(
            db, proposal_id=pair.proposal.id, user=pair.contact, confirm=True
        )
        db.commit()
        assert booking is not None
        return pair, booking

    return make


def _past(**kw: Any) -> dict[str, Any]:
    return {"need_kw": dict(PAST), "placement_kw": dict(PAST), **kw}


def test_ics_downloads_for_both_sides(client: Any, auth: Any, booked: Any) -> None:
    pair, booking = booked()
    for user in (pair.teacher, pair.contact):
        auth.login(user)
        response = client.get(f"/bookings/{booking.id}.ics")
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
        assert "attachment" in response.headers["Content-Disposition"]
        assert (
            f'filename="booking-{booking.id}.ics"'
            in (response.headers["Content-Disposition"])
        )
        calendar = icalendar.Calendar.from_ical(response.data)
        (event,) = calendar.walk("VEVENT")
        assert event.decoded("dtstart") == date(2027, 2, 1)
        assert event.decoded("dtend") == date(2027, 5, 15)  # exclusive end
        assert str(event["uid"]) == f"booking-{booking.id}@moraspar"
        assert "dtstamp" in event
        assert str(event["summary"]) == (
            f"APL: {pair.placement.title} – {pair.company.name}"
        )
        assert str(event["location"]) == pair.placement.locality
        description = str(event["description"])
        assert "Kim Handledare" in description
        assert "kim@verkstad.example" in description
        assert "Students: 2" in description
        auth.logout()


@pytest.mark.parametrize("role", [Role.COUNCIL, Role.ADMIN])
def test_ics_for_council_and_admin(
    client: Any, auth: Any, booked: Any, role: str
) -> None:
    _pair, booking = booked()
    auth.login(role)
    assert client.get(f"/bookings/{booking.id}.ics").status_code == 200


@pytest.mark.parametrize(
    "period",
    [
        {"start_date": date(2027, 2, 1), "end_date": date(9999, 12, 31)},
        {"start_date": date(1, 1, 1), "end_date": date(1, 1, 2)},
        {"start_date": None, "end_date": None},
    ],
    ids=["ends-9999-12-31", "year-1", "no-dates"],
)
def test_ics_for_a_period_no_calendar_holds_says_so(
    client: Any, auth: Any, booked: Any, period: dict[str, Any]
) -> None:
    pair, booking = booked(need_kw=dict(period), placement_kw=dict(period))
    auth.login(pair.teacher, language="en")

    response = client.get(f"/bookings/{booking.id}.ics")

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/bookings/")
    page = client.get("/bookings/").get_data(as_text=True)
    assert "no dates that a calendar can hold" in page


@pytest.mark.parametrize("role", [Role.TEACHER, Role.COMPANY])
def test_ics_refused_to_outsiders(
    client: Any, auth: Any, booked: Any, role: str
) -> None:
    _pair, booking = booked()
    auth.login(role)
    assert client.get(f"/bookings/{booking.id}.ics").status_code == 403
    assert client.get("/bookings/999999.ics").status_code == 404


def test_bookings_list_shows_the_organisations_own(
    client: Any, auth: Any, booked: Any, make_user: Callable[..., User]
) -> None:
    pair, _booking = booked()
    other, _ = booked()
    auth.login(pair.teacher)
    page = client.get("/bookings/").get_data(as_text=True)
    assert pair.school.name in page
    assert other.school.name not in page
    assert "No past bookings" in client.get("/bookings/?when=past").get_data(
        as_text=True
    )
    auth.logout()
    auth.login(make_user(Role.COUNCIL, language="en"))
    page = client.get("/bookings/").get_data(as_text=True)
    assert pair.school.name in page and other.school.name in page


def test_past_bookings_offer_the_evaluation(
    client: Any, auth: Any, booked: Any
) -> None:
    pair, booking = booked(**_past())
    auth.login(pair.contact)
    page = client.get("/bookings/?when=past").get_data(as_text=True)
    assert f"/bookings/{booking.id}/evaluate" in page
    assert pair.company.name in page


def _answers(**kw: Any) -> dict[str, Any]:
    return {"overall": "4", "supervision": "5", "preparation": "3", **kw}


def test_evaluation_once_per_side(
    client: Any, auth: Any, db: Session, booked: Any
) -> None:
    pair, booking = booked(**_past())
    url = f"/bookings/{booking.id}/evaluate"
    auth.login(pair.teacher)
    assert client.get(url).status_code == 200
    response = client.post_form(url, _answers(comment="Good introduction."))
    assert response.status_code == 302
    again = client.post_form(url, _answers(overall="1"), follow_redirects=True)
    assert "already evaluated" in again.get_data(as_text=True)
    auth.logout()
    auth.login(pair.contact)
    assert client.post_form(url, _answers(overall="2")).status_code == 302

    evaluations = db.exec(select(Evaluation).order_by(Evaluation.side)).all()
    assert [(e.side, e.overall) for e in evaluations] == [("company", 2), ("school", 4)]
    assert evaluations[1].comment == "Good introduction."
    assert evaluations[1].created_by_id == pair.teacher.id


def test_evaluation_form_errors_keep_the_input(
    client: Any, auth: Any, db: Session, booked: Any
) -> None:
    pair, booking = booked(**_past())
    auth.login(pair.teacher)
    response = client.post_form(
        f"/bookings/{booking.id}/evaluate",
        {"overall": "4", "comment": "x" * 2001},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Choose a rating from 1 to 5." in page
    assert "At most 2000 characters." in page
    assert '<input checked id="overall-3"' in page  # the 4 stays chosen
    assert db.exec(select(Evaluation)).all() == []


def test_evaluation_waits_for_the_end_of_the_period(
    client: Any, auth: Any, db: Session, booked: Any
) -> None:
    pair, booking = booked()  # 2027: not over yet
    auth.login(pair.teacher)
    page = client.post_form(
        f"/bookings/{booking.id}/evaluate", _answers(), follow_redirects=True
    ).get_data(as_text=True)
    assert "when its period has ended" in page
    assert db.exec(select(Evaluation)).all() == []

    def evaluate_on(today: date) -> Evaluation:
        return services.evaluate(
            db,
            booking_id=booking.id,
            user=pair.teacher,
            overall=3,
            supervision=3,
            preparation=3,
            today=today,
        )

    with pytest.raises(services.EvaluationNotOpen):
        evaluate_on(date(2027, 5, 14))  # the last day of the period
    assert evaluate_on(date(2027, 5, 15)).side == "school"


def test_outsiders_cannot_evaluate(client: Any, auth: Any, booked: Any) -> None:
    _pair, booking = booked(**_past())
    auth.login(Role.TEACHER)
    assert client.get(f"/bookings/{booking.id}/evaluate").status_code == 403
    auth.logout()
    auth.login(Role.COUNCIL)
    assert client.get(f"/bookings/{booking.id}/evaluate").status_code == 403


def test_company_ratings_aggregate_the_schools_evaluations(
    db: Session, booked: Any, make_company: Any, make_user: Any
) -> None:
    company = make_company()
    contact = make_user(Role.COMPANY, company)
    assert services.company_ratings(db, company.id) is None
    today = date(2030, 1, 1)
    for overall, supervision, preparation in ((5, 4, 3), (4, 4, 4)):
        pair, booking = booked(company=company, contact=contact)
        services.evaluate(
            db,
            booking_id=booking.id,
            user=pair.teacher,
            overall=overall,
            supervision=supervision,
            preparation=preparation,
            today=today,
        )
        # The company's own evaluation of the school does not count.
        services.evaluate(
            db,
            booking_id=booking.id,
            user=contact,
            overall=1,
            supervision=1,
            preparation=1,
            today=today,
        )
    db.commit()
    ratings = services.company_ratings(db, company.id)
    assert ratings == services.Ratings(
        count=2, overall=4.5, supervision=4.0, preparation=3.5
    )


def test_request_evaluations_is_idempotent(
    runner: Any, db: Session, booked: Any
) -> None:
    pair, ended = booked(**_past())
    _, upcoming = booked()
    result = runner.invoke(args=["request-evaluations"])
    assert result.exit_code == 0, result.output
    assert "1 bookings" in result.output
    again = runner.invoke(args=["request-evaluations"])
    assert "0 bookings" in again.output

    requests = db.exec(
        select(Notification).where(Notification.kind == "evaluation_requested")
    ).all()
    assert sorted(n.user_id for n in requests) == sorted(
        [pair.teacher.id, pair.contact.id]
    )
    assert {n.link for n in requests} == {f"/bookings/{ended.id}/evaluate"}
    db.expire_all()
    assert db.get(Booking, ended.id).status == "ended"
    assert db.get(Booking, upcoming.id).status == "active"
    tomorrow = (date(2027, 5, 15) + timedelta(days=1)).isoformat()
    later = runner.invoke(args=["request-evaluations", "--today", tomorrow])
    assert "1 bookings" in later.output


def test_company_page_shows_the_ratings_to_teachers(
    client: Any, auth: Any, db: Session, booked: Any, make_user: Any
) -> None:
    pair, booking = booked(**_past())
    auth.login(make_user(Role.TEACHER, language="en"))
    page = client.get(f"/company/{pair.company.id}").get_data(as_text=True)
    assert "Ratings from schools" in page and "No evaluations yet." in page
    services.evaluate(
        db,
        booking_id=booking.id,
        user=pair.teacher,
        overall=4,
        supervision=5,
        preparation=3,
        today=date.today(),
    )
    db.commit()
    page = client.get(f"/company/{pair.company.id}").get_data(as_text=True)
    assert "Average of 1 evaluation" in page
    assert ">4<" in page and ">5<" in page and ">3<" in page


def test_company_page_shows_the_schools_recent_comments(
    client: Any, auth: Any, db: Session, booked: Any, make_user: Any
) -> None:
    pair, booking = booked(**_past())
    auth.login(make_user(Role.TEACHER, language="en"))
    services.evaluate(
        db,
        booking_id=booking.id,
        user=pair.teacher,
        overall=4,
        supervision=4,
        preparation=4,
        today=date.today(),
    )
    db.commit()
    page = client.get(f"/company/{pair.company.id}").get_data(as_text=True)
    assert "No comments yet." in page  # rated, but without a comment

    evaluation = db.exec(select(Evaluation)).one()
    evaluation.comment = "Eleverna fick eget ansvar för kassan."
    db.add(evaluation)
    services.evaluate(
        db,
        booking_id=booking.id,
        user=pair.contact,
        overall=2,
        supervision=2,
        preparation=2,
        comment="Företagets egen kommentar om skolan.",
        today=date.today(),
    )
    db.commit()
    page = client.get(f"/company/{pair.company.id}").get_data(as_text=True)

    assert "Recent comments from schools" in page
    assert "Eleverna fick eget ansvar för kassan." in page
    assert f"{pair.school.name}, {pair.placement.title}" in page
    assert "overall 4 of 5" in page
    assert "Företagets egen kommentar" not in page  # the company's own is not shown


def test_recent_comments_are_newest_first_and_limited(
    db: Session, booked: Any, make_company: Any, make_user: Any
) -> None:
    company = make_company()
    contact = make_user(Role.COMPANY, company)
    for n in range(3):
        pair, booking = booked(company=company, contact=contact, **_past())
        services.evaluate(
            db,
            booking_id=booking.id,
            user=pair.teacher,
            overall=3,
            supervision=3,
            preparation=3,
            comment=f"Kommentar {n}",
            today=date.today(),
        )
        db.commit()

    comments = services.recent_school_comments(db, company.id, limit=2)

    assert [c.comment for c in comments] == ["Kommentar 2", "Kommentar 1"]
    assert comments[0].start == PAST["start_date"]
