"""Two edits of the same version: the second is refused, shows what the first
changed, and keeps its own input; saved again it goes through."""

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlmodel import Session

from moraspar import organisations
from moraspar.companies import services as companies
from moraspar.imports import services as imports
from moraspar.models import (
    Need,
    Organisation,
    Placement,
    Programme,
    Role,
    SkillGap,
    User,
)
from moraspar.schools import services as schools

PLACEMENT_FORM = {
    "kind": "apl",
    "title": "Min titel",
    "places": "2",
    "start_date": "2027-01-11",
    "end_date": "2027-06-04",
    "locality": "Mora",
    "supervisor_name": "Kim Handledare",
    "supervisor_contact": "kim@verkstad.example",
}


def _version_in(page: str) -> str:
    match = re.search(r'name="version" type="hidden" value="(\d+)"', page)
    assert match, "the edit form carries the version it was read at"
    return match.group(1)


def _colleague_saves_placement(
    db: Session, placement: Placement, colleague: User, **changes: Any
) -> None:
    company = db.get(Organisation, placement.company_id)
    assert company is not None
    values: dict[str, Any] = {
        "kind": placement.kind,
        "title": placement.title,
        "places": placement.places,
        "start_date": placement.start_date,
        "end_date": placement.end_date,
        "locality": placement.locality,
        "supervisor_name": placement.supervisor_name,
        "supervisor_contact": placement.supervisor_contact,
        "version": placement.version,
        **changes,
    }
    companies.update_placement(
        db,
        placement=placement,
        company=company,
        data=companies.PlacementData(**values),
        actor=colleague,
    )
    db.commit()


def test_stale_placement_edit_is_refused_with_what_changed(
    client: Any,
    auth: Any,
    db: Session,
    make_user: Callable[..., User],
    make_placement: Callable[..., Placement],
) -> None:
    user = auth.login(Role.COMPANY, language="en")
    company = db.get(Organisation, user.organisation_id)
    colleague = make_user(Role.COMPANY, company)
    placement = make_placement(company)
    url = f"/company/placements/{placement.id}/edit"
    read = _version_in(client.get(url).get_data(as_text=True))

    _colleague_saves_placement(db, placement, colleague, title="Deras titel", places=4)
    response = client.post_form(url, {**PLACEMENT_FORM, "version": read})

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Someone else saved this" in page
    assert "Title: “Deras titel”" in page
    assert "Number of places: 4" in page
    assert 'value="Min titel"' in page  # the user's input is kept
    db.expire_all()
    stored = db.get(Placement, placement.id)
    assert stored is not None
    assert (stored.title, stored.places, stored.version) == ("Deras titel", 4, 2)

    again = client.post_form(url, {**PLACEMENT_FORM, "version": _version_in(page)})
    assert again.status_code == 302
    db.expire_all()
    stored = db.get(Placement, placement.id)
    assert stored is not None
    assert (stored.title, stored.version) == ("Min titel", 3)


def test_an_edit_form_without_its_version_is_refused(
    client: Any, auth: Any, db: Session, make_placement: Callable[..., Placement]
) -> None:
    user = auth.login(Role.COMPANY, language="en")
    placement = make_placement(db.get(Organisation, user.organisation_id))
    response = client.post_form(
        f"/company/placements/{placement.id}/edit", PLACEMENT_FORM
    )
    assert response.status_code == 200
    assert "Someone else saved this" in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(Placement, placement.id).title == "APL i bilverkstad"  # type: ignore[union-attr]


