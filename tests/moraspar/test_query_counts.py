"""The busiest pages run as many SQL statements for 3N rows as for N (no N+1).

Each page is built with N rows, measured, then with 3N rows and measured
again; the statement count must not change. The rows stay on one page, so
every added row is rendered. Runs on SQLite and, with
MORASPAR_TEST_DATABASE_URL, on PostgreSQL.
"""

from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import Session

from moraspar.models import (
    MatchProposal,
    Organisation,
    ProgrammeGapMatch,
    Role,
    User,
)
from moraspar.search import index_text
from moraspar.web.pagecache import EXTENSION as PAGE_CACHE

N = 3


class Page:
    """A page, a way to add rows to it, and what each row looks like."""

    def __init__(
        self,
        url: str,
        login: Callable[[], User],
        add_rows: Callable[[User, int, int], None],
        marker: str,
    ) -> None:
        self.url = url
        self.login = login
        self.add_rows = add_rows
        self.marker = marker


@pytest.fixture
def pages(
    auth: Any,
    db: Session,
    make_school: Callable[..., Organisation],
    make_company: Callable[..., Organisation],
    make_programme: Any,
    make_need: Any,
    make_placement: Any,
    make_skill_gap: Any,
) -> dict[str, Page]:
    school = make_school(name="Mora gymnasium", locality="Mora")

    def teacher() -> User:
        return auth.login(Role.TEACHER, organisation=school, language="en")

    def company_user() -> User:
        return auth.login(Role.COMPANY, language="en")

    def council_member() -> User:
        return auth.login(Role.COUNCIL, language="en")

    def placements(_user: User, start: int, stop: int) -> None:
        for i in range(start, stop):
            # each on its own company, so a per-company look-up would show
            title = f"Svetsning rad{i:03d}"
            make_placement(
                make_company(name=f"Verkstad {i:03d} AB"),
                title=title,
                search_text=index_text(title, "", ["svetsning"]),
                skills=["svetsning", f"färdighet {i}"],
            )

    def needs(_user: User, start: int, stop: int) -> None:
        for i in range(start, stop):
            programme = make_programme(school, name=f"Program rad{i:03d}")
            make_need(school, title=f"Behov rad{i:03d}", programme_id=programme.id)

    def own_placements(user: User, start: int, stop: int) -> None:
        company = db.get(Organisation, user.organisation_id)
        for i in range(start, stop):
            make_placement(company, title=f"Plats rad{i:03d}")

    def proposals(_user: User, start: int, stop: int) -> None:
        for i in range(start, stop):
            need = make_need(make_school(name=f"Skola {i:03d}"), title=f"Behov {i}")
            placement = make_placement(
                make_company(name=f"Företag {i:03d} AB"), title=f"Plats {i}"
            )
            db.add(
                MatchProposal(
                    need_id=need.id,
                    placement_id=placement.id,
                    score=0.5 + i / 100,
                    parts={"text": 0.8, "skills": 0.5, "period": 1.0},
                    reasons=[
                        {"code": "shared_skills", "value": None, "values": ["a"]},
                        {"code": "distance_km", "value": 12.5, "values": []},
                        {"code": "overlap_weeks", "value": 14.7, "values": []},
                        {"code": "free_places", "value": 2.0, "values": []},
                    ],
                    students=2,
                )
            )
            db.commit()

    def gaps(_user: User, start: int, stop: int) -> None:
        for i in range(start, stop):
            company = make_company(name=f"Gapföretag {i:03d} AB", locality="Mora")
            programme = make_programme(
                make_school(name=f"Gapskola {i:03d}"),
                name=f"Gapprogram {i:03d}",
                skills=[f"kunskap{i:03d}"],
            )
            # one gap a run scored, one only sharing a skill tag, one that no
            # programme addresses (listed by title)
            scored = make_skill_gap(
                company, title=f"Gap rad{i:03d}", skills=[f"kunskap{i:03d}"]
            )
            make_skill_gap(
                company,
                title=f"Gap tagg{i:03d}",
                skills=[f"kunskap{i:03d}"],
                ssyk_code=f"{i % 9 + 1}111",
            )
            make_skill_gap(company, title=f"Gap ensam{i:03d}", skills=[f"ensam{i:03d}"])
            db.add(
                ProgrammeGapMatch(
                    programme_id=programme.id, skill_gap_id=scored.id, score=0.9
                )
            )
            db.commit()

    return {
        "search": Page("/school/search", teacher, placements, "Svetsning rad"),
        "search_text": Page(
            "/school/search?q=svetsare", teacher, placements, "Svetsning rad"
        ),
        "needs": Page("/school/needs", teacher, needs, "Behov rad"),
        "company_placements": Page(
            "/company/placements", company_user, own_placements, "Plats rad"
        ),
        "board": Page("/council/board", council_member, proposals, 'for="select-'),
        "gaps": Page("/gaps/?group=skill", council_member, gaps, "Gap ensam"),
        "gaps_by_area": Page("/gaps/", council_member, gaps, "Gap ensam"),
    }


