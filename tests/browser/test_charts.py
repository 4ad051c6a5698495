"""Charts on a phone: legend items and labels never overlap, labels are whole,
and each chart's table follows it directly."""

from typing import Any

import pytest

from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import ROLES

BOX = """e => { const r = e.getBoundingClientRect();
  return [e.textContent.trim(), r.left, r.top, r.right, r.bottom]; }"""
BOXES = f"(selector) => Array.from(document.querySelectorAll(selector)).map({BOX})"
LEGENDS = f"""() => Array.from(document.querySelectorAll('figure.chart-figure'))
  .map(f => Array.from(f.querySelectorAll('.chart-legend li')).map({BOX}))"""
# For each chart: is the element right after it the one holding its table?
TABLE_AFTER = """() => Array.from(document.querySelectorAll('figure.chart-figure'))
  .map(f => !!(f.nextElementSibling && f.nextElementSibling.querySelector('table')))"""


def _overlaps(boxes: list[list[Any]]) -> list[tuple[str, str]]:
    found = []
    for i, (name_a, *a) in enumerate(boxes):
        for name_b, *b in boxes[i + 1 :]:
            # Touching edges are fine; a shared area of more than a pixel is not.
            if (
                min(a[2], b[2]) - max(a[0], b[0]) > 1
                and min(a[3], b[3]) - max(a[1], b[1]) > 1
            ):
                found.append((name_a, name_b))
    return found


@pytest.mark.parametrize("width", [320, 390, 1280])
def test_chart_legends_and_labels_never_overlap(
    browser: Any, live_server: str, width: int
) -> None:
    context = browser.new_context(
        locale="sv-SE", bypass_csp=True, viewport={"width": width, "height": 800}
    )
    page = context.new_page()
    try:
        sign_in(page, live_server, ROLES["council"])
        page.goto(live_server + "/gaps/")
        assert page.locator("figure.chart-figure").count() == 2
        legends = page.evaluate(LEGENDS)
        assert [len(items) for items in legends] == [2, 1]
        for items in legends:
            assert _overlaps(items) == [], items
            for _name, left, _top, right, _bottom in items:
                assert left >= 0 and right <= width, items
        labels = page.evaluate(BOXES, "svg.chart text")
        assert _overlaps(labels) == [], labels
        # Labels are wrapped, never cut with an ellipsis.
        assert not [t for t, *_ in labels if t.endswith("…")]
        # The table with the same figures comes right after each chart.
        after = page.evaluate(TABLE_AFTER)
        assert after == [True, True]
    finally:
        context.close()
