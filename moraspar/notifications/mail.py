"""Email through a database outbox, delivered by a job.

A request only adds a row (`enqueue`) and marks its Session; right after the
commit moraspar.jobs enqueues the delivery job, and the same job runs every
minute to catch anything left over. Without an SMTP server (development)
each message is written as an .eml file to the outbox folder instead.

Delivery owns its transactions, like a match run: each message is claimed in
a short commit of its own before the network is touched, so two workers
never send the same row, and a worker that dies leaves a row whose state
says how far it got:

- SENDING (claimed, the server not yet given the message): after the lease
  it goes back to PENDING and is sent again; the server never had it, so
  there is no copy;
- HANDED (the DATA command started): the server may have accepted it. After
  the lease it becomes UNCERTAIN and is NOT sent again by itself: the admin
  sees it on the jobs page and may send it again.

So a message is sent at most once by the jobs, and at least once unless a
worker dies in the moment between handing it over and recording the answer
(milliseconds). SMTP gives no way to ask the server afterwards; a message
sent again by the admin keeps its Message-ID, which receivers can use to
drop the copy. "Exactly once" is not promised, and cannot be over SMTP.

A refused recipient (5xx) fails the message for good; a server that is down
or answers 4xx leaves it PENDING, tried again with a doubling delay until
`max_attempts`, then FAILED. Both show on the admin's jobs page.

Everything on the wire is ASCII: headers are RFC 2047 encoded, the body is
quoted-printable (a server that is not asked for 8BITMIME need not keep the
8th bit), and a user name or password with letters outside ASCII signs in
with AUTH PLAIN in UTF-8 (RFC 4616), which smtplib's login cannot do.
"""

import base64
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from moraspar.models import MailStatus, OutboxMessage, utcnow

# Session.info key: this session added mail; deliver after its commit.
ENQUEUED = "moraspar.mail_enqueued"
MAX_DELAY = timedelta(hours=6)
BATCH = 100


@dataclass(frozen=True)
class MailSettings:
    sender: str
    server: str = ""
    port: int = 25
    username: str = ""
    password: str = ""
    use_tls: bool = False  # STARTTLS, the certificate verified
    tls_cafile: str = ""  # a CA bundle of its own (a municipal CA), if any
    outbox_dir: str = "instance/outbox"
    timeout: float = 30.0
    lease_seconds: int = 300  # longer than any one SMTP transaction
    max_attempts: int = 10
    retry_seconds: int = 60  # first delay; doubles, at most MAX_DELAY


@dataclass(frozen=True)
class Delivery:
    sent: int = 0
    retry: int = 0  # tried, to be tried again later
    failed: int = 0  # refused for good or given up
    recovered: int = 0  # stale claims taken back (sent again or UNCERTAIN)


class _Temporary(Exception):
    """The server did not take the message now; try again later."""


class _Permanent(Exception):
    """The server refused the message for good."""


class _Unknown(Exception):
    """The connection broke after the message was handed over."""


def enqueue(
    session: Session,
    *,
    to: str,
    subject: str,
    body: str,
    unsubscribe_url: str = "",
) -> OutboxMessage:
    """Add an email to the outbox (flushes nothing); it goes after the commit."""
    message = OutboxMessage(
        to_address=to,
        subject=subject,
        body_text=body,
        unsubscribe_url=unsubscribe_url,
    )
    session.add(message)
    session.info[ENQUEUED] = True
    return message


def _domain(sender: str) -> str:
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or "moraspar.invalid"


