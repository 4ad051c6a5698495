"""A placement's period: no past periods, an end date, a minimum length per kind
(the MIN_PLACEMENT_WEEKDAYS setting), and an ended placement is never listed as
open. A skill gap's SSYK code must be one of the shipped vocabulary."""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from moraspar.companies import services
from moraspar.models import Organisation, Placement, Role, SkillGap, User
from moraspar.search import index_text

MONDAY = date.today() + timedelta(days=14 - date.today().weekday())  # in 1–2 weeks


def _form(**overrides: Any) -> dict[str, Any]:
    data = {
        "kind": "apl",
        "title": "APL i snickeriet",
        "places": "2",
        "start_date": MONDAY.isoformat(),
        "end_date": (MONDAY + timedelta(days=11)).isoformat(),  # two school weeks
        "locality": "Mora",
        "supervisor_name": "Kim Handledare",
        "supervisor_contact": "kim@snickeri.example",
    }
    data.update(overrides)
    return data


def _placements(db: Session) -> list[Placement]:
    db.expire_all()
    return list(db.exec(select(Placement)).all())


@pytest.fixture
def contact(auth: Any) -> User:
    user: User = auth.login(Role.COMPANY, language="en")
    return user


def test_two_school_weeks_of_apl_are_posted(
    client: Any, db: Session, contact: User
) -> None:
    response = client.post_form("/company/placements/new", _form())
    assert response.status_code == 302
    assert [p.title for p in _placements(db)] == ["APL i snickeriet"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {
                "start_date": (date.today() - timedelta(days=30)).isoformat(),
                "end_date": (date.today() - timedelta(days=2)).isoformat(),
            },
            "The period must not start or end in the past.",
        ),
        ({"end_date": ""}, "Enter an end date."),
        ({"start_date": ""}, "Enter a start date."),
        (
            {"end_date": (MONDAY + timedelta(days=1)).isoformat()},
            "This kind of placement lasts at least 10 weekdays.",
        ),
        (
            {"kind": "prao", "end_date": (MONDAY + timedelta(days=1)).isoformat()},
            "This kind of placement lasts at least 3 weekdays.",
        ),
    ],
)
def test_bad_periods_are_refused_with_a_message(
    client: Any, db: Session, contact: User, overrides: dict[str, str], message: str
) -> None:
    response = client.post_form("/company/placements/new", _form(**overrides))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _placements(db) == []


def test_a_study_visit_may_be_one_day(client: Any, db: Session, contact: User) -> None:
    day = MONDAY.isoformat()
    response = client.post_form(
        "/company/placements/new",
        _form(kind="study_visit", start_date=day, end_date=day),
    )
    assert response.status_code == 302


def test_the_minimum_length_is_a_setting(
    app: Any, client: Any, db: Session, contact: User
) -> None:
    app.config["MIN_PLACEMENT_WEEKDAYS"] = {"apl": 15}
    response = client.post_form("/company/placements/new", _form())
    assert "at least 15 weekdays" in response.get_data(as_text=True)
    app.config["MIN_PLACEMENT_WEEKDAYS"] = {"apl": 3}
    end = (MONDAY + timedelta(days=2)).isoformat()
    assert (
        client.post_form("/company/placements/new", _form(end_date=end)).status_code
        == 302
    )


def test_the_service_refuses_a_past_period_on_create_only(
    db: Session,
    make_user: Callable[..., User],
    make_company: Callable[..., Organisation],
    make_placement: Callable[..., Placement],
) -> None:
    company = make_company()
    user = make_user(Role.COMPANY, company)
    past = services.PlacementData(
        kind="project",
        title="Förra året",
        places=1,
        start_date=date(2020, 1, 6),
        end_date=date(2020, 1, 31),
    )
    with pytest.raises(services.PeriodInPast):
        services.create_placement(db, company=company, data=past, actor=user)
    with pytest.raises(services.EndDateRequired):
        services.create_placement(
            db,
            company=company,
            actor=user,
            data=services.PlacementData(kind="project", title="x", places=1),
        )


def test_an_ended_placement_is_not_listed_as_open(
    client: Any,
    auth: Any,
    make_school: Callable[..., Organisation],
    make_company: Callable[..., Organisation],
    make_placement: Callable[..., Placement],
) -> None:
    company = make_company(name="Verkstad AB")
    for title, end in (("Slutad", date.today() - timedelta(days=1)), ("Pågår", None)):
        make_placement(
            company,
            title=title,
            start_date=date.today() - timedelta(days=60),
            end_date=end or date.today() + timedelta(days=30),
            search_text=index_text(title),
        )
    auth.login(Role.TEACHER, organisation=make_school(), language="en")
    page = client.get("/school/search").get_data(as_text=True)
    assert "Pågår" in page
    assert "Slutad" not in page  # still 'open' until the nightly close runs
    company_page = client.get(f"/company/{company.id}").get_data(as_text=True)
    assert "Pågår" in company_page and "Slutad" not in company_page


def test_ssyk_code_must_be_one_of_the_vocabulary(
    client: Any, db: Session, contact: User
) -> None:
    form = {"title": "Operatörer", "headcount": "2", "horizon": "now"}
    refused = client.post_form("/company/skill-gaps/new", {**form, "ssyk_code": "0000"})
    assert refused.status_code == 200
    assert "SSYK 2012 occupation code that exists" in refused.get_data(as_text=True)
    db.expire_all()
    assert db.exec(select(SkillGap)).all() == []
    accepted = client.post_form(
        "/company/skill-gaps/new", {**form, "ssyk_code": "7231"}
    )
    assert accepted.status_code == 302


def test_the_service_refuses_an_unknown_ssyk_code(
    db: Session,
    make_user: Callable[..., User],
    make_company: Callable[..., Organisation],
) -> None:
    company = make_company()
    with pytest.raises(services.UnknownOccupation):
        services.create_skill_gap(
            db,
            company=company,
            actor=make_user(Role.COMPANY, company),
            data=services.SkillGapData(
                title="x", headcount=1, horizon="now", ssyk_code="0000"
            ),
        )