@pytest.mark.parametrize(
    "name",
    [
        "search",
        "search_text",
        "needs",
        "company_placements",
        "board",
        "gaps",
        "gaps_by_area",
    ],
)
def test_statements_do_not_grow_with_rows(
    app: Any, client: Any, pages: dict[str, Page], count_queries: Any, name: str
) -> None:
    # What the view itself runs, on every view: a page served again from
    # the page cache runs two statements (tests/moraspar/web/test_pagecache.py).
    app.extensions[PAGE_CACHE].size = 0
    page = pages[name]
    user = page.login()

    def statements(rows: int) -> int:
        client.get(page.url)  # anything cached once per process is cached now
        before = count_queries.count
        response = client.get(page.url)
        assert response.status_code == 200
        used = count_queries.count - before
        assert response.get_data(as_text=True).count(page.marker) >= rows
        return used

    page.add_rows(user, 0, N)
    few = statements(N)
    page.add_rows(user, N, 3 * N)
    many = statements(3 * N)

    assert many == few, count_queries.statements[-many:]


def test_board_total_counts_what_the_filters_find(
    db: Session,
    make_school: Callable[..., Organisation],
    make_company: Callable[..., Organisation],
    make_programme: Any,
    make_need: Any,
    make_placement: Any,
) -> None:
    """The board's lean count (no company, school or programme joins) and its
    pages (ids found first) agree with the rows the full query finds, under
    every filter and grouping."""
    from datetime import date

    from moraspar.council import services
    from moraspar.council.scope import EVERYTHING

    school = make_school(name="Mora gymnasium")
    programme = make_programme(school)
    mora = make_company(name="Mora Bil AB", locality="Mora")
    orsa = make_company(name="Orsa Trä AB", locality="Orsa")
    needs = [
        make_need(school, kind="apl", programme_id=programme.id),
        make_need(school, kind="prao", start_date=date(2027, 9, 1), end_date=None),
        make_need(school, kind="apl", start_date=None, end_date=date(2027, 3, 1)),
    ]
    placements = [make_placement(mora, locality="Mora"), make_placement(orsa)]
    for n, need in enumerate(needs):
        for m, placement in enumerate(placements):
            status = "approved" if (n + m) % 3 == 0 else "proposed"
            db.add(
                MatchProposal(
                    need_id=need.id,
                    placement_id=placement.id,
                    score=0.1 * (n + m),
                    status=status,
                )
            )
    db.commit()
    cases = [
        services.BoardFilters(),
        services.BoardFilters(status=services.STATUS_ALL),
        services.BoardFilters(status=services.STATUS_ALL, kind="apl"),
        services.BoardFilters(programme_id=programme.id, status=services.STATUS_ALL),
        services.BoardFilters(locality=" ORSA ", status=services.STATUS_ALL),
        services.BoardFilters(period_from=date(2027, 6, 1)),
        services.BoardFilters(period_to=date(2027, 1, 31), status=services.STATUS_ALL),
        services.BoardFilters(status=services.STATUS_ALL, group="company"),
        services.BoardFilters(status=services.STATUS_ALL, group="need", text="mora"),
    ]
    totals = []
    for filters in cases:
        rows = db.exec(services.board_query(filters, scope=EVERYTHING)).all()
        page = services.board(db, filters=filters, page=1, per_page=2, scope=EVERYTHING)
        assert page.total == len(rows), filters
        assert len(page.items) == min(2, len(rows))
        # a page's ids are found apart, on narrow rows: the same rows in the
        # same order as the full query's slice
        for number in (1, 2):
            shown = services.board(
                db, filters=filters, page=number, per_page=2, scope=EVERYTHING
            )
            expected = [row[0].id for row in rows[2 * (number - 1) : 2 * number]]
            assert [item.proposal.id for item in shown.items] == expected, filters
        totals.append(page.total)
    assert totals[:2] == [4, 6]  # the cases are not all alike
    assert totals[4] == 3


def test_a_page_looks_its_translations_up_once(
    client: Any,
    db: Session,
    pages: dict[str, Page],
    translation_lookups: list[int],
) -> None:
    """The board translates hundreds of strings; the catalogue is found once
    a request, not once a string, and the page is still in the user's
    language."""
    board = pages["board"]
    user = board.login()
    board.add_rows(user, 0, N)
    calls = translation_lookups
    english = client.get(board.url).get_data(as_text=True)
    in_english = len(calls)
    user.language = "sv"
    db.add(user)
    db.commit()
    swedish = client.get(board.url).get_data(as_text=True)

    assert "Apply to the selected" in english
    assert "Apply to the selected" not in swedish
    assert in_english < 100, in_english
