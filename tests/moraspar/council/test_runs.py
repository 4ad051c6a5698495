"""Match runs: proposals stored, decisions kept, failures harmless, the CLI."""

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlmodel import Session, select

import matching
from moraspar.council import runs, services
from moraspar.models import (
    AuditEvent,
    Council,
    MatchProposal,
    MatchRun,
    Need,
    Organisation,
    Placement,
    PostingStatus,
    ProgrammeGapMatch,
    ProposalStatus,
    RankerWeights,
    Role,
    RunStatus,
)

TODAY = date(2026, 9, 1)


def _proposals(db: Session) -> dict[tuple[int, int], MatchProposal]:
    db.expire_all()
    return {(p.need_id, p.placement_id): p for p in db.exec(select(MatchProposal))}


@pytest.fixture
def school(make_school: Callable[..., Organisation]) -> Organisation:
    return make_school()


@pytest.fixture
def company(make_company: Callable[..., Organisation]) -> Organisation:
    return make_company()


@pytest.fixture
def matched(
    db: Session,
    school: Organisation,
    company: Organisation,
    make_need: Any,
    make_placement: Any,
) -> tuple[Need, Placement]:
    """One need and one placement, matched once: what a rerun starts from."""
    need = make_need(school)
    placement = make_placement(company)
    runs.run_matching(db, today=TODAY)
    return need, placement


def test_run_stores_a_scored_proposal_with_reasons_and_students(
    db: Session,
    school: Organisation,
    company: Organisation,
    make_need: Any,
    make_placement: Any,
    make_programme: Any,
    make_skill_gap: Any,
) -> None:
    need = make_need(school, students=3)
    placement = make_placement(company, places=2)
    make_programme(school, places_per_year=16)
    gap = make_skill_gap(company)
    steps: list[tuple[int, int, str]] = []

    summary = runs.run_matching(
        db, progress=lambda *step: steps.append(step), today=TODAY
    )

    proposal = _proposals(db)[(need.id, placement.id)]
    assert 0.0 < proposal.score <= 1.0
    assert proposal.status == ProposalStatus.PROPOSED
    assert proposal.students == 2  # all the free places, for three students
    assert proposal.run_id == summary.run_id
    codes = {r["code"] for r in proposal.reasons}
    assert {"shared_skills", "distance_km", "overlap_weeks"} <= codes
    shared = next(r for r in proposal.reasons if r["code"] == "shared_skills")
    assert shared["values"] == ["fordonsteknik"]
    assert set(proposal.parts) == {"text", "skills", "period", "distance", "capacity"}
    run = db.get(MatchRun, summary.run_id)
    assert run is not None and run.status == RunStatus.DONE
    assert run.ranker_version == "model:1"  # the model fitted for the first run
    assert run.started_at is not None and run.finished_at is not None
    assert run.progress == run.total == len(runs.PHASES)
    assert [s[2] for s in steps] == list(runs.PHASES)
    assert (summary.proposals, summary.students_covered) == (1, 2)
    assert (summary.students_needed, summary.uncovered_needs) == (3, 0)
    gap_rows = db.exec(select(ProgrammeGapMatch)).all()
    assert [g.skill_gap_id for g in gap_rows] == [gap.id]
    assert gap_rows[0].run_id == summary.run_id
    done = db.exec(
        select(AuditEvent).where(AuditEvent.action == "match_run.done")
    ).one()
    assert (done.entity, done.entity_id) == ("match_run", summary.run_id)
    assert done.details["proposals"] == 1


