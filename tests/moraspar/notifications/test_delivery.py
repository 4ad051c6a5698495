"""`moraspar send-mail`: the outbox delivered as .eml files, or over SMTP to a
real server on the loopback interface (aiosmtpd), login without STARTTLS.

test_smtp.py drives `deliver_due` against a STARTTLS server (claims, leases,
backoff); these tests go through the command, its counts and the headers."""

import email
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from flask import Flask
from sqlmodel import Session as DbSession
from sqlmodel import col, select

from moraspar.jobs.tasks import mail_settings
from moraspar.models import MailStatus, OutboxMessage, utcnow
from moraspar.notifications import mail

SUBJECT = "Ny bokning: prao på Färnäs Bygg & Montage AB"
BODY = (
    "Hej Karin!\n\n"
    "Färnäs Bygg & Montage AB tar emot två elever i årskurs 8 för prao "
    "vecka 10–11. Öppna Moraspår för att bekräfta bokningen.\n"
)
LOGIN, SECRET = "moraspar", "hemligt-losenord"
SWEDISH_SECRET = "hemligt lösenord på fäbodvallen"
REFUSED = "okand@moraspar.example"
BUSY = "full@moraspar.example"


def outbox(db: DbSession, *recipients: str) -> list[OutboxMessage]:
    messages = [
        mail.enqueue(db, to=recipient, subject=SUBJECT, body=BODY)
        for recipient in recipients
    ]
    db.commit()
    return messages


def reload(db: DbSession) -> list[OutboxMessage]:
    db.expire_all()
    query = select(OutboxMessage).order_by(col(OutboxMessage.id))
    return list(db.exec(query).all())


def send_mail(runner: Any) -> str:
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 0, result.output
    return str(result.output).strip()


def counts(sent: int, later: int, failed: int) -> str:
    return f"Sent {sent}, to try again later {later}, failed {failed}."


