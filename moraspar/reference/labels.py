"""How stored choices, codes and dates read in the interface, in the user's
language: the one table of labels for every status, action and audit code a
person sees."""

import warnings
from collections.abc import Mapping
from datetime import date
from typing import Any

from flask import Flask
from flask_babel import (
    format_date,
    format_datetime,
    format_decimal,
    format_percent,
    get_locale,
)

from moraspar.i18n import lazy_gettext as _l
from moraspar.models import (
    BookingStatus,
    DeclineReason,
    Horizon,
    Level,
    MeetingStatus,
    OrgKind,
    PostingKind,
    PostingStatus,
    ProposalOrigin,
    ProposalStatus,
    Role,
    RunStatus,
)

KIND_LABELS = {
    PostingKind.APL: _l("APL (workplace learning)"),
    PostingKind.PRAO: _l("Prao (work experience, grades 8–9)"),
    PostingKind.STUDY_VISIT: _l("Study visit"),
    PostingKind.GUEST_LECTURE: _l("Guest lecture"),
    PostingKind.PROJECT: _l("Student assignment / project"),
}
STATUS_LABELS = {
    PostingStatus.OPEN: _l("Open"),
    PostingStatus.PAUSED: _l("Paused"),
    PostingStatus.CLOSED: _l("Closed"),
}
HORIZON_LABELS = {
    Horizon.NOW: _l("Now"),
    Horizon.YEARS_1_3: _l("In 1–3 years"),
    Horizon.YEARS_3_5: _l("In 3–5 years"),
}
LEVEL_LABELS = {
    Level.GRUNDSKOLA: _l("Compulsory school, grades 7–9"),
    Level.GYMNASIUM: _l("Upper secondary school"),
    Level.KOMVUX: _l("Adult education (Komvux)"),
    Level.YRKESHOGSKOLA: _l("Higher vocational education (YH)"),
}
PROPOSAL_STATUS_LABELS = {
    ProposalStatus.PROPOSED: _l("Proposed"),
    ProposalStatus.APPROVED: _l("Approved"),
    ProposalStatus.DECLINED: _l("Declined"),
    ProposalStatus.DEFERRED: _l("Deferred"),
    ProposalStatus.BOOKED: _l("Booked"),
    ProposalStatus.WITHDRAWN: _l("Withdrawn"),
}
PROPOSAL_ORIGIN_LABELS = {
    ProposalOrigin.RUN: _l("Proposed by the council"),
    ProposalOrigin.REQUEST: _l("Requested by the school"),
    ProposalOrigin.OFFER: _l("Offered by the company"),
}
# Where a need's proposal, request or offer stands, as the school reads it
# (moraspar.bookings.requests.Standing).
STANDING_LABELS = {
    "requested": _l("Requested – waiting for the company"),
    "council": _l("Waiting for the council"),
    "offered": _l("Offered by the company – your answer"),
    "to_confirm": _l("Proposed by the council – your answer"),
    "booked": _l("Booked"),
    "declined": _l("Declined"),
    "cancelled": _l("Cancelled"),
}
DECLINE_REASON_LABELS = {
    DeclineReason.NO_CAPACITY: _l("No room for more students then"),
    DeclineReason.NO_SUPERVISOR: _l("No supervisor available"),
    DeclineReason.WRONG_PERIOD: _l("The period does not suit us"),
    DeclineReason.TOO_FAR: _l("Too far to travel"),
    DeclineReason.NOT_SUITABLE: _l("The tasks do not fit the students"),
    DeclineReason.OTHER: _l("Other reason"),
}
ROUTE_LABELS = {
    "direct": _l("Straight to the company"),
    "council": _l("Through the council first"),
}
RUN_STATUS_LABELS = {
    RunStatus.QUEUED: _l("Queued"),
    RunStatus.RUNNING: _l("Running"),
    RunStatus.DONE: _l("Done"),
    RunStatus.FAILED: _l("Failed"),
}
ROLE_LABELS = {
    Role.TEACHER: _l("Teacher / school staff"),
    Role.COMPANY: _l("Company contact"),
    Role.COUNCIL: _l("Council member"),
    Role.ADMIN: _l("Administrator"),
}
ORG_KIND_LABELS = {
    OrgKind.SCHOOL: _l("School"),
    OrgKind.COMPANY: _l("Company"),
    OrgKind.MUNICIPALITY: _l("Municipality"),
}

