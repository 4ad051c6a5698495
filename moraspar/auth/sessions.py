"""How long a sign-in lasts.

A signed-in session ends after SESSION_IDLE_SECONDS without a request and
SESSION_MAX_SECONDS after signing in, whatever happens in between. A
remember-me cookie (REMEMBER_COOKIE_DURATION, 30 days) may then start a new
session; accounts with a second factor never get one, since the cookie would
stand in for the code.
"""

from typing import Any

from flask import current_app, g, session

from moraspar.models import User, utcnow

SIGNED_IN_AT = "signed_in_at"
SEEN_AT = "seen_at"
# The last-seen time is rewritten at most this often, so that most responses
# need not send a new session cookie.
SEEN_RESOLUTION = 60


def _now() -> int:
    return int(current_app.extensions.get("moraspar.clock", utcnow)().timestamp())


def start() -> None:
    """Call once the user is signed in (login_user has run)."""
    now = _now()
    session[SIGNED_IN_AT] = now
    session[SEEN_AT] = now


def may_remember(user: User) -> bool:
    return not user.totp_secret


def enforce_timeouts() -> None:
    """Before each request: end a signed-in session that is idle or too old."""
    if "_user_id" not in session:
        return
    now = _now()
    signed_in = session.get(SIGNED_IN_AT)
    seen = session.get(SEEN_AT)
    config = current_app.config
    if (
        not isinstance(signed_in, int)
        or not isinstance(seen, int)
        or now - seen > int(config["SESSION_IDLE_SECONDS"])
        or now - signed_in > int(config["SESSION_MAX_SECONDS"])
    ):
        language = session.get("lang")
        session.clear()
        if language:
            session["lang"] = language
        g.pop("_login_user", None)  # forget a user loaded earlier in this request
        return
    if now - seen >= SEEN_RESOLUTION:
        session[SEEN_AT] = now


def restored_from_cookie(_app: Any, **_extra: Any) -> None:
    """A remember-me cookie signed the user in again: a new session begins."""
    start()
