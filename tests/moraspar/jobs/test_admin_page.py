"""The admin's jobs page: last and next runs, failures with their reasons,
undelivered mail with a retry button; for admins only."""

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session

from moraspar.jobs import records, tasks
from moraspar.models import JobRun, MailStatus, MatchRun, OutboxMessage, Role, RunStatus
from moraspar.web.pagecache import EXTENSION


@pytest.fixture
def history(db: Session) -> OutboxMessage:
    db.add(
        JobRun(
            name="close_expired",
            slot="2026-11-27",
            status="done",
            started_at=datetime(2026, 11, 27, 0, 5, tzinfo=UTC),
        )
    )
    db.add(
        JobRun(
            name="purge",
            slot="2026-11-27",
            status="failed",
            error="OperationalError: the database is locked",
        )
    )
    db.add(MatchRun(status=RunStatus.FAILED, error="MemoryError: out of memory"))
    failed = OutboxMessage(
        to_address="gone@example.se",
        subject="Inbjudan",
        body_text="Hej",
        status=MailStatus.FAILED,
        attempts=1,
        last_error="550 5.1.1 No such user",
        message_id="<1@moraspar.example>",
    )
    db.add(failed)
    db.commit()
    return failed


def test_admin_sees_runs_failures_and_undelivered_mail(
    client: Any, auth: Any, history: OutboxMessage
) -> None:
    auth.login(Role.ADMIN, language="en")

    page = client.get("/admin/jobs/").get_data(as_text=True)

    assert "Closing expired postings" in page and "Daily at 00:05 UTC" in page
    assert "Every minute" in page and "Not yet" in page
    assert "OperationalError: the database is locked" in page
    assert "MemoryError: out of memory" in page
    assert "gone@example.se" in page and "550 5.1.1 No such user" in page
    assert f"/admin/jobs/mail/{history.id}/retry" in page
    assert "0 jobs waiting in the queue." in page


def test_the_page_is_in_swedish_by_default(
    client: Any, auth: Any, history: OutboxMessage
) -> None:
    auth.login(Role.ADMIN)

    page = client.get("/admin/jobs/").get_data(as_text=True)

    assert "Stänga utgångna annonser" in page
    assert "Skicka igen" in page


def test_retry_sends_the_mail_again(
    app: Any, client: Any, auth: Any, db: Session, history: OutboxMessage
) -> None:
    auth.login(Role.ADMIN, language="en")

    response = client.post_form(f"/admin/jobs/mail/{history.id}/retry")

    assert response.status_code == 302
    db.expire_all()
    message = db.get(OutboxMessage, history.id)
    assert message is not None
    # No SMTP server in tests: delivered to the outbox folder right away.
    assert message.status == MailStatus.SENT
    assert message.message_id == "<1@moraspar.example>"
    page = client.get("/admin/jobs/").get_data(as_text=True)
    assert "The email will be sent again now." in page


def test_retry_of_a_sent_mail_is_refused(
    client: Any, auth: Any, db: Session, history: OutboxMessage
) -> None:
    history.status = MailStatus.SENT
    db.add(history)
    db.commit()
    auth.login(Role.ADMIN, language="en")

    assert client.post_form(f"/admin/jobs/mail/{history.id}/retry").status_code == 404
    assert client.post_form("/admin/jobs/mail/999/retry").status_code == 404


@pytest.mark.parametrize("role", [Role.TEACHER, Role.COMPANY, Role.COUNCIL])
def test_only_admins_see_the_jobs(client: Any, auth: Any, role: str) -> None:
    auth.login(role)

    assert client.get("/admin/jobs/").status_code == 403


def test_every_job_has_a_label() -> None:
    from moraspar.jobs.views import JOB_LABELS

    assert {job.name for job in tasks.JOBS} <= set(JOB_LABELS)


def test_the_page_is_served_again_until_a_run_starts_or_ends(
    client: Any, auth: Any, app: Flask, db: Session
) -> None:
    """Job runs change without raising the change counter, so the cached
    page also keys on their state: a run that starts or fails shows at once."""
    cache = app.extensions[EXTENSION]
    auth.login(Role.ADMIN, language="en")
    client.get("/admin/jobs/")  # the session gets its form token
    client.get("/admin/jobs/")
    hits = cache.hits
    assert "OperationalError: disk full" not in client.get("/admin/jobs/").get_data(
        as_text=True
    )
    assert cache.hits == hits + 1

    run_id = records.start(db, name="purge", slot="2026-12-01")
    assert run_id is not None
    started = client.get("/admin/jobs/").get_data(as_text=True)
    records.finish(db, run_id, error="OperationalError: disk full")
    finished = client.get("/admin/jobs/").get_data(as_text=True)

    assert cache.hits == hits + 1  # both rendered afresh
    assert "OperationalError: disk full" not in started
    assert "OperationalError: disk full" in finished


def test_the_next_runs_are_rendered_again_when_the_minute_turns(
    client: Any, auth: Any, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The next runs are shown to the minute: a cached page lasts no longer."""
    cache = app.extensions[EXTENSION]
    clock = [datetime(2026, 12, 3, 14, 9, 5, tzinfo=UTC)]
    monkeypatch.setattr("moraspar.jobs.views.utcnow", lambda: clock[0])
    auth.login(Role.ADMIN, language="en")
    client.get("/admin/jobs/")  # the session gets its form token
    before = client.get("/admin/jobs/").get_data(as_text=True)
    hits = cache.hits
    assert client.get("/admin/jobs/").get_data(as_text=True) == before
    assert cache.hits == hits + 1

    clock[0] = datetime(2026, 12, 3, 14, 10, 2, tzinfo=UTC)
    after = client.get("/admin/jobs/").get_data(as_text=True)

    assert cache.hits == hits + 1  # rendered again in the next minute
    # email delivery runs every minute: its next run moved on (Stockholm time)
    assert "15:10" in before and "15:11" not in before
    assert "15:11" in after
