"""Home (each role to its own page), language choice, health, public pages."""

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response

from moraspar.auth.forms import LoginForm
from moraspar.auth.services import set_language
from moraspar.db import get_session
from moraspar.models import Role, User
from moraspar.reference.vocabulary import suggest_skills
from moraspar.web.pagecache import cached_page
from moraspar.web.redirects import safe_next

bp = Blueprint("main", __name__)

HOME_BY_ROLE = {
    Role.TEACHER: "schools.home",
    Role.COMPANY: "companies.home",
    Role.COUNCIL: "council.home",
    Role.ADMIN: "admin.home",
}


@bp.route("/")
def home() -> Response | str:
    """Signed in: each role to its own page. A visitor: what Moraspår is, for
    whom, how a school or a company starts, and the sign-in beside it."""
    if current_user.is_authenticated:
        return redirect(url_for(HOME_BY_ROLE[Role(current_user.role)]))
    return render_template(
        "main/front.html",
        form=LoginForm(),
        office_email=current_app.config["BUSINESS_OFFICE_EMAIL"],
    )


@bp.route("/language", methods=["POST"], endpoint="set_language")
def set_language_view() -> Response:
    language = request.form.get("language", "sv")
    if language not in ("sv", "en"):
        abort(400)
    session["lang"] = language
    if current_user.is_authenticated:
        db = get_session()
        user = db.get(User, current_user.id)
        if user is not None:
            set_language(db, user=user, language=language)
            db.commit()
    target = safe_next(request.form.get("next"))
    if target is None:
        target = url_for("main.home") if current_user.is_authenticated else "/login"
    return redirect(target)


@bp.route("/vocabulary/skills")
def skill_suggestions() -> Response:
    """Up to 15 skill labels for the tag fields' autocompletion (static/js/tags.js)."""
    prefix = request.args.get("q", "")[:80]
    return jsonify(suggest_skills(prefix, limit=15))


@bp.route("/privacy")
@cached_page
def privacy() -> str:
    return render_template("main/privacy.html")


@bp.route("/accessibility")
@cached_page
def accessibility() -> str:
    return render_template("main/accessibility.html")
