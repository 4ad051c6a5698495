"""Sign-in, sign-out, passwords, invitations and company self-registration."""

import hashlib
import hmac
import time
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale
from flask_login import (
    current_user,
    login_required,
    login_user,
    logout_user,
    user_loaded_from_cookie,
)
from werkzeug.wrappers import Response

from moraspar.auth import forms, services, sessions, totp
from moraspar.db import get_session
from moraspar.extensions import csrf
from moraspar.i18n import gettext as _
from moraspar.i18n import lazy_gettext as _l
from moraspar.models import User, utcnow
from moraspar.notifications import mail
from moraspar.notifications import services as notifications
from moraspar.notifications import unsubscribe as unsubscribe_links
from moraspar.web import ratelimit
from moraspar.web.links import external_url
from moraspar.web.pagecache import cached_page
from moraspar.web.redirects import safe_next

bp = Blueprint("auth", __name__)

WEAK_PASSWORD_MESSAGES = {
    "too_short": _l("The password must be at least 12 characters long."),
    "too_long": _l("The password may be at most 256 characters long."),
    "same_as_email": _l("The password must not be your email address."),
    "common": _l(
        "This password is among the most common ones and easy to guess. "
        "Choose another, e.g. a few random words."
    ),
}


def tokens() -> services.Tokens:
    return services.Tokens(current_app.config["SECRET_KEY"])


bp.before_app_request(sessions.enforce_timeouts)
user_loaded_from_cookie.connect(sessions.restored_from_cookie)


def sign_in(user: User, *, remember: bool = False) -> None:
    session.clear()  # a fresh session on sign-in: no fixation
    login_user(user, remember=remember and sessions.may_remember(user))
    sessions.start()
    session["lang"] = user.language


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = forms.LoginForm()
    if form.validate_on_submit():
        db = get_session()
        email = form.email.data or ""
        # Counted before the password is checked, so parallel guesses cannot
        # all slip under the limit.
        attempt = ratelimit.admit(db, ratelimit.signin_checks(email))
        if attempt.wait:
            return ratelimit.too_many_attempts(attempt.wait)
        try:
            user = services.authenticate(
                db, email=email, password=form.password.data or ""
            )
        except services.InvalidCredentials:
            attempt.failed()
            db.commit()
            form.password.errors.append(_("Wrong email or password."))
        else:
            target = safe_next(request.args.get("next"))
            remember = bool(form.remember.data)
            if user.totp_secret:
                # The pair's failures are cleared only after the second step,
                # or a known password would reset the count of guessed codes.
                attempt.succeeded(keep_pair=True)
                db.commit()
                _await_code(user, remember=remember, target=target)
                return redirect(url_for("auth.login_code"))
            attempt.succeeded()
            db.commit()
            sign_in(user, remember=remember)
            return redirect(target or url_for("main.home"))
    return render_template("auth/login.html", form=form)


PENDING = "pending_second_factor"
PENDING_SECONDS = 300


def _fingerprint(user: User) -> str:
    # The session token rotates on sign-out everywhere and password change: a
    # pending step started before that stops working.
    return hashlib.sha256(user.session_token.encode()).hexdigest()[:16]


def _await_code(user: User, *, remember: bool, target: str | None) -> None:
    session.clear()
    session[PENDING] = {
        "user": user.id,
        "fp": _fingerprint(user),
        "remember": remember,
        "next": target,
        "until": int(time.time()) + PENDING_SECONDS,
    }


def _pending_user() -> tuple[User, dict[str, Any]] | None:
    state = session.get(PENDING)
    if not isinstance(state, dict) or state.get("until", 0) < time.time():
        return None
    user = get_session().get(User, state.get("user"))
    if user is None or not user.active or not user.totp_secret:
        return None
    if not hmac.compare_digest(_fingerprint(user), str(state.get("fp"))):
        return None
    return user, state


