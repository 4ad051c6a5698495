"""The served model: stored, loaded once per process, refreshed when stale."""

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from sqlmodel import Session, func, select

import matching
from moraspar.models import RankingModel, utcnow
from moraspar.ranking import (
    clear_cache,
    current,
    current_model,
    model_status,
    refresh_model,
)
from moraspar.ranking.served import KEEP, postings

TODAY = date(2027, 1, 4)
Factory = Callable[..., Any]


@pytest.fixture(autouse=True)
def _fresh_process() -> Iterator[None]:
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def posted(
    make_school: Factory,
    make_company: Factory,
    make_need: Factory,
    make_placement: Factory,
    make_skill_gap: Factory,
    make_programme: Factory,
) -> dict[str, Any]:
    school, company = make_school(), make_company()
    return {
        "school": school,
        "company": company,
        "needs": [
            make_need(school),
            make_need(school, title="Prao på lager", kind="prao", skills=["truck"]),
        ],
        "placements": [
            make_placement(company),
            make_placement(
                company, title="Lager och logistik", kind="prao", skills=["truck"]
            ),
            make_placement(company, title="Svetsning", skills=["svetsning"]),
        ],
        "gap": make_skill_gap(company),
        "programme": make_programme(school),
    }


def _rows(db: Session) -> int:
    return int(db.exec(select(func.count()).select_from(RankingModel)).one())


def _ranked(ranker: matching.Ranker, db: Session) -> list[tuple[str, str, float]]:
    found = postings(db, today=TODAY)
    needs = [p for p in found if p.kind in ("apl", "prao") and p.max_km is not None]
    offers = [p for p in found if p.kind in ("apl", "prao") and p.max_km is None]
    ranked = ranker.rank(needs, offers, k=5)
    return [(m.need_id, m.offer_id, m.score) for need in needs for m in ranked[need.id]]


def test_round_trip_through_the_database_ranks_identically(
    db: Session, posted: dict[str, Any]
) -> None:
    refresh = refresh_model(db, force=True, today=TODAY)
    db.commit()
    fitted = current_model(db, today=TODAY)  # held since the fit

    clear_cache()
    loaded = current_model(db, today=TODAY)

    assert loaded is not fitted
    assert refresh.refitted
    assert _ranked(loaded, db) == _ranked(fitted, db)
    assert _ranked(loaded, db)  # something was ranked at all


def test_refresh_without_changes_does_not_refit(
    db: Session, posted: dict[str, Any]
) -> None:
    first = refresh_model(db, today=TODAY)
    db.commit()

    again = refresh_model(db, today=TODAY)

    assert first.refitted and not again.refitted
    assert again.row.id == first.row.id
    assert _rows(db) == 1


def test_change_that_keeps_the_texts_moves_the_watermark_only(
    db: Session, posted: dict[str, Any]
) -> None:
    first = refresh_model(db, today=TODAY)
    db.commit()
    placement = posted["placements"][0]
    placement.places_booked = 1  # a booking: no text changed
    placement.updated_at = utcnow()
    db.add(placement)
    db.commit()
    assert model_status(db, today=TODAY).stale

    again = refresh_model(db, today=TODAY)
    db.commit()

    assert not again.refitted
    assert again.row.id == first.row.id
    assert not model_status(db, today=TODAY).stale


def test_stale_model_is_served_until_the_refresh_stores_a_new_one(
    db: Session, posted: dict[str, Any], make_placement: Factory
) -> None:
    old = refresh_model(db, today=TODAY).row
    db.commit()
    make_placement(posted["company"], title="Snickeri", skills=["snickeri"])

    status = model_status(db, today=TODAY)
    assert status.stale and status.id == old.id
    assert current(db, today=TODAY).id == old.id  # served meanwhile

    new = refresh_model(db, today=TODAY)
    db.commit()

    assert new.refitted and new.row.id != old.id
    assert new.row.n_postings == old.n_postings + 1
    assert current(db, today=TODAY).id == new.row.id
    assert not model_status(db, today=TODAY).stale


def test_a_second_worker_loads_the_newest_row(
    db: Session, posted: dict[str, Any], engine: Any
) -> None:
    first = refresh_model(db, force=True, today=TODAY).row
    db.commit()
    assert current(db, today=TODAY).id == first.id

    # Another worker fits and stores a newer model.
    with Session(engine) as other:
        newer_id = refresh_model(other, force=True, today=TODAY).row.id
        other.commit()
    clear_cache()  # this process as a fresh worker would start

    served = current(db, today=TODAY)

    assert served.id == newer_id != first.id
    assert _ranked(served.ranker, db)


def test_each_call_checks_for_a_newer_row(
    db: Session, posted: dict[str, Any], engine: Any
) -> None:
    refresh_model(db, force=True, today=TODAY)
    db.commit()
    held = current(db, today=TODAY)
    with Session(engine) as other:
        newer_id = refresh_model(other, force=True, today=TODAY).row.id
        other.commit()

    served = current(db, today=TODAY)

    assert served.id == newer_id
    assert served.id != held.id


def test_with_no_row_a_model_is_fitted_and_stored_on_commit(
    db: Session, posted: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    served = current(db, today=TODAY)
    db.commit()

    assert _rows(db) == 1
    assert served.id is not None
    # Held by this process: the next calls neither fit nor load again.
    monkeypatch.setattr(matching, "fit", _refuse)
    monkeypatch.setattr(matching, "load_model", _refuse)
    assert current(db, today=TODAY) is served


def test_only_the_last_rows_are_kept(db: Session, posted: dict[str, Any]) -> None:
    ids = []
    for _ in range(KEEP + 2):
        ids.append(refresh_model(db, force=True, today=TODAY).row.id)
        db.commit()

    kept = db.exec(select(RankingModel.id).order_by(RankingModel.id)).all()

    assert list(kept) == ids[-KEEP:]


def test_rows_of_another_file_version_are_not_served(
    db: Session, posted: dict[str, Any]
) -> None:
    good = refresh_model(db, force=True, today=TODAY).row
    db.add(
        RankingModel(
            format_version=good.format_version + 1,
            watermark="",
            fingerprint="",
            model=b"from a newer library",
            model_digest="x",
        )
    )
    db.commit()
    clear_cache()

    assert current(db, today=TODAY).id == good.id


def _refuse(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the held model should have been used")
