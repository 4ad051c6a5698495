"""Reminders: an approved proposal not answered, a booking about to start, an
evaluation not given. Each goes out once, when due, to the side concerned."""

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlmodel import Session, select

from moraspar.bookings import reminders, services
from moraspar.bookings.reminders import Settings, add_workdays, send_due
from moraspar.jobs import tasks
from moraspar.jobs.queue import queue
from moraspar.models import (
    Booking,
    CancelReason,
    Notification,
    OutboxMessage,
    ReminderSent,
    User,
)

SETTINGS = Settings(unanswered_workdays=3, evaluation_days=7)
# Approved on Monday 4 January 2027; Wednesday 6 January is Epiphany, so the
# third working day after is Friday 8 January.
APPROVED = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
THIRD_WORKDAY = date(2027, 1, 8)
# The factories' booking runs 1 February – 14 May 2027.
WEEK_BEFORE = date(2027, 1, 25)
DAY_BEFORE = date(2027, 1, 31)
EVALUATION_DUE = date(2027, 5, 21)


def _kinds(db: Session, user: User, kind: str) -> list[Notification]:
    return list(
        db.exec(
            select(Notification)
            .where(Notification.user_id == user.id)
            .where(Notification.kind == kind)
        ).all()
    )


def _mails(db: Session, user: User, needle: str) -> list[OutboxMessage]:
    rows = db.exec(
        select(OutboxMessage).where(OutboxMessage.to_address == user.email)
    ).all()
    return [row for row in rows if needle in row.subject]


def _approved(db: Session, make_pair: Any) -> Any:
    pair = make_pair()
    pair.proposal.decided_at = APPROVED
    db.add(pair.proposal)
    db.commit()
    return pair


def _book(db: Session, pair: Any) -> Booking:
    services.respond(db, proposal_id=pair.proposal.id, user=pair.teacher, confirm=True)
    booking = services.respond(
        db, proposal_id=pair.proposal.id, user=pair.contact, confirm=True
    )
    db.commit()
    assert booking is not None
    return booking


def _send(db: Session, today: date) -> reminders.Sent:
    sent = send_due(db, today=today, settings=SETTINGS)
    db.commit()
    return sent


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        (date(2027, 1, 4), 3, date(2027, 1, 8)),  # Epiphany skipped
        (date(2027, 1, 8), 1, date(2027, 1, 11)),  # a Friday: the weekend skipped
        (date(2027, 6, 24), 1, date(2027, 6, 28)),  # midsummer eve (25 June) off
        (date(2027, 3, 25), 1, date(2027, 3, 30)),  # Good Friday, Easter Monday
    ],
)
def test_working_days_skip_weekends_and_swedish_holidays(
    start: date, count: int, expected: date
) -> None:
    assert add_workdays(start, count) == expected


def test_unanswered_proposal_is_not_reminded_before_due(
    db: Session, make_pair: Any
) -> None:
    pair = _approved(db, make_pair)

    assert _send(db, date(2027, 1, 7)).unanswered == 0
    assert _kinds(db, pair.teacher, "reminder_unanswered") == []


def test_unanswered_proposal_reminds_both_waiting_sides_once(
    db: Session, make_pair: Any
) -> None:
    pair = _approved(db, make_pair)

    assert _send(db, THIRD_WORKDAY).unanswered == 2
    assert _send(db, THIRD_WORKDAY).unanswered == 0
    assert _send(db, date(2027, 1, 12)).unanswered == 0

    for user in (pair.teacher, pair.contact):
        [notice] = _kinds(db, user, "reminder_unanswered")
        assert notice.params["days"] == 3
        assert notice.link == f"/bookings/proposals/{pair.proposal.id}"
        assert len(_mails(db, user, "waits for your answer")) == 1


def test_a_side_that_answered_is_not_reminded(db: Session, make_pair: Any) -> None:
    pair = _approved(db, make_pair)
    services.respond(db, proposal_id=pair.proposal.id, user=pair.teacher, confirm=True)
    db.commit()

    assert _send(db, THIRD_WORKDAY).unanswered == 1
    assert _kinds(db, pair.teacher, "reminder_unanswered") == []
    assert len(_kinds(db, pair.contact, "reminder_unanswered")) == 1


def test_a_declined_proposal_is_not_reminded(db: Session, make_pair: Any) -> None:
    pair = _approved(db, make_pair)
    services.respond(db, proposal_id=pair.proposal.id, user=pair.teacher, confirm=False)
    db.commit()

    assert _send(db, THIRD_WORKDAY).total == 0


