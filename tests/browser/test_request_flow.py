"""A teacher's request, answered by the company from the emailed link.

The teacher asks for a place from the placement page; the company's contact
opens the link from the outbox without signing in and says yes; the booking
then shows for both sides. Once per kind of placement.
"""

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, SQLModel, select
from werkzeug.serving import make_server

from moraspar import create_app
from moraspar.auth.services import hash_password, new_session_token
from moraspar.db import make_engine
from moraspar.models import (
    KindRoute,
    Need,
    Organisation,
    OrgKind,
    OutboxMessage,
    Placement,
    PostingKind,
    Role,
    User,
)
from tests.browser.conftest import require_browser

PASSWORD = "request flow password"
LINK = re.compile(r"https?://[^/\s]+(/bookings/answer/\S+)")


@dataclass(frozen=True)
class Pair:
    teacher: str
    contact: str
    need_id: int
    placement_id: int
    placement_title: str


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
def test_request_answered_from_the_email_books_for_both(
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
    teacher.context.close()
    company.context.close()
