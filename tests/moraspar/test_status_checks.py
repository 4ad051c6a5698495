"""The database refuses a status outside its enum, whatever code writes it."""

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from moraspar.models import (
    Booking,
    BookingStatus,
    Council,
    JobRun,
    JobStatus,
    MailStatus,
    MatchProposal,
    MatchRun,
    Meeting,
    MeetingStatus,
    Need,
    Organisation,
    OutboxMessage,
    Placement,
    PostingStatus,
    ProposalStatus,
    RunStatus,
    SkillGap,
)

STATUS_ENUMS: dict[str, Any] = {
    "need": PostingStatus,
    "placement": PostingStatus,
    "skill_gap": PostingStatus,
    "match_run": RunStatus,
    "match_proposal": ProposalStatus,
    "booking": BookingStatus,
    "meeting": MeetingStatus,
    "job_run": JobStatus,
    "outbox_message": MailStatus,
}


@pytest.fixture
def one_of_each(
    db: Session,
    make_school: Callable[..., Organisation],
    make_company: Callable[..., Organisation],
    make_need: Callable[..., Need],
    make_placement: Callable[..., Placement],
    make_skill_gap: Callable[..., SkillGap],
) -> dict[str, SQLModel]:
    """A row with a valid status in every table that has a status column."""
    school, company = make_school(), make_company()
    need, placement = make_need(school), make_placement(company)
    run = MatchRun()
    council = Council(name="Kompetensrådet")
    db.add_all([run, council])
    db.flush()
    proposal = MatchProposal(
        run_id=run.id, need_id=need.id or 0, placement_id=placement.id or 0
    )
    db.add(proposal)
    db.flush()
    booking = Booking(
        proposal_id=proposal.id or 0,
        need_id=need.id or 0,
        placement_id=placement.id or 0,
        students=2,
    )
    meeting = Meeting(council_id=council.id or 0, title="Möte", held_on=date.today())
    job = JobRun(name="close_expired", slot="2027-01-01T06:00")
    mail = OutboxMessage(to_address="a@mora.example", subject="Hej", body_text="Hej")
    db.add_all([booking, meeting, job, mail])
    db.commit()
    rows: dict[str, SQLModel] = {
        "need": need,
        "placement": placement,
        "skill_gap": make_skill_gap(company),
        "match_run": run,
        "match_proposal": proposal,
        "booking": booking,
        "meeting": meeting,
        "job_run": job,
        "outbox_message": mail,
    }
    return rows


def test_every_status_column_has_a_named_check() -> None:
    checked = {
        table.name: {
            constraint.name
            for constraint in table.constraints
            if isinstance(constraint, sa.CheckConstraint)
        }
        for table in SQLModel.metadata.sorted_tables
        if "status" in table.columns
    }
    expected = {name: {f"ck_{name}_status"} for name in STATUS_ENUMS}
    expected["booking"] |= {"ck_booking_cancel_reason", "ck_booking_attendance"}
    expected["match_proposal"] |= {"ck_match_proposal_origin"}
    assert checked == expected


@pytest.mark.parametrize("table", sorted(STATUS_ENUMS))
def test_every_allowed_status_is_accepted(
    db: Session, one_of_each: dict[str, SQLModel], table: str
) -> None:
    row = one_of_each[table]
    for status in STATUS_ENUMS[table]:
        row.status = status
        db.add(row)
        db.commit()
        db.refresh(row)
        assert row.status == status  # type: ignore[attr-defined]


@pytest.mark.parametrize("table", sorted(STATUS_ENUMS))
@pytest.mark.parametrize("status", ["stuck", "OPEN", ""])
def test_a_status_outside_the_enum_is_refused(
    db: Session, one_of_each: dict[str, SQLModel], table: str, status: str
) -> None:
    row = one_of_each[table]
    statement = sa.text(f'UPDATE "{table}" SET status = :status WHERE id = :id')  # noqa: S608 - table from the fixed list above
    with pytest.raises(sa.exc.IntegrityError, match=f"ck_{table}_status"):
        db.execute(statement, {"status": status, "id": row.id})  # type: ignore[attr-defined]
    db.rollback()
    db.refresh(row)
    assert row.status in set(STATUS_ENUMS[table])  # type: ignore[attr-defined]


def test_an_insert_with_a_bad_status_is_refused(db: Session) -> None:
    db.add(MatchRun(status="stuck"))
    with pytest.raises(sa.exc.IntegrityError):
        db.commit()
