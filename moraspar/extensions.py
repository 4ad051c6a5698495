"""Flask extensions, created unbound and initialised in create_app, and the
password hasher's profile."""

from flask import Flask, session
from flask_babel import Babel
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

from moraspar import db
from moraspar.i18n import lazy_gettext as _l
from moraspar.i18n import translations
from moraspar.models import User
from moraspar.reference.locales import format_locale

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


def register_extensions(app: Flask) -> None:
    """CSRF protection, translations and sign-in."""
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    install_template_translations(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)


def install_template_translations(app: Flask) -> None:
    """Templates' _(), ngettext() and pgettext() through the request's
    catalogue, found once (`moraspar.i18n.translations`)."""
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
    )


def register_password_hashing(app: Flask) -> None:
    """New password hashes get the argon2 profile PASSWORD_HASH_PROFILE names."""
    from moraspar.auth.services import use_hash_profile

    use_hash_profile(app.config["PASSWORD_HASH_PROFILE"])


def load_user(session_token: str) -> User | None:
    from moraspar.auth.services import find_by_session_token

    return find_by_session_token(db.get_session(), session_token)


def select_locale() -> str:
    # sv_SE / en_GB: the same catalogues, with dates and numbers written the
    # way each language is written in Sweden and Britain.
    if current_user and current_user.is_authenticated:
        return format_locale(str(current_user.language))
    chosen = session.get("lang")
    if chosen in ("sv", "en"):
        return format_locale(str(chosen))
    return format_locale("sv")
