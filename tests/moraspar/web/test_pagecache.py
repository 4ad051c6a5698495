"""Whole pages served again while the database is unchanged: a hit is the
page the view would render now, for this user and session only."""

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlmodel import Session, select

from moraspar import changes
from moraspar.council.runs import create_run
from moraspar.council.services import councils_of
from moraspar.demo import DEMO_PASSWORD, load_demo
from moraspar.meetings.services import MeetingData, create_meeting
from moraspar.models import (
    ChangeCounter,
    LoginAttempt,
    Organisation,
    Placement,
    Role,
    User,
)
from moraspar.search import index_text
from moraspar.web.pagecache import EXTENSION, PageCache
from tests.conftest import PASSWORD

CACHED = {
    Role.TEACHER: [
        "/school/",
        "/school/needs",
        "/school/search",
        "/school/search?q=bil",
    ],
    Role.COMPANY: ["/company/", "/company/placements"],
    Role.COUNCIL: ["/council/", "/council/board", "/gaps/"],
}


def _cache(app: Flask) -> PageCache:
    cache: PageCache = app.extensions[EXTENSION]
    return cache


def _counter(db: Session) -> int | None:
    db.rollback()  # a fresh read, not this session's snapshot
    return changes.current(db)


@pytest.fixture
def company(make_company: Callable[..., Organisation]) -> Organisation:
    return make_company(name="Mora Bil AB", locality="Mora")


@pytest.fixture
def placement(
    db: Session, company: Organisation, make_placement: Callable[..., Placement]
) -> Placement:
    placement = make_placement(company, title="Bilmekaniker på verkstaden")
    placement.search_text = index_text(
        placement.title, placement.description, placement.skills, company.name
    )
    db.add(placement)
    db.commit()
    return placement


def test_a_second_view_is_served_from_the_cache_unchanged(
    client: Any, auth: Any, app: Flask, placement: Placement
) -> None:
    auth.login(Role.TEACHER, language="en")
    client.get("/school/search?q=bil")  # the session gets its form token
    first = client.get("/school/search?q=bil")
    hits = _cache(app).hits

    again = client.get("/school/search?q=bil")

    assert again.status_code == 200
    assert _cache(app).hits == hits + 1
    assert again.get_data() == first.get_data()
    assert "Bilmekaniker på verkstaden" in again.get_data(as_text=True)
    # the after-request hooks still run on a hit
    assert again.headers["Cache-Control"] == "no-store"
    assert again.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("role", "url"), [(role, url) for role, urls in CACHED.items() for url in urls]
)
def test_viewing_a_cached_page_writes_nothing(
    client: Any, auth: Any, app: Flask, db: Session, role: str, url: str
) -> None:
    """A page may be cached only when showing it changes nothing: a hit skips
    the view and whatever it would have written."""
    auth.login(role, language="en")
    client.get(url)  # the session gets its form token
    before = _counter(db)

    assert client.get(url).status_code == 200
    assert client.get(url).status_code == 200

    assert _counter(db) == before
    assert _cache(app).hits >= 1


def test_a_write_by_someone_else_shows_at_once(
    client: Any,
    auth: Any,
    app: Flask,
    db: Session,
    company: Organisation,
    placement: Placement,
) -> None:
    auth.login(Role.TEACHER, language="en")
    client.get("/school/search?q=bil")
    assert "Bilmekaniker" in client.get("/school/search?q=bil").get_data(as_text=True)

    # the owner renames it (any session, any process: the counter is shared)
    db.refresh(placement)
    placement.title = "Bilmekaniker med lastbilar"
    placement.search_text = index_text(
        placement.title, placement.description, placement.skills, company.name
    )
    db.add(placement)
    db.commit()

    page = client.get("/school/search?q=bil").get_data(as_text=True)

    assert "Bilmekaniker med lastbilar" in page


def test_a_flashed_message_is_shown_once(client: Any, auth: Any, app: Flask) -> None:
    auth.login(Role.TEACHER, language="en")
    client.get("/school/needs")
    client.get("/school/needs")
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Behovet är sparat.")]

    with_message = client.get("/school/needs").get_data(as_text=True)
    after = client.get("/school/needs").get_data(as_text=True)

    assert "Behovet är sparat." in with_message
    assert "Behovet är sparat." not in after


