"""The model is refreshed by a debounced job after postings change, and by a
periodic job; the admin's jobs page lists it."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, func, select

from moraspar.db import get_session
from moraspar.jobs import tasks
from moraspar.jobs.queue import queue
from moraspar.models import MatchRun, Need, RankingModel, Role
from moraspar.ranking import clear_cache

Factory = Callable[..., Any]


@pytest.fixture(autouse=True)
def _fresh_process() -> Iterator[None]:
    clear_cache()
    yield
    clear_cache()


def _commit_need(app: Flask, school_id: int | None, title: str) -> None:
    with app.app_context():
        session = get_session()
        session.add(Need(school_id=school_id, kind="apl", title=title))
        session.commit()


def _rows(db: Session) -> int:
    return int(db.exec(select(func.count()).select_from(RankingModel)).one())


def test_changed_postings_schedule_one_refresh_for_a_burst(
    app: Flask, db: Session, make_school: Factory
) -> None:
    huey = queue(app)
    school = make_school()

    _commit_need(app, school.id, "APL el")
    _commit_need(app, school.id, "APL vård")

    assert huey.scheduled_count() == 1
    later = datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=1)
    (task,) = huey.read_schedule(later)
    assert task.name == tasks.MODEL_REFRESH
    assert task.eta is not None  # waits for the burst to end

    huey.execute(task, timestamp=later)

    assert _rows(db) == 1
    assert db.exec(select(RankingModel)).one().n_postings == 2
    # Started: the next change asks for a refresh of its own.
    _commit_need(app, school.id, "APL bygg")
    assert huey.scheduled_count() == 1


def test_commits_that_change_no_posting_schedule_nothing(app: Flask) -> None:
    with app.app_context():
        session = get_session()
        session.add(MatchRun())
        session.commit()

    assert queue(app).scheduled_count() == 0


def test_a_rolled_back_change_schedules_nothing(
    app: Flask, make_school: Factory
) -> None:
    school = make_school()
    with app.app_context():
        session = get_session()
        session.add(Need(school_id=school.id, kind="apl", title="APL el"))
        session.flush()
        session.rollback()
        session.add(MatchRun())
        session.commit()

    assert queue(app).scheduled_count() == 0


def test_the_periodic_refresh_refits_only_when_stale(
    app: Flask, db: Session, make_school: Factory, make_need: Factory
) -> None:
    make_need(make_school())
    job = tasks.BY_NAME["refresh_model"]
    moment = datetime(2026, 11, 27, 10, 15, tzinfo=UTC)

    first = tasks.run_scheduled(app, job, now=moment)
    again = tasks.run_scheduled(app, job, now=moment + timedelta(minutes=15))

    assert first.startswith("fitted model 1 on 1 postings")
    assert again == "model 1 is current"
    assert _rows(db) == 1


def test_the_refresh_runs_every_quarter_of_an_hour(app: Flask) -> None:
    job = tasks.BY_NAME["refresh_model"]
    start = datetime(2026, 11, 27, 10, 16, 30, tzinfo=UTC)

    due = job.schedule.next_after(start)

    assert due == datetime(2026, 11, 27, 10, 30, tzinfo=UTC)
    assert job.schedule.crontab()(due.replace(tzinfo=None))
    assert not job.schedule.crontab()(datetime(2026, 11, 27, 10, 31))
    assert job.schedule.slot(start) == "2026-11-27T10:15"
    registered = " ".join(queue(app)._registry._registry)
    assert "scheduled_refresh_model" in registered


def test_the_jobs_page_lists_the_refresh(client: Any, auth: Any) -> None:
    auth.login(Role.ADMIN, language="en")

    page = client.get("/admin/jobs/").get_data(as_text=True)

    assert "Refitting the matching model when postings changed" in page
    assert "Every 15 minutes" in page
