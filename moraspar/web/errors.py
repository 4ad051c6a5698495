"""Friendly error pages in the user's language, never a stack trace."""

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from moraspar.i18n import lazy_gettext as _l

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood.")),
    403: (_l("Access denied"), _l("You do not have permission to open this page.")),
    404: (_l("Page not found"), _l("The page does not exist or has been moved.")),
    405: (_l("Not allowed"), _l("That action is not possible on this page.")),
    413: (_l("Too large"), _l("The file or text you sent is too large.")),
    429: (
        _l("Too many attempts"),
        _l("You have made too many attempts. Wait a moment and try again."),
    ),
    500: (
        _l("Something went wrong"),
        _l("An error occurred on our side. Nothing you sent was saved; try again."),
    ),
}


def render_error(code: int, detail: object = None) -> tuple[str, int]:
    title, message = MESSAGES.get(code, MESSAGES[500])
    try:
        page = render_template(
            "errors/error.html", code=code, title=title, message=detail or message
        )
    except Exception:
        # The layout could not be drawn (e.g. no URLs can be built for a
        # request to a host the app does not serve): the message alone.
        page = (
            f"<!doctype html><html lang=sv><title>{code}</title>"
            f"<h1>{escape(str(title))}</h1><p>{escape(str(detail or message))}</p>"
        )
    return page, code


def handle_http(error: HTTPException) -> tuple[str, int]:
    return render_error(error.code or 500)


def handle_csrf(_error: CSRFError) -> tuple[str, int]:
    return render_error(
        400,
        _l(
            "The form had expired or was sent from elsewhere. Go back, reload the "
            "page and send it again."
        ),
    )


def handle_unexpected(error: Exception) -> tuple[str, int]:
    from flask import current_app

    from moraspar.db import close_session

    current_app.logger.exception("Unhandled error", exc_info=error)
    close_session()  # roll back whatever the failed request had begun
    return render_error(500)


def register_errorhandlers(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf)
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(Exception, handle_unexpected)