def test_users_and_sessions_never_share_a_page(
    app: Flask, make_school: Any, make_user: Any, make_need: Any
) -> None:
    schools = [make_school(name="Mora gymnasium"), make_school(name="Orsa skola")]
    for school in schools:
        make_need(school, title=f"APL hos {school.name}")
    clients = []
    for school in [*schools, schools[0]]:
        user = make_user(Role.TEACHER, organisation=school, language="en")
        client = app.test_client()
        client.post_form("/login", {"email": user.email, "password": PASSWORD})
        clients.append(client)

    pages = [c.get("/school/needs").get_data(as_text=True) for c in clients * 2]

    assert "APL hos Mora gymnasium" in pages[0] and "Orsa" not in pages[0]
    assert "APL hos Orsa skola" in pages[1] and "APL hos Mora" not in pages[1]
    tokens = {page.split('name="csrf_token"', 1)[1][:200] for page in pages[:3]}
    assert len(tokens) == 3  # each session its own form token


def test_signing_out_ends_the_cached_pages(client: Any, auth: Any) -> None:
    auth.login(Role.COUNCIL, language="en")
    client.get("/council/board")
    assert client.get("/council/board").status_code == 200

    auth.logout()

    answer = client.get("/council/board")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_the_language_is_part_of_the_key(client: Any, auth: Any) -> None:
    auth.login(Role.TEACHER, language="en")
    client.get("/school/")
    english = client.get("/school/").get_data(as_text=True)
    client.post_form("/language", {"lang": "sv", "next": "/school/"})

    swedish = client.get("/school/").get_data(as_text=True)

    assert swedish != english
    assert 'lang="sv"' in swedish


def test_a_page_ages_out(client: Any, auth: Any, app: Flask) -> None:
    _cache(app).seconds = 0
    auth.login(Role.TEACHER, language="en")
    client.get("/school/")
    hits = _cache(app).hits

    client.get("/school/")

    assert _cache(app).hits == hits


def test_the_cache_is_bounded_and_can_be_turned_off() -> None:
    cache = PageCache(size=2, seconds=60)
    for n in range(3):
        cache.file(("page", n), b"<p>", "text/html")
    assert len(cache) == 2 and cache.get(("page", 0)) is None

    off = PageCache(size=0, seconds=60)
    off.file(("page",), b"<p>", "text/html")
    assert len(off) == 0


def test_every_committed_write_raises_the_counter(
    db: Session, engine: sa.Engine, make_school: Any
) -> None:
    start = _counter(db)
    school = make_school(name="Älvdalens skola")
    after_insert = _counter(db)
    school.name = "Älvdalens skola och gymnasium"
    db.add(school)
    db.commit()
    after_update = _counter(db)
    db.execute(sa.update(Organisation).values(locality="Älvdalen"))
    db.commit()
    after_statement = _counter(db)

    assert start is not None
    assert start < after_insert < after_update < after_statement  # type: ignore[operator]


def test_rollbacks_and_quiet_tables_leave_the_counter(
    db: Session, make_school: Any
) -> None:
    start = _counter(db)
    db.add(LoginAttempt(key="ip:abc"))
    db.commit()
    after_quiet = _counter(db)
    make_school(name="Orsa skola")
    counted = _counter(db)
    db.execute(sa.update(Organisation).values(locality="Orsa"))
    db.rollback()

    assert after_quiet == start
    assert counted is not None and start is not None and counted > start
    assert _counter(db) == counted


def test_an_emptied_counter_comes_back(db: Session, make_school: Any) -> None:
    db.execute(sa.delete(ChangeCounter))
    db.commit()  # the delete raised nothing: the row was gone
    assert _counter(db) is None

    make_school(name="Mora gymnasium")

    counter = _counter(db)
    assert counter is not None and counter >= 1


