"""Two workers sending reminders at the same moment send each one once.

Each thread has its own Session, as two workers would, and runs the daily
reminders for the same day. A barrier holds both until each has read the
proposals and is about to write the reminder's key, so both have decided to
send; the unique key in reminder_sent lets one through. Runs on a SQLite
file and, with MORASPAR_TEST_DATABASE_URL, on that database.
"""

import threading
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from moraspar.auth.services import new_session_token
from moraspar.bookings import reminders
from moraspar.models import (
    MatchProposal,
    Need,
    Notification,
    Organisation,
    OrgKind,
    OutboxMessage,
    Placement,
    ProposalStatus,
    ReminderSent,
    Role,
    User,
)

DUE = date(2027, 1, 8)  # the third working day after 4 January 2027


def _scene(engine: sa.Engine) -> None:
    with Session(engine) as db:
        school = Organisation(kind=OrgKind.SCHOOL, name="Skolan")
        company = Organisation(kind=OrgKind.COMPANY, name="Verkstaden AB")
        db.add(school)
        db.add(company)
        db.flush()
        for role, organisation in ((Role.TEACHER, school), (Role.COMPANY, company)):
            db.add(
                User(
                    email=f"{role}-{new_session_token()[:8]}@example.se",
                    display_name=str(role),
                    role=role,
                    organisation_id=organisation.id,
                    session_token=new_session_token(),
                )
            )
        need = Need(school_id=school.id, kind="apl", title="APL", students=2)
        placement = Placement(company_id=company.id, kind="apl", title="Verkstad")
        db.add(need)
        db.add(placement)
        db.flush()
        db.add(
            MatchProposal(
                need_id=need.id,
                placement_id=placement.id,
                students=2,
                status=ProposalStatus.APPROVED,
                decided_at=datetime(2027, 1, 4, 9, tzinfo=UTC),
            )
        )
        db.commit()


@pytest.mark.slow
def test_two_workers_send_each_reminder_once(race_engine: sa.Engine) -> None:
    _scene(race_engine)
    start = threading.Barrier(2, timeout=20)
    at_first_write = threading.Barrier(2, timeout=20)
    waited: set[int] = set()
    queued = threading.Event()

    def hold_first_write(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        # As in the booking race: hold each thread at its first write until
        # both have read, unless SQLite's BEGIN IMMEDIATE already queues them.
        words = statement.lstrip().upper()
        if words.startswith("BEGIN IMMEDIATE"):
            queued.set()
        me = threading.get_ident()
        if words.startswith("INSERT") and me not in waited and not queued.is_set():
            waited.add(me)
            at_first_write.wait()

    sent: list[int] = [0, 0]
    errors: list[str] = []

    def work(i: int) -> None:
        with Session(race_engine) as session:
            start.wait()
            try:
                result = reminders.send_due(
                    session, today=DUE, settings=reminders.Settings()
                )
                session.commit()
                sent[i] = result.unanswered
            except Exception as exc:  # reported by the assertion below
                session.rollback()
                errors.append(repr(exc))

    sa.event.listen(race_engine, "before_cursor_execute", hold_first_write)
    try:
        threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        sa.event.remove(race_engine, "before_cursor_execute", hold_first_write)

    assert errors == []
    assert sum(sent) == 2  # one per side, whichever worker sent it
    with Session(race_engine) as db:
        assert db.exec(select(func.count()).select_from(ReminderSent)).one() == 2
        per_user = db.exec(
            select(Notification.user_id, func.count())
            .where(Notification.kind == "reminder_unanswered")
            .group_by(col(Notification.user_id))
        ).all()
        assert sorted(count for _user, count in per_user) == [1, 1]
        mails = db.exec(
            select(OutboxMessage.to_address).where(
                col(OutboxMessage.subject).contains("Påminnelse")
            )
        ).all()
        assert len(mails) == len(set(mails)) == 2
