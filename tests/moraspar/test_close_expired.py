"""`moraspar close-expired`: postings past their end date close themselves."""

from datetime import date
from typing import Any

from sqlmodel import Session, select

from moraspar.models import AuditEvent, Need, Placement, PostingStatus

TODAY = ["close-expired", "--today", "2027-06-01"]


def test_expired_postings_are_closed_with_audit(
    runner: Any,
    db: Session,
    make_school: Any,
    make_company: Any,
    make_need: Any,
    make_placement: Any,
) -> None:
    school, company = make_school(), make_company()
    expired_need = make_need(school, end_date=date(2027, 5, 31))
    paused_need = make_need(
        school, end_date=date(2027, 1, 15), status=PostingStatus.PAUSED
    )
    current_need = make_need(school, end_date=date(2027, 6, 1))  # last day is today
    undated_need = make_need(school, start_date=None, end_date=None)
    expired_placement = make_placement(company, end_date=date(2026, 12, 20))
    future_placement = make_placement(company, end_date=date(2027, 8, 30))
    already_closed = make_placement(
        company, end_date=date(2026, 1, 1), status=PostingStatus.CLOSED
    )

    result = runner.invoke(args=TODAY)

    assert result.exit_code == 0, result.output
    assert "Closed 2 needs and 1 placements." in result.output
    db.expire_all()

    def status(posting: Need | Placement) -> str:
        row = db.get(type(posting), posting.id)
        assert row is not None
        return row.status

    assert [status(p) for p in (expired_need, paused_need, expired_placement)] == [
        PostingStatus.CLOSED
    ] * 3
    still_open = (current_need, undated_need, future_placement)
    assert [status(p) for p in still_open] == [PostingStatus.OPEN] * 3
    assert status(already_closed) == PostingStatus.CLOSED
    closed_need = db.get(Need, expired_need.id)
    assert closed_need is not None and closed_need.closed_at is not None
    events = db.exec(select(AuditEvent).order_by(AuditEvent.entity)).all()
    assert sorted((e.action, e.entity_id, e.details["previous"]) for e in events) == [
        ("need.expire", expired_need.id, "open"),
        ("need.expire", paused_need.id, "paused"),
        ("placement.expire", expired_placement.id, "open"),
    ]
    assert all(e.actor_id is None for e in events)  # the scheduler, not a user


def test_second_run_closes_nothing(
    runner: Any, db: Session, make_company: Any, make_placement: Any
) -> None:
    make_placement(make_company(), end_date=date(2027, 1, 1))
    assert "Closed 0 needs and 1 placements." in runner.invoke(args=TODAY).output
    second = runner.invoke(args=TODAY)
    assert second.exit_code == 0
    assert "Closed 0 needs and 0 placements." in second.output
    assert len(db.exec(select(AuditEvent)).all()) == 1
    db.expire_all()
    assert db.exec(select(Placement.status)).one() == PostingStatus.CLOSED


def test_bad_date_is_a_usage_error(runner: Any) -> None:
    result = runner.invoke(args=["close-expired", "--today", "1/6/2027"])
    assert result.exit_code != 0
    assert "--today" in result.output