def test_rerun_keeps_decisions_and_never_reproposes_a_declined_pair(
    db: Session,
    school: Organisation,
    company: Organisation,
    make_need: Any,
    make_placement: Any,
    make_user: Any,
) -> None:
    need = make_need(school, students=3)
    first = make_placement(company, places=2)
    second = make_placement(company, places=2, title="APL på däckfirma")
    runs.run_matching(db, today=TODAY)
    found = _proposals(db)
    council = make_user(Role.COUNCIL)
    services.decide(
        db, proposal=found[(need.id, first.id)], action="approve", actor=council
    )
    services.decide(
        db,
        proposal=found[(need.id, second.id)],
        action="decline",
        decline_reason="too_far",
        actor=council,
    )
    db.commit()
    approved_score = found[(need.id, first.id)].score

    summary = runs.run_matching(db, today=TODAY)

    after = _proposals(db)
    assert len(after) == 2
    kept = after[(need.id, first.id)]
    assert kept.status == ProposalStatus.APPROVED
    assert kept.decided_by_id == council.id
    assert kept.score == approved_score
    assert after[(need.id, second.id)].status == ProposalStatus.DECLINED
    assert after[(need.id, second.id)].run_id != summary.run_id
    assert summary.proposals == 0  # nothing left to propose


def test_declined_pair_frees_capacity_for_another_need(
    db: Session,
    school: Organisation,
    company: Organisation,
    make_need: Any,
    make_placement: Any,
    make_user: Any,
) -> None:
    first = make_need(school, students=2)
    other = make_need(school, students=2, title="APL fordon åk 3")
    placement = make_placement(company, places=2)
    runs.run_matching(db, today=TODAY)
    before = _proposals(db)
    assert sum(p.students for p in before.values()) == 2
    services.decide(
        db,
        proposal=before[(first.id, placement.id)],
        action="decline",
        decline_reason="not_suitable",
        actor=make_user(Role.COUNCIL),
    )
    db.commit()

    runs.run_matching(db, today=TODAY)

    after = _proposals(db)
    assert after[(other.id, placement.id)].students == 2
    assert after[(first.id, placement.id)].status == ProposalStatus.DECLINED


def test_rerun_removes_proposals_of_closed_placements(
    db: Session, matched: tuple[Need, Placement]
) -> None:
    need, placement = matched
    assert (need.id, placement.id) in _proposals(db)
    stored = db.get(Placement, placement.id)
    assert stored is not None
    stored.status = PostingStatus.CLOSED
    db.add(stored)
    db.commit()

    runs.run_matching(db, today=TODAY)

    assert _proposals(db) == {}


def test_unapproved_company_and_full_placement_are_left_out(
    db: Session,
    school: Organisation,
    make_company: Any,
    make_need: Any,
    make_placement: Any,
) -> None:
    make_need(school)
    make_placement(make_company(approved=False))
    make_placement(make_company(), places=2, places_booked=2)

    summary = runs.run_matching(db, today=TODAY)

    assert summary.placements == 0
    assert _proposals(db) == {}
    assert summary.uncovered_needs == 1


def test_failed_run_keeps_previous_proposals_and_says_why(
    db: Session, matched: tuple[Need, Placement], monkeypatch: pytest.MonkeyPatch
) -> None:
    need, placement = matched
    before = _proposals(db)[(need.id, placement.id)]

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("ranker exploded")

    monkeypatch.setattr(matching.Ranker, "rank", broken)
    with pytest.raises(runs.MatchRunFailed) as failure:
        runs.run_matching(db, today=TODAY)

    after = _proposals(db)
    assert list(after) == [(need.id, placement.id)]
    assert after[(need.id, placement.id)].run_id == before.run_id
    assert after[(need.id, placement.id)].score == before.score
    run = db.get(MatchRun, failure.value.run_id)
    assert run is not None
    assert run.status == RunStatus.FAILED
    assert "ranker exploded" in run.error
    assert run.finished_at is not None
    event = db.exec(
        select(AuditEvent).where(AuditEvent.action == "match_run.fail")
    ).one()
    assert (event.entity, event.entity_id) == ("match_run", run.id)


