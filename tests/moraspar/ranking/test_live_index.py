"""live_matches through the held index of the open placements: the same list
as ranking the candidates themselves, and never an out-of-date one."""

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from sqlmodel import Session

from moraspar.models import Need
from moraspar.ranking import (
    LiveMatch,
    clear_cache,
    current_model,
    live_matches,
    served,
    services,
)

TODAY = date(2027, 1, 4)
Factory = Callable[..., Any]


@pytest.fixture(autouse=True)
def _fresh_process() -> Iterator[None]:
    clear_cache()
    yield
    clear_cache()


def _listed(found: list[LiveMatch]) -> list[tuple[Any, ...]]:
    return [
        (m.placement.id, m.free_places, m.match.score, m.match.parts, m.match.reasons)
        for m in found
    ]


def _without_index(
    db: Session, need: Need, monkeypatch: pytest.MonkeyPatch
) -> list[tuple[Any, ...]]:
    with monkeypatch.context() as patch:
        patch.setattr(services, "_indexed", lambda *_a, **_kw: None)
        return _listed(live_matches(db, need=need, today=TODAY))


def _both(
    db: Session, need: Need, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    indexed = _listed(live_matches(db, need=need, today=TODAY))
    assert served.recall_index(current_model(db, today=TODAY)) is not None
    return indexed, _without_index(db, need, monkeypatch)


def _free_places(found: list[LiveMatch], placement_id: int | None) -> float | None:
    (match,) = [m.match for m in found if m.placement.id == placement_id]
    places = ("free_places", "all_places")
    return next(r.value for r in match.reasons if r.code in places)


@pytest.fixture
def scene(
    db: Session,
    make_school: Factory,
    make_company: Factory,
    make_need: Factory,
    make_placement: Factory,
) -> tuple[Need, list[Any], Any]:
    """A need, four placements it could use with different texts and places,
    and a prao placement it cannot (indexed, never a candidate)."""
    company = make_company()
    placements = [
        make_placement(company),
        make_placement(
            company,
            title="Däckverkstad",
            description="Däckbyte och hjulinställning.",
            skills=["däckbyte"],
            places=1,
        ),
        make_placement(
            company,
            title="Lager och logistik",
            description="Truck och plock i lager.",
            skills=["truckkort"],
            places=4,
        ),
        make_placement(
            make_company(),
            title="Fordonsservice",
            description="Service av lastbilar och bussar.",
            skills=["fordonsteknik"],
            places=3,
            places_booked=1,
        ),
    ]
    make_placement(company, kind="prao", title="Prao i verkstad")
    need = make_need(make_school(), students=3)
    return need, placements, company


def test_the_index_gives_the_list_ranking_the_candidates_gives(
    db: Session, scene: tuple[Need, list[Any], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    need, placements, _ = scene

    indexed, plain = _both(db, need, monkeypatch)

    assert len(indexed) == len(placements)
    assert indexed == plain
    # Warm: the same again from the held index.
    assert _listed(live_matches(db, need=need, today=TODAY)) == plain


def test_an_edited_placement_is_ranked_as_it_is_now(
    db: Session, scene: tuple[Need, list[Any], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    need, placements, _ = scene
    live_matches(db, need=need, today=TODAY)
    edited = placements[2]
    edited.title = "Fordonsteknik och däckbyte"
    edited.description = "Service, däckbyte och reparation av personbilar."
    edited.skills = ["fordonsteknik", "däckbyte"]
    db.add(edited)
    db.commit()

    indexed, plain = _both(db, need, monkeypatch)

    assert indexed == plain
    held = served.recall_index(current_model(db, today=TODAY))
    assert held is not None
    assert held.rows[edited.id][1].title == "Fordonsteknik och däckbyte"


def test_a_place_taken_is_scored_with_the_places_left(
    db: Session, scene: tuple[Need, list[Any], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    need, placements, _ = scene
    before = live_matches(db, need=need, today=TODAY)
    assert _free_places(before, placements[2].id) == 4
    taken = placements[2]
    taken.places_booked = 3
    db.add(taken)
    db.commit()

    after = live_matches(db, need=need, today=TODAY)

    assert _free_places(after, taken.id) == 1
    assert _listed(after) == _without_index(db, need, monkeypatch)


def test_a_new_placement_is_listed(
    db: Session,
    scene: tuple[Need, list[Any], Any],
    make_placement: Factory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    need, placements, company = scene
    live_matches(db, need=need, today=TODAY)
    new = make_placement(company, title="Bilverkstad i Orsa", places=5)

    indexed, plain = _both(db, need, monkeypatch)

    assert new.id in {row[0] for row in indexed}
    assert len(indexed) == len(placements) + 1
    assert indexed == plain


def test_a_cleared_model_cache_drops_the_index(
    db: Session, scene: tuple[Need, list[Any], Any]
) -> None:
    need, _, _ = scene
    live_matches(db, need=need, today=TODAY)
    ranker = current_model(db, today=TODAY)
    assert served.recall_index(ranker) is not None

    clear_cache()

    assert served.recall_index(ranker) is None
    live_matches(db, need=need, today=TODAY)
    reloaded = current_model(db, today=TODAY)
    held = served.recall_index(reloaded)
    assert held is not None
    assert held.index.ranker is reloaded


def test_an_index_is_kept_only_for_a_held_model(
    db: Session, scene: tuple[Need, list[Any], Any]
) -> None:
    need, _, _ = scene
    live_matches(db, need=need, today=TODAY)
    held = served.recall_index(current_model(db, today=TODAY))
    assert held is not None

    clear_cache()
    served.remember_index(held)

    assert served.recall_index(held.index.ranker) is None


def test_the_index_is_made_once_while_the_placements_stay_as_they_are(
    db: Session,
    scene: tuple[Need, list[Any], Any],
    make_need: Factory,
    make_school: Factory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    need, placements, _ = scene
    other = make_need(make_school(), title="Prao verkstad", kind="apl", students=1)
    made: list[int] = []
    making = services._index_open_placements

    def counted(*args: Any, **kw: Any) -> served.PlacementIndex:
        made.append(1)
        return making(*args, **kw)

    monkeypatch.setattr(services, "_index_open_placements", counted)
    for _ in range(3):
        live_matches(db, need=need, today=TODAY)
        live_matches(db, need=other, today=TODAY)
    assert len(made) == 1

    placements[0].description = "Service, däck och diagnos av personbilar."
    db.add(placements[0])
    db.commit()
    live_matches(db, need=need, today=TODAY)
    live_matches(db, need=other, today=TODAY)
    assert len(made) == 2
