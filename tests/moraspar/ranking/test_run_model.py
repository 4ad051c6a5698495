"""Match runs and live matches rank with the stored model and never refit."""

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from sqlmodel import Session, select

import matching
from moraspar.council import runs
from moraspar.models import MatchProposal, MatchRun
from moraspar.ranking import clear_cache, live_matches, refresh_model

TODAY = date(2027, 1, 4)
Factory = Callable[..., Any]


@pytest.fixture(autouse=True)
def _fresh_process() -> Iterator[None]:
    clear_cache()
    yield
    clear_cache()


def _never(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("refitted instead of using the stored model")


def _refuse_fitting(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("fit", "rank"):
        monkeypatch.setattr(matching, name, _never)
    for name in ("fit", "fit_rank"):
        monkeypatch.setattr(matching.Ranker, name, _never)


@pytest.mark.parametrize("fresh_worker", [False, True])
def test_the_match_run_ranks_with_the_stored_model(
    db: Session,
    make_school: Factory,
    make_company: Factory,
    make_need: Factory,
    make_placement: Factory,
    make_skill_gap: Factory,
    make_programme: Factory,
    monkeypatch: pytest.MonkeyPatch,
    fresh_worker: bool,
) -> None:
    school, company = make_school(), make_company()
    need = make_need(school)
    placement = make_placement(company)
    make_skill_gap(company)
    make_programme(school)
    row = refresh_model(db, today=TODAY).row
    db.commit()
    if fresh_worker:
        clear_cache()  # a worker that never held the model loads it
    _refuse_fitting(monkeypatch)

    summary = runs.run_matching(db, today=TODAY)

    assert summary.ranker_version == f"model:{row.id}"
    run = db.get(MatchRun, summary.run_id)
    assert run is not None and run.ranker_version == f"model:{row.id}"
    proposal = db.exec(select(MatchProposal)).one()
    assert (proposal.need_id, proposal.placement_id) == (need.id, placement.id)
    assert proposal.students == 2
    assert summary.gap_matches == 1


@pytest.mark.parametrize("fresh_worker", [False, True])
def test_live_matches_rank_with_the_stored_model(
    db: Session,
    make_school: Factory,
    make_company: Factory,
    make_need: Factory,
    make_placement: Factory,
    monkeypatch: pytest.MonkeyPatch,
    fresh_worker: bool,
) -> None:
    need = make_need(make_school())
    placement = make_placement(make_company())
    refresh_model(db, today=TODAY)
    db.commit()
    if fresh_worker:
        clear_cache()
    _refuse_fitting(monkeypatch)

    found = live_matches(db, need=need, today=TODAY)

    assert [m.placement.id for m in found] == [placement.id]