def test_failure_while_saving_rolls_back_everything(
    db: Session,
    school: Organisation,
    matched: tuple[Need, Placement],
    make_need: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    need, placement = matched
    make_need(school, title="Ny APL")  # would add a proposal

    original = runs._store

    def store_then_fail(session: Session, plan: Any, *, run: MatchRun) -> int:
        original(session, plan, run=run)
        raise RuntimeError("disk full")

    monkeypatch.setattr(runs, "_store", store_then_fail)
    with pytest.raises(runs.MatchRunFailed):
        runs.run_matching(db, today=TODAY)

    assert list(_proposals(db)) == [(need.id, placement.id)]


def test_active_weights_are_used_and_unknown_keys_ignored(db: Session) -> None:
    row = RankerWeights(weights={"text": 0.5, "skills": 0.5, "bogus": 9}, active=True)
    db.add(row)
    db.commit()

    weights, version = runs.active_weights(db)

    assert weights is not None
    assert (weights.text, weights.skills) == (0.5, 0.5)
    assert version.startswith(f"matching-w{row.id}-")
    assert len(version) <= 40


def test_invalid_stored_weights_fall_back_to_defaults(db: Session) -> None:
    db.add(RankerWeights(weights={"text": -1.0}, active=True))
    db.commit()

    weights, version = runs.active_weights(db)

    assert weights is None
    assert version.startswith("matching-default-")


def test_a_second_run_is_refused_while_one_is_active(db: Session) -> None:
    first = runs.create_run(db, actor=None)
    db.commit()
    with pytest.raises(runs.RunInProgress) as refused:
        runs.create_run(db, actor=None)
    assert refused.value.run.id == first.id


def test_cli_match_prints_a_summary(
    runner: Any,
    school: Organisation,
    company: Organisation,
    make_need: Any,
    make_placement: Any,
) -> None:
    make_need(school, students=3, end_date=date(2099, 5, 14))
    make_placement(company, places=2, end_date=date(2099, 6, 4))

    result = runner.invoke(args=["match"])

    assert result.exit_code == 0, result.output
    assert "1 proposals" in result.output
    assert "2 of 3 students covered" in result.output
    assert "0 needs uncovered" in result.output


def test_cli_match_fails_with_nonzero_exit(
    runner: Any, monkeypatch: pytest.MonkeyPatch, school: Organisation, make_need: Any
) -> None:
    make_need(school, end_date=date(2099, 5, 14))

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("no luck")

    monkeypatch.setattr(matching.Ranker, "rank", broken)
    result = runner.invoke(args=["match"])

    assert result.exit_code != 0
    assert "no luck" in result.output


def test_a_councils_run_matches_its_own_schools_and_leaves_the_others_work(
    db: Session,
    make_school: Any,
    make_company: Any,
    make_need: Any,
    make_placement: Any,
    make_programme: Any,
    make_skill_gap: Any,
) -> None:
    alfa, beta = Council(name="Rådet Alfa"), Council(name="Rådet Beta")
    db.add_all([alfa, beta])
    db.commit()
    ours = make_need(make_school(councils=[alfa]), title="Alfas behov")
    theirs_school = make_school(councils=[beta])
    theirs = make_need(theirs_school, title="Betas behov")
    # The placement is in Beta's area: councils share the companies' places.
    placement = make_placement(make_company(councils=[beta]), places=6)
    their_programme = make_programme(theirs_school)
    make_skill_gap(make_company(councils=[beta]))
    runs.run_matching(db, today=TODAY)  # over every council: both proposed
    before = _proposals(db)
    assert set(before) == {(ours.id, placement.id), (theirs.id, placement.id)}
    their_matches = db.exec(select(ProgrammeGapMatch)).all()
    assert [m.programme_id for m in their_matches] == [their_programme.id]
    theirs.title = "Betas behov, ändrat"
    placement.places = 1  # Beta's stored proposal would change in a rerun
    db.add_all([theirs, placement])
    db.commit()

    run = runs.create_run(db, actor=None, council_id=alfa.id)
    db.commit()
    summary = runs.run_matching(db, run_id=run.id, today=TODAY)

    after = _proposals(db)
    assert summary.needs == 1
    assert after[(ours.id, placement.id)].run_id == run.id
    their_proposal = after[(theirs.id, placement.id)]
    assert their_proposal.run_id == before[(theirs.id, placement.id)].run_id
    assert their_proposal.students == before[(theirs.id, placement.id)].students
    db.expire_all()
    assert [m.programme_id for m in db.exec(select(ProgrammeGapMatch)).all()] == [
        their_programme.id
    ]