BOOKING_STATUS_LABELS = {
    BookingStatus.ACTIVE: _l("Active"),
    BookingStatus.ENDED: _l("Ended"),
}
MEETING_STATUS_LABELS = {
    MeetingStatus.PLANNED: _l("Planned"),
    MeetingStatus.HELD: _l("Held"),
}
# What the audit trail and the histories record, as a person reads it.
ACTION_LABELS = {
    "booking.create": _l("Booking made"),
    "booking.request_evaluations": _l("Evaluations requested"),
    "booking.attendance": _l("Attendance recorded"),
    "booking.move": _l("Booking moved"),
    "booking.move_request": _l("New dates proposed"),
    "council.area": _l("Council area changed"),
    "demo.load": _l("Demo data loaded"),
    "evaluation.create": _l("Evaluation sent"),
    "import.csv": _l("Companies and placements imported"),
    "match_run.queue": _l("Matching started"),
    "match_run.done": _l("Matching finished"),
    "match_run.fail": _l("Matching failed"),
    "meeting.create": _l("Meeting planned"),
    "meeting.update": _l("Meeting changed"),
    "meeting.held": _l("Meeting held"),
    "meeting_item.decide": _l("Meeting decision recorded"),
    "need.create": _l("Need posted"),
    "need.update": _l("Need changed"),
    "need.open": _l("Need reopened"),
    "need.paused": _l("Need paused"),
    "need.closed": _l("Need closed"),
    "need.copy": _l("Need copied"),
    "need.expire": _l("Need closed when its period ended"),
    "placement.create": _l("Placement posted"),
    "placement.update": _l("Placement changed"),
    "placement.open": _l("Placement reopened"),
    "placement.paused": _l("Placement paused"),
    "placement.closed": _l("Placement closed"),
    "placement.copy": _l("Placement copied"),
    "placement.expire": _l("Placement closed when its period ended"),
    "skill_gap.create": _l("Skill gap posted"),
    "skill_gap.update": _l("Skill gap changed"),
    "skill_gap.open": _l("Skill gap reopened"),
    "skill_gap.paused": _l("Skill gap paused"),
    "skill_gap.closed": _l("Skill gap closed"),
    "skill_gap.copy": _l("Skill gap copied"),
    "skill_gap.expire": _l("Skill gap closed when its period ended"),
    "organisation.create": _l("Organisation added"),
    "organisation.register": _l("Company registered"),
    "organisation.approve": _l("Company approved"),
    "organisation.update": _l("Organisation changed"),
    "privacy.purge": _l("Old personal data removed"),
    "programme.create": _l("Programme added"),
    "programme.update": _l("Programme changed"),
    "programme.deactivate": _l("Programme deactivated"),
    "programme.reactivate": _l("Programme reactivated"),
    "proposal.approve": _l("Approved"),
    "proposal.decline": _l("Declined"),
    "proposal.defer": _l("Deferred"),
    "proposal.reverse": _l("Decision reversed"),
    "proposal.notify": _l("School and company notified"),
    "proposal.confirm": _l("Confirmed by the school or company"),
    "proposal.request": _l("Requested by a teacher"),
    "proposal.offer": _l("Offered by a company"),
    "kind_route.update": _l("Request route changed"),
    "action_link.use": _l("Answered through an emailed link"),
    "action_link.evaluate": _l("Evaluated through an emailed link"),
    "ranker.refit": _l("Score weights refitted"),
    "ranking_model.fit": _l("Matching model fitted"),
    "ranker.activate": _l("Score weights applied"),
    "reminder.unanswered": _l("Reminder sent: proposal not answered"),
    "reminder.booking_week": _l("Reminder sent: booking starts in a week"),
    "reminder.booking_day": _l("Reminder sent: booking starts tomorrow"),
    "reminder.evaluation": _l("Reminder sent: evaluation not given"),
    "user.create": _l("Account created"),
    "user.invite": _l("Invitation sent"),
    "user.activate": _l("Account activated"),
    "user.deactivate": _l("Account deactivated"),
    "user.anonymise": _l("Account anonymised"),
    "user.password": _l("Password changed"),
    "user.totp_enable": _l("Two-step sign-in turned on"),
    "user.totp_disable": _l("Two-step sign-in turned off"),
    "user.totp_reset": _l("Two-step sign-in reset"),
}
# The kinds of record the audit trail names.
ENTITY_LABELS = {
    "booking": _l("Booking"),
    "demo": _l("Demo data"),
    "evaluation": _l("Evaluation"),
    "import": _l("Import"),
    "kind_route": _l("Request route"),
    "action_link": _l("Answer link"),
    "match_proposal": _l("Proposal"),
    "match_run": _l("Match run"),
    "meeting": _l("Meeting"),
    "meeting_item": _l("Agenda item"),
    "need": _l("Need"),
    "organisation": _l("Organisation"),
    "placement": _l("Placement"),
    "programme": _l("Programme"),
    "ranker": _l("Score weights"),
    "ranking_model": _l("Matching model"),
    "ranker_weights": _l("Score weights version"),
    "skill_gap": _l("Skill gap"),
    "system": _l("System"),
    "user": _l("User"),
}
TABLES: dict[str, dict[str, object]] = {
    "kind": KIND_LABELS,  # type: ignore[dict-item]
    "status": STATUS_LABELS,  # type: ignore[dict-item]
    "horizon": HORIZON_LABELS,  # type: ignore[dict-item]
    "level": LEVEL_LABELS,  # type: ignore[dict-item]
    "proposal_status": PROPOSAL_STATUS_LABELS,  # type: ignore[dict-item]
    "proposal_origin": PROPOSAL_ORIGIN_LABELS,  # type: ignore[dict-item]
    "standing": STANDING_LABELS,
    "decline_reason": DECLINE_REASON_LABELS,  # type: ignore[dict-item]
    "route": ROUTE_LABELS,
    "role": ROLE_LABELS,  # type: ignore[dict-item]
    "org_kind": ORG_KIND_LABELS,  # type: ignore[dict-item]
    "run_status": RUN_STATUS_LABELS,  # type: ignore[dict-item]
    "booking_status": BOOKING_STATUS_LABELS,  # type: ignore[dict-item]
    "meeting_status": MEETING_STATUS_LABELS,  # type: ignore[dict-item]
    "action": ACTION_LABELS,
    "entity": ENTITY_LABELS,
}


