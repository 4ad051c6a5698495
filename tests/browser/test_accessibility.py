"""axe-core in headless Chromium on every main page, for every role: WCAG 2.1 AA."""

from typing import Any

import pytest
from flask import Flask

from moraspar.web import access
from tests.browser.conftest import AXE, TWO_FACTOR_EMAIL, sign_in

WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
ROLES = {
    None: None,
    "teacher": "teacher@moraspar.example",
    "company": "company@moraspar.example",
    "council": "council@moraspar.example",
    "admin": "admin@moraspar.example",
}
# Pages that do something on GET or are not HTML.
NOT_PAGES = {
    "health.healthz",
    "health.readyz",
    "health.metrics_view",
    "main.skill_suggestions",
    "auth.logout",
}


def pages_for(app: Flask, role: str | None) -> list[str]:
    paths = []
    for rule in app.url_map.iter_rules():
        if rule.arguments or "GET" not in (rule.methods or ()):
            continue
        if rule.endpoint in NOT_PAGES or rule.endpoint == "static":
            continue
        if "format" in rule.rule or rule.rule.endswith((".ics", ".json", ".csv")):
            continue
        if access.allows(access.RULES[rule.endpoint], role):
            paths.append(rule.rule)
    return sorted(set(paths))


def axe_violations(page: Any) -> list[str]:
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async (tags) => await axe.run(document, "
        "{runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_AA,
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + "; ".join(" ".join(n["target"]) for n in v["nodes"][:3])
        for v in result["violations"]
    ]


@pytest.fixture(scope="module")
def route_app() -> Flask:
    from moraspar import create_app

    return create_app({"DATABASE_URL": "sqlite://"})


@pytest.mark.parametrize("role", list(ROLES), ids=lambda r: r or "anonymous")
def test_every_page_passes_axe(
    page: Any, live_server: str, route_app: Flask, role: str | None
) -> None:
    if role is not None:
        sign_in(page, live_server, ROLES[role])
    failures: dict[str, list[str]] = {}
    for path in pages_for(route_app, role):
        response = page.goto(live_server + path)
        assert response is not None and response.status < 500, path
        if "text/html" not in (response.headers.get("content-type") or ""):
            continue
        found = axe_violations(page)
        if found:
            failures[path] = found
    assert not failures, failures


FORMS_WITH_ERRORS = {
    None: ["/login", "/register", "/reset"],
    "teacher": ["/password"],
    "admin": ["/admin/users/invite", "/admin/organisations/new"],
}


@pytest.mark.parametrize(
    "role", list(FORMS_WITH_ERRORS), ids=lambda r: r or "anonymous"
)
def test_forms_with_errors_pass_axe(
    page: Any, live_server: str, role: str | None
) -> None:
    if role is not None:
        sign_in(page, live_server, ROLES[role])
    failures = {}
    for path in FORMS_WITH_ERRORS[role]:
        page.goto(live_server + path)
        page.click("main form.form button[type=submit]")
        page.wait_for_load_state()
        assert page.locator(".error-summary").count() == 1, path
        # The summary takes the focus, so a screen reader starts there.
        focused = page.evaluate("() => document.activeElement.className")
        assert focused == "error-summary", path
        found = axe_violations(page)
        if found:
            failures[path] = found
    assert not failures, failures


def test_admin_confirmation_to_turn_two_factor_off_passes_axe(
    page: Any, live_server: str
) -> None:
    # Behind a user id, so pages_for cannot list it: reach it from the users page.
    sign_in(page, live_server, ROLES["admin"])
    page.goto(f"{live_server}/admin/users?q={TWO_FACTOR_EMAIL}")
    link = page.locator("main a[href$='/two-factor']")
    assert link.count() == 1
    path = link.get_attribute("href")
    response = page.goto(live_server + path)
    assert response is not None and response.status == 200, path
    assert page.url == live_server + path  # the confirmation, not a redirect
    assert page.locator("main form.form button[type=submit]").count() == 1
    assert axe_violations(page) == []


def test_keyboard_alone_reaches_every_control_and_signs_in(
    page: Any, live_server: str
) -> None:
    page.goto(live_server + "/login")
    controls = page.evaluate(
        "() => Array.from(document.querySelectorAll("
        "'a[href], button, input:not([type=hidden]), select, textarea'))"
        ".filter(e => !e.disabled).length"
    )
    seen = []
    outlines = []
    for _ in range(controls + 2):
        page.keyboard.press("Tab")
        info = page.evaluate(
            "() => { const e = document.activeElement; const s = getComputedStyle(e);"
            " return [e.outerHTML.slice(0, 80), s.outlineStyle, s.outlineWidth]; }"
        )
        seen.append(info[0])
        outlines.append((info[0], info[1], info[2]))
    assert "skip-link" in seen[0], "the skip link is the first stop"
    assert len(set(seen)) >= controls, f"only {len(set(seen))} of {controls} reached"
    for html, style, width in outlines:
        if html.startswith("<body"):
            continue
        assert style != "none" and width != "0px", f"no visible focus on {html}"

    page.focus("#email")
    page.keyboard.type("teacher@moraspar.example")
    page.keyboard.press("Tab")
    page.keyboard.type("moraspar-demo")
    page.keyboard.press("Enter")
    page.wait_for_url("**/school/")
    assert page.locator("h1").inner_text() == "Mora gymnasium"