def build_message(message: OutboxMessage, sender: str) -> EmailMessage:
    """The email of an outbox row: plain text, with the row's Message-ID."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to_address
    email["Subject"] = message.subject
    created = message.created_at
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    email["Date"] = format_datetime(created)
    email["Message-ID"] = message.message_id or make_msgid(domain=_domain(sender))
    email["Auto-Submitted"] = "auto-generated"
    if message.unsubscribe_url:
        email["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        # RFC 8058: the link takes a POST without a page in between.
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    # 7-bit on the wire: Swedish letters survive servers without 8BITMIME.
    email.set_content(message.body_text, cte="quoted-printable")
    return email


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)  # SQLite hands back naive UTC


def _set(session: Session, message_id: int, **values: object) -> int:
    result = session.exec(
        sa.update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)


def recover_stale(session: Session, *, now: datetime, lease_seconds: int) -> int:
    """Take back the claims of workers that stopped. Flushes, no commit."""
    cutoff = now - timedelta(seconds=lease_seconds)
    again = session.exec(
        sa.update(OutboxMessage)
        .where(col(OutboxMessage.status) == MailStatus.SENDING)
        .where(col(OutboxMessage.claimed_at) < cutoff)
        .values(status=MailStatus.PENDING, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    unknown = session.exec(
        sa.update(OutboxMessage)
        .where(col(OutboxMessage.status) == MailStatus.HANDED)
        .where(col(OutboxMessage.claimed_at) < cutoff)
        .values(
            status=MailStatus.UNCERTAIN,
            last_error="the worker stopped after handing the message to the "
            "server; it may have been delivered",
        )
        .execution_options(synchronize_session=False)
    )
    return int(again.rowcount) + int(unknown.rowcount)


def due_ids(session: Session, *, now: datetime, limit: int = BATCH) -> Sequence[int]:
    query = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status == MailStatus.PENDING)
        .where(
            sa.or_(
                col(OutboxMessage.next_attempt_at).is_(None),
                col(OutboxMessage.next_attempt_at) <= now,
            )
        )
        .order_by(col(OutboxMessage.id))
        .limit(limit)
    )
    return [i for i in session.exec(query).all() if i is not None]


def claim(session: Session, message_id: int, *, now: datetime) -> bool:
    """Take a due message for this worker (one UPDATE: only one worker wins)."""
    result = session.exec(
        sa.update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id)
        .where(col(OutboxMessage.status) == MailStatus.PENDING)
        .where(
            sa.or_(
                col(OutboxMessage.next_attempt_at).is_(None),
                col(OutboxMessage.next_attempt_at) <= now,
            )
        )
        .values(
            status=MailStatus.SENDING,
            claimed_at=now,
            attempts=col(OutboxMessage.attempts) + 1,
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount) == 1


def deliver_due(
    session: Session, settings: MailSettings, *, now: datetime | None = None
) -> Delivery:
    """Send what is due. Commits (see the module docstring)."""
    start = now or utcnow()
    recovered = recover_stale(session, now=start, lease_seconds=settings.lease_seconds)
    session.commit()
    sent = retry = failed = 0
    for message_id in due_ids(session, now=start):
        moment = now or utcnow()
        if not claim(session, message_id, now=moment):
            session.rollback()
            continue  # another worker took it
        message = session.get(OutboxMessage, message_id, populate_existing=True)
        assert message is not None
        if not message.message_id:
            message.message_id = make_msgid(domain=_domain(settings.sender))
            session.add(message)
        session.commit()  # the claim and the Message-ID, before the network
        outcome = _deliver_one(session, message, settings, now=moment)
        sent += outcome == MailStatus.SENT
        retry += outcome == MailStatus.PENDING
        failed += outcome == MailStatus.FAILED
    return Delivery(sent=sent, retry=retry, failed=failed, recovered=recovered)


def _deliver_one(
    session: Session, message: OutboxMessage, settings: MailSettings, *, now: datetime
) -> str:
    assert message.id is not None
    the_id = message.id
    email = build_message(message, settings.sender)

    def handed() -> None:
        _set(session, the_id, status=MailStatus.HANDED)
        session.commit()

    try:
        if settings.server:
            _send_smtp(email, settings, handed=handed)
        else:
            _write_file(email, the_id, Path(settings.outbox_dir))
    except _Permanent as exc:
        status, error, later = MailStatus.FAILED, str(exc), None
    except _Unknown as exc:
        status, error, later = MailStatus.UNCERTAIN, str(exc), None
    except UnicodeEncodeError:
        # smtplib writes its commands in ASCII. The text is left out: it may
        # be the password.
        status, later = MailStatus.FAILED, None
        error = (
            "a command to the server held letters outside ASCII, which "
            "SMTP cannot carry"
        )
    except (_Temporary, OSError, smtplib.SMTPException) as exc:
        error = str(exc) or type(exc).__name__
        if message.attempts >= settings.max_attempts:
            status, later = MailStatus.FAILED, None
            error = f"gave up after {message.attempts} attempts: {error}"
        else:
            status = MailStatus.PENDING
            delay = timedelta(seconds=settings.retry_seconds) * (
                2 ** (message.attempts - 1)
            )
            later = now + min(delay, MAX_DELAY)
    else:
        _set(
            session,
            the_id,
            status=MailStatus.SENT,
            sent_at=utcnow(),
            last_error="",
            claimed_at=None,
        )
        session.commit()
        return MailStatus.SENT
    _set(
        session,
        the_id,
        status=status,
        last_error=error[:2000],
        next_attempt_at=later,
        claimed_at=None,
    )
    session.commit()
    return status


def _reply(code: int, text: bytes | str) -> str:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {message}".strip()


def _send_smtp(email: EmailMessage, settings: MailSettings, *, handed: object) -> None:
    """One SMTP transaction, step by step, so that the moment the server is
    handed the message is known (see the module docstring)."""
    assert callable(handed)
    sender = parseaddr(settings.sender)[1]
    recipient = parseaddr(str(email["To"]))[1]
    if not recipient.isascii():
        raise _Permanent(
            f"the address {recipient} has letters outside ASCII, which "
            "SMTP cannot carry without SMTPUTF8"
        )
    with smtplib.SMTP(settings.server, settings.port, timeout=settings.timeout) as smtp:
        smtp.ehlo()
        if settings.use_tls:
            context = ssl.create_default_context(cafile=settings.tls_cafile or None)
            smtp.starttls(context=context)
            smtp.ehlo()
        if settings.username:
            _sign_in(smtp, settings.username, settings.password)
        code, text = smtp.mail(sender)
        if code != 250:
            _refuse(code, text)
        code, text = smtp.rcpt(recipient)
        if code not in (250, 251):
            _refuse(code, text)
        handed()
        try:
            smtp.data(email.as_bytes(policy=policy.SMTP))
        except smtplib.SMTPDataError as exc:
            _refuse(exc.smtp_code, exc.smtp_error)
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            raise _Unknown(
                f"the connection broke while the server had the message: {exc}"
            ) from exc


def _sign_in(smtp: smtplib.SMTP, username: str, password: str) -> None:
    if username.isascii() and password.isascii():
        smtp.login(username, password)
        return
    # smtplib encodes the credentials as ASCII; AUTH PLAIN carries UTF-8.
    if "PLAIN" not in smtp.esmtp_features.get("auth", "").upper().split():
        raise smtplib.SMTPException(
            "the user name or password has letters outside ASCII, which only "
            "AUTH PLAIN can carry, and the server does not offer it"
        )
    token = base64.b64encode(f"\0{username}\0{password}".encode()).decode("ascii")
    code, text = smtp.docmd("AUTH", f"PLAIN {token}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, text)


def _refuse(code: int, text: bytes | str) -> None:
    if 500 <= code < 600:
        raise _Permanent(_reply(code, text))
    raise _Temporary(_reply(code, text))


def _write_file(email: EmailMessage, message_id: int, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{message_id:06d}.eml").write_bytes(email.as_bytes())


# -- for the admin -------------------------------------------------------------


def waiting_count(session: Session) -> int:
    """Messages not yet delivered that the jobs will still try."""
    return int(
        session.exec(
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                col(OutboxMessage.status).in_(
                    [MailStatus.PENDING, MailStatus.SENDING, MailStatus.HANDED]
                )
            )
        ).one()
    )


def undelivered(session: Session, *, limit: int = 100) -> Sequence[OutboxMessage]:
    """Failed and uncertain messages, and waiting ones that have failed before."""
    return session.exec(
        select(OutboxMessage)
        .where(
            sa.or_(
                col(OutboxMessage.status).in_(
                    [MailStatus.FAILED, MailStatus.UNCERTAIN]
                ),
                sa.and_(
                    col(OutboxMessage.status) == MailStatus.PENDING,
                    col(OutboxMessage.attempts) > 0,
                ),
            )
        )
        .order_by(col(OutboxMessage.id).desc())
        .limit(limit)
    ).all()


class NotRetriable(Exception):
    """The message is sent, or waiting already."""


def retry(session: Session, *, message_id: int) -> OutboxMessage:
    """Send a failed or uncertain message again, now (same Message-ID). Flushes."""
    message = session.get(OutboxMessage, message_id)
    if message is None or message.status in (
        MailStatus.SENT,
        MailStatus.SENDING,
        MailStatus.HANDED,
    ):
        raise NotRetriable(message_id)
    message.status = MailStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = None
    message.claimed_at = None
    session.add(message)
    session.flush()
    session.info[ENQUEUED] = True
    return message
