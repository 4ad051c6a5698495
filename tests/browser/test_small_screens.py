"""Phones: every page reflows at 320 CSS px (WCAG 2.1 1.4.10), filters fold away
behind a "Filter" button, controls are big enough to touch, and the main
journeys work with the keyboard alone."""

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask

from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import ROLES, pages_for

NARROW = {"width": 320, "height": 640}
# Detail pages are reached by following links from the list pages; downloads,
# actions and the pages already listed are left out.
SKIP_LINK = re.compile(r"(\.(odt|ics|csv|xlsx|json)$|/export|format=|/logout)")
MAX_DETAIL_PAGES = 40


@pytest.fixture(scope="module")
def route_app() -> Flask:
    from moraspar import create_app

    return create_app({"DATABASE_URL": "sqlite://"})


@pytest.fixture
def narrow_page(browser: Any) -> Any:
    context = browser.new_context(locale="sv-SE", bypass_csp=True, viewport=NARROW)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


SIDEWAYS = """() => {
  const root = document.scrollingElement;
  if (root.scrollWidth <= root.clientWidth) return null;
  // Name the widest element that sticks out, to say what to fix.
  let worst = null;
  for (const e of document.body.querySelectorAll('*')) {
    const r = e.getBoundingClientRect();
    if (r.right > root.clientWidth + 1 && (!worst || r.right > worst[1])) {
      worst = [e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
               + (e.id ? '#' + e.id : ''), Math.round(r.right)];
    }
  }
  return [root.scrollWidth, root.clientWidth, worst];
}"""

LINKS = """() => Array.from(document.querySelectorAll('main a[href]'))
  .map(a => a.href).filter(h => h.startsWith(location.origin))"""


def _shape(path: str) -> str:
    return re.sub(r"\d+", "N", path)


def _overflowing(page: Any, base: str, paths: list[str]) -> dict[str, Any]:
    failures: dict[str, Any] = {}
    for path in paths:
        response = page.goto(base + path)
        assert response is not None and response.status < 500, path
        if "text/html" not in (response.headers.get("content-type") or ""):
            continue
        found = page.evaluate(SIDEWAYS)
        if found:
            failures[path] = found
    return failures


def _detail_pages(page: Any, base: str, listed: list[str]) -> list[str]:
    seen_shapes = {_shape(p) for p in listed}
    found: list[str] = []
    for path in listed:
        page.goto(base + path)
        for href in page.evaluate(LINKS):
            parts = urlsplit(href)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if parts.query or SKIP_LINK.search(target) or not re.search(r"\d", target):
                continue
            if _shape(parts.path) in seen_shapes:
                continue
            seen_shapes.add(_shape(parts.path))
            found.append(target)
    return found[:MAX_DETAIL_PAGES]


@pytest.mark.parametrize("role", list(ROLES), ids=lambda r: r or "anonymous")
def test_every_page_reflows_at_320_px(
    narrow_page: Any, live_server: str, route_app: Flask, role: str | None
) -> None:
    if role is not None:
        sign_in(narrow_page, live_server, ROLES[role])
    listed = pages_for(route_app, role)
    paths = listed + _detail_pages(narrow_page, live_server, listed)
    assert len(paths) > len(listed) or role is None, "no detail page was reached"
    failures = _overflowing(narrow_page, live_server, paths)
    assert not failures, failures


def test_filters_fold_behind_a_button_on_a_phone_and_open_on_a_desktop(
    narrow_page: Any, live_server: str
) -> None:
    sign_in(narrow_page, live_server, ROLES["teacher"])
    narrow_page.goto(live_server + "/school/search")
    locality = narrow_page.locator("#locality")
    assert not locality.is_visible()
    narrow_page.get_by_text("Filtrera", exact=True).click()
    assert locality.is_visible()
    box = narrow_page.locator("fieldset.filters").bounding_box()
    assert box is not None and box["x"] + box["width"] <= NARROW["width"]

    narrow_page.set_viewport_size({"width": 1280, "height": 800})
    narrow_page.goto(live_server + "/school/search")
    assert narrow_page.locator("#locality").is_visible()
    assert not narrow_page.locator("summary", has_text="Filtrera").is_visible()


TOO_SMALL = """() => Array.from(document.querySelectorAll(
    'button, .button, summary, input:not([type=hidden]):not([type=checkbox])'
    + ':not([type=radio]), select, .main-nav a, .subnav a, .pagination a'))
  .filter(e => e.offsetParent !== null)
  .map(e => [e.outerHTML.slice(0, 60), e.getBoundingClientRect()])
  .filter(([, r]) => r.width < 44 || r.height < 44)
  .map(([h, r]) => `${h} ${Math.round(r.width)}×${Math.round(r.height)}`)"""


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (None, "/login"),
        ("teacher", "/school/search"),
        ("council", "/council/board"),
        ("company", "/company/placements"),
    ],
)
def test_controls_are_at_least_44_px_square(
    narrow_page: Any, live_server: str, role: str | None, path: str
) -> None:
    if role is not None:
        sign_in(narrow_page, live_server, ROLES[role])
    narrow_page.goto(live_server + path)
    for summary in narrow_page.locator(
        "details.filter-panel:not([open]) > summary"
    ).all():
        summary.click()
    assert narrow_page.evaluate(TOO_SMALL) == []


def _tab_to(page: Any, predicate: str, limit: int = 200) -> None:
    """Press Tab until the focused element satisfies the JS predicate."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => {{ const e = document.activeElement; {predicate} }}"):
            return
    raise AssertionError(f"Tab never reached an element where {predicate}")


def _keyboard_sign_in(page: Any, base: str, email: str) -> None:
    page.goto(base + "/login")
    _tab_to(page, "return e.id === 'email';")
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type("moraspar-demo")
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_teacher_searches_with_filters_by_keyboard_on_a_phone(
    narrow_page: Any, live_server: str
) -> None:
    page = narrow_page
    _keyboard_sign_in(page, live_server, ROLES["teacher"])
    page.goto(live_server + "/school/search")
    _tab_to(page, "return e.tagName === 'SUMMARY';")
    page.keyboard.press("Enter")
    _tab_to(page, "return e.id === 'locality';")
    page.keyboard.type("Mora")
    _tab_to(page, "return e.type === 'submit' && e.closest('fieldset');")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "locality=Mora" in page.url
    assert page.locator("#results-heading").is_visible()


def test_council_member_approves_a_proposal_by_keyboard(
    page: Any, live_server: str
) -> None:
    _keyboard_sign_in(page, live_server, ROLES["council"])
    page.goto(live_server + "/council/board")
    _tab_to(page, "return e.tagName === 'A' && e.href.match(/proposals\\/\\d+$/);")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert re.search(r"/proposals/\d+$", page.url)
    _tab_to(page, "return e.tagName === 'BUTTON' && e.value === 'approve';")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator(".status--approved").count() >= 1


def test_company_contact_posts_a_placement_by_keyboard(
    page: Any, live_server: str
) -> None:
    _keyboard_sign_in(page, live_server, ROLES["company"])
    page.goto(live_server + "/company/placements/new")
    _tab_to(page, "return e.id === 'title';")
    page.keyboard.type("Tangentbordspraktik")
    _tab_to(page, "return e.type === 'submit' && e.closest('main');")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    # Either saved, or the error summary names what is missing, focus-reachable.
    assert "Tangentbordspraktik" in page.content()
