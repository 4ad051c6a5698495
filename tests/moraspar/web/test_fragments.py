"""Memoised fragments: a hit is what the template would render now."""

from typing import Any

from flask import Flask, session

from moraspar.web import fragments

CARD = "council/_board_card.html"
VALUES: dict[str, Any] = {
    "heading": "h2",
    "id": 7,
    "status": "proposed",
    "total": 0.82,
    "reasons": [{"code": "shared_skills", "value": None, "values": ["svetsning"]}],
    "parts": {"text": 0.5, "skills": 1.0},
    "allocated": 2,
    "need_title": "APL fordon",
    "need_students": 3,
    "kind": "apl",
    "start": None,
    "end": None,
    "placement_title": "Verkstad <Mora>",
    "locality": "Mora",
    "school": "Mora gymnasium",
    "programme": "",
    "company": "Mora Bil AB",
    "free_places": 2,
    "may_approve": True,
    "may_defer": True,
    "may_decline": True,
}


def _render(app: Flask, language: str = "en", **changes: Any) -> str:
    with app.test_request_context():
        session["lang"] = language
        return str(fragments.render(CARD, **{**VALUES, **changes}))


def _memo(app: Flask) -> fragments.FragmentMemo:
    memo: fragments.FragmentMemo = app.extensions[fragments.EXTENSION]
    return memo


def test_a_repeat_is_served_from_the_memo_unchanged(app: Flask) -> None:
    first = _render(app)
    misses = _memo(app).misses

    again = _render(app)

    assert again == first
    assert _memo(app).misses == misses and _memo(app).hits >= 1
    assert "Shared skills: svetsning" in first
    assert "Verkstad &lt;Mora&gt;" in first  # values are escaped


def test_any_changed_value_renders_anew(app: Flask) -> None:
    _render(app)

    declined = _render(app, status="declined", may_approve=False)
    renamed = _render(app, company="Mora Bil och Maskin AB")
    reasons = _render(
        app, reasons=[{"code": "distance_km", "value": 4.0, "values": []}]
    )

    assert "status--declined" in declined and 'value="approve"' not in declined
    assert "Mora Bil och Maskin AB" in renamed
    assert "Distance: 4 km" in reasons and "svetsning" not in reasons


def test_the_language_is_part_of_the_key(app: Flask) -> None:
    english = _render(app, "en")
    swedish = _render(app, "sv")

    assert "Approve" in english
    assert "Godkänn" in swedish and "Approve" not in swedish


def test_the_memo_is_bounded_and_can_be_turned_off() -> None:
    memo = fragments.FragmentMemo(2)
    for n in range(5):
        memo.put(("k", n), fragments.Markup(str(n)))
    assert len(memo) == 2 and memo.get(("k", 4)) == "4" and memo.get(("k", 0)) is None

    off = fragments.FragmentMemo(0)
    off.put(("k",), fragments.Markup("x"))
    assert len(off) == 0 and off.get(("k",)) is None
