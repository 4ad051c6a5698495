"""Signed one-click links that turn one kind of notice email off.

Put in each optional notice's List-Unsubscribe header (RFC 2369, one-click
by RFC 8058). The link names a user and a kind and is signed with the site's
SECRET_KEY for this purpose only, so a reset or invitation token is never one;
it does not expire, since a mail client may offer it long after the mail came.
No Flask here: the signing key reaches the notification services through their
Session (moraspar.db puts it in `Session.info`).
"""

from itsdangerous import BadSignature, URLSafeSerializer
from sqlmodel import Session

from moraspar.notifications import emails

SALT = "moraspar.unsubscribe"
# Session.info key: the site's SECRET_KEY, for links in notice emails.
SIGNING_INFO = "moraspar.signing_key"
PATH = "/unsubscribe/"  # the route moraspar.auth.views.unsubscribe serves


class InvalidLink(Exception):
    """The link is not one of ours, or was altered."""


def make_token(secret: str, *, user_id: int, kind: str) -> str:
    return URLSafeSerializer(secret, salt=SALT).dumps([user_id, kind])


def load_token(secret: str, token: str) -> tuple[int, str]:
    """(user id, kind) the token names; InvalidLink when it is not ours."""
    try:
        value = URLSafeSerializer(secret, salt=SALT).loads(token)
    except BadSignature as exc:
        raise InvalidLink() from exc
    match value:
        case [int() as user_id, str() as kind]:
            return user_id, kind
    raise InvalidLink()


def link(session: Session, *, user_id: int, kind: str) -> str:
    """The absolute one-click link, or "" for a Session without the key (a
    plain thread or a script): the mail then goes without the header."""
    secret = session.info.get(SIGNING_INFO)
    if not secret:
        return ""
    token = make_token(str(secret), user_id=user_id, kind=kind)
    return f"{emails.base_url()}{PATH}{token}"
