"""Moraspår: the school–business matching platform of Moraspåret in Mora."""

from typing import Any

from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    from moraspar.cli import register_commands
    from moraspar.config import configure
    from moraspar.extensions import register_extensions
    from moraspar.jobs.queue import register_jobs
    from moraspar.paths import template_folder
    from moraspar.web.blueprints import register_blueprints
    from moraspar.web.errors import register_errorhandlers
    from moraspar.web.health import register_operations

    app = Flask(__name__, template_folder=template_folder())
    configure(app, test_config)
    register_extensions(app)
    register_jobs(app)
    register_operations(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app
