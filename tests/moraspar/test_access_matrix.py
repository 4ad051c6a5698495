"""Every route × every role × anonymous, against the one access table."""

from typing import Any

import pytest
from flask import Flask
from werkzeug.routing import IntegerConverter

from moraspar.models import Role
from moraspar.web import access

ROLES: list[str | None] = [None, *[str(r) for r in Role]]


def _routes(app: Flask) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every rule; ids that exist nowhere."""
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        values = {arg: 999_999 for arg in rule.arguments}
        for name, converter in rule._converters.items():
            if not isinstance(converter, IntegerConverter):
                values[name] = "x" * 12
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **values)
        method = "GET" if "GET" in (rule.methods or ()) else "POST"
        routes.append((rule.endpoint, method, url))
    return sorted(routes)


def test_every_route_has_a_declared_rule(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(endpoints - set(access.RULES))
    assert not missing, f"routes without an access rule: {missing}"
    stale = sorted(set(access.RULES) - endpoints)
    assert not stale, f"access rules for routes that do not exist: {stale}"


def test_undeclared_route_is_refused(app: Flask, client: Any, auth: Any) -> None:
    app.add_url_rule("/undeclared", "undeclared", lambda: "secret")
    auth.login(Role.ADMIN)
    assert client.get("/undeclared").status_code == 403


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
def test_access_matrix(app: Flask, client: Any, auth: Any, role: str | None) -> None:
    if role is not None:
        auth.login(role)
    token = client.csrf_token()
    failures = []
    for endpoint, method, url in _routes(app):
        if endpoint in ("auth.logout",):
            continue  # would end the session the matrix runs in
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": token})
        allowed = access.allows(access.RULES[endpoint], role)
        to_login = response.status_code == 302 and "/login" in response.headers.get(
            "Location", ""
        )
        if allowed:
            public = access.RULES[endpoint] is access.Access.PUBLIC
            ok = response.status_code != 403 and response.status_code < 500
            ok = ok and (public or not to_login)
        elif role is None:
            ok = to_login
        else:
            ok = response.status_code == 403
        if not ok:
            failures.append((endpoint, method, url, response.status_code))
    assert not failures, f"{role or 'anonymous'}: {failures}"
