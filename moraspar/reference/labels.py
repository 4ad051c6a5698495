"""How stored choices and dates read in the interface, in the user's language."""

from datetime import date

from flask import Flask
from flask_babel import (
    format_date,
    format_datetime,
    format_decimal,
    format_percent,
    get_locale,
)
from flask_babel import lazy_gettext as _l

from moraspar.models import (
    Horizon,
    Level,
    OrgKind,
    PostingKind,
    PostingStatus,
    ProposalStatus,
    Role,
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


def _lookup(table: dict[str, object], value: str | None) -> object:
    return table.get(value or "", value or "")


def org_kind_label(value: str) -> object:
    return _lookup(ORG_KIND_LABELS, value)  # type: ignore[arg-type]


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
        kind_label=lambda v: _lookup(KIND_LABELS, v),  # type: ignore[arg-type]
        status_label=lambda v: _lookup(STATUS_LABELS, v),  # type: ignore[arg-type]
        horizon_label=lambda v: _lookup(HORIZON_LABELS, v),  # type: ignore[arg-type]
        level_label=lambda v: _lookup(LEVEL_LABELS, v),  # type: ignore[arg-type]
        role_label=lambda v: _lookup(ROLE_LABELS, v),  # type: ignore[arg-type]
        org_kind_label=org_kind_label,
        proposal_status_label=lambda v: _lookup(PROPOSAL_STATUS_LABELS, v),  # type: ignore[arg-type]
        period=period,
        get_locale=get_locale,
    )
    app.jinja_env.filters["number"] = format_decimal
    app.jinja_env.filters["percent"] = lambda v: format_percent(v or 0)
    app.jinja_env.filters["datetime"] = lambda d: (
        format_datetime(d, "short") if d else ""
    )
    app.jinja_env.filters["date"] = lambda d, f="medium": format_date(d, f) if d else ""