@bp.route("/login/code", methods=["GET", "POST"])
def login_code() -> Response | str:
    """The second step of signing in, for accounts with a second factor."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    pending = _pending_user()
    if pending is None:
        session.pop(PENDING, None)
        flash(_("Sign in again, please."), "info")
        return redirect(url_for("auth.login"))
    user, state = pending
    secret = totp.secret_of(user, totp.secret_box(current_app.config))
    form = forms.CodeForm()
    if form.validate_on_submit():
        db = get_session()
        attempt = ratelimit.admit(db, ratelimit.signin_checks(user.email))
        if attempt.wait:
            return ratelimit.too_many_attempts(attempt.wait)
        step = totp.matching_step(secret, form.code.data or "", utcnow())
        # A code works once: its time step is taken atomically, like an attempt.
        unused = (
            step is not None
            and not ratelimit.admit(db, ratelimit.code_used_checks(user, step)).wait
        )
        if not unused:
            attempt.failed()
            db.commit()
            form.code.errors.append(_("The code is wrong or has expired."))
        else:
            attempt.succeeded()
            db.commit()
            target = safe_next(state.get("next"))
            sign_in(user, remember=bool(state.get("remember")))
            return redirect(target or url_for("main.home"))
    return render_template("auth/login_code.html", form=form)


@bp.route("/profile/two-factor", methods=["GET", "POST"])
@cached_page
@login_required
def two_factor() -> Response | str:
    """Show the state of the second factor; set it up with a new secret.

    The set-up page shows the session's pending secret, which the page cache
    does not key on: it is safe to serve again because only this view sets
    the secret, on the view that files the page, and it changes only when
    the factor is turned on (a write, which empties the cache) or the
    session ends (a new form token, so a new key)."""
    db = get_session()
    user = db.get(User, current_user.id)
    if user is None:
        abort(404)
    if user.totp_secret:
        return render_template("auth/two_factor.html", user=user, enabled=True)
    secret = session.get("totp_setup")
    if not isinstance(secret, str) or len(secret) != 32:
        secret = totp.new_secret()
        session["totp_setup"] = secret
    form = forms.CodeForm()
    if form.validate_on_submit():
        try:
            step = totp.enable(
                db,
                user=user,
                secret=secret,
                code=form.code.data or "",
                now=utcnow(),
                box=totp.secret_box(current_app.config),
            )
        except totp.InvalidCode:
            form.code.errors.append(
                _(
                    "The code does not match. Check the clock of your phone and "
                    "try again."
                )
            )
        else:
            ratelimit.limiter(db).reserve(ratelimit.code_used_checks(user, step))
            # Remember-me cookies and other sessions signed in without a code:
            # they end, and this browser signs in again.
            services.rotate_session_token(db, user)
            db.commit()
            sign_in(user)
            flash(_("Two-step sign-in is on."), "success")
            return redirect(url_for("auth.two_factor"))
    uri = totp.provisioning_uri(secret, user.email)
    return render_template(
        "auth/two_factor.html",
        user=user,
        enabled=False,
        form=form,
        secret=secret,
        uri=uri,
        qr=totp.qr_data_uri(uri),
    )


@bp.route("/profile/two-factor/disable", methods=["GET", "POST"])
@login_required
def two_factor_disable() -> Response | str:
    db = get_session()
    user = db.get(User, current_user.id)
    if user is None:
        abort(404)
    if not user.totp_secret:
        return redirect(url_for("auth.two_factor"))
    form = forms.DisableTwoFactorForm()
    if form.validate_on_submit():
        attempt = ratelimit.admit(db, ratelimit.signin_checks(user.email))
        if attempt.wait:
            return ratelimit.too_many_attempts(attempt.wait)
        try:
            totp.disable(db, user=user, password=form.password.data or "")
        except services.WrongPassword:
            attempt.failed()
            db.commit()
            form.password.errors.append(_("The password is wrong."))
        else:
            attempt.succeeded()
            db.commit()
            flash(_("Two-step sign-in is off."), "info")
            return redirect(url_for("auth.two_factor"))
    return render_template("auth/two_factor_disable.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    db = get_session()
    user = db.get(User, current_user.id)
    if user is not None:
        services.rotate_session_token(db, user)
        db.commit()
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@cached_page
@login_required
def change_password() -> Response | str:
    form = forms.ChangePasswordForm()
    if form.validate_on_submit():
        db = get_session()
        user = db.get(User, current_user.id)
        if user is None:
            abort(404)
        attempt = ratelimit.admit(db, ratelimit.signin_checks(user.email))
        if attempt.wait:
            return ratelimit.too_many_attempts(attempt.wait)
        try:
            services.change_password(
                db,
                user=user,
                current_password=form.current_password.data or "",
                new_password=form.password.data or "",
            )
        except services.WrongPassword:
            attempt.failed()
            db.commit()
            form.current_password.errors.append(_("The current password is wrong."))
        except services.WeakPassword as exc:
            # The current password was right: no failure to count.
            attempt.succeeded()
            db.commit()
            form.password.errors.append(str(WEAK_PASSWORD_MESSAGES[exc.reason]))
        else:
            attempt.succeeded()
            db.commit()
            # The token rotated: sign in again with the new one so only this
            # browser stays signed in.
            sign_in(user)
            flash(
                _("Your password is changed. Other devices are signed out."), "success"
            )
            return redirect(url_for("main.home"))
    return render_template("auth/change_password.html", form=form)


@bp.route("/profile", methods=["GET", "POST"])
@cached_page
@login_required
def profile() -> Response | str:
    db = get_session()
    user = db.get(User, current_user.id)
    if user is None:
        abort(404)
    form = forms.ProfileForm(
        obj=user,
        **{
            forms.notice_field(kind): notifications.wants_email(user, kind)
            for kind in forms.NOTICE_LABELS
        },
    )
    if form.validate_on_submit():
        user.display_name = (form.display_name.data or "").strip()
        services.set_language(db, user=user, language=form.language.data or "sv")
        notifications.set_email_notices(db, user=user, enabled=form.enabled_notices())
        db.commit()
        session["lang"] = user.language
        flash(_("Your profile is saved."), "success")
        return redirect(url_for("auth.profile"))
    return render_template("auth/profile.html", form=form, user=user)


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed link is the credential; mail clients post no token
def unsubscribe(token: str) -> str:
    """One-click unsubscribe (RFC 8058): GET asks, POST turns the kind off."""
    db = get_session()
    try:
        user_id, kind = unsubscribe_links.load_token(
            current_app.config["SECRET_KEY"], token
        )
    except unsubscribe_links.InvalidLink:
        abort(404)
    user = db.get(User, user_id)
    if user is None or kind not in forms.NOTICE_LABELS:
        abort(404)
    done = request.method == "POST"
    if done:
        notifications.turn_off_email(db, user=user, kind=kind)
        db.commit()
    # The page is for the mail's reader, who may not be signed in.
    with force_locale(user.language):
        return render_template(
            "auth/unsubscribe.html",
            label=forms.NOTICE_LABELS[kind],
            done=done,
            signed_in=current_user.is_authenticated,
        )


@bp.route("/reset", methods=["GET", "POST"])
def reset_request() -> Response | str:
    form = forms.ResetRequestForm()
    if form.validate_on_submit():
        db = get_session()
        attempt = ratelimit.admit(db, ratelimit.reset_checks(form.email.data or ""))
        if attempt.wait:
            return ratelimit.too_many_attempts(attempt.wait)
        user = services.find_by_email(db, form.email.data or "")
        if user is not None and user.active and user.password_hash:
            link = external_url(
                "auth.reset_password", token=tokens().make("reset", user)
            )
            with force_locale(user.language):
                mail.enqueue(
                    db,
                    to=user.email,
                    subject=_("Reset your Moraspår password"),
                    body=render_template(
                        "email/reset_password.txt", user=user, link=link
                    ),
                )
            db.commit()
        # The same answer whether or not the address is known: no enumeration.
        flash(
            _(
                "If the address belongs to an account, we have sent a link to "
                "choose a new password. The link is valid for one hour."
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_request.html", form=form)


def _user_from_token(purpose: str, token: str, max_age_key: str) -> User | None:
    try:
        return tokens().load(
            get_session(), purpose, token, current_app.config[max_age_key]
        )
    except services.InvalidToken as exc:
        if exc.expired:
            flash(_("The link has expired. Ask for a new one."), "error")
        else:
            flash(_("The link is not valid or has already been used."), "error")
        return None


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Response | str:
    user = _user_from_token("reset", token, "PASSWORD_RESET_MAX_AGE")
    if user is None:
        return redirect(url_for("auth.reset_request"))
    form = forms.SetPasswordForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            services.set_password(db, user=user, password=form.password.data or "")
        except services.WeakPassword as exc:
            form.password.errors.append(str(WEAK_PASSWORD_MESSAGES[exc.reason]))
        else:
            db.commit()
            flash(_("Your new password is saved. Sign in with it."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/set_password.html", form=form, invite=False)


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invite(token: str) -> Response | str:
    user = _user_from_token("invite", token, "INVITE_MAX_AGE")
    if user is None:
        return redirect(url_for("auth.login"))
    form = forms.SetPasswordForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            services.set_password(db, user=user, password=form.password.data or "")
        except services.WeakPassword as exc:
            form.password.errors.append(str(WEAK_PASSWORD_MESSAGES[exc.reason]))
        else:
            db.commit()
            sign_in(user)
            flash(_("Welcome to Moraspår!"), "success")
            return redirect(url_for("main.home"))
    return render_template("auth/set_password.html", form=form, invite=True, user=user)


@bp.route("/register", methods=["GET", "POST"])
def register() -> Response | str:
    form = forms.RegisterCompanyForm()
    if form.validate_on_submit():
        db = get_session()
        attempt = ratelimit.admit(db, ratelimit.register_checks())
        if attempt.wait:
            return ratelimit.too_many_attempts(attempt.wait)
        email = services.normalise_email(form.email.data or "")
        # The company has no account language yet: write in the form's.
        language = str(session.get("lang", "sv"))
        try:
            services.register_company(
                db,
                company_name=form.company_name.data or "",
                org_number=form.org_number.data or "",
                locality=form.locality.data or "",
                contact_name=form.contact_name.data or "",
                email=email,
                password=form.password.data or "",
                language=language,
            )
        except services.OrgNumberTaken:
            form.org_number.errors.append(
                _("A company with this organisation number is already registered.")
            )
            return render_template("auth/register.html", form=form)
        except services.EmailTaken:
            # Said to the owner of the address, never on the page: the page
            # must not tell who has an account.
            db.rollback()
            with force_locale(language):
                mail.enqueue(
                    db,
                    to=email,
                    subject=_(
                        "Someone tried to register with your address in Moraspår"
                    ),
                    body=render_template(
                        "email/register_taken.txt",
                        login=external_url("auth.login"),
                        reset=external_url("auth.reset_request"),
                    ),
                )
        except services.WeakPassword as exc:
            form.password.errors.append(str(WEAK_PASSWORD_MESSAGES[exc.reason]))
            return render_template("auth/register.html", form=form)
        else:
            with force_locale(language):
                mail.enqueue(
                    db,
                    to=email,
                    subject=_("Your company is registered in Moraspår"),
                    body=render_template(
                        "email/register_welcome.txt",
                        company=form.company_name.data,
                        login=external_url("auth.login"),
                    ),
                )
            for admin in services.admins(db):
                with force_locale(admin.language):
                    mail.enqueue(
                        db,
                        to=admin.email,
                        subject=_("A company waits for approval in Moraspår"),
                        body=render_template(
                            "email/company_registered.txt",
                            company=form.company_name.data,
                            link=external_url("admin.organisations"),
                        ),
                    )
        db.commit()
        flash(
            _(
                "Thank you. We have sent a message to %(email)s. Sign in with "
                "your address and password; you can post as soon as the business "
                "office has approved the company.",
                email=email,
            ),
            "success",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/register.html", form=form)