def test_a_savepoint_waits_for_the_transaction_around_it(
    db: Session, engine: sa.Engine, make_school: Any
) -> None:
    """Releasing a savepoint fires after_commit too; raising the counter then
    would come before the data's commit (and wait on SQLite's write lock)."""
    school = make_school(name="Mora gymnasium")
    log: list[str] = []

    def statement(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        log.append("raise" if "change_counter" in sql else sql.split()[0].upper())

    def commit(_conn: Any) -> None:
        log.append("COMMIT")

    sa.event.listen(engine, "before_cursor_execute", statement)
    sa.event.listen(engine, "commit", commit)
    try:
        with db.begin_nested():
            school.name = "Mora gymnasium och vuxenutbildning"
            db.add(school)
        db.commit()
    finally:
        sa.event.remove(engine, "before_cursor_execute", statement)
        sa.event.remove(engine, "commit", commit)

    assert "RELEASE" in log and log.count("raise") == 1
    assert log.index("RELEASE") < log.index("COMMIT") < log.index("raise"), log


def test_a_savepoint_rolled_back_keeps_the_writes_before_it(
    db: Session, make_school: Any
) -> None:
    school = make_school(name="Mora gymnasium")
    start = _counter(db)

    school.name = "Mora gymnasium och vuxenutbildning"
    db.add(school)
    db.flush()
    savepoint = db.begin_nested()
    db.execute(sa.update(Organisation).values(locality="Orsa"))
    savepoint.rollback()
    db.commit()

    after = _counter(db)
    assert start is not None and after is not None and after > start


_HOMES = {
    "teacher@moraspar.example": "/school/",
    "company@moraspar.example": "/company/",
    "council@moraspar.example": "/council/",
    "admin@moraspar.example": "/admin/",
}
# Links a crawl does not follow: sign-out, files, and one-time token links.
_NOT_FOLLOWED = re.compile(
    r"^/(logout|static/|unsubscribe/|invite/|reset/|bookings/(answer|evaluate)/)"
    r"|\.(ics|odt|json|csv|xlsx|txt)$|/export"
)
_HREF = re.compile(r'href="(/[^"#?]*)')


def _crawl(client: Any, start: str, limit: int = 150) -> list[str]:
    """The HTML pages a signed-in user reaches by following links from start,
    one address per route shape, breadth first."""
    shape = re.compile(r"\d+")
    seen: set[str] = set()
    pages: list[str] = []
    queue = [start]
    while queue and len(pages) < limit:
        path = queue.pop(0)
        if shape.sub("<n>", path) in seen or _NOT_FOLLOWED.search(path):
            continue
        seen.add(shape.sub("<n>", path))
        answer = client.get(path)
        if answer.status_code == 200 and answer.mimetype == "text/html":
            pages.append(path)
            queue.extend(_HREF.findall(answer.get_data(as_text=True)))
    return pages


def test_every_cached_view_serves_its_page_again_and_writes_nothing(
    client: Any, app: Flask, db: Session
) -> None:
    """Each role of the demo follows every link it is shown; every page of a
    view marked @cached_page is served again from the cache, byte for byte,
    and showing it raised no change counter. Every marked view is reached, so
    a newly marked view is checked here too."""
    load_demo(db)
    council_member = db.exec(
        select(User).where(User.email == "council@moraspar.example")
    ).one()
    council_id = councils_of(db, user=council_member)[0].id
    assert council_id is not None
    # a meeting and a queued run, so that their pages are linked
    create_meeting(
        db,
        actor=council_member,
        data=MeetingData(
            title="Kompetensrådet i december",
            held_on=date(2027, 12, 8),
            council_id=council_id,
        ),
    )
    create_run(db, actor=council_member, council_id=council_id)
    db.commit()
    marked = {
        endpoint
        for endpoint, view in app.view_functions.items()
        if getattr(view, "_moraspar_cached_page", False)
    }
    adapter = app.url_map.bind("localhost")
    reached: set[str] = set()
    for email, home in _HOMES.items():
        client.post_form("/login", {"email": email, "password": DEMO_PASSWORD})
        for path in _crawl(client, home):
            endpoint = adapter.match(path)[0]
            if endpoint not in marked:
                continue
            reached.add(endpoint)
            first = client.get(path)
            before, hits = _counter(db), _cache(app).hits

            again = client.get(path)

            assert first.status_code == again.status_code == 200, path
            assert again.get_data() == first.get_data(), path
            assert _cache(app).hits == hits + 1, path
            assert _counter(db) == before, path
        client.post_form("/logout")
    assert not marked - reached, sorted(marked - reached)