class UnlabelledCode(UserWarning):
    """A stored code was about to be shown without a human label.
    The tests turn warnings into errors, so any page that would show a raw
    code fails the test that renders it."""


def label(table: str | Mapping[Any, object], value: str | None) -> str:
    """The label of a stored value, in the user's language: the one way to
    look a label up. `table` is a table's name in TABLES (a code without a
    label there reads as itself, with an UnlabelledCode warning) or one of the
    tables above (an unknown value reads as itself)."""
    if not value:
        return ""
    if not isinstance(table, str):
        return str(table.get(value, value))
    found = TABLES[table].get(value)
    if found is None:
        warnings.warn(UnlabelledCode(f"no {table} label for {value!r}"), stacklevel=2)
        return value
    return str(found)


def action_label(code: str | None) -> object:
    return label("action", code)


def record_label(entity: str | None, entity_id: int | None) -> str:
    """ "Placement 12", or just "Import" for a record without an id."""
    name = str(label("entity", entity))
    return f"{name} {entity_id}" if entity_id is not None else name


def org_kind_label(value: str) -> str:
    return label("org_kind", value)


def period(start: date | None, end: date | None) -> str:
    if start and end:
        return f"{format_date(start, 'short')} – {format_date(end, 'short')}"
    if start:
        return str(_l("from %(date)s", date=format_date(start, "short")))
    if end:
        return str(_l("until %(date)s", date=format_date(end, "short")))
    return str(_l("any time"))


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.globals.update(
        org_kind_label=org_kind_label,
        kind_label=lambda v: label("kind", v),
        status_label=lambda v: label("status", v),
        horizon_label=lambda v: label("horizon", v),
        level_label=lambda v: label("level", v),
        role_label=lambda v: label("role", v),
        proposal_status_label=lambda v: label("proposal_status", v),
        run_status_label=lambda v: label("run_status", v),
        booking_status_label=lambda v: label("booking_status", v),
        meeting_status_label=lambda v: label("meeting_status", v),
        label=label,
        action_label=action_label,
        record_label=record_label,
        period=period,
        get_locale=get_locale,
    )
    app.jinja_env.filters["number"] = format_decimal
    app.jinja_env.filters["percent"] = lambda v: format_percent(v or 0)
    app.jinja_env.filters["datetime"] = lambda d: (
        format_datetime(d, "short") if d else ""
    )
    app.jinja_env.filters["date"] = lambda d, f="medium": format_date(d, f) if d else ""
