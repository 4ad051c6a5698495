"""The notifications list, marking read, the header badge and the emails."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from moraspar.models import Notification, OutboxMessage, Role, User, utcnow
from moraspar.notifications import emails
from moraspar.notifications.services import Kind, notify

PARAMS = {
    "proposal_id": 1,
    "need_title": "APL fordon åk 2",
    "programme": "Fordons- och transportprogrammet",
    "school": "Mora gymnasium",
    "company": "Verkstaden AB",
    "placement_title": "APL i bilverkstad",
    "start": "2027-02-01",
    "end": "2027-05-14",
}


def _add(db: Session, user: User, n: int = 1, **kw: Any) -> list[Notification]:
    rows = []
    for i in range(n):
        values: dict[str, Any] = {
            "user_id": user.id,
            "kind": Kind.PROPOSAL_APPROVED,
            "params": {**PARAMS, "need_title": f"Need {i}"},
            "link": "/bookings/proposals/1",
            "created_at": utcnow() - timedelta(minutes=n - i),
        }
        values.update(kw)
        row = Notification(**values)
        db.add(row)
        rows.append(row)
    db.commit()
    return rows


def test_list_shows_own_notifications_newest_first(
    client: Any, auth: Any, db: Session, make_user: Callable[..., User]
) -> None:
    user = auth.login(Role.TEACHER, language="en")
    _add(db, user, 3)
    _add(db, make_user(Role.TEACHER), 1, params={**PARAMS, "need_title": "Secret"})
    page = client.get("/notifications/").get_data(as_text=True)
    assert page.index("Need 2") < page.index("Need 1") < page.index("Need 0")
    assert "Secret" not in page
    assert "Verkstaden AB" in page and "Please confirm or decline" in page
    assert 'href="/bookings/proposals/1"' in page


@pytest.mark.parametrize("kind", list(Kind))
def test_every_kind_reads_as_a_sentence(
    client: Any, auth: Any, db: Session, kind: str
) -> None:
    user = auth.login(Role.COMPANY, language="en")
    _add(db, user, kind=kind, params={**PARAMS, "side": "school", "students": 2})
    page = client.get("/notifications/").get_data(as_text=True)
    assert "Verkstaden AB" in page
    assert f">{kind}<" not in page  # not the raw kind


def test_empty_state(client: Any, auth: Any) -> None:
    auth.login(Role.TEACHER, language="en")
    assert "no notifications yet" in client.get("/notifications/").get_data(
        as_text=True
    )


def test_list_is_paginated(client: Any, auth: Any, db: Session) -> None:
    user = auth.login(Role.TEACHER, language="en")
    _add(db, user, 25)
    first = client.get("/notifications/").get_data(as_text=True)
    second = client.get("/notifications/?page=2").get_data(as_text=True)
    assert "Need 24" in first and "Need 4" not in first
    assert "Need 4" in second and "Need 0" in second
    assert "Page 1 of 2" in first


def test_mark_one_read_and_the_badge(client: Any, auth: Any, db: Session) -> None:
    user = auth.login(Role.TEACHER, language="en")
    first, second = _add(db, user, 2)
    page = client.get("/notifications/").get_data(as_text=True)
    assert 'class="badge"' in page and "2<span" in page
    response = client.post_form(f"/notifications/{first.id}/read")
    assert response.status_code == 302
    db.expire_all()
    assert db.get(Notification, first.id).read_at is not None
    assert db.get(Notification, second.id).read_at is None
    assert "1<span" in client.get("/notifications/").get_data(as_text=True)


def test_cannot_mark_someone_elses(
    client: Any, auth: Any, db: Session, make_user: Callable[..., User]
) -> None:
    auth.login(Role.TEACHER)
    (theirs,) = _add(db, make_user(Role.TEACHER))
    assert client.post_form(f"/notifications/{theirs.id}/read").status_code == 404
    db.expire_all()
    assert db.get(Notification, theirs.id).read_at is None


def test_mark_all_read(
    client: Any, auth: Any, db: Session, make_user: Callable[..., User]
) -> None:
    user = auth.login(Role.COMPANY, language="en")
    _add(db, user, 3)
    (theirs,) = _add(db, make_user(Role.COMPANY))
    response = client.post_form("/notifications/read-all", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "All notifications are marked as read." in page
    assert 'class="badge"' not in page
    db.expire_all()
    mine = db.exec(select(Notification).where(Notification.user_id == user.id)).all()
    assert all(n.read_at is not None for n in mine)
    assert db.get(Notification, theirs.id).read_at is None


def test_mark_read_needs_csrf(client: Any, auth: Any, db: Session) -> None:
    user = auth.login(Role.TEACHER)
    (row,) = _add(db, user)
    assert client.post(f"/notifications/{row.id}/read").status_code == 400


def test_notify_once_per_user_with_an_email_in_their_language(
    db: Session, make_user: Callable[..., User]
) -> None:
    english = make_user(Role.TEACHER, language="en")
    swedish = make_user(Role.TEACHER, language="sv")
    inactive = make_user(Role.TEACHER, active=False)
    created = notify(
        db,
        users=[english, swedish, english, inactive],
        kind=Kind.PROPOSAL_APPROVED,
        params=PARAMS,
        link="/bookings/proposals/1",
    )
    db.commit()
    assert sorted(n.user_id for n in created) == sorted([english.id, swedish.id])
    mails = {m.to_address: m for m in db.exec(select(OutboxMessage)).all()}
    assert set(mails) == {english.email, swedish.email}
    body = mails[english.email].body_text
    assert "1 Feb 2027" in body  # dates in the reader's language, British English
    assert "http://127.0.0.1:5000/bookings/proposals/1" in body
    assert "1 feb. 2027" in mails[swedish.email].body_text


def test_emails_render_without_flask_and_in_one_subject_line() -> None:
    subject, body = emails.render(
        "booking_created",
        {**PARAMS, "need_title": "Line\nbreak", "students": 3, "booking_id": 4},
        link="/bookings/",
        language="en",
        base="https://moraspar.example",
    )
    assert "\n" not in subject and "Verkstaden AB" in subject
    assert "Number of students: 3" in body
    assert "https://moraspar.example/bookings/" in body
    for kind in Kind:
        subject, body = emails.render(
            kind, {**PARAMS, "side": "company"}, link="/x", language="sv"
        )
        assert subject and "Verkstaden AB" in body
