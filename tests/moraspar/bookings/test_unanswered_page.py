"""The business office's list of approved proposals left unanswered."""

from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session

from moraspar.bookings import reminders, services
from moraspar.models import Role, utcnow


def _waiting_since(db: Session, pair: Any, days: int) -> None:
    pair.proposal.decided_at = utcnow() - timedelta(days=days)
    db.add(pair.proposal)
    db.commit()


def test_admin_sees_who_has_not_answered_and_the_reminders_sent(
    app: Flask, client: Any, auth: Any, db: Session, make_pair: Any
) -> None:
    old = make_pair(need_kw={"title": "APL el, åk 2"})
    _waiting_since(db, old, 30)
    services.respond(db, proposal_id=old.proposal.id, user=old.teacher, confirm=True)
    db.commit()
    reminders.send_due(db, today=date.today(), settings=reminders.Settings())
    db.commit()
    fresh = make_pair(need_kw={"title": "Prao åk 8"})
    _waiting_since(db, fresh, 0)

    auth.login(Role.ADMIN, language="en")
    page = client.get("/admin/unanswered").get_data(as_text=True)

    assert "APL el, åk 2" in page
    assert "Prao åk 8" not in page
    assert old.school.name in page and old.company.name in page
    assert old.placement.title in page
    row = page[page.index("APL el, åk 2") :]
    row = row[: row.index("</tr>")]
    assert "<td>Company</td>" in row  # the school has answered
    since = (utcnow() - timedelta(days=30)).date()
    days = reminders.workdays_between(since, date.today())
    assert f"<td>{days}</td>" in row
    assert "<td>1</td>" in row  # one reminder went to the company
    assert "1 proposal" in page


def test_the_list_is_paginated(
    app: Flask, client: Any, auth: Any, db: Session, make_pair: Any
) -> None:
    app.config["PAGE_SIZE"] = 1
    for title, days in (("Första behovet", 40), ("Andra behovet", 20)):
        _waiting_since(db, make_pair(need_kw={"title": title}), days)

    auth.login(Role.ADMIN, language="en")
    first = client.get("/admin/unanswered").get_data(as_text=True)
    second = client.get("/admin/unanswered?page=2").get_data(as_text=True)

    assert "Första behovet" in first and "Andra behovet" not in first
    assert "Andra behovet" in second and "Första behovet" not in second


def test_empty_list_says_so(client: Any, auth: Any) -> None:
    auth.login(Role.ADMIN, language="en")
    page = client.get("/admin/unanswered").get_data(as_text=True)
    assert "No proposal waits for an answer longer than that." in page


@pytest.mark.parametrize("role", [Role.TEACHER, Role.COMPANY, Role.COUNCIL])
def test_only_the_business_office_sees_the_list(
    client: Any, auth: Any, role: Role
) -> None:
    auth.login(role)
    assert client.get("/admin/unanswered").status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client: Any) -> None:
    response = client.get("/admin/unanswered")
    assert response.status_code == 302
    assert "login" in response.headers["Location"]
