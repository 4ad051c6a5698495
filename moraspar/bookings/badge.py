"""The count of proposals and bookings waiting for the signed-in user's side,
shown beside "Bookings" in the menu.

Loaded once per request before rendering and kept on `flask.g`, as the unread
badge is: the layout only reads `g.bookings_waiting`. Installed after the
access check; only teachers and company contacts have anything to answer.
"""

from datetime import date

from flask import Flask, g, request
from flask_login import current_user

from moraspar.bookings import services
from moraspar.db import get_session
from moraspar.models import Role


def load_waiting_count() -> None:
    if request.endpoint in (None, "static"):
        return
    if not (current_user and current_user.is_authenticated):
        return
    if current_user.role not in (Role.TEACHER, Role.COMPANY):
        return
    g.bookings_waiting = services.waiting_count(
        get_session(), user=current_user, today=date.today()
    )


def register_waiting_badge(app: Flask) -> None:
    app.before_request(load_waiting_count)