def parse(raw: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def assert_is_the_message(parsed: EmailMessage, to: str) -> None:
    assert parsed["From"] == "Moraspår <no-reply@moraspar.example>"
    assert parsed["To"] == to
    assert parsed["Subject"] == SUBJECT
    assert parsed["Message-ID"].endswith("@moraspar.example>")
    assert parsedate_to_datetime(parsed["Date"]).tzinfo is not None
    assert parsed.get_content_type() == "text/plain"
    assert parsed.get_content_charset() == "utf-8"
    # SMTP carries lines ending in CRLF; the file keeps the newlines.
    assert parsed.get_content().replace("\r\n", "\n") == BODY


def assert_sent_once(message: OutboxMessage) -> None:
    assert message.status == MailStatus.SENT
    assert message.sent_at is not None
    assert (message.attempts, message.last_error) == (1, "")


# --- the outbox folder (no SMTP server configured) ---------------------------


def test_send_mail_writes_each_waiting_message_as_an_eml_file(
    app: Flask, runner: Any, db: DbSession
) -> None:
    first, second = outbox(db, "karin@mora.example", "per@farnas.example")
    folder = Path(app.config["OUTBOX_DIR"])

    assert send_mail(runner) == counts(2, 0, 0)

    files = sorted(folder.glob("*.eml"))
    assert [path.name for path in files] == [
        f"{first.id:06d}.eml",
        f"{second.id:06d}.eml",
    ]
    raw = files[0].read_bytes()
    # Headers travel as ASCII: the Swedish subject is RFC 2047 encoded UTF-8.
    head = raw.split(b"\n\n", 1)[0]
    assert head.isascii()
    assert b"=?utf-8?" in head
    assert_is_the_message(parse(raw), "karin@mora.example")
    assert_is_the_message(parse(files[1].read_bytes()), "per@farnas.example")
    for message in reload(db):
        assert_sent_once(message)


@pytest.fixture
def stockholm_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local time is Swedish (POSIX rule: no tz database needed)."""
    monkeypatch.setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_the_date_header_is_the_stored_utc_moment_in_any_local_zone(
    app: Flask, runner: Any, db: DbSession, stockholm_clock: None
) -> None:
    (message,) = outbox(db, "karin@mora.example")
    created = datetime(2025, 1, 15, 7, 30, tzinfo=UTC)
    message.created_at = created
    db.add(message)
    db.commit()

    assert send_mail(runner) == counts(1, 0, 0)

    (path,) = Path(app.config["OUTBOX_DIR"]).glob("*.eml")
    # Stored as UTC without a zone; read as Swedish local time it would say
    # 06:30 UTC.
    assert parsedate_to_datetime(parse(path.read_bytes())["Date"]) == created


def test_a_second_run_sends_nothing_again(
    app: Flask, runner: Any, db: DbSession
) -> None:
    outbox(db, "karin@mora.example")
    send_mail(runner)
    assert send_mail(runner) == counts(0, 0, 0)
    assert len(list(Path(app.config["OUTBOX_DIR"]).glob("*.eml"))) == 1
    assert_sent_once(reload(db)[0])


def test_an_unwritable_outbox_folder_keeps_the_message_for_a_later_run(
    app: Flask, runner: Any, db: DbSession, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the outbox folder should be")
    app.config["OUTBOX_DIR"] = str(blocker / "outbox")
    outbox(db, "karin@mora.example")

    assert send_mail(runner) == counts(0, 1, 0)
    (message,) = reload(db)
    assert (message.status, message.sent_at, message.attempts) == (
        MailStatus.PENDING,
        None,
        1,
    )
    assert "not-a-folder" in message.last_error
    assert message.next_attempt_at is not None

    app.config["OUTBOX_DIR"] = str(tmp_path / "outbox")
    assert send_mail(runner) == counts(0, 0, 0)  # not due yet
    later = utcnow() + timedelta(minutes=2)
    assert mail.deliver_due(db, mail_settings(app), now=later).sent == 1
    (message,) = reload(db)
    assert message.status == MailStatus.SENT and message.sent_at is not None
    assert (message.attempts, message.last_error) == (2, "")
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1


# --- SMTP --------------------------------------------------------------------


class Mailbox:
    """An aiosmtpd handler that keeps what it accepts and refuses some recipients.

    aiosmtpd calls the handle_<VERB> methods by name, and `authenticate` as the
    controller's authenticator."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []
        self.logins: list[tuple[bytes, bytes]] = []
        self.password = SECRET
        self.refused = {
            REFUSED: "550 5.1.1 No such mailbox here",
            BUSY: "452 4.2.2 Mailbox full, try again later",
        }

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address in self.refused:
            return self.refused[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        assert isinstance(envelope.content, bytes)
        sender = str(envelope.mail_from)
        self.received.append((sender, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"

    def authenticate(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        auth_data: Any,
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.logins.append((auth_data.login, auth_data.password))
        ok = (auth_data.login, auth_data.password) == (
            LOGIN.encode(),
            self.password.encode(),
        )
        return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(app: Flask, mailbox: Mailbox, **options: Any) -> Controller:
    """A local SMTP server that takes a login without TLS and offers no
    STARTTLS; the app is configured to send to it and to sign in."""
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=mailbox.authenticate,
        auth_require_tls=False,
        **options,
    )
    controller.start()
    app.config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=controller.port,
        MAIL_USERNAME=LOGIN,
        MAIL_PASSWORD=SECRET,
        MAIL_USE_TLS=False,
    )
    return controller


@pytest.fixture
def smtp_server(app: Flask) -> Iterator[Mailbox]:
    mailbox = Mailbox()
    controller = start_server(app, mailbox)
    try:
        yield mailbox
    finally:
        controller.stop()


def test_send_mail_delivers_over_smtp_after_signing_in(
    app: Flask, runner: Any, db: DbSession, smtp_server: Mailbox
) -> None:
    outbox(db, "karin@mora.example")

    assert send_mail(runner) == counts(1, 0, 0)

    assert smtp_server.logins == [(LOGIN.encode(), SECRET.encode())]
    ((sender, recipients, raw),) = smtp_server.received
    assert sender == "no-reply@moraspar.example"
    assert recipients == ["karin@mora.example"]
    assert_is_the_message(parse(raw), "karin@mora.example")
    assert_sent_once(reload(db)[0])
    assert not list(Path(app.config["OUTBOX_DIR"]).glob("*.eml"))


def test_swedish_letters_in_the_body_travel_in_seven_bits(
    runner: Any, db: DbSession, smtp_server: Mailbox
) -> None:
    """MAIL FROM declares no BODY=8BITMIME, so the body may not use the 8th
    bit: a server that strips it would turn "två" into "tvC%". (Short lines:
    a long one gets quoted-printable by itself.)"""
    short = "Hej Åsa!\nTvå elever kommer på måndag.\n"
    mail.enqueue(db, to="asa@mora.example", subject=SUBJECT, body=short)
    db.commit()

    assert send_mail(runner) == counts(1, 0, 0)

    ((_, _, raw),) = smtp_server.received
    assert raw.isascii()
    parsed = parse(raw)
    assert parsed["Content-Transfer-Encoding"] == "quoted-printable"
    assert parsed.get_content().replace("\r\n", "\n") == short


def test_a_wrong_password_keeps_every_message_for_a_later_try(
    app: Flask, runner: Any, db: DbSession, smtp_server: Mailbox
) -> None:
    app.config["MAIL_PASSWORD"] = "fel"
    outbox(db, "karin@mora.example", "per@farnas.example")

    assert send_mail(runner) == counts(0, 2, 0)

    assert smtp_server.received == []
    for message in reload(db):
        assert (message.status, message.sent_at) == (MailStatus.PENDING, None)
        assert message.attempts == 1
        assert "535" in message.last_error


def test_a_password_with_swedish_letters_signs_in(
    app: Flask, runner: Any, db: DbSession, smtp_server: Mailbox
) -> None:
    app.config["MAIL_PASSWORD"] = smtp_server.password = SWEDISH_SECRET
    outbox(db, "karin@mora.example")

    assert send_mail(runner) == counts(1, 0, 0)

    # AUTH PLAIN carries the password in UTF-8 (RFC 4616).
    assert smtp_server.logins == [(LOGIN.encode(), SWEDISH_SECRET.encode())]
    assert len(smtp_server.received) == 1
    assert_sent_once(reload(db)[0])


def test_a_password_with_swedish_letters_and_no_auth_plain_keeps_the_run_going(
    app: Flask, runner: Any, db: DbSession
) -> None:
    mailbox = Mailbox()
    mailbox.password = SWEDISH_SECRET
    controller = start_server(app, mailbox, auth_exclude_mechanism=["PLAIN"])
    app.config["MAIL_PASSWORD"] = SWEDISH_SECRET
    outbox(db, "karin@mora.example", "per@farnas.example")
    try:
        assert send_mail(runner) == counts(0, 2, 0)
    finally:
        controller.stop()

    assert mailbox.logins == [] and mailbox.received == []
    for message in reload(db):
        assert (message.status, message.attempts) == (MailStatus.PENDING, 1)
        assert "AUTH PLAIN" in message.last_error
        assert SWEDISH_SECRET not in message.last_error


def test_an_address_with_swedish_letters_fails_and_the_others_go(
    runner: Any, db: DbSession, smtp_server: Mailbox
) -> None:
    outbox(db, "åsa@mora.example", "karin@mora.example")

    assert send_mail(runner) == counts(1, 0, 1)

    unsendable, delivered = reload(db)
    assert unsendable.status == MailStatus.FAILED
    assert "SMTPUTF8" in unsendable.last_error
    assert delivered.status == MailStatus.SENT
    assert [recipients for _, recipients, _ in smtp_server.received] == [
        ["karin@mora.example"]
    ]


def test_a_refused_recipient_fails_for_good_until_the_admin_sends_it_again(
    runner: Any, db: DbSession, smtp_server: Mailbox
) -> None:
    outbox(db, REFUSED, "karin@mora.example")

    assert send_mail(runner) == counts(1, 0, 1)
    refused, delivered = reload(db)
    assert refused.status == MailStatus.FAILED and refused.sent_at is None
    assert refused.last_error.startswith("550 5.1.1 No such mailbox here")
    assert_sent_once(delivered)

    del smtp_server.refused[REFUSED]  # the mailbox now exists
    assert send_mail(runner) == counts(0, 0, 0)
    assert reload(db)[0].status == MailStatus.FAILED

    mail.retry(db, message_id=refused.id or 0)
    db.commit()
    assert send_mail(runner) == counts(1, 0, 0)
    refused, delivered = reload(db)
    assert refused.status == MailStatus.SENT and refused.last_error == ""
    assert delivered.attempts == 1  # a delivered message is never sent again
    assert [recipients for _, recipients, _ in smtp_server.received] == [
        ["karin@mora.example"],
        [REFUSED],
    ]


def test_a_busy_mailbox_is_given_up_after_the_last_attempt(
    app: Flask, runner: Any, db: DbSession, smtp_server: Mailbox
) -> None:
    app.config["MAIL_MAX_ATTEMPTS"] = 5
    (message,) = outbox(db, BUSY)
    message.attempts = 4
    db.add(message)
    db.commit()

    assert send_mail(runner) == counts(0, 0, 1)
    (message,) = reload(db)
    assert (message.status, message.attempts) == (MailStatus.FAILED, 5)
    assert message.last_error.startswith("gave up after 5 attempts: 452")

    del smtp_server.refused[BUSY]
    later = utcnow() + timedelta(days=1)
    assert mail.deliver_due(db, mail_settings(app), now=later).sent == 0
    (message,) = reload(db)
    assert (message.attempts, message.sent_at) == (5, None)
    assert smtp_server.received == []


def test_starttls_asked_of_a_server_without_it_signs_in_to_nothing_and_waits(
    app: Flask, runner: Any, db: DbSession, smtp_server: Mailbox
) -> None:
    app.config["MAIL_USE_TLS"] = True
    outbox(db, "karin@mora.example")

    assert send_mail(runner) == counts(0, 1, 0)

    # The password is not sent in the clear to a server that cannot hide it.
    assert smtp_server.logins == [] and smtp_server.received == []
    (message,) = reload(db)
    assert message.status == MailStatus.PENDING
    assert "STARTTLS" in message.last_error


def test_a_server_that_does_not_answer_keeps_the_message(
    app: Flask, runner: Any, db: DbSession
) -> None:
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())
    outbox(db, "karin@mora.example")

    assert send_mail(runner) == counts(0, 1, 0)

    (message,) = reload(db)
    assert (message.status, message.sent_at) == (MailStatus.PENDING, None)
    assert message.attempts == 1 and message.last_error
