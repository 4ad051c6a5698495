"""The periodic jobs: each slot runs once across workers, failures are kept
with their reason, and the schedule says when each runs next."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from moraspar.jobs import tasks
from moraspar.jobs.queue import queue
from moraspar.models import JobRun, OutboxMessage, Placement, PostingStatus, Role


def test_a_slot_runs_once_even_when_two_schedulers_enqueue_it(
    app: Any, db: Session, make_company: Any, make_placement: Any
) -> None:
    placement = make_placement(make_company(), end_date=date(2000, 1, 1))
    job = tasks.BY_NAME["close_expired"]
    moment = datetime(2026, 11, 27, 0, 5, tzinfo=UTC)

    first = tasks.run_scheduled(app, job, now=moment)
    second = tasks.run_scheduled(app, job, now=moment + timedelta(minutes=3))

    assert first == "closed 0 needs, 1 placements"
    assert second.startswith("skipped")
    db.expire_all()
    assert db.get(Placement, placement.id).status == PostingStatus.CLOSED  # type: ignore[union-attr]
    runs = db.exec(select(JobRun).where(JobRun.name == "close_expired")).all()
    assert [(r.slot, r.status) for r in runs] == [("2026-11-27", "done")]


def test_a_failing_job_is_recorded_with_its_reason_and_its_retry_may_run(
    app: Any, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any, **_kw: Any) -> Any:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr("moraspar.privacy.services.purge", broken)
    job = tasks.BY_NAME["purge"]
    moment = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)

    with pytest.raises(RuntimeError):
        tasks.run_scheduled(app, job, now=moment)
    failed = db.exec(select(JobRun)).one()
    assert (failed.status, failed.error) == ("failed", "RuntimeError: the disk is full")

    monkeypatch.undo()
    retried = tasks.run_scheduled(app, job, now=moment + timedelta(minutes=1))
    assert retried.startswith("anonymised")
    db.expire_all()
    assert db.exec(select(JobRun)).one().status == "done"


def test_every_chore_is_scheduled_on_the_queue(app: Any) -> None:
    registered = set(queue(app)._registry._registry)

    for name in (
        "deliver_mail",
        "recover",
        "close_expired",
        "request_evaluations",
        "purge",
        "refit_ranker",
    ):
        assert f"scheduled_{name}" in " ".join(registered)
    assert any(key.endswith("match_run") for key in registered)


@pytest.mark.parametrize(
    ("schedule", "moment", "expected"),
    [
        (tasks.Schedule(), "2026-11-27T10:15:30", "2026-11-27T10:16:00"),
        (tasks.Schedule(5, 0), "2026-11-27T00:04:00", "2026-11-27T00:05:00"),
        (tasks.Schedule(5, 0), "2026-11-27T00:05:00", "2026-11-28T00:05:00"),
        (tasks.Schedule(0, 3, 6), "2026-11-27T12:00:00", "2026-11-29T03:00:00"),
        (tasks.Schedule(0, 3, 6), "2026-11-29T03:00:00", "2026-12-06T03:00:00"),
    ],
)
def test_next_run(schedule: tasks.Schedule, moment: str, expected: str) -> None:
    start = datetime.fromisoformat(moment).replace(tzinfo=UTC)
    due = schedule.next_after(start)
    assert due.isoformat() == f"{expected}+00:00"
    assert schedule.crontab()(due.replace(tzinfo=None))


def test_mail_from_a_request_is_delivered_right_after_the_commit(
    app: Any, client: Any, auth: Any, db: Session, make_school: Any
) -> None:
    school = make_school()
    auth.login(Role.ADMIN, language="en")

    response = client.post_form(
        "/admin/users/invite",
        {
            "email": "new.teacher@example.se",
            "display_name": "New Teacher",
            "role": Role.TEACHER,
            "organisation_id": school.id,
            "language": "sv",
        },
    )

    assert response.status_code == 302
    message = db.exec(select(OutboxMessage)).one()
    assert (message.status, message.attempts) == ("sent", 1)
    assert message.sent_at is not None and message.message_id
    files = list(Path(app.config["OUTBOX_DIR"]).glob("*.eml"))
    assert len(files) == 1
    assert message.message_id in files[0].read_text()
