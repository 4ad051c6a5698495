"""Flask extensions, created unbound and initialised in create_app."""

from flask import Flask, session
from flask_babel import Babel
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from moraspar import db
from moraspar.models import User
from moraspar.paths import translations_folder

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


def register_extensions(app: Flask) -> None:
    from moraspar.auth.services import use_hash_profile

    use_hash_profile(app.config["PASSWORD_HASH_PROFILE"])
    db.init_app(app)
    csrf.init_app(app)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", translations_folder())
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)
    from moraspar.reference.labels import register_template_helpers

    register_template_helpers(app)
    from moraspar.web import ratelimit, security

    security.init_app(app)
    ratelimit.init_app(app)
    hops = int(app.config["PROXY_FIX_HOPS"])
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )


def load_user(session_token: str) -> User | None:
    from moraspar.auth.services import find_by_session_token

    return find_by_session_token(db.get_session(), session_token)


def select_locale() -> str:
    if current_user and current_user.is_authenticated:
        return str(current_user.language)
    chosen = session.get("lang")
    if chosen in ("sv", "en"):
        return str(chosen)
    return "sv"
