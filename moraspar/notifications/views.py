"""The user's notifications: the list, marking read, the unread badge."""

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from moraspar.db import get_session
from moraspar.i18n import gettext as _
from moraspar.notifications import services
from moraspar.web.pagecache import cached_page
from moraspar.web.pagination import page_number, paginate

bp = Blueprint("notifications", __name__)

PAGE_SIZE = 20


@bp.route("/")
@cached_page
def index() -> str:
    db = get_session()
    page = paginate(
        db,
        services.for_user(current_user.id),
        page=page_number(request.args.get("page")),
        per_page=PAGE_SIZE,
    )
    return render_template("notifications/index.html", page=page)


def _back() -> Response:
    page = page_number(request.form.get("page"))
    return redirect(url_for("notifications.index", page=page if page > 1 else None))


@bp.route("/<int:notification_id>/read", methods=["POST"])
def read(notification_id: int) -> Response:
    db = get_session()
    if not services.mark_read(
        db, user_id=current_user.id, notification_id=notification_id
    ):
        abort(404)
    db.commit()
    return _back()


@bp.route("/read-all", methods=["POST"])
def read_all() -> Response:
    db = get_session()
    count = services.mark_all_read(db, user_id=current_user.id)
    db.commit()
    if count:
        flash(_("All notifications are marked as read."), "success")
    return _back()


@bp.app_template_global()
def iso_date(value: str | None) -> date | None:
    """A notification's ISO date param back as a date (for period())."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None
