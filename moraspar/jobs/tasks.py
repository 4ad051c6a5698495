"""The jobs, and the schedule of the periodic ones.

Each job calls the same service function as its `moraspar` command, in an
app context of its own with its own Session, and commits. Every job can run
twice without harm: mail and match runs are claimed row by row, the chores
are idempotent, and a scheduled job claims its slot in job_run first, so two
workers that both run the scheduler do the work once.

Times are UTC (the queue runs in UTC): 00:05 UTC is 01:05 or 02:05 in Mora.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import Flask
from huey import Huey, crontab
from huey.signals import SIGNAL_ERROR
from sqlmodel import Session

from moraspar.db import get_session
from moraspar.jobs import matchruns, records
from moraspar.models import utcnow
from moraspar.notifications import mail

log = logging.getLogger(__name__)

MATCH_RUN = "match_run"
DELIVER_MAIL = "deliver_mail"
MODEL_REFRESH = "model_refresh"
# Set while a model refresh is enqueued and has not started: the changes
# committed meanwhile need no refresh of their own.
MODEL_REFRESH_PENDING = "model-refresh-pending"


@dataclass(frozen=True)
class Schedule:
    """When a periodic job is due: every `every` minutes (every minute by
    default), daily at hour:minute, or weekly on day_of_week (0 = Monday) at
    hour:minute, in UTC."""

    minute: int | None = None
    hour: int | None = None
    day_of_week: int | None = None
    every: int = 1  # minutes, when no minute is given

    def crontab(self) -> Callable[[datetime], bool]:
        if self.minute is None:
            return crontab(minute=f"*/{self.every}") if self.every > 1 else crontab()
        dow = "*" if self.day_of_week is None else str((self.day_of_week + 1) % 7)
        return crontab(minute=str(self.minute), hour=str(self.hour), day_of_week=dow)

    def slot(self, moment: datetime) -> str:
        """The period a run at `moment` belongs to (one run per slot)."""
        if self.minute is None:
            start = moment.replace(minute=moment.minute - moment.minute % self.every)
            return start.strftime("%Y-%m-%dT%H:%M")
        if self.day_of_week is None:
            return moment.strftime("%Y-%m-%d")
        return moment.strftime("%G-W%V")

    def next_after(self, moment: datetime) -> datetime:
        """The next moment the job is due, after `moment`."""
        start = moment.replace(second=0, microsecond=0)
        if self.minute is None:
            return start + timedelta(minutes=self.every - start.minute % self.every)
        due = start.replace(hour=self.hour or 0, minute=self.minute)
        if self.day_of_week is None:
            return due if due > moment else due + timedelta(days=1)
        due += timedelta(days=(self.day_of_week - due.weekday()) % 7)
        return due if due > moment else due + timedelta(days=7)


JobBody = Callable[[Flask, Session, datetime], str]


@dataclass(frozen=True)
class Job:
    name: str
    run: JobBody
    schedule: Schedule


def lease(app: Flask) -> timedelta:
    return timedelta(seconds=int(app.config["JOB_LEASE_SECONDS"]))


def mail_settings(app: Flask) -> mail.MailSettings:
    config = app.config
    return mail.MailSettings(
        sender=config["MAIL_FROM"],
        server=config["MAIL_SERVER"],
        port=int(config["MAIL_PORT"]),
        username=config["MAIL_USERNAME"],
        password=config["MAIL_PASSWORD"],
        use_tls=bool(config["MAIL_USE_TLS"]),
        tls_cafile=config["MAIL_TLS_CAFILE"],
        outbox_dir=config["OUTBOX_DIR"],
        timeout=float(config["MAIL_TIMEOUT"]),
        lease_seconds=int(config["MAIL_LEASE_SECONDS"]),
        max_attempts=int(config["MAIL_MAX_ATTEMPTS"]),
        retry_seconds=int(config["MAIL_RETRY_SECONDS"]),
    )


# -- the job bodies: call the service, commit, say what was done --------------


def deliver(app: Flask, session: Session, now: datetime) -> str:
    done = mail.deliver_due(session, mail_settings(app))
    return f"sent {done.sent}, later {done.retry}, failed {done.failed}"


def recover(app: Flask, session: Session, now: datetime) -> str:
    """Take up what stopped workers left: match runs, scheduled runs; prune."""
    again = matchruns.interrupted(session, now=now, lease=lease(app))
    stopped = records.fail_interrupted(session, now=now, lease=lease(app))
    records.prune(session, now=now)
    session.commit()
    for run_id in again:
        enqueue_match_run(app, run_id, None)
    return f"match runs taken up {len(again)}, job runs interrupted {stopped}"


def close_expired(app: Flask, session: Session, now: datetime) -> str:
    from moraspar.lifecycle import close_expired as close

    counts = close(session, today=date.today())
    session.commit()
    return f"closed {counts['need']} needs, {counts['placement']} placements"


def request_evaluations(app: Flask, session: Session, now: datetime) -> str:
    from moraspar.bookings.services import request_evaluations as request

    count = request(session, today=date.today())
    session.commit()
    return f"asked for evaluations of {count} bookings"


def purge(app: Flask, session: Session, now: datetime) -> str:
    from moraspar.privacy.services import purge as purge_old

    months = int(app.config["RETENTION_MONTHS"])
    counts = purge_old(session, months=months, today=date.today())
    session.commit()
    return f"anonymised {counts['placements']} placements"


def refit_ranker(app: Flask, session: Session, now: datetime) -> str:
    from moraspar.council.learning import refit

    result = refit(session)
    session.commit()
    return result.outcome


def refresh_model(app: Flask, session: Session, now: datetime) -> str:
    """Refit the served matching model if the postings changed (the sweep
    behind the refresh enqueued after each change, which a lost task or a
    posting that ended overnight would otherwise leave stale)."""
    from moraspar.ranking import refresh_model as refresh

    queue = app.extensions["moraspar.queue"]
    queue.get(MODEL_REFRESH_PENDING)  # a lost refresh task must not block others
    result = refresh(session)
    session.commit()
    if result.refitted:
        return f"fitted model {result.row.id} on {result.row.n_postings} postings"
    return f"model {result.row.id} is current"


# In the order the admin sees them.
JOBS: tuple[Job, ...] = (
    Job(DELIVER_MAIL, deliver, Schedule()),
    Job("recover", recover, Schedule()),
    Job("refresh_model", refresh_model, Schedule(every=15)),
    Job("close_expired", close_expired, Schedule(minute=5, hour=0)),
    Job("purge", purge, Schedule(minute=0, hour=2)),
    Job("refit_ranker", refit_ranker, Schedule(minute=0, hour=3, day_of_week=6)),
    Job("request_evaluations", request_evaluations, Schedule(minute=0, hour=5)),
)
BY_NAME = {job.name: job for job in JOBS}


def run_scheduled(app: Flask, job: Job, *, now: datetime | None = None) -> str:
    """Run a scheduled job once for its current slot (skipped if another
    worker has it). Raises what the job raised, after recording it."""
    moment = now or utcnow()
    with app.app_context():
        session = get_session()
        run_id = records.start(session, name=job.name, slot=job.schedule.slot(moment))
        if run_id is None:
            return "skipped: another worker has this slot"
        try:
            outcome = job.run(app, session, moment)
        except Exception as exc:
            records.finish(session, run_id, error=f"{type(exc).__name__}: {exc}")
            raise
        records.finish(session, run_id)
        return outcome


def run_match(app: Flask, run_id: int, actor_id: int | None) -> str:
    with app.app_context():
        outcome = matchruns.execute(
            get_session(), run_id, actor_id=actor_id, lease=lease(app)
        )
    return outcome.status


def refresh_model_now(app: Flask) -> str:
    with app.app_context():
        return refresh_model(app, get_session(), utcnow())


def deliver_now(app: Flask) -> str:
    with app.app_context():
        return deliver(app, get_session(), utcnow())


def enqueue_match_run(app: Flask, run_id: int, actor_id: int | None) -> None:
    app.extensions["moraspar.jobs"][MATCH_RUN](run_id, actor_id)


def enqueue_delivery(app: Flask) -> None:
    app.extensions["moraspar.jobs"][DELIVER_MAIL]()


def enqueue_model_refresh(app: Flask) -> bool:
    """Refresh the model MODEL_REFRESH_DELAY seconds from now, unless a
    refresh is already waiting: a burst of edits (an import, a school posting
    its needs one by one) gives one refit. False when one was waiting."""
    huey: Huey = app.extensions["moraspar.queue"]
    if not huey.put_if_empty(MODEL_REFRESH_PENDING, "1"):
        return False
    app.extensions["moraspar.jobs"][MODEL_REFRESH].schedule(
        delay=int(app.config["MODEL_REFRESH_DELAY"])
    )
    return True


def register(huey: Huey, app: Flask) -> dict[str, Any]:
    """Bind the jobs to this app's queue; the callables that enqueue them."""
    enqueued: dict[str, Any] = {
        MATCH_RUN: huey.task(
            retries=3, retry_delay=30, retry_backoff=2.0, name=MATCH_RUN
        )(lambda run_id, actor_id: run_match(app, run_id, actor_id)),
        DELIVER_MAIL: huey.task(
            retries=3, retry_delay=30, retry_backoff=2.0, name=DELIVER_MAIL
        )(lambda: deliver_now(app)),
        MODEL_REFRESH: huey.task(
            retries=2, retry_delay=60, retry_backoff=2.0, name=MODEL_REFRESH
        )(lambda: refresh_model_now(app)),
    }
    for job in JOBS:
        huey.periodic_task(
            job.schedule.crontab(),
            retries=2,
            retry_delay=60,
            retry_backoff=2.0,
            name=f"scheduled_{job.name}",
        )(_scheduled_body(app, job))

    @huey.signal(SIGNAL_ERROR)
    def _failed(signal: str, task: Any, exc: BaseException | None = None) -> None:
        if task.retries or task.name.startswith("scheduled_"):
            return  # retried later, or recorded by run_scheduled
        with app.app_context():
            records.record_failure(
                get_session(),
                name=task.name,
                key=task.id,
                error=f"{type(exc).__name__}: {exc}",
            )

    return enqueued


def _scheduled_body(app: Flask, job: Job) -> Callable[[], str]:
    def body() -> str:
        return run_scheduled(app, job)

    return body