def test_stale_need_edit_through_the_school_pages(
    client: Any,
    auth: Any,
    db: Session,
    make_school: Callable[..., Organisation],
    make_user: Callable[..., User],
    make_need: Callable[..., Need],
) -> None:
    school = make_school()
    auth.login(Role.TEACHER, organisation=school, language="en")
    colleague = make_user(Role.TEACHER, school)
    need = make_need(school, start_date=date(2031, 2, 3), end_date=date(2031, 3, 28))
    url = f"/school/needs/{need.id}/edit"
    read = _version_in(client.get(url).get_data(as_text=True))
    schools.update_need(
        db,
        need=need,
        actor=colleague,
        data=schools.NeedData(
            kind="apl",
            title=need.title,
            students=9,
            start_date=need.start_date,
            end_date=need.end_date,
            locality="Mora",
            version=need.version,
        ),
    )
    db.commit()

    response = client.post_form(
        url,
        {
            "version": read,
            "kind": "apl",
            "programme_id": "",
            "title": "Min rubrik",
            "students": "3",
            "start_date": "2031-02-03",
            "end_date": "2031-03-28",
            "locality": "Mora",
        },
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Number of students: 9" in page
    assert 'value="Min rubrik"' in page


def _skill_gap(
    db: Session, gap: SkillGap, actor: User, version: int, title: str
) -> Any:
    company = db.get(Organisation, gap.company_id)
    assert company is not None
    return companies.update_skill_gap(
        db,
        gap=gap,
        company=company,
        actor=actor,
        data=companies.SkillGapData(
            title=title, headcount=1, horizon="now", version=version
        ),
    )


def _programme(
    db: Session, programme: Programme, actor: User, version: int, title: str
) -> Any:
    return schools.update_programme(
        db,
        programme=programme,
        actor=actor,
        data=schools.ProgrammeData(name=title, level="gymnasium", version=version),
    )


def _profile(
    db: Session, company: Organisation, actor: User, version: int, title: str
) -> Any:
    return companies.update_profile(
        db,
        company=company,
        actor=actor,
        data=companies.ProfileData(
            name=title, org_number="", locality="Mora", version=version
        ),
    )


@pytest.mark.parametrize("kind", ["skill_gap", "programme", "profile"])
def test_every_editable_record_refuses_a_stale_version(
    kind: str,
    db: Session,
    make_user: Callable[..., User],
    make_company: Callable[..., Organisation],
    make_school: Callable[..., Organisation],
    make_skill_gap: Callable[..., SkillGap],
    make_programme: Callable[..., Programme],
) -> None:
    record: Any
    if kind == "skill_gap":
        company = make_company()
        record, save, owner = make_skill_gap(company), _skill_gap, company
        name = "title"
    elif kind == "programme":
        school = make_school()
        record, save, owner = make_programme(school), _programme, school
        name = "name"
    else:
        owner = make_company()
        record, save, name = owner, _profile, "name"
    actor = make_user(Role.ADMIN)

    save(db, record, actor, 1, "Första")
    db.commit()
    with pytest.raises(organisations.StaleEdit) as stale:
        save(db, record, actor, 1, "Andra")
    db.rollback()

    assert stale.value.changes[name] == "Första"
    assert stale.value.version == 2
    db.expire_all()
    assert getattr(record, name) == "Första"
    assert owner.id is not None


def test_an_import_makes_an_open_profile_form_stale(
    client: Any, auth: Any, db: Session, make_user: Callable[..., User]
) -> None:
    user = auth.login(Role.COMPANY, language="en")
    company = db.get(Organisation, user.organisation_id)
    assert company is not None and company.org_number
    read = _version_in(client.get("/company/profile").get_data(as_text=True))
    admin = make_user(Role.ADMIN)
    content = (
        f"organisationsnummer;företag;ort\n{company.org_number};Från filen AB;Orsa"
    )
    parsed = imports.parse_file(content.encode())
    imports.apply_import(db, parsed=parsed, actor=admin)
    db.commit()

    response = client.post_form(
        "/company/profile",
        {
            "version": read,
            "name": "Mitt namn AB",
            "org_number": company.org_number,
            "locality": "Mora",
            "sni_code": "25",
            "contact_name": "Anna",
            "contact_email": "anna@example.se",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Company name: “Från filen AB”" in page
    assert "Locality: “Orsa”" in page
