"""Who may open which route: the one table, enforced before every request.

Every endpoint must appear in RULES. An endpoint missing from the table is
refused (fail closed) and the access-matrix test names it.
"""

from collections.abc import Mapping
from enum import Enum

from flask import Flask, abort, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from moraspar.models import Role


class Access(Enum):
    PUBLIC = "public"  # anonymous visitors too
    SIGNED_IN = "signed_in"  # any active user


TEACHER = frozenset({Role.TEACHER, Role.ADMIN})
COMPANY = frozenset({Role.COMPANY, Role.ADMIN})
COUNCIL = frozenset({Role.COUNCIL, Role.ADMIN})
ADMIN = frozenset({Role.ADMIN})
STAFF = frozenset({Role.TEACHER, Role.COMPANY, Role.COUNCIL, Role.ADMIN})

Rule = Access | frozenset[Role]

RULES: Mapping[str, Rule] = {
    "static": Access.PUBLIC,
    "health.healthz": Access.PUBLIC,
    "health.readyz": Access.PUBLIC,
    "health.metrics_view": Access.PUBLIC,  # a bearer token of its own
    "main.set_language": Access.PUBLIC,
    "main.privacy": Access.PUBLIC,
    "main.accessibility": Access.PUBLIC,
    "privacy.my_data": Access.SIGNED_IN,
    "privacy.export": Access.SIGNED_IN,
    "privacy.delete_account": Access.SIGNED_IN,
    "main.home": Access.PUBLIC,  # the front page; signed in, each role's home
    "main.skill_suggestions": Access.SIGNED_IN,
    "auth.login": Access.PUBLIC,
    "auth.login_code": Access.PUBLIC,
    "auth.register": Access.PUBLIC,
    "auth.reset_request": Access.PUBLIC,
    "auth.reset_password": Access.PUBLIC,
    "auth.accept_invite": Access.PUBLIC,
    "auth.unsubscribe": Access.PUBLIC,  # the signed link is the credential
    "auth.logout": Access.SIGNED_IN,
    "auth.change_password": Access.SIGNED_IN,
    "auth.profile": Access.SIGNED_IN,
    "auth.two_factor": COMPANY,
    "auth.two_factor_disable": COMPANY,
    "schools.home": TEACHER,
    "schools.programmes": TEACHER,
    "schools.programme_new": TEACHER,
    "schools.programme_edit": TEACHER,
    "schools.programme_active": TEACHER,
    "schools.needs": TEACHER,
    "schools.need_new": TEACHER,
    "schools.need": TEACHER,
    "schools.need_edit": TEACHER,
    "schools.need_pause": TEACHER,
    "schools.need_resume": TEACHER,
    "schools.need_close": TEACHER,
    "schools.need_copy": TEACHER,
    "schools.search": TEACHER,
    "companies.home": COMPANY,
    "companies.profile": COMPANY,
    "companies.placements": COMPANY,
    "companies.placement_new": COMPANY,
    "companies.placement_edit": COMPANY,
    "companies.placement_status": COMPANY,
    "companies.placement_close": COMPANY,
    "companies.placement_copy": COMPANY,
    "companies.skill_gaps": COMPANY,
    "companies.skill_gap_new": COMPANY,
    "companies.skill_gap_edit": COMPANY,
    "companies.skill_gap_close": COMPANY,
    "companies.needs": COMPANY,
    "companies.show": STAFF,
    "council.home": COUNCIL,
    "council.runs_list": COUNCIL,
    "council.run_start": COUNCIL,
    "council.run": COUNCIL,
    "council.run_status": COUNCIL,
    "council.board": COUNCIL,
    "council.proposal": COUNCIL,
    "council.decide": COUNCIL,
    "council.bulk": COUNCIL,
    "council.reverse": COUNCIL,
    "council.allocation": COUNCIL,
    "council.ranker": COUNCIL,
    "council.ranker_refit": COUNCIL,
    "council.ranker_version": COUNCIL,
    "council.ranker_activate": COUNCIL,
    "council.ranker_defaults": COUNCIL,
    # Bookings: the two sides answer and evaluate (ownership checked in the
    # views: 403 for others); council members and admins read all bookings.
    "bookings.index": STAFF,
    "bookings.respond": STAFF,
    "bookings.ics": STAFF,
    "bookings.evaluate": STAFF,
    "bookings.show": STAFF,
    "bookings.cancel": STAFF,
    "bookings.move": STAFF,
    "bookings.answer_move": STAFF,
    "bookings.attendance": STAFF,
    "bookings.answer_link": Access.PUBLIC,  # the signed single-use link
    "bookings.evaluate_link": Access.PUBLIC,  # likewise, to evaluate
    "schools.placement": TEACHER,
    "schools.placement_request": TEACHER,
    "companies.offer": COMPANY,
    "admin.routing": ADMIN,
    "notifications.index": Access.SIGNED_IN,
    "notifications.read": Access.SIGNED_IN,
    "notifications.read_all": Access.SIGNED_IN,
    # Skills-gap picture and meetings: council members and admins only. The gap
    # picture compares companies' stated needs across the municipality, which
    # is council work; teachers and companies see their own postings instead.
    "gaps.index": COUNCIL,
    "meetings.index": COUNCIL,
    "meetings.new": COUNCIL,
    "meetings.show": COUNCIL,
    "meetings.edit": COUNCIL,
    "meetings.pick_proposals": COUNCIL,
    "meetings.pick_gaps": COUNCIL,
    "meetings.move_item": COUNCIL,
    "meetings.remove_item": COUNCIL,
    "meetings.decide": COUNCIL,
    "meetings.held": COUNCIL,
    "meetings.export_document": COUNCIL,
    "meetings.export_list": COUNCIL,
    "admin.home": ADMIN,
    "admin.users": ADMIN,
    "admin.invite": ADMIN,
    "admin.user_active": ADMIN,
    "admin.user_two_factor_off": ADMIN,
    "admin.organisations": ADMIN,
    "admin.organisation_new": ADMIN,
    "admin.approve_company": ADMIN,
    "admin.councils": ADMIN,
    "admin.council_area": ADMIN,
    "admin.unanswered": ADMIN,
    "admin.audit": ADMIN,
    "admin.import_csv": ADMIN,
    "admin.import_template": ADMIN,
    "jobs.index": ADMIN,
    "jobs.mail_retry": ADMIN,
}


def rule_for(endpoint: str | None) -> Rule | None:
    if endpoint is None:
        return None
    return RULES.get(endpoint)


def allows(rule: Rule, role: str | None) -> bool:
    """Whether a user with role (None = anonymous) may open a route with rule."""
    if rule is Access.PUBLIC:
        return True
    if role is None:
        return False
    if rule is Access.SIGNED_IN:
        return True
    assert isinstance(rule, frozenset)
    return role in rule


def current_role() -> str | None:
    if current_user and current_user.is_authenticated:
        return str(current_user.role)
    return None


def register_access_checks(app: Flask) -> None:
    app.before_request(enforce_access)


def enforce_access() -> Response | None:
    if request.endpoint is None:
        return None  # 404 or 405: the router answers
    rule = rule_for(request.endpoint)
    if rule is None:
        abort(403)  # fail closed: a route nobody declared a rule for
    role = current_role()
    if allows(rule, role):
        return None
    if role is None:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    abort(403)
