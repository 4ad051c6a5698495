"""The unread-notifications badge in the page header, counted before rendering.

The base layout shows the badge on every page, so the count is loaded once per
request by a `before_request` hook and kept on `flask.g`; the template only
reads `g.unread_notifications`. A template helper that counted when called
would hide a query inside rendering (and run it again for every template that
asked). The hook is installed after the access check, so a refused request
never counts; anonymous visitors and static files are not counted at all.
"""

from flask import Flask, g, request
from flask_login import current_user

from moraspar.db import get_session
from moraspar.notifications import services


def load_unread_count() -> None:
    """Put the signed-in user's unread count on g (nothing for anyone else)."""
    if request.endpoint in (None, "static"):
        return
    if not (current_user and current_user.is_authenticated):
        return
    g.unread_notifications = services.unread_count(
        get_session(), user_id=current_user.id
    )


def register_unread_badge(app: Flask) -> None:
    app.before_request(load_unread_count)
