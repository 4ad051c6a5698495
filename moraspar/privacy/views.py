"""The user's own data: download it, or have the account anonymised."""

import json
from pathlib import Path

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_login import logout_user
from werkzeug.wrappers import Response
from wtforms import PasswordField
from wtforms.validators import DataRequired

from moraspar.auth.current import signed_in_user
from moraspar.auth.services import WrongPassword, verify_password
from moraspar.db import get_session
from moraspar.formkit.base import FlaskForm
from moraspar.i18n import gettext as _
from moraspar.i18n import lazy_gettext as _l
from moraspar.privacy import services
from moraspar.web import downloads, ratelimit
from moraspar.web.pagecache import cached_page

bp = Blueprint("privacy", __name__)


class DeleteAccountForm(FlaskForm):
    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(message=_l("Enter your password to confirm."))],
    )


@bp.route("/")
@cached_page
def my_data() -> str:
    return render_template("privacy/my_data.html", form=DeleteAccountForm())


@bp.route("/export.json")
def export() -> Response:
    data = services.export_user_data(get_session(), user=signed_in_user())
    body = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)
    response = Response(body, mimetype="application/json")
    return downloads.attach(response, f"{_('my-data')}.json")


@bp.route("/delete", methods=["POST"])
def delete_account() -> Response | str:
    form = DeleteAccountForm()
    db = get_session()
    user = signed_in_user()
    if form.validate_on_submit():
        attempt = ratelimit.admit(db, ratelimit.signin_checks(user.email))
        if attempt.wait:
            return ratelimit.too_many_attempts(attempt.wait)
        try:
            verify_password(user, form.password.data or "")
        except WrongPassword:
            attempt.failed()
            db.commit()
            form.password.errors.append(_("The password is wrong."))
        else:
            attempt.succeeded()
            try:
                services.anonymise_user(
                    db,
                    user=user,
                    actor=user,
                    outbox_dir=Path(current_app.config["OUTBOX_DIR"]),
                )
            except services.LastAdmin:
                db.commit()  # the right password: no failure counted
                flash(
                    _("You are the last administrator and cannot be deleted."), "error"
                )
                return redirect(url_for("privacy.my_data"))
            db.commit()
            logout_user()
            session.clear()
            flash(
                _("Your account is deleted. Your decisions remain without your name."),
                "info",
            )
            return redirect(url_for("auth.login"))
    return render_template("privacy/my_data.html", form=form)
