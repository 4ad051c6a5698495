"""Which proxies the app believes about the client's address, scheme and host."""

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def register_proxy_fix(app: Flask) -> None:
    """Behind PROXY_FIX_HOPS reverse proxies, read X-Forwarded-For, -Proto and
    -Host from them; with none (the default) those headers are ignored, since
    anyone could send them."""
    hops = int(app.config["PROXY_FIX_HOPS"])
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )
