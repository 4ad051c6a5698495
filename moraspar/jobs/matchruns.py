"""A match run as a job: claimed with a lease, so that it runs once.

The run row is the record, not the queue: a worker claims a run with one
UPDATE (queued, or running with a heartbeat older than the lease) and renews
the heartbeat after every phase. A worker killed in the middle leaves the run
'running' with an old heartbeat; the recovery job enqueues it again and the
next worker claims it (attempts + 1). The proposals are written in the run's
one final commit (moraspar.council.runs), so a killed worker wrote none and
the run that finishes writes the only set. After MAX_ATTEMPTS claims the run
is marked failed with the reason instead.

The lease must be longer than the longest phase (ranking all open postings):
ten minutes by default, where a phase of Mora's size takes seconds.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from moraspar.council import runs
from moraspar.jobs.records import aware, worker_name
from moraspar.models import MatchRun, RunStatus, User, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Outcome:
    run_id: int
    status: str  # done, failed, or skipped (another worker has it / finished)
    summary: runs.RunSummary | None = None
    reason: str = ""


def _claimable(now: datetime, lease: timedelta) -> sa.ColumnElement[bool]:
    cutoff = now - lease
    return sa.or_(
        col(MatchRun.status) == RunStatus.QUEUED,
        sa.and_(
            col(MatchRun.status) == RunStatus.RUNNING,
            sa.or_(
                col(MatchRun.heartbeat_at).is_(None),
                col(MatchRun.heartbeat_at) < cutoff,
            ),
        ),
    )


def claim(session: Session, run_id: int, *, now: datetime, lease: timedelta) -> bool:
    """Take the run for this worker; False if another worker holds it or it
    has finished. Commits."""
    result = session.exec(
        sa.update(MatchRun)
        .where(col(MatchRun.id) == run_id)
        .where(_claimable(now, lease))
        .values(
            status=RunStatus.RUNNING,  # so that a second claim finds it taken
            heartbeat_at=now,
            attempts=col(MatchRun.attempts) + 1,
            worker=worker_name(),
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return int(result.rowcount) == 1


def heartbeat(session: Session, run_id: int) -> None:
    session.exec(
        sa.update(MatchRun)
        .where(col(MatchRun.id) == run_id)
        .values(heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.commit()


def execute(
    session: Session,
    run_id: int,
    *,
    actor_id: int | None,
    lease: timedelta,
    progress: runs.Progress | None = None,
) -> Outcome:
    """Claim the run and run it; Outcome says what happened. Commits."""
    if not claim(session, run_id, now=utcnow(), lease=lease):
        return Outcome(run_id, "skipped")
    run = session.get(MatchRun, run_id, populate_existing=True)
    assert run is not None
    if run.attempts > MAX_ATTEMPTS:
        reason = (
            f"interrupted {run.attempts - 1} times: the worker stopped "
            "before the run finished"
        )
        _fail(session, run, reason)
        return Outcome(run_id, RunStatus.FAILED, reason=reason)
    actor = session.get(User, actor_id) if actor_id is not None else None

    def step(done: int, total: int, phase: str) -> None:
        heartbeat(session, run_id)
        if progress is not None:
            progress(done, total, phase)

    try:
        summary = runs.run_matching(session, actor=actor, run_id=run_id, progress=step)
    except runs.MatchRunFailed as exc:
        log.warning("match run %s failed: %s", run_id, exc.reason)
        return Outcome(run_id, RunStatus.FAILED, reason=exc.reason)
    return Outcome(run_id, RunStatus.DONE, summary=summary)


def _fail(session: Session, run: MatchRun, reason: str) -> None:
    run.status = RunStatus.FAILED
    run.error = reason[:2000]
    run.finished_at = utcnow()
    session.add(run)
    session.commit()


def interrupted(session: Session, *, now: datetime, lease: timedelta) -> Sequence[int]:
    """Runs to take up again: running with an old heartbeat, or queued with
    no worker on them for longer than the lease (the enqueued job was lost)."""
    rows = session.exec(
        select(MatchRun.id, MatchRun.status, MatchRun.heartbeat_at, MatchRun.created_at)
        .where(col(MatchRun.status).in_([RunStatus.QUEUED, RunStatus.RUNNING]))
        .order_by(col(MatchRun.id))
    ).all()
    cutoff = now - lease
    found = []
    for run_id, status, beat, created in rows:
        last = aware(beat) or aware(created)
        if run_id is not None and last is not None and last < cutoff:
            found.append(run_id)
        elif run_id is not None and status == RunStatus.RUNNING and beat is None:
            found.append(run_id)  # started by an older version, never claimed
    return found
