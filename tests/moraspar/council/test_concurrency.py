"""Approvals racing for the same places: never more students than places, and
never more than the need has.

Each thread approves one proposal through the council's service in its own
Session (and connection), then commits, as concurrent requests would. Where the
database lets every transaction read before any writes (PostgreSQL without row
locks), a hook on the engine holds each thread at its first write until all have
read, so that an unguarded check would let all of them through. Once a thread
takes a row lock (SELECT ... FOR UPDATE), or SQLite's BEGIN IMMEDIATE queues the
writers, the database serialises them and nothing is held (holding then would
deadlock). Runs on a SQLite file and, when MORASPAR_TEST_DATABASE_URL is set,
on that database (PostgreSQL in CI).
"""

import threading
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from moraspar.auth.services import new_session_token
from moraspar.council import services
from moraspar.models import (
    MatchProposal,
    Need,
    Organisation,
    OrgKind,
    Placement,
    ProposalStatus,
    Role,
    User,
)

RACERS = 10  # below the engine's default pool (5 + 10 overflow)


def _scene(
    engine: sa.Engine, *, needs: list[int], places: list[int], students: int
) -> tuple[int, list[int]]:
    """One proposal per (need, placement) position, all proposed; returns the
    council member's id and the proposal ids."""
    with Session(engine, expire_on_commit=False) as db:
        school = Organisation(kind=OrgKind.SCHOOL, name="Mora gymnasium")
        company = Organisation(kind=OrgKind.COMPANY, name="Verkstaden AB")
        db.add_all([school, company])
        db.flush()
        member = User(
            email=f"council-{new_session_token()[:8]}@example.se",
            display_name="Council",
            role=Role.COUNCIL,
            session_token=new_session_token(),
        )
        need_rows = [
            Need(school_id=school.id, kind="apl", title=f"Need {n}", students=count)
            for n, count in enumerate(needs)
        ]
        placement_rows = [
            Placement(company_id=company.id, kind="apl", title=f"APL {n}", places=count)
            for n, count in enumerate(places)
        ]
        db.add_all([member, *need_rows, *placement_rows])
        db.flush()
        proposals = [
            MatchProposal(
                need_id=need_rows[i % len(need_rows)].id,
                placement_id=placement_rows[i % len(placement_rows)].id,
                students=students,
            )
            for i in range(RACERS)
        ]
        db.add_all(proposals)
        db.commit()
        assert member.id is not None
        return member.id, [p.id for p in proposals if p.id is not None]


def _race(engine: sa.Engine, member_id: int, proposal_ids: list[int]) -> list[str]:
    with Session(engine, expire_on_commit=False) as db:
        member = db.get(User, member_id)
    start = threading.Barrier(len(proposal_ids), timeout=30)
    at_first_write = threading.Barrier(len(proposal_ids), timeout=30)
    waited: set[int] = set()
    serialised = threading.Event()

    def hold_first_write(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        words = " ".join(statement.upper().split())
        if words.startswith("BEGIN IMMEDIATE") or "FOR UPDATE" in words:
            serialised.set()
        me = threading.get_ident()
        writes = words.startswith(("UPDATE", "INSERT"))
        if writes and me not in waited and not serialised.is_set():
            waited.add(me)
            at_first_write.wait()

    outcomes = [""] * len(proposal_ids)

    def approve(i: int, proposal_id: int) -> None:
        with Session(engine, expire_on_commit=False) as session:
            start.wait()
            try:
                proposal = session.get(MatchProposal, proposal_id)
                assert proposal is not None
                services.decide(
                    session, proposal=proposal, action="approve", actor=member
                )
                session.commit()
                outcomes[i] = "approved"
            except services.NoFreePlaces:
                session.rollback()
                outcomes[i] = "full"
            except services.NeedCovered:
                session.rollback()
                outcomes[i] = "covered"
            except Exception as exc:  # reported by the assertions
                session.rollback()
                outcomes[i] = f"error: {exc!r}"

    sa.event.listen(engine, "before_cursor_execute", hold_first_write)
    try:
        threads = [
            threading.Thread(target=approve, args=(i, pid))
            for i, pid in enumerate(proposal_ids)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        sa.event.remove(engine, "before_cursor_execute", hold_first_write)
    return outcomes


def _approved(engine: sa.Engine) -> list[MatchProposal]:
    with Session(engine) as db:
        return list(
            db.exec(
                select(MatchProposal).where(
                    MatchProposal.status == ProposalStatus.APPROVED
                )
            ).all()
        )


@pytest.mark.slow
def test_concurrent_approvals_never_overbook_a_placement(
    race_engine: sa.Engine,
) -> None:
    # RACERS needs of one student each, all proposed to one placement of 3.
    member, proposals = _scene(race_engine, needs=[1] * RACERS, places=[3], students=1)

    outcomes = _race(race_engine, member, proposals)

    assert sorted(outcomes) == ["approved"] * 3 + ["full"] * (RACERS - 3), outcomes
    approved = _approved(race_engine)
    assert sum(p.students for p in approved) == 3


@pytest.mark.slow
def test_concurrent_approvals_never_over_cover_a_need(race_engine: sa.Engine) -> None:
    # One need of 3 students, ranked (0 students) against RACERS placements.
    member, proposals = _scene(race_engine, needs=[3], places=[2] * RACERS, students=0)

    outcomes = _race(race_engine, member, proposals)

    approved = _approved(race_engine)
    assert sum(p.students for p in approved) == 3, outcomes
    assert all(o in ("approved", "covered") for o in outcomes), outcomes
    assert outcomes.count("approved") == len(approved)
