"""The booking loop in the browser, once per kind of placement.

The teacher asks for a place from the placement page; the company's contact
opens the link from the outbox without signing in and says yes; the booking
then shows for both sides. The reminder job reminds both of its start; one
side asks for new dates and the other accepts; it is called off with a
reason and its places are free again. On an earlier booking of the same
kind, ended, both sides evaluate, and the teacher reads the school's ratings
and comment on the company's page.
"""

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, SQLModel, col, select
from werkzeug.serving import make_server

from moraspar import create_app
from moraspar.auth.services import hash_password, new_session_token
from moraspar.bookings import reminders
from moraspar.db import make_engine
from moraspar.models import (
    Booking,
    BookingStatus,
    Evaluation,
    KindRoute,
    MatchProposal,
    Need,
    Notification,
    Organisation,
    OrgKind,
    OutboxMessage,
    Placement,
    PostingKind,
    PostingStatus,
    ProposalOrigin,
    ProposalStatus,
    Role,
    User,
)
from tests.browser.conftest import require_browser

PASSWORD = "request flow password"
LINK = re.compile(r"https?://[^/\s]+(/bookings/answer/\S+)")
START = date(2030, 2, 1)  # the booking's first day: the need's, within the placement
MOVED = (date(2030, 2, 8), date(2030, 3, 8))
PAST = (date(2025, 3, 3), date(2025, 3, 14))  # an earlier booking, ended
COMMENT = "Gruppen fick bra handledning och varierade uppgifter"


@dataclass(frozen=True)
class Pair:
    teacher: str
    contact: str
    need_id: int
    placement_id: int
    placement_title: str
    company_id: int
    past_booking_id: int


@dataclass(frozen=True)
class Site:
    base: str
    engine: Any
    pairs: dict[str, Pair]


def _user(session: Session, email: str, role: str, organisation: Organisation) -> str:
    session.add(
        User(
            email=email,
            display_name=email.split("@")[0],
            role=role,
            organisation_id=organisation.id,
            password_hash=hash_password(PASSWORD),
            session_token=new_session_token(),
            language="sv",
        )
    )
    return email


def _ended_booking(
    session: Session, kind: str, school: Organisation, company: Organisation
) -> int:
    """A booking of last year, ended and not yet evaluated: written straight
    to the tables, since no page books a period in the past."""
    need = Need(
        school_id=school.id,  # type: ignore[arg-type]
        kind=kind,
        title=f"Förra årets behov {kind}",
        students=2,
        start_date=PAST[0],
        end_date=PAST[1],
        status=PostingStatus.CLOSED,
    )
    placement = Placement(
        company_id=company.id,  # type: ignore[arg-type]
        kind=kind,
        title=f"Förra årets plats {kind}",
        places=2,
        places_booked=2,
        start_date=PAST[0],
        end_date=PAST[1],
        status=PostingStatus.CLOSED,
    )
    session.add_all([need, placement])
    session.flush()
    proposal = MatchProposal(
        need_id=need.id,  # type: ignore[arg-type]
        placement_id=placement.id,  # type: ignore[arg-type]
        students=2,
        origin=ProposalOrigin.REQUEST,
        status=ProposalStatus.BOOKED,
        school_confirmed=True,
        company_confirmed=True,
    )
    session.add(proposal)
    session.flush()
    booking = Booking(
        proposal_id=proposal.id,  # type: ignore[arg-type]
        need_id=need.id,  # type: ignore[arg-type]
        placement_id=placement.id,  # type: ignore[arg-type]
        students=2,
        start_date=PAST[0],
        end_date=PAST[1],
        status=BookingStatus.ENDED,
    )
    session.add(booking)
    session.flush()
    return booking.id  # type: ignore[return-value]


