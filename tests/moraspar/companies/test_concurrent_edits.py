"""Edits of a placement racing with confirmations and with each other.

Each thread has its own Session (and connection) and calls the services, then
commits, as concurrent requests would. Where the database lets a transaction
read before another writes (PostgreSQL), a hook holds the edit at its first
write until the others are done, so it really works from what it read before
they committed. Under SQLite's BEGIN IMMEDIATE writers queue from their first
statement, so there is nothing to hold (and holding would deadlock). Runs on a
SQLite file database and, when MORASPAR_TEST_DATABASE_URL is set, on that
database (PostgreSQL in CI).
"""

import threading
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, func, select

from moraspar import organisations
from moraspar.auth.services import new_session_token
from moraspar.bookings import services as bookings
from moraspar.companies import services as companies
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

WAIT = 30  # seconds: only a safety net against a deadlocked test, never a pace


def _user(db: Session, role: str, organisation: Organisation) -> User:
    user = User(
        email=f"{role}{organisation.id}-{new_session_token()[:8]}@example.se",
        display_name=role,
        role=role,
        organisation_id=organisation.id,
        session_token=new_session_token(),
    )
    db.add(user)
    db.flush()
    return user


def _scene(engine: sa.Engine, *, needs: int, places: int) -> dict[str, Any]:
    """A placement of `places` with `needs` approved one-student proposals,
    each already confirmed by its school: the company's answer books it."""
    with Session(engine, expire_on_commit=False) as db:
        company = Organisation(kind=OrgKind.COMPANY, name="Verkstaden AB")
        db.add(company)
        db.flush()
        contact = _user(db, Role.COMPANY, company)
        editor = _user(db, Role.COMPANY, company)
        placement = Placement(
            company_id=company.id,
            kind="apl",
            title="APL i verkstad",
            places=places,
            start_date=date(2027, 1, 11),
            end_date=date(2027, 6, 4),
            locality="Mora",
            supervisor_name="Kim",
            supervisor_contact="kim@verkstad.example",
        )
        db.add(placement)
        db.flush()
        proposals = []
        for n in range(needs):
            school = Organisation(kind=OrgKind.SCHOOL, name=f"Skola {n}")
            db.add(school)
            db.flush()
            teacher = _user(db, Role.TEACHER, school)
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
            db.flush()
            bookings.respond(db, proposal_id=proposal.id, user=teacher, confirm=True)
            proposals.append(proposal.id)
        db.commit()
        return {
            "contact": contact,
            "editor": editor,
            "placement": placement.id,
            "proposals": proposals,
        }


def _edit_data(placement: Placement, **changes: Any) -> companies.PlacementData:
    values: dict[str, Any] = {
        "kind": placement.kind,
        "title": placement.title,
        "places": placement.places,
        "start_date": placement.start_date,
        "end_date": placement.end_date,
        "locality": placement.locality,
        "supervisor_name": placement.supervisor_name,
        "supervisor_contact": placement.supervisor_contact,
        "version": placement.version,
    }
    values.update(changes)
    return companies.PlacementData(**values)


class Holder:
    """Holds the threads that call hold_me() at their first UPDATE until
    release(); inactive on SQLite, whose writers queue from their first
    statement (BEGIN IMMEDIATE), so holding would deadlock."""

    def __init__(self, engine: sa.Engine, *, parties: int = 1) -> None:
        self.engine = engine
        self.active = engine.dialect.name != "sqlite"
        self.threads: set[int] = set()
        self.held: set[int] = set()
        self.gate = threading.Barrier(parties + 1, timeout=WAIT)

    def hold_me(self) -> None:
        self.threads.add(threading.get_ident())

    def release(self) -> None:
        """Let the held threads go, once they are all held."""
        if self.active:
            self.gate.wait()

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        me = threading.get_ident()
        if (
            self.active
            and statement.lstrip().upper().startswith("UPDATE")
            and me in self.threads
            and me not in self.held
        ):
            self.held.add(me)
            self.gate.wait()

    def __enter__(self) -> "Holder":
        sa.event.listen(self.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *_exc: Any) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self)


