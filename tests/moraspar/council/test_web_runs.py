"""The run button, the run status page and JSON, the allocation overview, home."""

from datetime import date
from typing import Any

import pytest
from sqlmodel import Session, select

import matching
from moraspar.council import runs, services
from moraspar.council.scope import EVERYTHING
from moraspar.jobs.queue import queue
from moraspar.models import Council, MatchProposal, MatchRun, Role, RunStatus

FUTURE = date(2099, 6, 1)


@pytest.fixture
def one_pair(
    make_school: Any, make_company: Any, make_need: Any, make_placement: Any
) -> None:
    """One need for three students and one placement with two places, both
    open until FUTURE: enough for a run to propose one pair."""
    school = make_school()
    make_need(school, students=3, end_date=FUTURE)
    make_placement(make_company(), places=2, end_date=FUTURE)


def test_run_button_runs_and_shows_the_result(
    client: Any,
    auth: Any,
    db: Session,
    one_pair: None,
) -> None:
    auth.login(Role.COUNCIL, language="en")

    response = client.post_form("/council/runs/new")

    run = db.exec(select(MatchRun)).one()
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/council/runs/{run.id}")
    assert run.status == RunStatus.DONE  # synchronous under TESTING
    assert len(db.exec(select(MatchProposal)).all()) == 1
    page = client.get(f"/council/runs/{run.id}").get_data(as_text=True)
    assert "Done" in page and "Students placed" in page
    assert "<script src=" in page and "js/run-status.js" in page
    assert "<script>" not in page
    listing = client.get("/council/runs").get_data(as_text=True)
    assert f"/council/runs/{run.id}" in listing


def test_run_status_json_for_running_and_failed_runs(
    client: Any, auth: Any, db: Session
) -> None:
    running = MatchRun(status=RunStatus.RUNNING, progress=2, total=5)
    db.add(running)
    db.commit()
    auth.login(Role.COUNCIL, language="en")

    data = client.get(f"/council/runs/{running.id}/status").get_json()

    assert data["status"] == "running"
    assert (data["progress"], data["total"], data["finished"]) == (2, 5, False)
    assert data["text"] == "Running: step 2 of 5"
    page = client.get(f"/council/runs/{running.id}").get_data(as_text=True)
    assert 'data-run-status-url="/council/runs/' in page
    assert ">Reload</a>" in page
    assert "<progress" in page

    running.status = RunStatus.FAILED
    running.error = "RuntimeError: boom"
    db.add(running)
    db.commit()
    data = client.get(f"/council/runs/{running.id}/status").get_json()
    assert data["finished"] is True
    assert data["text"] == "Failed: RuntimeError: boom"
    assert client.get("/council/runs/999/status").status_code == 404


def test_a_failed_web_run_shows_its_reason(
    client: Any,
    auth: Any,
    db: Session,
    monkeypatch: pytest.MonkeyPatch,
    one_pair: None,
) -> None:

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("out of memory")

    monkeypatch.setattr(matching.Ranker, "rank", broken)
    auth.login(Role.ADMIN, language="en")

    page = client.post_form("/council/runs/new", follow_redirects=True)

    text = page.get_data(as_text=True)
    assert "Failed: RuntimeError: out of memory" in text
    assert "The previous proposals are unchanged." in text


def test_second_run_is_refused_while_one_is_running(
    client: Any, auth: Any, db: Session
) -> None:
    busy = MatchRun(status=RunStatus.RUNNING)
    db.add(busy)
    db.commit()
    auth.login(Role.COUNCIL, language="en")

    response = client.post_form("/council/runs/new", follow_redirects=True)

    assert "already under way" in response.get_data(as_text=True)
    assert len(db.exec(select(MatchRun)).all()) == 1


def test_run_button_enqueues_a_job_that_a_worker_runs(
    app: Any, client: Any, auth: Any, db: Session, one_pair: None
) -> None:
    huey = queue(app)
    huey.immediate = False  # a real queue: the request only enqueues
    auth.login(Role.COUNCIL, language="en")

    client.post_form("/council/runs/new")

    run = db.exec(select(MatchRun)).one()
    assert run.status == RunStatus.QUEUED
    assert huey.pending_count() == 1
    huey.execute(huey.dequeue())  # what a worker does
    db.expire_all()
    assert db.exec(select(MatchRun)).one().status == RunStatus.DONE
    assert len(db.exec(select(MatchProposal)).all()) == 1


