"""Moraspår: the school–business matching platform of Moraspåret in Mora."""

from typing import Any

from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    from moraspar.cli import register_commands
    from moraspar.config import configure
    from moraspar.db import register_database
    from moraspar.extensions import register_extensions, register_password_hashing
    from moraspar.jobs.queue import register_jobs
    from moraspar.paths import template_folder
    from moraspar.reference.labels import register_template_helpers
    from moraspar.web.access import register_access_checks
    from moraspar.web.badges import register_badges
    from moraspar.web.blueprints import register_blueprints
    from moraspar.web.converters import register_url_converters
    from moraspar.web.errors import register_errorhandlers
    from moraspar.web.fragments import register_fragments
    from moraspar.web.health import register_operations
    from moraspar.web.hosts import register_proxy_fix
    from moraspar.web.menu import register_menu
    from moraspar.web.pagecache import register_page_cache
    from moraspar.web.ratelimit import init_app as register_rate_limits
    from moraspar.web.security import register_input_guards, register_security_headers

    app = Flask(__name__, template_folder=template_folder())
    configure(app, test_config)
    register_database(app)
    register_extensions(app)
    register_password_hashing(app)
    register_jobs(app)
    register_template_helpers(app)
    register_input_guards(app)
    register_security_headers(app)
    register_rate_limits(app)
    register_proxy_fix(app)
    register_operations(app)
    register_url_converters(app)
    register_blueprints(app)
    register_access_checks(app)
    register_menu(app)
    register_fragments(app)
    register_page_cache(app)
    register_badges(app)
    register_errorhandlers(app)
    register_commands(app)
    return app
