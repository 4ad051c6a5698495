"""The application shell: health, languages, error pages, configuration."""

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request

import moraspar
from moraspar import config, create_app
from moraspar.config import ConfigError
from moraspar.models import Role


def test_healthz_answers_json(client: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_pages_are_swedish_by_default(client: Any) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="sv">' in page
    assert "Logga in" in page


def test_language_switch_to_english(client: Any) -> None:
    response = client.post_form("/language", {"language": "en", "next": "/login"})
    assert response.status_code == 302
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Sign in" in page


def test_user_language_follows_the_user(client: Any, auth: Any) -> None:
    auth.login(Role.TEACHER, language="en")
    page = client.get("/school/").get_data(as_text=True)
    assert '<html lang="en">' in page


def test_404_page_is_friendly_and_swedish(client: Any) -> None:
    response = client.get("/login/does-not-exist")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Sidan finns inte" in page
    assert "Traceback" not in page


def test_403_page_for_wrong_role(client: Any, auth: Any) -> None:
    auth.login(Role.TEACHER)
    response = client.get("/admin/")
    assert response.status_code == 403
    assert "behörighet" in response.get_data(as_text=True)


def test_500_page_hides_the_stack_trace(app: Any, client: Any) -> None:
    def broken() -> str:
        raise RuntimeError("secret internals")

    app.add_url_rule("/broken", "main.broken", broken)
    from moraspar.web import access

    access.RULES["main.broken"] = access.Access.PUBLIC  # type: ignore[index]
    try:
        response = client.get("/broken")
    finally:
        del access.RULES["main.broken"]  # type: ignore[attr-defined]
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "secret internals" not in page
    assert "Något gick fel" in page


def test_production_refuses_the_default_secret(monkeypatch: Any) -> None:
    monkeypatch.setenv("MORASPAR_ENV", "production")
    monkeypatch.delenv("MORASPAR_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError):
        create_app({"DATABASE_URL": "sqlite://"})
    monkeypatch.setenv("MORASPAR_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("MORASPAR_BASE_URL", "https://moraspar.mora.se")
    monkeypatch.setenv("MORASPAR_TOTP_KEY", "k" * 43 + "=")
    app = create_app({"DATABASE_URL": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize("base_url", [None, "http://127.0.0.1:5000", "http://x.se"])
def test_production_refuses_to_start_without_its_https_address(
    monkeypatch: Any, base_url: str | None
) -> None:
    monkeypatch.setenv("MORASPAR_ENV", "production")
    monkeypatch.setenv("MORASPAR_SECRET_KEY", "x" * 40)
    if base_url is None:
        monkeypatch.delenv("MORASPAR_BASE_URL", raising=False)
    else:
        monkeypatch.setenv("MORASPAR_BASE_URL", base_url)
    with pytest.raises(ConfigError, match="MORASPAR_BASE_URL"):
        create_app({"DATABASE_URL": "sqlite://"})


def test_production_trusts_only_the_sites_own_host(monkeypatch: Any) -> None:
    monkeypatch.setenv("MORASPAR_ENV", "production")
    monkeypatch.setenv("MORASPAR_SECRET_KEY", "x" * 40)
    monkeypatch.setenv("MORASPAR_BASE_URL", "https://moraspar.mora.se/")
    monkeypatch.setenv("MORASPAR_TOTP_KEY", "k" * 43 + "=")
    app = create_app({"DATABASE_URL": "sqlite://"})
    assert app.config["BASE_URL"] == "https://moraspar.mora.se"
    assert app.config["TRUSTED_HOSTS"] == ["moraspar.mora.se"]


def test_a_base_url_without_a_host_is_refused() -> None:
    with pytest.raises(ConfigError):
        create_app({"DATABASE_URL": "sqlite://", "BASE_URL": "moraspar.mora.se"})


def test_session_cookie_flags(client: Any, make_user: Any) -> None:
    from tests.conftest import PASSWORD

    user = make_user(Role.TEACHER)
    response = client.post_form(
        "/login", {"email": user.email, "password": PASSWORD, "remember": "y"}
    )
    cookies = response.headers.getlist("Set-Cookie")
    for name in ("session", "remember_token"):
        cookie = next(c for c in cookies if c.startswith(name + "="))
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie


_EXTERNAL = re.compile(r"""(?:src|href|action)\s*=\s*["']?(?:https?:)?//""", re.I)


@pytest.mark.parametrize("role", [None, *list(Role)])
def test_no_page_references_an_external_host(
    app: Any, client: Any, auth: Any, role: Any
) -> None:
    if role is not None:
        auth.login(role)
    urls = ["/login", "/register", "/reset", "/privacy", "/accessibility"]
    for rule in app.url_map.iter_rules():
        if "GET" in (rule.methods or ()) and not rule.arguments:
            urls.append(rule.rule)
    for url in sorted(set(urls)):
        response = client.get(url)
        if response.mimetype != "text/html":
            continue
        page = response.get_data(as_text=True)
        assert not _EXTERNAL.search(page), f"{url} links to an external host"


_SETTING_READ = re.compile(
    r"""config(?:\[|\.get\(|\.setdefault\()\s*["']([A-Z][A-Z0-9_]*)["']"""
)
_PACKAGE = Path(moraspar.__file__).parent


def test_every_setting_the_code_reads_has_a_default(tmp_path: Path) -> None:
    read = {
        name
        for source in _PACKAGE.rglob("*.py")
        for name in _SETTING_READ.findall(source.read_text(encoding="utf-8"))
    }
    assert {"DATABASE_URL", "PAGE_SIZE", "REDIS_URL"} <= read  # the scan works
    # The rate limits read some settings by a name passed to a helper.
    read |= {"SIGNIN_LIMIT_IP", "RESET_LIMIT_ACCOUNT", "RESET_LIMIT_IP"}
    read |= {"REGISTER_LIMIT_IP"}
    flask_own = set(Flask.default_config)
    missing = read - set(config.defaults(tmp_path)) - flask_own
    assert not missing, f"settings read without a default in config.py: {missing}"


def test_create_app_is_the_table_of_contents() -> None:
    """__init__.py holds create_app only, and create_app only names its steps:
    configure, then one register_* call per concern."""
    tree = ast.parse((_PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert [f.name for f in functions] == ["create_app"]
    assert all(
        isinstance(n, ast.Import | ast.ImportFrom | ast.FunctionDef | ast.Expr)
        for n in tree.body
    )
    steps = [
        n.value.func.id
        for n in functions[0].body
        if isinstance(n, ast.Expr)
        and isinstance(n.value, ast.Call)
        and isinstance(n.value.func, ast.Name)
    ]
    assert steps[0] == "configure"
    assert all(step.startswith("register_") for step in steps[1:])
    assert len(steps) == len(set(steps))
    for step in (
        "register_extensions",
        "register_template_helpers",
        "register_security_headers",
        "register_rate_limits",
        "register_proxy_fix",
        "register_blueprints",
        "register_access_checks",
        "register_menu",
        "register_errorhandlers",
        "register_commands",
    ):
        assert step in steps


def test_the_menu_shows_what_the_role_may_open(client: Any, auth: Any) -> None:
    auth.login(Role.TEACHER)
    page = client.get("/school/").get_data(as_text=True)
    assert 'href="/school/"' in page
    assert 'href="/admin/"' not in page
    assert 'href="/council/"' not in page


def test_anonymous_visitors_are_sent_to_sign_in(client: Any) -> None:
    response = client.get("/school/needs?x=1")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_proxy_fix_reads_forwarded_headers_only_when_configured(
    engine: Any,
) -> None:
    def scheme(hops: int) -> str:
        app = create_app(
            {
                "DATABASE_URL": str(engine.url),
                "DATABASE_ENGINE": engine,
                "PROXY_FIX_HOPS": hops,
            }
        )
        seen: list[str] = []
        app.before_request(lambda: seen.append(request.scheme) and None)
        app.test_client().get("/healthz", headers={"X-Forwarded-Proto": "https"})
        return seen[0]

    assert scheme(0) == "http"
    assert scheme(1) == "https"