def test_allocation_explains_too_far_and_no_period_overlap(
    client: Any,
    auth: Any,
    db: Session,
    make_school: Any,
    make_company: Any,
    make_need: Any,
    make_placement: Any,
) -> None:
    school = make_school()  # in Mora
    far_company = make_company(locality="Sälen", lat=61.158, lon=13.266)
    make_placement(far_company, kind="prao", end_date=FUTURE)
    make_need(school, kind="prao", title="Prao nära", max_km=20, end_date=FUTURE)
    near = make_company()
    make_placement(
        near,
        kind="study_visit",
        start_date=date(2098, 1, 1),
        end_date=date(2098, 1, 2),
    )
    make_need(
        school,
        kind="study_visit",
        title="Studiebesök i vår",
        start_date=date(2099, 3, 1),
        end_date=date(2099, 3, 2),
    )
    make_need(school, kind="project", title="Projekt utan värd", end_date=FUTURE)
    runs.run_matching(db)

    overview = services.allocation_overview(db, scope=EVERYTHING)
    reasons = {c.need.title: c.reason for c in overview.uncovered_needs}
    assert reasons == {
        "Prao nära": services.TOO_FAR,
        "Studiebesök i vår": services.NO_PERIOD,
        "Projekt utan värd": services.NO_HOST,
    }

    auth.login(Role.COUNCIL, language="en")
    page = client.get("/council/allocation").get_data(as_text=True)
    assert "Hosts of that kind, but all too far away" in page
    assert "No host whose period overlaps" in page
    assert "No open host of that kind" in page


def test_allocation_counts_covered_students(
    client: Any,
    auth: Any,
    db: Session,
    one_pair: None,
) -> None:
    runs.run_matching(db)

    overview = services.allocation_overview(db, scope=EVERYTHING)

    (coverage,) = overview.needs
    assert (coverage.students, coverage.covered) == (3, 2)
    assert coverage.reason == services.NO_PLACES  # 2 places for 3 students


def test_allocation_without_a_run_offers_to_run(client: Any, auth: Any) -> None:
    auth.login(Role.COUNCIL, language="en")
    page = client.get("/council/allocation").get_data(as_text=True)
    assert "Matching has not been run yet." in page
    assert 'action="/council/runs/new"' in page


def test_home_shows_latest_run_and_counts(
    client: Any,
    auth: Any,
    db: Session,
    one_pair: None,
) -> None:
    summary = runs.run_matching(db)
    auth.login(Role.COUNCIL, language="en")

    page = client.get("/council/").get_data(as_text=True)

    assert f"/council/runs/{summary.run_id}" in page
    assert "Done" in page
    assert (
        '<a href="/council/board?status=proposed">Proposed</a></td><td class="num">1<'
        in page
    )
    assert "/council/allocation" in page


def test_without_a_worker_the_button_queues_and_the_cli_runs_it(
    app: Any,
    client: Any,
    auth: Any,
    runner: Any,
    db: Session,
    one_pair: None,
) -> None:
    auth.login(Role.COUNCIL, language="en")
    queue(app).immediate = False
    client.post_form("/council/runs/new")

    queued = db.exec(select(MatchRun)).one()
    assert queued.status == RunStatus.QUEUED
    assert client.get(f"/council/runs/{queued.id}/status").get_json()["text"] == (
        "Queued"
    )

    result = runner.invoke(args=["match"])

    assert result.exit_code == 0, result.output
    assert f"Run {queued.id} done" in result.output
    db.expire_all()
    assert db.exec(select(MatchRun)).one().status == RunStatus.DONE


def test_a_member_of_two_councils_chooses_which_to_match(
    client: Any, auth: Any, db: Session
) -> None:
    alfa, beta = Council(name="Rådet Alfa"), Council(name="Rådet Beta")
    outside = Council(name="Rådet Gamma")
    db.add_all([alfa, beta, outside])
    db.commit()
    auth.login(Role.COUNCIL, councils=[alfa, beta], language="en")

    page = client.get("/council/runs").get_data(as_text=True)
    refused = client.post_form("/council/runs/new", {"council_id": outside.id})
    started = client.post_form("/council/runs/new", {"council_id": beta.id})

    assert 'name="council_id"' in page and "Rådet Beta" in page
    assert "Rådet Gamma" not in page
    assert refused.status_code == 302 and started.status_code == 302
    (run,) = db.exec(select(MatchRun)).all()
    assert run.council_id == beta.id
