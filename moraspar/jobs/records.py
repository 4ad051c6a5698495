"""Runs of the scheduled jobs, and jobs that failed for good, as JobRun rows.

A scheduled job writes its slot (the minute, day or week it was due) before
it starts: (name, slot) is unique, so when two workers both run the
scheduler, the second finds the row and skips. The rows are also what the
admin's jobs page shows (last run, failures with their reasons).

These functions own their transactions (a job has no request to commit it).
"""

import os
import socket
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from moraspar.models import JobRun, JobStatus, utcnow

RUNNING = JobStatus.RUNNING
DONE = JobStatus.DONE
FAILED = JobStatus.FAILED
SKIPPED = "skipped"

KEEP_DONE = timedelta(days=2)
KEEP_FAILED = timedelta(days=30)


def worker_name() -> str:
    """host:pid, to tell the admin (and the operator) which process ran what."""
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)  # SQLite hands back naive UTC


def start(session: Session, *, name: str, slot: str) -> int | None:
    """Claim (name, slot); the row's id, or None if another worker has it.

    A slot whose run failed may be claimed again (the task's retry)."""
    row = JobRun(name=name, slot=slot, status=RUNNING, worker=worker_name())
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
    else:
        return row.id
    result = session.exec(
        sa.update(JobRun)
        .where(col(JobRun.name) == name)
        .where(col(JobRun.slot) == slot)
        .where(col(JobRun.status) == FAILED)
        .values(status=RUNNING, started_at=utcnow(), error="", worker=worker_name())
        .execution_options(synchronize_session=False)
    )
    session.commit()
    if int(result.rowcount) != 1:
        return None
    return session.exec(
        select(JobRun.id).where(JobRun.name == name).where(JobRun.slot == slot)
    ).one()


def finish(session: Session, run_id: int, *, error: str = "") -> None:
    session.rollback()  # whatever the job left open
    session.exec(
        sa.update(JobRun)
        .where(col(JobRun.id) == run_id)
        .values(
            status=FAILED if error else DONE,
            error=error[:2000],
            finished_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()


def record_failure(session: Session, *, name: str, key: str, error: str) -> None:
    """A job (not a scheduled one) that failed with no retries left."""
    session.rollback()
    now = utcnow()
    session.add(
        JobRun(
            name=name,
            slot=f"task:{key}"[:60],
            status=FAILED,
            started_at=now,
            finished_at=now,
            error=error[:2000],
            worker=worker_name(),
        )
    )
    try:
        session.commit()
    except IntegrityError:
        session.rollback()


def fail_interrupted(session: Session, *, now: datetime, lease: timedelta) -> int:
    """Runs still 'running' long after they started: their worker stopped."""
    result = session.exec(
        sa.update(JobRun)
        .where(col(JobRun.status) == RUNNING)
        .where(col(JobRun.started_at) < now - lease)
        .values(
            status=FAILED,
            error="interrupted: the worker stopped before the job finished",
            finished_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)


def prune(session: Session, *, now: datetime) -> int:
    """Forget old runs: successful ones after two days, failures after 30."""
    result = session.exec(
        sa.delete(JobRun).where(
            sa.or_(
                sa.and_(
                    col(JobRun.status).in_([DONE, SKIPPED]),
                    col(JobRun.started_at) < now - KEEP_DONE,
                ),
                col(JobRun.started_at) < now - KEEP_FAILED,
            )
        )
    )
    return int(result.rowcount)


def last_runs(session: Session, names: Sequence[str]) -> dict[str, JobRun]:
    """The latest run of each named job."""
    latest = (
        select(JobRun.name, sa.func.max(JobRun.id).label("last_id"))
        .where(col(JobRun.name).in_(list(names)))
        .where(~col(JobRun.slot).startswith("task:"))
        .group_by(col(JobRun.name))
        .subquery()
    )
    rows = session.exec(
        select(JobRun).join(latest, col(JobRun.id) == latest.c.last_id)
    ).all()
    return {row.name: row for row in rows}


def state(session: Session) -> tuple[object, ...]:
    """One cheap read that changes with every write to the runs (a quiet
    table, see `moraspar.changes`): an insert or a prune moves the count or
    the last id, a claim the latest start, a finish the latest end."""
    row = session.exec(
        select(
            sa.func.count(),
            sa.func.max(JobRun.id),
            sa.func.max(JobRun.started_at),
            sa.func.max(JobRun.finished_at),
        ).select_from(JobRun)
    ).one()
    return tuple(row)


def failures(session: Session, *, limit: int = 50) -> Sequence[JobRun]:
    return session.exec(
        select(JobRun)
        .where(JobRun.status == FAILED)
        .order_by(col(JobRun.id).desc())
        .limit(limit)
    ).all()


def running_count(session: Session) -> int:
    return int(
        session.exec(
            select(sa.func.count()).select_from(JobRun).where(JobRun.status == RUNNING)
        ).one()
    )


def failed_count(session: Session, *, since: datetime) -> int:
    return int(
        session.exec(
            select(sa.func.count())
            .select_from(JobRun)
            .where(JobRun.status == FAILED)
            .where(col(JobRun.started_at) >= since)
        ).one()
    )
