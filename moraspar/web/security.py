"""Security headers set by the app itself, and a guard against NUL bytes in input.

The policy allows no inline script or style: JavaScript lives in
static/js/*.js and CSS in static/css/, both from our own origin.
"""

from flask import Flask, current_app, request
from flask_login import current_user
from werkzeug.wrappers import Response

from moraspar.i18n import lazy_gettext as _l
from moraspar.web.errors import render_error

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}

NUL_MESSAGE = _l(
    "The address or form held a character that cannot be used (a null "
    "character). Go back, check what was typed or pasted, and try again."
)

# Two years, the HSTS preload list's minimum is one.
STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"


def register_input_guards(app: Flask) -> None:
    app.before_request(refuse_nul_bytes)


def register_security_headers(app: Flask) -> None:
    app.after_request(set_security_headers)


def refuse_nul_bytes() -> tuple[str, int] | None:
    """A NUL byte is never legitimate input, and PostgreSQL refuses it in text
    (a 500 later on, sometimes after part of the work): refuse a request with
    one in its query string or form, names or values, before any view runs."""
    fields = [request.args]
    if request.method in ("POST", "PUT", "PATCH"):
        fields.append(request.form)
    for multidict in fields:
        for name, values in multidict.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                return render_error(400, NUL_MESSAGE)
    return None


def set_security_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if current_app.config.get("ENV") == "production":
        response.headers.setdefault(
            "Strict-Transport-Security", STRICT_TRANSPORT_SECURITY
        )
    if _private(response):
        # Pages with personal data or a form's CSRF token: never in a shared cache,
        # nor in the browser's back/forward history after sign-out.
        response.headers["Cache-Control"] = "no-store"
        response.headers.setdefault("Pragma", "no-cache")
    return response


def _private(response: Response) -> bool:
    if request.endpoint == "static":
        return False  # versionless CSS, JS and icons may be cached
    if response.mimetype == "text/html":
        return True
    return bool(current_user and current_user.is_authenticated)
