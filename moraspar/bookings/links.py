"""Signed single-use links that let a company act from an email without
signing in, and the emails that carry them.

The email holds a random token inside an itsdangerous signature that also
names the link's purpose, so a link cannot be altered, nor one made for
another purpose (or an unsubscribe or reset token) be used here. The table
action_link stores only the token's SHA-256 with the proposal, the
organisation, the expiry and when it was used: it is used once, by one
conditional UPDATE, so two clicks racing each other cannot both act.

No Flask here: the signing key and the lifetime reach us through the
Session's info (moraspar.db puts them there), as for unsubscribe links.
"""

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlmodel import Session, col, select, update

from moraspar.models import (
    ActionLink,
    LinkPurpose,
    Organisation,
    User,
    utcnow,
)
from moraspar.notifications import emails, mail
from moraspar.notifications.services import notify
from moraspar.notifications.unsubscribe import SIGNING_INFO

SALT = "moraspar.action-link"
# Session.info key: how many days a link stays valid (ACTION_LINK_DAYS).
DAYS_INFO = "moraspar.action_link_days"
# Session.info key: the site's root address, built from BASE_URL by
# moraspar.web.links.external_url; without it, emails.base_url().
SITE_INFO = "moraspar.site_root"
DEFAULT_DAYS = 14
# The language of mail to an organisation's contact address: it has no
# account, so no language of its own.
CONTACT_LANGUAGE = "sv"


class LinkError(Exception):
    """Base of the link errors; none of them changed anything."""


class InvalidLink(LinkError):
    """Not one of our links: altered, unknown, or made for another purpose."""


class UsedLink(LinkError):
    """The link has already been used once."""


class ExpiredLink(LinkError):
    """The link's time is over."""


def answer_path(token: str) -> str:
    """The path of the answer page under the bookings blueprint."""
    return f"/bookings/answer/{token}"


def evaluate_path(token: str) -> str:
    """The path of the evaluation page under the bookings blueprint."""
    return f"/bookings/evaluate/{token}"


PATHS = {
    LinkPurpose.ANSWER_PROPOSAL: answer_path,
    LinkPurpose.EVALUATE: evaluate_path,
}


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def sign(secret: str, *, purpose: str, raw: str) -> str:
    return URLSafeSerializer(secret, salt=SALT).dumps([purpose, raw])


def _unsign(secret: str, token: str, *, purpose: str) -> str:
    try:
        value = URLSafeSerializer(secret, salt=SALT).loads(token)
    except BadSignature as exc:
        raise InvalidLink() from exc
    match value:
        case [str() as signed_purpose, str() as raw] if signed_purpose == purpose:
            return raw
    raise InvalidLink()


def _secret(session: Session) -> str | None:
    secret = session.info.get(SIGNING_INFO)
    return str(secret) if secret else None


def create(
    session: Session,
    *,
    purpose: LinkPurpose,
    organisation_id: int,
    proposal_id: int | None,
    now: datetime | None = None,
) -> str | None:
    """A new link's signed token, or None for a Session without the signing
    key (a plain thread or a script: the email then points to the sign-in)."""
    secret = _secret(session)
    if secret is None:
        return None
    raw = secrets.token_urlsafe(32)
    days = int(session.info.get(DAYS_INFO, DEFAULT_DAYS))
    session.add(
        ActionLink(
            token_hash=_hash(raw),
            purpose=purpose,
            proposal_id=proposal_id,
            organisation_id=organisation_id,
            expires_at=(now or utcnow()) + timedelta(days=days),
        )
    )
    session.flush()
    return sign(secret, purpose=purpose, raw=raw)


def _aware(moment: datetime) -> datetime:
    # SQLite hands datetimes back without a zone; they are stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


def look_up(
    session: Session,
    *,
    token: str,
    purpose: LinkPurpose,
    now: datetime | None = None,
) -> ActionLink:
    """The valid, unused link the token names (InvalidLink, UsedLink,
    ExpiredLink). Reads only: for the confirmation page."""
    secret = _secret(session)
    if secret is None:
        raise InvalidLink()
    raw = _unsign(secret, token, purpose=purpose)
    link = session.exec(
        select(ActionLink).where(ActionLink.token_hash == _hash(raw))
    ).first()
    if link is None or link.purpose != purpose:
        raise InvalidLink()
    if link.used_at is not None:
        raise UsedLink()
    if _aware(link.expires_at) <= (now or utcnow()):
        raise ExpiredLink()
    return link


def use(
    session: Session,
    *,
    token: str,
    purpose: LinkPurpose,
    now: datetime | None = None,
) -> ActionLink:
    """Mark the link used, once: of two requests racing with one link only
    one gets past the UPDATE. The caller acts and commits in the same
    transaction, so a refused action (rolled back) leaves the link unused."""
    now = now or utcnow()
    link = look_up(session, token=token, purpose=purpose, now=now)
    result = session.exec(
        update(ActionLink)
        .where(col(ActionLink.id) == link.id)
        .where(col(ActionLink.used_at).is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise UsedLink()
    session.refresh(link)
    return link


@dataclass(frozen=True)
class Asked:
    """Whom an email asking a company to act went to."""

    users: int
    contact_address: str | None


def ask_company(
    session: Session,
    *,
    company: Organisation,
    contacts: Sequence[User],
    proposal_id: int | None,
    kind: str,
    params: dict[str, Any],
    in_app_link: str,
    purpose: LinkPurpose = LinkPurpose.ANSWER_PROPOSAL,
) -> Asked:
    """Tell a company it is asked to act on a proposal (answer it, or evaluate
    its booking: `purpose`): in-app for its users, and by email with a signed
    link. A company without an active user (one added by an import or by the
    business office) is emailed at its contact address instead, in Swedish."""
    token = create(
        session,
        purpose=purpose,
        organisation_id=company.id,  # type: ignore[arg-type]
        proposal_id=proposal_id,
    )
    email_link = PATHS[purpose](token) if token else in_app_link
    active = [user for user in contacts if user.active]
    site = str(session.info.get(SITE_INFO) or emails.base_url()).rstrip("/")

    def render(
        kind: str, values: dict[str, Any], _link: str, language: str
    ) -> tuple[str, str]:
        return emails.render(
            kind, values, link=email_link, language=language, base=site
        )

    if active:
        notify(
            session,
            users=active,
            kind=kind,
            params=params,
            link=in_app_link,
            render_email=render,
        )
        return Asked(users=len(active), contact_address=None)
    address = company.contact_email.strip()
    if not address:
        return Asked(users=0, contact_address=None)
    subject, body = render(kind, params, email_link, CONTACT_LANGUAGE)
    mail.enqueue(session, to=address, subject=subject, body=body)
    session.flush()
    return Asked(users=0, contact_address=address)
