"""Match runs as jobs: enqueued by the button, claimed with a lease, taken up
again after a worker dies in the middle, and never stored twice."""

from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from moraspar.council import runs
from moraspar.jobs import matchruns, tasks
from moraspar.jobs.queue import queue
from moraspar.models import MatchProposal, MatchRun, Role, RunStatus, utcnow

FUTURE = date(2099, 6, 1)
LEASE = timedelta(minutes=10)


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing after it runs, no except Exception sees it."""


@pytest.fixture
def pairs(
    make_school: Any, make_company: Any, make_need: Any, make_placement: Any
) -> None:
    school = make_school()
    make_need(school, students=3, end_date=FUTURE)
    make_need(school, students=2, title="Prao i verkstad", end_date=FUTURE)
    company = make_company()
    make_placement(company, places=2, end_date=FUTURE)
    make_placement(company, places=2, title="Svetsare", end_date=FUTURE)


def _queued(db: Session) -> MatchRun:
    run = runs.create_run(db, actor=None)
    db.commit()
    return run


def _proposals(db: Session) -> list[tuple[int, int, int | None]]:
    db.expire_all()
    return sorted(
        (p.need_id, p.placement_id, p.run_id)
        for p in db.exec(select(MatchProposal)).all()
    )


def _time_passes(db: Session, run_id: int, span: timedelta) -> None:
    """Move the run's heartbeat back, as if span had passed since the last one."""
    run = db.get(MatchRun, run_id)
    assert run is not None and run.heartbeat_at is not None
    run.heartbeat_at = utcnow() - span
    db.add(run)
    db.commit()


def _kill_at(phase_name: str) -> Any:
    def progress(done: int, total: int, phase: str) -> None:
        if phase == phase_name:
            raise WorkerKilled

    return progress


def test_a_run_whose_worker_died_is_taken_up_and_stored_once(
    app: Any, db: Session, pairs: None
) -> None:
    reference = _queued(db)
    matchruns.execute(db, reference.id or 0, actor_id=None, lease=LEASE)
    expected = {(n, p) for n, p, _run in _proposals(db)}
    assert expected  # the data gives proposals
    run = _queued(db)
    assert run.id is not None

    with pytest.raises(WorkerKilled):
        matchruns.execute(
            db, run.id, actor_id=None, lease=LEASE, progress=_kill_at("allocate")
        )
    db.rollback()  # the dead worker's open transaction is gone with it
    db.expire_all()
    stuck = db.get(MatchRun, run.id)
    assert stuck is not None and stuck.status == RunStatus.RUNNING
    assert {r for _n, _p, r in _proposals(db)} == {reference.id}  # nothing written

    # Within the lease nobody takes it; after it, the recovery job does.
    assert tasks.run_scheduled(app, tasks.BY_NAME["recover"]).startswith(
        "match runs taken up 0"
    )
    _time_passes(db, run.id, LEASE + timedelta(minutes=1))
    next_minute = utcnow() + timedelta(minutes=1)
    outcome = tasks.run_scheduled(app, tasks.BY_NAME["recover"], now=next_minute)

    assert outcome.startswith("match runs taken up 1")
    db.expire_all()
    done = db.get(MatchRun, run.id)
    assert done is not None and done.status == RunStatus.DONE and done.attempts == 2
    stored = _proposals(db)
    assert {(n, p) for n, p, _r in stored} == expected
    assert len(stored) == len(expected)
    assert {r for _n, _p, r in stored} == {run.id}


def test_a_run_with_a_live_heartbeat_is_not_claimed_twice(
    db: Session, pairs: None
) -> None:
    run = _queued(db)
    assert run.id is not None
    assert matchruns.claim(db, run.id, now=utcnow(), lease=LEASE)

    second = matchruns.execute(db, run.id, actor_id=None, lease=LEASE)

    assert second.status == "skipped"
    assert _proposals(db) == []


def test_a_finished_run_is_not_run_again(db: Session, pairs: None) -> None:
    run = _queued(db)
    assert run.id is not None
    first = matchruns.execute(db, run.id, actor_id=None, lease=LEASE)
    before = _proposals(db)

    again = matchruns.execute(db, run.id, actor_id=None, lease=timedelta(0))

    assert first.status == RunStatus.DONE and again.status == "skipped"
    assert _proposals(db) == before


def test_a_run_that_keeps_killing_its_worker_is_marked_failed(
    db: Session, pairs: None
) -> None:
    run = _queued(db)
    assert run.id is not None
    for _attempt in range(matchruns.MAX_ATTEMPTS):
        with pytest.raises(WorkerKilled):
            matchruns.execute(
                db, run.id, actor_id=None, lease=timedelta(0), progress=_kill_at("rank")
            )
        db.rollback()

    outcome = matchruns.execute(db, run.id, actor_id=None, lease=timedelta(0))

    db.expire_all()
    failed = db.get(MatchRun, run.id)
    assert outcome.status == RunStatus.FAILED
    assert failed is not None and failed.status == RunStatus.FAILED
    assert "interrupted 3 times" in failed.error
    assert _proposals(db) == []


def test_the_button_only_enqueues_and_a_lost_job_is_enqueued_again(
    app: Any, client: Any, auth: Any, db: Session, pairs: None
) -> None:
    huey = queue(app)
    huey.immediate = False
    auth.login(Role.COUNCIL, language="en")
    client.post_form("/council/runs/new")
    run = db.exec(select(MatchRun)).one()
    assert run.status == RunStatus.QUEUED
    huey.flush()  # the queue lost the job (a Redis restart without persistence)

    later = utcnow() + timedelta(seconds=app.config["JOB_LEASE_SECONDS"] + 60)
    tasks.run_scheduled(app, tasks.BY_NAME["recover"], now=later)
    assert huey.pending_count() == 1
    huey.execute(huey.dequeue())

    db.expire_all()
    assert db.get(MatchRun, run.id).status == RunStatus.DONE  # type: ignore[union-attr]
    assert _proposals(db)


def test_the_match_command_claims_the_queued_run(
    runner: Any, db: Session, pairs: None
) -> None:
    run = _queued(db)

    result = runner.invoke(args=["match"])

    assert result.exit_code == 0, result.output
    assert f"Run {run.id} done" in result.output
    db.expire_all()
    finished = db.get(MatchRun, run.id)
    assert finished is not None and finished.attempts == 1 and finished.worker
