"""Email through a database outbox.

Requests only enqueue; `moraspar send-mail` delivers over SMTP, or, when no
SMTP server is configured (development), writes each message as an .eml file
to the outbox folder. Nothing is sent to the network from a request.
"""

import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from sqlmodel import Session, col, select

from moraspar.models import OutboxMessage, utcnow


@dataclass(frozen=True)
class MailSettings:
    sender: str
    server: str = ""
    port: int = 25
    username: str = ""
    password: str = ""
    use_tls: bool = False
    outbox_dir: str = "instance/outbox"


def enqueue(session: Session, *, to: str, subject: str, body: str) -> OutboxMessage:
    message = OutboxMessage(to_address=to, subject=subject, body_text=body)
    session.add(message)
    return message


def build_message(message: OutboxMessage, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at.astimezone())
    email["Message-ID"] = make_msgid(domain="moraspar.example")
    email.set_content(message.body_text)
    return email


def pending(session: Session, limit: int = 100) -> Sequence[OutboxMessage]:
    query = (
        select(OutboxMessage)
        .where(col(OutboxMessage.sent_at).is_(None))
        .where(OutboxMessage.attempts < 5)
        .order_by(col(OutboxMessage.id))
        .limit(limit)
    )
    return session.exec(query).all()


def deliver_pending(session: Session, settings: MailSettings) -> tuple[int, int]:
    """Send what waits in the outbox; returns (sent, failed). Flushes, no commit."""
    sent = failed = 0
    for message in pending(session):
        email = build_message(message, settings.sender)
        message.attempts += 1
        try:
            if settings.server:
                _send_smtp(email, settings)
            else:
                _write_file(email, message, Path(settings.outbox_dir))
        except (OSError, smtplib.SMTPException) as exc:
            message.last_error = str(exc)[:2000]
            failed += 1
        else:
            message.sent_at = utcnow()
            message.last_error = ""
            sent += 1
        session.add(message)
    session.flush()
    return sent, failed


def _send_smtp(email: EmailMessage, settings: MailSettings) -> None:
    with smtplib.SMTP(settings.server, settings.port, timeout=30) as smtp:
        if settings.use_tls:
            smtp.starttls()
        if settings.username:
            smtp.login(settings.username, settings.password)
        smtp.send_message(email)


def _write_file(email: EmailMessage, message: OutboxMessage, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{message.id:06d}.eml").write_bytes(email.as_bytes())