def _run(*targets: Callable[[], None]) -> None:
    threads = [threading.Thread(target=target) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=2 * WAIT)


def _edit(
    engine: sa.Engine,
    scene: dict[str, Any],
    outcome: list[str],
    *,
    after_read: Callable[[], None] = lambda: None,
    **changes: Any,
) -> None:
    """Read the placement, then save it with changes, as an edit request does."""
    with Session(engine, expire_on_commit=False) as db:
        try:
            placement = db.get(Placement, scene["placement"])
            assert placement is not None
            company = db.get(Organisation, placement.company_id)
            assert company is not None
            data = _edit_data(placement, **changes)
            after_read()
            companies.update_placement(
                db,
                placement=placement,
                company=company,
                data=data,
                actor=scene["editor"],
            )
            db.commit()
            outcome.append("saved")
        except companies.PlacesBelowBooked:
            db.rollback()
            outcome.append("below booked")
        except organisations.StaleEdit:
            db.rollback()
            outcome.append("stale")
        except Exception as exc:  # reported by the assertions
            db.rollback()
            outcome.append(f"error: {exc!r}")


def _stored(engine: sa.Engine) -> tuple[int, int, int]:
    with Session(engine) as db:
        placement = db.exec(select(Placement)).one()
        count = db.exec(select(func.count()).select_from(Booking)).one()
        return placement.places, placement.places_booked, int(count)


@pytest.mark.slow
def test_lowering_places_while_confirmations_run_never_overbooks(
    race_engine: sa.Engine,
) -> None:
    scene = _scene(race_engine, needs=3, places=5)
    edit_outcome: list[str] = []
    confirmations: list[str] = []
    read = threading.Event()

    with Holder(race_engine) as holder:

        def edit() -> None:
            holder.hold_me()
            try:
                _edit(race_engine, scene, edit_outcome, after_read=read.set, places=1)
            finally:
                read.set()

        def confirm_all() -> None:
            read.wait(WAIT)  # the edit has read places_booked = 0
            for proposal_id in scene["proposals"]:
                with Session(race_engine, expire_on_commit=False) as db:
                    try:
                        bookings.respond(
                            db,
                            proposal_id=proposal_id,
                            user=scene["contact"],
                            confirm=True,
                        )
                        db.commit()
                        confirmations.append("booked")
                    except bookings.NoFreePlaces:
                        db.rollback()
                        confirmations.append("full")
            holder.release()

        _run(edit, confirm_all)

    places, booked, count = _stored(race_engine)
    assert booked <= places, (edit_outcome, confirmations, places, booked)
    assert count == booked
    if holder.active:  # the edit really saved from a read older than the bookings
        assert edit_outcome == ["below booked"]
        assert confirmations == ["booked"] * 3
        assert (places, booked) == (5, 3)
    else:  # queued: the edit went first, so two confirmations found it full
        assert edit_outcome == ["saved"]
        assert sorted(confirmations) == ["booked", "full", "full"]
        assert (places, booked) == (1, 1)


@pytest.mark.slow
def test_two_edits_of_one_version_save_exactly_one(race_engine: sa.Engine) -> None:
    scene = _scene(race_engine, needs=0, places=2)
    outcomes: list[str] = []

    with Holder(race_engine, parties=2) as holder:

        def edit(title: str) -> Callable[[], None]:
            def run() -> None:
                holder.hold_me()
                # Both forms were opened at version 1.
                _edit(race_engine, scene, outcomes, title=title, version=1)

            return run

        # Both edits hold at their first write, each having read version 1.
        _run(edit("Första"), edit("Andra"), holder.release)

    assert sorted(outcomes) == ["saved", "stale"], outcomes
    with Session(race_engine) as db:
        placement = db.exec(select(Placement)).one()
    assert placement.version == 2
    assert placement.title in ("Första", "Andra")
