"""The company's home-page figures, counted in one statement."""

from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from moraspar.companies import services
from moraspar.models import Organisation, PostingStatus


def test_summary_counts_the_companys_own_postings_and_every_open_need(
    db: Session,
    make_company: Callable[..., Organisation],
    make_school: Callable[..., Organisation],
    make_placement: Any,
    make_skill_gap: Any,
    make_need: Any,
    count_queries: Any,
) -> None:
    mine, other = make_company(name="Mora Bil AB"), make_company(name="Orsa Trä AB")
    school = make_school()
    make_placement(mine, places=3, places_booked=1)
    make_placement(mine, places=2, status=PostingStatus.PAUSED)
    make_placement(mine, places=9, status=PostingStatus.CLOSED)
    make_placement(other, places=5)
    make_skill_gap(mine)
    make_skill_gap(mine, status=PostingStatus.CLOSED)
    make_skill_gap(other)
    make_need(school)
    make_need(school, status=PostingStatus.CLOSED)
    assert mine.id is not None and other.id is not None

    before = count_queries.count
    summary = services.summary(db, company_id=mine.id)

    # one statement (a BEGIN may come first on SQLite)
    assert [s for s in count_queries.statements[before:] if s != "BEGIN"][1:] == []
    assert summary == services.Summary(
        open_placements=2, free_places=4, booked_places=1, open_gaps=1, open_needs=1
    )
    empty = services.summary(db, company_id=make_company(name="Ny AB").id)
    assert (empty.open_placements, empty.free_places, empty.open_gaps) == (0, 0, 0)
