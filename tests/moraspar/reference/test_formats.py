"""Numbers, percentages, dates and plurals in the reader's language: Swedish as
in Sweden, English as in Britain (day/month/year, 24-hour clock)."""

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask import Flask, render_template_string, session
from flask_babel import refresh

from moraspar.models import Organisation, Role

NBSP = "\xa0"


def _render(app: Flask, language: str, source: str, **values: Any) -> str:
    with app.test_request_context("/"):
        session["lang"] = language
        refresh()
        return render_template_string(source, **values)


@pytest.mark.parametrize(
    ("language", "expected"),
    [("sv", "2027-05-04 – 2027-06-01"), ("en", "04/05/2027 – 01/06/2027")],
)
def test_periods_are_written_day_month_year_in_english(
    app: Flask, language: str, expected: str
) -> None:
    out = _render(
        app, language, "{{ period(a, b) }}", a=date(2027, 5, 4), b=date(2027, 6, 1)
    )
    assert out == expected


def test_moments_use_the_24_hour_clock_in_english(app: Flask) -> None:
    moment = datetime(2026, 12, 2, 10, 43, tzinfo=UTC)  # 11:43 in Mora
    out = _render(app, "en", "{{ m|datetime }}", m=moment)
    assert out.startswith("02/12/2026")
    assert "11:43" in out and "AM" not in out and "PM" not in out


@pytest.mark.parametrize(
    ("language", "number", "percent"),
    [("sv", "0,3", f"95{NBSP}%"), ("en", "0.3", "95%")],
)
def test_decimals_and_percentages_follow_the_language(
    app: Flask, language: str, number: str, percent: str
) -> None:
    out = _render(app, language, "{{ 0.3|number }}|{{ 0.954|percent }}")
    assert out == f"{number}|{percent}"


REASONS = (
    '{% from "council/_reasons.html" import reasons %}'
    "{{ reasons(items, students=students) }}"
)


@pytest.mark.parametrize(
    ("places", "students", "sv_text"),
    [
        (1, 1, "1 ledig plats för 1 elev"),
        (3, 2, "3 lediga platser för 2 elever"),
        (1, None, "1 ledig plats"),
    ],
)
def test_free_places_agree_with_their_number(
    app: Flask, places: int, students: int | None, sv_text: str
) -> None:
    items = [{"code": "free_places", "value": float(places), "values": []}]
    out = _render(app, "sv", REASONS, items=items, students=students)
    assert sv_text in out
    assert "1 lediga" not in out and "1 elever" not in out


def test_one_week_of_overlap_is_singular(app: Flask) -> None:
    items = [{"code": "overlap_weeks", "value": 1.0, "values": []}]
    assert "med 1 vecka" in _render(app, "sv", REASONS, items=items, students=None)
    assert "by 1 week<" in _render(app, "en", REASONS, items=items, students=None)


def test_scores_read_as_percentages_not_decimals(app: Flask) -> None:
    out = _render(
        app,
        "sv",
        '{% from "council/_reasons.html" import score %}{{ score(0.95) }}',
    )
    assert f"95{NBSP}%" in out and "0.95" not in out.replace('value="0.950"', "")


def test_an_english_teacher_reads_british_dates_on_a_need(
    client: Any,
    auth: Any,
    make_school: Callable[..., Organisation],
    make_need: Callable[..., Any],
) -> None:
    school = make_school()
    need = make_need(school, start_date=date(2027, 5, 4), end_date=date(2027, 6, 1))
    auth.login(Role.TEACHER, organisation=school, language="en")
    page = client.get(f"/school/needs/{need.id}").get_data(as_text=True)
    assert "04/05/2027" in page
    assert "5/4/27" not in page
