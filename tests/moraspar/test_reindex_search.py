"""`moraspar reindex-search`: postings saved before the search's analysis
changed are analysed again and found."""

from typing import Any

from sqlmodel import Session

from moraspar.schools.services import PlacementSearch, search_placements


def _titles(db: Session, query: str) -> list[str]:
    page = search_placements(
        db, search=PlacementSearch(text=query), page=1, per_page=10
    )
    return [hit.placement.title for hit in page.items]


def test_reindex_makes_old_postings_findable(
    runner: Any,
    db: Session,
    make_company: Any,
    make_placement: Any,
    make_school: Any,
    make_need: Any,
) -> None:
    company = make_company(name="Kök AB")
    make_placement(
        company, title="APL hotellkök", skills=["matlagning"], search_text=""
    )
    make_need(make_school(), title="Svetsning åk 2", search_text="")
    db.commit()
    assert _titles(db, "kock") == []

    result = runner.invoke(args=["reindex-search"])
    assert result.exit_code == 0, result.output
    assert "1 placements, 1 needs and 0 skill gaps" in result.output
    db.expire_all()
    assert _titles(db, "kock") == ["APL hotellkök"]

    again = runner.invoke(args=["reindex-search"])
    assert "0 placements, 0 needs and 0 skill gaps" in again.output
