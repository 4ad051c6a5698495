"""Templates never query: what a page shows is loaded before it renders.

Counts the SQL statements the engine runs between flask's before_render_template
and template_rendered signals, i.e. while render_template turns the context into
HTML, for pages that show the header badge and the company ratings.
"""

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, before_render_template, template_rendered
from sqlmodel import Session

from moraspar.models import Notification, Role
from moraspar.notifications.services import Kind


class RenderQueries:
    def __init__(self) -> None:
        self.rendering = 0
        self.statements: list[tuple[str, str]] = []
        self.templates: list[str] = []


@pytest.fixture
def render_queries(app: Flask, engine: sa.Engine) -> Iterator[RenderQueries]:
    seen = RenderQueries()

    def before(_app: Any, template: Any, context: Any, **_: Any) -> None:
        seen.rendering += 1
        seen.templates.append(template.name)

    def after(_app: Any, template: Any, context: Any, **_: Any) -> None:
        seen.rendering -= 1

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if seen.rendering:
            seen.statements.append((seen.templates[-1], sql))

    before_render_template.connect(before, app)
    template_rendered.connect(after, app)
    sa.event.listen(engine, "before_cursor_execute", statement)
    yield seen
    sa.event.remove(engine, "before_cursor_execute", statement)
    template_rendered.disconnect(after, app)
    before_render_template.disconnect(before, app)


def _unread(db: Session, user_id: int | None, n: int) -> None:
    for _ in range(n):
        db.add(
            Notification(
                user_id=user_id, kind=Kind.BOOKING_CREATED, params={}, link="/"
            )
        )
    db.commit()


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (Role.TEACHER, "/school/"),
        (Role.TEACHER, "/notifications/"),
        (Role.TEACHER, "/bookings/"),
        (Role.TEACHER, "/company/{company}"),
        (Role.COUNCIL, "/council/"),
        (Role.COUNCIL, "/council/board"),
        (Role.COUNCIL, "/council/allocation"),
        (Role.COUNCIL, "/gaps/"),
        (Role.COUNCIL, "/meetings/"),
    ],
)
def test_pages_render_without_a_query(
    client: Any,
    auth: Any,
    db: Session,
    make_company: Any,
    render_queries: RenderQueries,
    role: str,
    path: str,
) -> None:
    company = make_company()
    user = auth.login(role, language="en")
    _unread(db, user.id, 3)

    response = client.get(path.format(company=company.id))

    assert response.status_code == 200
    assert render_queries.templates, "no template rendered"
    assert render_queries.statements == []
    page = response.get_data(as_text=True)
    assert "3<span" in page  # the badge, counted before rendering


def test_no_badge_and_no_count_for_visitors(
    client: Any, engine: sa.Engine, render_queries: RenderQueries
) -> None:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        statements.append(sql)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        page = client.get("/login").get_data(as_text=True)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)

    assert 'class="badge"' not in page
    assert not any("notification" in sql.lower() for sql in statements)
    assert render_queries.statements == []
