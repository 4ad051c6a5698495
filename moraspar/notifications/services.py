"""Notifications: one row per user in the app, and an email through the outbox.

A notification stores a `kind` and JSON `params` (group-level facts only: titles,
names of organisations, ISO dates, counts, ids), never a rendered sentence, so
that each reader sees it in their own language. Emails are rendered at once, in
the recipient's language, by moraspar.notifications.emails (no Flask needed).
"""

import enum
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, col, func, select, update

from moraspar.models import Notification, User, utcnow
from moraspar.notifications import emails, mail, unsubscribe


class Kind(enum.StrEnum):
    PROPOSAL_APPROVED = "proposal_approved"
    CONFIRMATION_NEEDED = "confirmation_needed"
    BOOKING_CREATED = "booking_created"
    PROPOSAL_DECLINED_BY_PARTY = "proposal_declined_by_party"
    EVALUATION_REQUESTED = "evaluation_requested"
    BOOKING_CANCELLED = "booking_cancelled"
    DATE_CHANGE_REQUESTED = "date_change_requested"
    DATE_CHANGE_ANSWERED = "date_change_answered"
    NEXT_BEST_OFFERED = "next_best_offered"
    REMINDER_UNANSWERED = "reminder_unanswered"
    REMINDER_BOOKING_STARTS = "reminder_booking_starts"
    REMINDER_EVALUATION = "reminder_evaluation"
    REQUEST_RECEIVED = "request_received"  # a teacher asks the company
    OFFER_RECEIVED = "offer_received"  # a company offers the school places
    REQUEST_FOR_COUNCIL = "request_for_council"  # a request waits on the board


# Every kind so far is news a user may turn off by email; essential mail
# (password reset, invitation, security notices) is not a notification and is
# always sent.
OPTIONAL_EMAIL = tuple(Kind)


def wants_email(user: User, kind: str) -> bool:
    """Whether the user gets this kind of notice by email."""
    return Kind(kind) not in OPTIONAL_EMAIL or bool(user.email_notices.get(kind, True))


def set_email_notices(session: Session, *, user: User, enabled: set[str]) -> None:
    """Send the user the optional kinds in enabled by email, and no others."""
    user.email_notices = {kind.value: kind.value in enabled for kind in OPTIONAL_EMAIL}
    session.add(user)
    session.flush()


def turn_off_email(session: Session, *, user: User, kind: str) -> None:
    """Stop emailing the user this optional kind of notice (unsubscribe)."""
    kind = Kind(kind)
    if kind not in OPTIONAL_EMAIL:
        raise ValueError(kind)
    # A new dict: the JSON column sees only reassignment, not mutation.
    user.email_notices = {**user.email_notices, kind.value: False}
    session.add(user)
    session.flush()


# (kind, params, link path, language) -> (subject, body)
EmailRenderer = Callable[[str, dict[str, Any], str, str], tuple[str, str]]


def _render_email(
    kind: str, params: dict[str, Any], link: str, language: str
) -> tuple[str, str]:
    return emails.render(kind, params, link=link, language=language)


def notify(
    session: Session,
    *,
    users: Iterable[User],
    kind: str,
    params: dict[str, Any],
    link: str = "",
    email: bool = True,
    render_email: EmailRenderer = _render_email,
) -> list[Notification]:
    """Notify each user once (in-app, and by email unless email=False). Flushes."""
    kind = Kind(kind)
    created = []
    seen: set[int] = set()
    for user in users:
        if user.id is None or user.id in seen or not user.active:
            continue
        seen.add(user.id)
        notification = Notification(
            user_id=user.id, kind=kind, params=dict(params), link=link
        )
        session.add(notification)
        created.append(notification)
        if email and user.email and wants_email(user, kind):
            subject, body = render_email(kind, params, link, user.language)
            mail.enqueue(
                session,
                to=user.email,
                subject=subject,
                body=body,
                unsubscribe_url=unsubscribe.link(session, user_id=user.id, kind=kind),
            )
    session.flush()
    return created


def for_user(user_id: int) -> Any:
    """The query of a user's notifications, newest first (for paginate)."""
    return (
        select(Notification)
        .where(Notification.user_id == user_id)
        .order_by(col(Notification.created_at).desc(), col(Notification.id).desc())
    )


# The menu's unread count, as a scalar subquery with the user as a parameter
# (`user_id`): `moraspar.web.badges` selects it beside the bookings' counts on
# every page. Built once: building the statement costs more than running it.
UNREAD_COUNT = (
    select(func.count())
    .select_from(Notification)
    .where(Notification.user_id == bindparam("user_id"))
    .where(col(Notification.read_at).is_(None))
    .scalar_subquery()
)


def mark_read(session: Session, *, user_id: int, notification_id: int) -> bool:
    """Mark one of the user's notifications read; False if it is not theirs."""
    notification = session.get(Notification, notification_id)
    if notification is None or notification.user_id != user_id:
        return False
    if notification.read_at is None:
        notification.read_at = utcnow()
        session.add(notification)
        session.flush()
    return True


def mark_all_read(session: Session, *, user_id: int) -> int:
    result = session.exec(
        update(Notification)
        .where(col(Notification.user_id) == user_id)
        .where(col(Notification.read_at).is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return int(result.rowcount)
