"""The signed-in user as a database row, for views that act on their behalf."""

from flask import abort
from flask_login import current_user

from moraspar.db import get_session
from moraspar.models import User


def signed_in_user() -> User:
    """The signed-in user, loaded in this request's session; 403 if the account
    is gone (deleted while the session was open)."""
    user = get_session().get(User, current_user.id)
    if user is None:
        abort(403)
    return user
