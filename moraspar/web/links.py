"""Absolute links for emails and calendar files, built from BASE_URL.

Never from the request: its Host header is whatever the client sent, so a link
built from it could point a password-reset token at someone else's site.
"""

from typing import Any
from urllib.parse import urlsplit

from flask import current_app


def external_url(endpoint: str, **values: Any) -> str:
    """The absolute address of endpoint on the configured site (BASE_URL),
    e.g. https://moraspar.mora.se/reset/<token>; works without a request."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme
    )
    current_app.inject_url_defaults(endpoint, values)
    return adapter.build(endpoint, values, force_external=True)
