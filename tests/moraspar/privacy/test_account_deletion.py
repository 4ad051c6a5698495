"""Deleting an account leaves nothing that names the person, in any table or
mail file; and every column that could hold personal data is accounted for."""

import json
import re
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlmodel import Session, SQLModel, select

from moraspar.models import Organisation, OutboxMessage, Role, utcnow
from moraspar.notifications import mail
from moraspar.privacy import services

# Column names that can carry something about a person.
PERSONAL = re.compile(
    r"email|name|phone|contact|address|body|comment|notes|params|details|decision|"
    r"description|reason"
)

NAME = "Örjan Spårsson"
EMAIL = "orjan.sparsson@svets.example"


def test_every_column_that_can_hold_personal_data_is_accounted_for() -> None:
    found = {
        f"{table.name}.{column.name}"
        for table in SQLModel.metadata.sorted_tables
        for column in table.columns
        if PERSONAL.search(column.name)
    }
    missing = sorted(found - set(services.PERSONAL_DATA))
    assert not missing, (
        f"say in privacy.services.PERSONAL_DATA what deletion and the purge do "
        f"with {missing}"
    )
    stale = sorted(set(services.PERSONAL_DATA) - found)
    assert not stale, f"PERSONAL_DATA names columns that no longer exist: {stale}"


def _everything_stored(db: Session) -> str:
    """Every text and JSON value of every row of every table."""
    chunks = []
    connection = db.connection()
    for table in SQLModel.metadata.sorted_tables:
        for row in connection.execute(sa.select(table)).mappings():
            chunks.append(json.dumps(dict(row), default=str, ensure_ascii=False))
    return "\n".join(chunks)


def _deliver(app: Flask, db: Session) -> None:
    settings = mail.MailSettings(
        sender="m@example", outbox_dir=app.config["OUTBOX_DIR"]
    )
    mail.deliver_due(db, settings, now=utcnow())
    db.commit()


def _files(app: Flask) -> list[Path]:
    return sorted(Path(app.config["OUTBOX_DIR"]).glob("*.eml"))


def test_deletion_leaves_no_trace_of_the_person(
    app: Flask, client: Any, make_user: Any, db: Session
) -> None:
    admin = make_user(Role.ADMIN)
    registration = {
        "company_name": "Spårssons Svets AB",
        "org_number": "556036-0793",
        "locality": "Mora",
        "contact_name": NAME,
        "email": EMAIL,
        "password": "svetsning är kul",
        "confirm": "svetsning är kul",
    }
    assert client.post_form("/register", registration).status_code == 302
    _deliver(app, db)  # the welcome mail is sent: a row and an .eml file
    assert any(EMAIL in path.read_text() for path in _files(app))
    # Mail about the person to someone else: one sent, one still waiting.
    sent = mail.enqueue(db, to=admin.email, subject="Ny", body=f"{NAME} väntar.")
    db.commit()
    sent_id = sent.id
    _deliver(app, db)
    waiting = mail.enqueue(db, to=admin.email, subject="Möte", body=f"Med {NAME}.")
    db.commit()
    # A file left in the folder without its row (delivered by an older run).
    stray = EmailMessage()
    stray["To"] = EMAIL
    stray.set_content(f"Hej {NAME}, välkommen tillbaka!")
    (Path(app.config["OUTBOX_DIR"]) / "stray.eml").write_bytes(stray.as_bytes())

    client.post_form("/login", {"email": EMAIL, "password": "svetsning är kul"})
    response = client.post_form("/my-data/delete", {"password": "svetsning är kul"})
    assert response.status_code == 302

    db.expire_all()
    stored = _everything_stored(db)
    assert EMAIL not in stored.lower()
    assert NAME not in stored
    for path in _files(app):
        text = path.read_bytes().decode("utf-8", "replace")
        assert EMAIL not in text.lower() and "Spårsson" not in text, path
        assert "U3DDpXJzc3Nvbg" not in text  # nor base64-encoded
    company = db.exec(
        select(Organisation).where(Organisation.name == "Spårssons Svets AB")
    ).one()
    assert (company.contact_name, company.contact_email) == ("", "")
    assert db.get(OutboxMessage, sent_id) is None  # sent: gone with its file
    kept = db.get(OutboxMessage, waiting.id)
    assert kept is not None  # still to be sent to the admin, without the name
    assert kept.body_text == f"Med {services.ANONYMOUS_NAME}."


def test_purge_deletes_mail_sent_before_the_retention_limit(
    app: Flask, db: Session, runner: Any
) -> None:
    old = mail.enqueue(db, to="a@example.se", subject="Gammal", body="Hej Kim")
    new = mail.enqueue(db, to="b@example.se", subject="Ny", body="Hej Kim")
    db.commit()
    old_id = old.id
    _deliver(app, db)
    old.sent_at = utcnow().replace(year=utcnow().year - 3)
    db.add(old)
    db.commit()
    assert len(_files(app)) == 2

    result = runner.invoke(args=["purge", "--months", "24"])
    assert result.exit_code == 0, result.output
    db.expire_all()
    assert db.get(OutboxMessage, old_id) is None
    assert db.get(OutboxMessage, new.id) is not None
    assert [path.name for path in _files(app)] == [f"{new.id:06d}.eml"]
