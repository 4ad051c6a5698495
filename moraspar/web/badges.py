"""The menu's badges, counted in one statement before rendering.

Every page of a signed-in user shows the unread notifications in the header,
and a teacher's or a company contact's page shows beside "Bookings" how many
proposals and bookings wait for their side. Both are counted once per request
by a `before_request` hook, in one statement of scalar subqueries (each a
round trip less on a database server), and kept on `flask.g`: the layout only
reads `g.unread_notifications` and `g.bookings_waiting`. A template helper that
counted when called would hide a query inside rendering. The hook is installed
after the access check and the page cache, so a refused request or a cached
page never counts; anonymous visitors and static files are not counted at all.
"""

from datetime import date
from functools import cache
from typing import Any

from flask import Flask, g, request
from flask_login import current_user
from sqlalchemy import select

from moraspar.bookings.services import waiting_counts
from moraspar.db import get_session
from moraspar.models import Role
from moraspar.notifications.services import UNREAD_COUNT

# Only these roles have proposals and bookings to answer.
_ANSWERING = (Role.TEACHER, Role.COMPANY)


@cache
def _statement(role: Role | None) -> Any:
    """The unread count, then the waiting parts of role (none for None)."""
    return select(UNREAD_COUNT, *(waiting_counts(role) if role else ()))


def load_badges() -> None:
    """Put the signed-in user's counts on g (nothing for anyone else)."""
    if request.endpoint in (None, "static"):
        return
    if not (current_user and current_user.is_authenticated):
        return
    params: dict[str, Any] = {"user_id": current_user.id}
    role = None
    if current_user.role in _ANSWERING and current_user.organisation_id is not None:
        role = Role(current_user.role)
        params.update(organisation_id=current_user.organisation_id, today=date.today())
    unread, *waiting = get_session().execute(_statement(role), params).one()
    g.unread_notifications = int(unread)
    if role is not None:
        g.bookings_waiting = sum(int(n) for n in waiting)


def register_badges(app: Flask) -> None:
    app.before_request(load_badges)
