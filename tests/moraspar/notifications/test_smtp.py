"""Mail delivery over SMTP, against a real SMTP server the tests start
(aiosmtpd on 127.0.0.1): STARTTLS with a verified certificate, sign-in, a
refused recipient, a server that is down, and a worker that dies mid-way."""

import socket
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlmodel import Session

from moraspar.models import MailStatus, OutboxMessage, utcnow
from moraspar.notifications import mail

USER, SECRET = "moraspar", "smtp-secret"


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing after it runs."""


@dataclass
class Inbox:
    """What the test server accepted, and whom it refuses."""

    messages: list[EmailMessage] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 Message accepted"

    def ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.messages]


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = (
        isinstance(data, LoginPassword)
        and data.login == USER.encode()
        and data.password == SECRET.encode()
    )
    return AuthResult(success=ok)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
            "-keyout", str(key), "-out", str(cert), "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def smtp_server(inbox: Inbox, certificate: tuple[Path, Path]) -> Iterator[int]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    port = _free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        auth_required=True,
        authenticator=_authenticate,
    )
    controller.start()
    yield port
    controller.stop()


@pytest.fixture
def settings(smtp_server: int, certificate: tuple[Path, Path]) -> mail.MailSettings:
    return mail.MailSettings(
        sender="Moraspår <no-reply@moraspar.example>",
        server="127.0.0.1",
        port=smtp_server,
        username=USER,
        password=SECRET,
        use_tls=True,
        tls_cafile=str(certificate[0]),
        timeout=10,
        retry_seconds=60,
        max_attempts=3,
    )


def _enqueue(db: Session, to: str, **kw: Any) -> OutboxMessage:
    message = mail.enqueue(db, to=to, subject="Ett förslag väntar", body="Hej!", **kw)
    db.commit()
    return message


def _row(db: Session, message: OutboxMessage) -> OutboxMessage:
    db.expire_all()
    row = db.get(OutboxMessage, message.id)
    assert row is not None
    return row


def test_delivers_over_starttls_with_sign_in(
    db: Session, inbox: Inbox, settings: mail.MailSettings
) -> None:
    notice = _enqueue(
        db, "larare@example.se", unsubscribe_url="https://moraspar.example/off"
    )
    plain = _enqueue(db, "foretag@example.se")

    done = mail.deliver_due(db, settings)

    assert (done.sent, done.retry, done.failed) == (2, 0, 0)
    rows = [_row(db, notice), _row(db, plain)]
    assert [r.status for r in rows] == [MailStatus.SENT, MailStatus.SENT]
    assert inbox.ids() == [r.message_id for r in rows]
    first, second = inbox.messages
    assert first.get_content_type() == "text/plain"
    assert first.get_content().strip() == "Hej!"
    assert str(first["Subject"]) == "Ett förslag väntar"
    assert first["List-Unsubscribe"] == "<https://moraspar.example/off>"
    assert second["List-Unsubscribe"] is None
    assert mail.deliver_due(db, settings).sent == 0  # nothing sent twice


def test_an_unknown_certificate_is_not_trusted(
    db: Session, inbox: Inbox, settings: mail.MailSettings
) -> None:
    message = _enqueue(db, "larare@example.se")

    mail.deliver_due(db, replace(settings, tls_cafile=""))

    row = _row(db, message)
    assert row.status == MailStatus.PENDING
    assert "CERTIFICATE_VERIFY_FAILED" in row.last_error
    assert inbox.messages == []


def test_a_refused_recipient_fails_for_good_and_the_others_go(
    db: Session, inbox: Inbox, settings: mail.MailSettings
) -> None:
    inbox.refuse["finns.inte@example.se"] = "550 5.1.1 No such user"
    refused = _enqueue(db, "finns.inte@example.se")
    fine = _enqueue(db, "larare@example.se")

    done = mail.deliver_due(db, settings)
    again = mail.deliver_due(db, settings, now=utcnow() + timedelta(days=2))

    assert (done.sent, done.failed) == (1, 1)
    row = _row(db, refused)
    assert row.status == MailStatus.FAILED
    assert row.last_error.startswith("550 5.1.1 No such user")
    assert _row(db, fine).status == MailStatus.SENT
    assert again.sent == again.failed == 0  # a refusal is not tried again
    assert [str(m["To"]) for m in inbox.messages] == ["larare@example.se"]


def test_a_busy_recipient_is_tried_again(
    db: Session, inbox: Inbox, settings: mail.MailSettings
) -> None:
    inbox.refuse["full@example.se"] = "452 4.2.2 Mailbox full"
    message = _enqueue(db, "full@example.se")

    mail.deliver_due(db, settings)
    assert _row(db, message).status == MailStatus.PENDING

    del inbox.refuse["full@example.se"]
    mail.deliver_due(db, settings, now=utcnow() + timedelta(minutes=2))
    assert _row(db, message).status == MailStatus.SENT
    assert len(inbox.messages) == 1


def test_a_server_that_is_down_loses_nothing_and_is_tried_later(
    db: Session, inbox: Inbox, settings: mail.MailSettings
) -> None:
    down = replace(settings, port=_free_port())  # nothing listens there
    message = _enqueue(db, "larare@example.se")

    first = mail.deliver_due(db, down)
    row = _row(db, message)
    assert first.retry == 1
    assert row.status == MailStatus.PENDING and row.attempts == 1
    assert "refused" in row.last_error.lower()
    assert row.next_attempt_at is not None
    # Not due yet: a second sweep right away does not hammer the server.
    assert mail.deliver_due(db, settings).sent == 0
    assert row in mail.undelivered(db)  # the admin's jobs page lists it

    later = utcnow() + timedelta(minutes=2)
    assert mail.deliver_due(db, settings, now=later).sent == 1
    assert _row(db, message).status == MailStatus.SENT
    assert inbox.ids() == [row.message_id]


def test_gives_up_after_the_last_attempt_and_the_admin_can_retry(
    db: Session, inbox: Inbox, settings: mail.MailSettings
) -> None:
    down = replace(settings, port=_free_port())
    message = _enqueue(db, "larare@example.se")
    moment = utcnow()
    for _attempt in range(settings.max_attempts):
        mail.deliver_due(db, down, now=moment)
        moment += timedelta(hours=7)

    row = _row(db, message)
    assert row.status == MailStatus.FAILED
    assert row.last_error.startswith("gave up after 3 attempts")

    mail.retry(db, message_id=row.id or 0)
    db.commit()
    assert mail.deliver_due(db, settings).sent == 1
    assert inbox.ids() == [row.message_id]


def _die_when(status: str, monkeypatch: pytest.MonkeyPatch) -> None:
    real = mail._set

    def dying(session: Session, message_id: int, **values: object) -> int:
        if values.get("status") == status:
            raise WorkerKilled
        return real(session, message_id, **values)

    monkeypatch.setattr(mail, "_set", dying)


def test_a_worker_dead_before_handing_over_leaves_it_to_be_sent_once(
    db: Session, inbox: Inbox, settings: mail.MailSettings, monkeypatch: Any
) -> None:
    message = _enqueue(db, "larare@example.se")
    _die_when(MailStatus.HANDED, monkeypatch)
    with pytest.raises(WorkerKilled):
        mail.deliver_due(db, settings)
    db.rollback()
    monkeypatch.undo()
    assert _row(db, message).status == MailStatus.SENDING

    # Another worker: within the lease it leaves the claim alone ...
    assert mail.deliver_due(db, settings).sent == 0
    # ... and after it, sends the message.
    later = utcnow() + timedelta(seconds=settings.lease_seconds + 1)
    assert mail.deliver_due(db, settings, now=later).sent == 1
    assert len(inbox.messages) == 1


def test_a_worker_dead_after_sending_does_not_send_it_again(
    db: Session, inbox: Inbox, settings: mail.MailSettings, monkeypatch: Any
) -> None:
    message = _enqueue(db, "larare@example.se")
    _die_when(MailStatus.SENT, monkeypatch)
    with pytest.raises(WorkerKilled):
        mail.deliver_due(db, settings)
    db.rollback()
    monkeypatch.undo()
    assert _row(db, message).status == MailStatus.HANDED
    assert len(inbox.messages) == 1

    later = utcnow() + timedelta(seconds=settings.lease_seconds + 1)
    done = mail.deliver_due(db, settings, now=later)

    row = _row(db, message)
    assert done.recovered == 1 and done.sent == 0
    assert row.status == MailStatus.UNCERTAIN
    assert "may have been delivered" in row.last_error
    assert len(inbox.messages) == 1
    # The admin may send it again; it keeps its Message-ID, so a receiver
    # that has the first copy can drop this one.
    mail.retry(db, message_id=row.id or 0)
    db.commit()
    mail.deliver_due(db, settings)
    assert inbox.ids() == [row.message_id, row.message_id]


def test_two_workers_never_claim_the_same_message(
    db: Session, engine: Any, settings: mail.MailSettings
) -> None:
    message = _enqueue(db, "larare@example.se")
    assert message.id is not None
    now = utcnow()
    with Session(engine) as other:
        assert mail.claim(db, message.id, now=now)
        db.commit()
        assert not mail.claim(other, message.id, now=now)