def _populate(session: Session) -> dict[str, Pair]:
    # Every kind straight to the company: the admin's choice, so that the
    # walk is the same for APL (whose default goes through the council).
    for kind in PostingKind:
        session.add(KindRoute(kind=kind, via_council=False))
    pairs = {}
    for kind in PostingKind:
        school = Organisation(kind=OrgKind.SCHOOL, name=f"Skola {kind}")
        company = Organisation(
            kind=OrgKind.COMPANY,
            name=f"Företag {kind}",
            contact_email=f"kontakt-{kind}@example.se",
        )
        session.add_all([school, company])
        session.flush()
        need = Need(
            school_id=school.id,  # type: ignore[arg-type]
            kind=kind,
            title=f"Behov {kind}",
            students=2,
            start_date=date(2030, 2, 1),
            end_date=date(2030, 3, 1),
        )
        placement = Placement(
            company_id=company.id,  # type: ignore[arg-type]
            kind=kind,
            title=f"Plats {kind}",
            places=3,
            start_date=date(2030, 1, 15),
            end_date=date(2030, 4, 1),
        )
        session.add_all([need, placement])
        session.flush()
        pairs[kind] = Pair(
            teacher=_user(session, f"larare-{kind}@example.se", Role.TEACHER, school),
            contact=_user(session, f"foretag-{kind}@example.se", Role.COMPANY, company),
            need_id=need.id,  # type: ignore[arg-type]
            placement_id=placement.id,  # type: ignore[arg-type]
            placement_title=placement.title,
            company_id=company.id,  # type: ignore[arg-type]
            past_booking_id=_ended_booking(session, kind, school, company),
        )
    session.commit()
    return pairs


