"""The last free place under concurrent confirmations: never overbooked.

Each thread has its own Session (and connection) and confirms through the
service, then commits, as two requests would. A barrier on the engine holds
both threads until each has read the proposal and the placement and is about
to write, so the race really happens: both see a free place. Runs on a SQLite
file database (WAL, busy timeout) and, when MORASPAR_TEST_DATABASE_URL is set,
on that database (PostgreSQL in CI).
"""

import threading
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, func, select

from moraspar.auth.services import new_session_token
from moraspar.bookings import services
from moraspar.models import (
    Booking,
    MatchProposal,
    Need,
    Organisation,
    OrgKind,
    Placement,
    ProposalStatus,
    Role,
    User,
)


def _user(db: Session, role: str, organisation: Organisation) -> User:
    user = User(
        email=f"{role}{organisation.id}-{new_session_token()[:8]}@example.se",
        display_name=role,
        role=role,
        organisation_id=organisation.id,
        session_token=new_session_token(),
    )
    db.add(user)
    return user


def _scene(engine: sa.Engine, *, needs: int, places: int) -> dict[str, Any]:
    """A company with one placement of `places`, and approved proposals to it."""
    with Session(engine, expire_on_commit=False) as db:
        company = Organisation(kind=OrgKind.COMPANY, name="Verkstaden AB")
        db.add(company)
        db.flush()
        contact = _user(db, Role.COMPANY, company)
        placement = Placement(
            company_id=company.id,
            kind="apl",
            title="APL i verkstad",
            places=places,
            start_date=date(2027, 1, 11),
            end_date=date(2027, 6, 4),
        )
        db.add(placement)
        db.flush()
        teachers, proposals = [], []
        for n in range(needs):
            school = Organisation(kind=OrgKind.SCHOOL, name=f"Skola {n}")
            db.add(school)
            db.flush()
            teachers.append(_user(db, Role.TEACHER, school))
            need = Need(school_id=school.id, kind="apl", title=f"Need {n}", students=1)
            db.add(need)
            db.flush()
            proposal = MatchProposal(
                need_id=need.id,
                placement_id=placement.id,
                students=1,
                status=ProposalStatus.APPROVED,
            )
            db.add(proposal)
            proposals.append(proposal)
        db.commit()
        return {
            "contact": contact.id,
            "teachers": [t.id for t in teachers],
            "proposals": [p.id for p in proposals],
            "placement": placement.id,
        }


def _race(engine: sa.Engine, answers: list[tuple[int, int]]) -> list[str]:
    """Each (user id, proposal id) confirms in its own thread, all at once."""
    with Session(engine, expire_on_commit=False) as db:
        # Loaded up front and detached: no thread holds a transaction while
        # it waits for the start.
        users = {user_id: db.get(User, user_id) for user_id, _ in answers}
    start = threading.Barrier(len(answers), timeout=20)
    at_first_write = threading.Barrier(len(answers), timeout=20)
    waited: set[int] = set()
    queued = threading.Event()

    def hold_first_write(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        # Where the database lets both transactions read before either writes
        # (PostgreSQL; SQLite's deferred BEGIN), hold each thread at its first
        # write until both have read: both then see a free place. Under
        # SQLite's BEGIN IMMEDIATE the writers queue from their first
        # statement, so there is nothing to hold (and holding would deadlock).
        words = statement.lstrip().upper()
        if words.startswith("BEGIN IMMEDIATE"):
            queued.set()
        me = threading.get_ident()
        if words.startswith("UPDATE") and me not in waited and not queued.is_set():
            waited.add(me)
            at_first_write.wait()

    outcomes: list[str] = [""] * len(answers)

    def confirm(i: int, user_id: int, proposal_id: int) -> None:
        user = users[user_id]
        assert user is not None
        with Session(engine, expire_on_commit=False) as session:
            start.wait()
            try:
                booking = services.respond(
                    session, proposal_id=proposal_id, user=user, confirm=True
                )
                session.commit()
                outcomes[i] = "booked" if booking else "confirmed"
            except services.NoFreePlaces:
                session.rollback()
                outcomes[i] = "full"
            except Exception as exc:  # reported by the assertion below
                session.rollback()
                outcomes[i] = f"error: {exc!r}"

    sa.event.listen(engine, "before_cursor_execute", hold_first_write)
    try:
        threads = [
            threading.Thread(target=confirm, args=(i, user_id, proposal_id))
            for i, (user_id, proposal_id) in enumerate(answers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        sa.event.remove(engine, "before_cursor_execute", hold_first_write)
    return outcomes


def _count(engine: sa.Engine) -> tuple[int, int, int]:
    with Session(engine) as db:
        bookings = db.exec(select(func.count()).select_from(Booking)).one()
        placement = db.exec(select(Placement)).one()
        return int(bookings), placement.places_booked, placement.places


@pytest.mark.slow
def test_last_free_place_goes_to_exactly_one(race_engine: sa.Engine) -> None:
    scene = _scene(race_engine, needs=2, places=1)
    with Session(race_engine) as db:
        for teacher_id, proposal_id in zip(
            scene["teachers"], scene["proposals"], strict=True
        ):
            user = db.get(User, teacher_id)
            assert user is not None
            services.respond(db, proposal_id=proposal_id, user=user, confirm=True)
        db.commit()

    outcomes = _race(
        race_engine, [(scene["contact"], pid) for pid in scene["proposals"]]
    )

    assert sorted(outcomes) == ["booked", "full"], outcomes
    bookings, booked, places = _count(race_engine)
    assert bookings == 1
    assert booked == places == 1
    with Session(race_engine) as db:
        statuses = sorted(db.exec(select(MatchProposal.status)).all())
        loser = db.exec(
            select(MatchProposal).where(MatchProposal.status == ProposalStatus.APPROVED)
        ).one()
    assert statuses == [ProposalStatus.APPROVED, ProposalStatus.BOOKED]
    assert loser.company_confirmed is None  # rolled back, nothing half-written


@pytest.mark.slow
def test_both_sides_confirming_at_once_book_once(race_engine: sa.Engine) -> None:
    scene = _scene(race_engine, needs=1, places=3)
    (proposal_id,) = scene["proposals"]
    (teacher_id,) = scene["teachers"]

    outcomes = _race(
        race_engine, [(teacher_id, proposal_id), (scene["contact"], proposal_id)]
    )

    assert sorted(outcomes) == ["booked", "confirmed"], outcomes
    bookings, booked, _places = _count(race_engine)
    assert (bookings, booked) == (1, 1)
