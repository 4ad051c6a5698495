"""The features' blueprints, the access check in front of them, and the menu."""

from dataclasses import dataclass

from flask import Flask, abort, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.wrappers import Response

from moraspar.web import access


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object  # a lazy string, translated when rendered


# The main menu; each user sees the items their role may open.
NAV: tuple[NavItem, ...] = (
    NavItem("schools.home", _l("My school")),
    NavItem("companies.home", _l("My company")),
    NavItem("council.home", _l("Council")),
    NavItem("gaps.index", _l("Skills gaps")),
    NavItem("meetings.index", _l("Meetings")),
    NavItem("admin.home", _l("Administration")),
    NavItem("bookings.index", _l("Bookings")),
    NavItem("notifications.index", _l("Notifications")),
)


def register_blueprints(app: Flask) -> None:
    from moraspar.admin.views import bp as admin_bp
    from moraspar.auth.views import bp as auth_bp
    from moraspar.bookings.views import bp as bookings_bp
    from moraspar.companies.views import bp as companies_bp
    from moraspar.council.views import bp as council_bp
    from moraspar.gaps.views import bp as gaps_bp
    from moraspar.jobs.views import bp as jobs_bp
    from moraspar.main.views import bp as main_bp
    from moraspar.meetings.views import bp as meetings_bp
    from moraspar.notifications.views import bp as notifications_bp
    from moraspar.privacy.views import bp as privacy_bp
    from moraspar.schools.views import bp as schools_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(schools_bp, url_prefix="/school")
    app.register_blueprint(companies_bp, url_prefix="/company")
    app.register_blueprint(council_bp, url_prefix="/council")
    app.register_blueprint(gaps_bp, url_prefix="/gaps")
    app.register_blueprint(meetings_bp, url_prefix="/meetings")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(jobs_bp, url_prefix="/admin/jobs")
    app.register_blueprint(bookings_bp, url_prefix="/bookings")
    app.register_blueprint(notifications_bp, url_prefix="/notifications")
    app.register_blueprint(privacy_bp, url_prefix="/my-data")
    app.before_request(enforce_access)
    app.context_processor(navigation)


def current_role() -> str | None:
    if current_user and current_user.is_authenticated:
        return str(current_user.role)
    return None


def enforce_access() -> Response | None:
    if request.endpoint is None:
        return None  # 404 or 405: the router answers
    rule = access.rule_for(request.endpoint)
    if rule is None:
        abort(403)  # fail closed: a route nobody declared a rule for
    role = current_role()
    if access.allows(rule, role):
        return None
    if role is None:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    abort(403)


def navigation() -> dict[str, object]:
    role = current_role()
    items = [
        item
        for item in NAV
        if role is not None and access.allows(access.RULES[item.endpoint], role)
    ]
    return {"nav_items": items}