@pytest.fixture(scope="module")
def site(tmp_path_factory: Any) -> Iterator[Site]:
    require_browser()
    folder: Path = tmp_path_factory.mktemp("flow")
    url = f"sqlite:///{folder / 'flow.db'}"
    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        pairs = _populate(session)
    app = create_app(
        {
            "DATABASE_URL": url,
            "DATABASE_ENGINE": engine,
            "SECRET_KEY": "request-flow-secret",
            "OUTBOX_DIR": str(folder / "outbox"),
            "QUEUE_URL": "memory://",
        }
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Site(f"http://127.0.0.1:{server.server_port}", engine, pairs)
    server.shutdown()
    engine.dispose()


@pytest.fixture
def chromium(site: Site, browser: Any) -> Any:
    # The suite's one browser: a second sync_playwright() in the same thread
    # refuses to start while the first is open.
    return browser


def _page(chromium: Any) -> Any:
    context = chromium.new_context(locale="sv-SE")
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def _sign_in(page: Any, base: str, email: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("form.form button[type=submit]")
    assert "/login" not in page.url, f"{email} could not sign in"


def _emailed_link(site: Site, address: str) -> str:
    with Session(site.engine) as session:
        mail = session.exec(
            select(OutboxMessage).where(OutboxMessage.to_address == address)
        ).one()
    match = LINK.search(mail.body_text)
    assert match, mail.body_text
    return match.group(1)


@pytest.mark.parametrize("kind", [kind.value for kind in PostingKind])
def test_a_request_walks_the_whole_booking_loop(
    site: Site, chromium: Any, kind: str
) -> None:
    pair = site.pairs[kind]

    teacher = _page(chromium)
    _sign_in(teacher, site.base, pair.teacher)
    teacher.goto(f"{site.base}/school/placements/{pair.placement_id}")
    teacher.select_option("#need", str(pair.need_id))
    teacher.fill("#students", "2")
    with teacher.expect_navigation():
        teacher.click("form.form button[type=submit]")
    assert teacher.url.endswith(f"/school/needs/{pair.need_id}")
    assert "väntar på företaget" in teacher.content()

    # The company's contact, not signed in, opens the link from the email.
    path = _emailed_link(site, pair.contact)
    company = _page(chromium)
    company.goto(f"{site.base}{path}")
    assert f"Behov {kind}" in company.content()
    with company.expect_navigation():
        company.click("input[name=confirm]")
    assert "bokningen är gjord" in company.content()

    teacher.goto(f"{site.base}/bookings/")
    assert pair.placement_title in teacher.content()
    _sign_in(company, site.base, pair.contact)
    company.goto(f"{site.base}/bookings/")
    assert pair.placement_title in company.content()

    booking_id = _booking_of(site, pair.placement_id)
    _reminded_a_week_before(site, pair, booking_id)
    _moved_by_the_teacher_accepted_by_the_company(site, teacher, company, booking_id)
    _called_off_with_a_reason(site, company, pair, booking_id)
    _evaluated_by_both_and_shown_on_the_company_page(site, teacher, company, pair)
    teacher.context.close()
    company.context.close()


def _booking_of(site: Site, placement_id: int) -> int:
    with Session(site.engine) as session:
        booking = session.exec(
            select(Booking).where(Booking.placement_id == placement_id)
        ).one()
    assert booking.start_date == START
    return booking.id  # type: ignore[return-value]


def _reminded_a_week_before(site: Site, pair: Pair, booking_id: int) -> None:
    """The daily job, run a week before the start, reminds both sides."""
    with Session(site.engine) as session:
        mails_before = _mail_ids(session, pair.contact)
        sent = reminders.send_due(
            session, today=START - timedelta(days=7), settings=reminders.Settings()
        )
        session.commit()
        assert sent.booking == 2  # the school and the company
        reminded = session.exec(
            select(User.email)
            .join(Notification, col(Notification.user_id) == User.id)
            .where(Notification.kind == "reminder_booking_starts")
            .where(Notification.link == f"/bookings/{booking_id}")
        ).all()
        assert sorted(reminded) == sorted([pair.teacher, pair.contact])
        (new_mail,) = _mail_ids(session, pair.contact) - mails_before
        mail = session.get(OutboxMessage, new_mail)
        assert mail is not None
        assert f"/bookings/{booking_id}" in mail.body_text


def _mail_ids(session: Session, address: str) -> set[int]:
    return set(
        session.exec(
            select(OutboxMessage.id).where(OutboxMessage.to_address == address)
        ).all()
    )


def _moved_by_the_teacher_accepted_by_the_company(
    site: Site, teacher: Any, company: Any, booking_id: int
) -> None:
    teacher.goto(f"{site.base}/bookings/{booking_id}")
    teacher.fill("#move-form #start", MOVED[0].isoformat())
    teacher.fill("#move-form #end", MOVED[1].isoformat())
    with teacher.expect_navigation():
        teacher.click("#move-form [type=submit]")
    assert teacher.locator("#answer-move-form").count() == 0  # the other side's

    company.goto(f"{site.base}/bookings/{booking_id}")
    with company.expect_navigation():
        company.click("#answer-move-form #accept")
    with Session(site.engine) as session:
        booking = session.get(Booking, booking_id)
        assert booking is not None
        assert (booking.start_date, booking.end_date) == MOVED
        assert booking.change_requested_side is None


def _free_places(site: Site, placement_id: int) -> int:
    with Session(site.engine) as session:
        placement = session.get(Placement, placement_id)
        assert placement is not None
        return placement.places - placement.places_booked


def _called_off_with_a_reason(
    site: Site, company: Any, pair: Pair, booking_id: int
) -> None:
    assert _free_places(site, pair.placement_id) == 1  # 3 places, 2 booked
    company.goto(f"{site.base}/bookings/{booking_id}")
    with company.expect_navigation():
        company.click("#cancel-link")
    company.check("input[name=reason][value=supervisor_unavailable]")
    company.fill("#comment", "Handledaren är bortrest veckan det gäller")
    with company.expect_navigation():
        company.click("form.form [type=submit]")
    assert _free_places(site, pair.placement_id) == 3
    with Session(site.engine) as session:
        booking = session.get(Booking, booking_id)
        assert booking is not None
        assert booking.status == BookingStatus.CANCELLED
        assert booking.cancel_reason == "supervisor_unavailable"
        assert booking.cancelled_side == "company"


def _evaluate(page: Any, base: str, booking_id: int, marks: tuple[int, ...]) -> None:
    page.goto(f"{base}/bookings/{booking_id}/evaluate")
    questions = ("overall", "supervision", "preparation")
    for name, mark in zip(questions, marks, strict=True):
        page.check(f"input[name={name}][value='{mark}']")
    page.fill("#comment", COMMENT)
    with page.expect_navigation():
        page.click("form.form [type=submit]")
    assert "when=past" in page.url


def _evaluated_by_both_and_shown_on_the_company_page(
    site: Site, teacher: Any, company: Any, pair: Pair
) -> None:
    _evaluate(teacher, site.base, pair.past_booking_id, (5, 4, 3))
    _evaluate(company, site.base, pair.past_booking_id, (2, 2, 2))
    with Session(site.engine) as session:
        sides = session.exec(
            select(Evaluation.side).where(Evaluation.booking_id == pair.past_booking_id)
        ).all()
    assert sorted(sides) == ["company", "school"]

    # Only the school's evaluation counts on the company's page.
    teacher.goto(f"{site.base}/company/{pair.company_id}")
    assert teacher.inner_text("#rating-overall").strip() == "5"
    assert teacher.inner_text("#rating-supervision").strip() == "4"
    assert teacher.inner_text("#rating-preparation").strip() == "3"
    assert COMMENT in teacher.inner_text("section.ratings")