def test_email_opt_out_keeps_the_in_app_reminder(db: Session, make_pair: Any) -> None:
    pair = _approved(db, make_pair)
    pair.contact.email_notices = {"reminder_unanswered": False}
    db.add(pair.contact)
    db.commit()

    _send(db, THIRD_WORKDAY)

    assert len(_kinds(db, pair.contact, "reminder_unanswered")) == 1
    assert _mails(db, pair.contact, "reminder") == []
    assert len(_mails(db, pair.teacher, "waits for your answer")) == 1


def test_a_key_another_worker_wrote_stops_the_reminder(
    db: Session, make_pair: Any
) -> None:
    pair = _approved(db, make_pair)
    db.add(
        ReminderSent(
            kind="unanswered",
            object_id=pair.proposal.id,
            side="school",
            due_date=THIRD_WORKDAY,
        )
    )
    db.commit()

    assert _send(db, THIRD_WORKDAY).unanswered == 1
    assert _kinds(db, pair.teacher, "reminder_unanswered") == []


def test_booking_reminders_a_week_and_a_day_before_to_both_sides(
    db: Session, make_pair: Any
) -> None:
    pair = make_pair()
    booking = _book(db, pair)

    assert _send(db, date(2027, 1, 20)).booking == 0
    assert _send(db, WEEK_BEFORE).booking == 2
    assert _send(db, WEEK_BEFORE).booking == 0
    assert _send(db, date(2027, 1, 28)).booking == 0
    assert _send(db, DAY_BEFORE).booking == 2
    assert _send(db, date(2027, 2, 1)).booking == 0

    for user in (pair.teacher, pair.contact):
        notices = _kinds(db, user, "reminder_booking_starts")
        assert sorted(n.params["days"] for n in notices) == [1, 7]
        assert {n.link for n in notices} == {f"/bookings/{booking.id}"}
        assert len(_mails(db, user, "starts soon")) == 2


def test_a_cancelled_booking_gets_no_reminder(db: Session, make_pair: Any) -> None:
    pair = make_pair()
    booking = _book(db, pair)
    services.cancel(
        db,
        booking_id=booking.id,
        user=pair.teacher,
        data=services.Cancellation(reason=CancelReason.SCHEDULE),
        today=date(2027, 1, 10),
    )
    db.commit()

    assert _send(db, WEEK_BEFORE).total == 0
    assert _send(db, DAY_BEFORE).total == 0


def test_evaluation_reminder_goes_to_the_side_that_has_not_evaluated(
    db: Session, make_pair: Any
) -> None:
    pair = make_pair()
    booking = _book(db, pair)
    services.request_evaluations(db, today=date(2027, 5, 15))
    services.evaluate(
        db,
        booking_id=booking.id,
        user=pair.teacher,
        overall=4,
        supervision=4,
        preparation=3,
        today=date(2027, 5, 17),
    )
    db.commit()

    assert _send(db, date(2027, 5, 20)).evaluation == 0
    assert _send(db, EVALUATION_DUE).evaluation == 1
    assert _send(db, date(2027, 5, 22)).evaluation == 0

    assert _kinds(db, pair.teacher, "reminder_evaluation") == []
    [notice] = _kinds(db, pair.contact, "reminder_evaluation")
    assert notice.link == f"/bookings/{booking.id}/evaluate"
    assert len(_mails(db, pair.contact, "reminder: how did it go?")) == 1


def test_the_job_is_scheduled_and_runs_once_per_day(app: Any, db: Session) -> None:
    registered = " ".join(queue(app)._registry._registry)
    assert "scheduled_send_reminders" in registered
    job = tasks.BY_NAME["send_reminders"]
    moment = datetime(2027, 1, 8, 5, 30, tzinfo=UTC)

    first = tasks.run_scheduled(app, job, now=moment)
    second = tasks.run_scheduled(app, job, now=moment.replace(minute=45))

    assert first.startswith("reminded")
    assert second.startswith("skipped")


def test_send_reminders_command(runner: Any, db: Session, make_pair: Any) -> None:
    pair = _approved(db, make_pair)

    result = runner.invoke(args=["send-reminders", "--today", "2027-01-08"])

    assert result.exit_code == 0, result.output
    assert "Sent 2 reminders of unanswered proposals" in result.output
    db.expire_all()
    assert len(_kinds(db, pair.contact, "reminder_unanswered")) == 1
