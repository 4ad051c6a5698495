"""The skills-gap picture for council members (and admins)."""

from datetime import date

from flask import Blueprint, render_template, request

from moraspar.auth.current import signed_in_user
from moraspar.council.scope import scope_of
from moraspar.db import get_session
from moraspar.gaps import services
from moraspar.i18n import lazy_gettext as _l
from moraspar.reference.labels import HORIZON_LABELS
from moraspar.web.pagecache import cached_page

bp = Blueprint("gaps", __name__)

# SSYK 2012 major groups (yrkesområden), short labels.
SSYK_MAJOR_GROUPS = {
    "0": _l("Military"),
    "1": _l("Managers"),
    "2": _l("Advanced higher education occupations"),
    "3": _l("Higher education occupations"),
    "4": _l("Administration and customer service"),
    "5": _l("Service, care and sales"),
    "6": _l("Agriculture, forestry and fishing"),
    "7": _l("Building and manufacturing"),
    "8": _l("Machine operation and transport"),
    "9": _l("Elementary occupations"),
}

GROUPING_LABELS = {
    services.GROUP_AREA: _l("Occupation area (SSYK major group)"),
    services.GROUP_SSYK2: _l("Occupation group (SSYK, two digits)"),
    services.GROUP_SKILL: _l("Skill"),
}


def group_label(group: services.Group, grouping: str) -> str:
    if group.key == services.UNCLASSIFIED:
        if grouping == services.GROUP_SKILL:
            return str(_l("No skills listed"))
        return str(_l("No occupation code"))
    if grouping == services.GROUP_SKILL:
        return group.label
    major = SSYK_MAJOR_GROUPS.get(group.key[:1], "")
    return f"{group.key} {major}" if major else group.key


@bp.route("/")
@cached_page
def index() -> str:
    filters = services.Filters(
        group=request.args.get("group", services.GROUP_AREA),
        locality=request.args.get("locality", "").strip(),
        horizon=request.args.get("horizon", ""),
    )
    db = get_session()
    mine = scope_of(db, user=signed_in_user())
    picture = services.picture(db, filters=filters, scope=mine)
    trend = services.trend(db, filters=filters, today=date.today(), scope=mine)
    labels = {g.key: group_label(g, filters.group) for g in picture.groups}
    return render_template(
        "gaps/index.html",
        filters=filters,
        picture=picture,
        labels=labels,
        trend=trend,
        trend_max=services.max_of(t.headcount for t in trend),
        localities=services.localities(db, scope=mine),
        horizons=HORIZON_LABELS,
        groupings=GROUPING_LABELS,
        threshold=services.SUPPLY_THRESHOLD,
        top_skills=services.TOP_SKILLS,
    )
