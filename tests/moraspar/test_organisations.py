"""One ownership helper, one organisation-number check, and typed service input,
through the services and through every form that takes an organisation number."""

import io
from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import Session, func, select

from moraspar import organisations
from moraspar.admin import services as admin_services
from moraspar.companies import services as company_services
from moraspar.models import Organisation, OrgKind, Role, User
from moraspar.reference import orgnumber
from moraspar.schools import services as school_services

NUMBER = orgnumber.complete("556123456")
BARE = NUMBER.replace("-", "")  # the same number as people also type it


def test_check_owner_lets_members_and_admins_through(
    make_user: Callable[..., User], make_company: Callable[..., Organisation]
) -> None:
    company = make_company()
    member = make_user(Role.COMPANY, company)
    stranger = make_user(Role.COMPANY)
    admin = make_user(Role.ADMIN)

    organisations.check_owner(member, company.id)
    organisations.check_owner(admin, company.id)
    with pytest.raises(organisations.NotOwner):
        organisations.check_owner(stranger, company.id)
    with pytest.raises(organisations.NotOwner):
        organisations.check_owner(member, None)


def test_schools_and_companies_refuse_strangers_with_the_same_error(
    db: Session,
    make_user: Callable[..., User],
    make_school: Callable[..., Organisation],
    make_company: Callable[..., Organisation],
    make_placement: Callable[..., Any],
    make_need: Callable[..., Any],
) -> None:
    school, company = make_school(), make_company()
    teacher, contact = make_user(Role.TEACHER), make_user(Role.COMPANY)
    need, placement = make_need(school), make_placement(company)

    with pytest.raises(organisations.NotOwner):
        school_services.update_need(
            db,
            need=need,
            actor=teacher,
            data=school_services.NeedData(kind="study_visit", title="x", students=1),
        )
    with pytest.raises(organisations.NotOwner):
        company_services.update_placement(
            db,
            placement=placement,
            company=company,
            actor=contact,
            data=company_services.PlacementData(kind="apl", title="x", places=1),
        )


def test_org_number_check_normalises_and_refuses_a_taken_number(
    db: Session, make_company: Callable[..., Organisation]
) -> None:
    company = make_company(org_number=NUMBER)

    assert organisations.check_org_number_free(db, "") is None
    assert organisations.check_org_number_free(db, BARE, except_id=company.id) == NUMBER
    with pytest.raises(organisations.OrgNumberTaken):
        organisations.check_org_number_free(db, BARE)
    with pytest.raises(orgnumber.InvalidOrgNumber):
        organisations.check_org_number_free(db, "556123-4560")


def test_admin_service_takes_typed_input_and_the_shared_check(
    db: Session, make_user: Callable[..., User]
) -> None:
    admin = make_user(Role.ADMIN)
    data = admin_services.OrganisationData(
        kind=OrgKind.COMPANY, name=" Sågen AB ", org_number=BARE, locality="Orsa"
    )
    created = admin_services.create_organisation(db, data=data, actor=admin)
    assert (created.name, created.org_number) == ("Sågen AB", NUMBER)
    with pytest.raises(organisations.OrgNumberTaken):
        admin_services.create_organisation(db, data=data, actor=admin)


def _organisation_count(db: Session) -> int:
    db.expire_all()
    return int(db.exec(select(func.count()).select_from(Organisation)).one())


def test_every_form_refuses_a_number_another_organisation_has(
    client: Any, auth: Any, db: Session, make_company: Callable[..., Organisation]
) -> None:
    make_company(org_number=NUMBER)
    before = _organisation_count(db)

    registration = client.post_form(
        "/register",
        {
            "company_name": "Kopian AB",
            "org_number": BARE,
            "locality": "Mora",
            "contact_name": "Kim",
            "email": "kim@kopian.example",
            "password": "svetsning är kul",
            "confirm": "svetsning är kul",
        },
    )
    assert registration.status_code == 200
    assert _organisation_count(db) == before

    auth.login(Role.ADMIN, language="en")
    before = _organisation_count(db)  # with the admin's municipality
    admin = client.post_form(
        "/admin/organisations/new",
        {"kind": "company", "name": "Kopian AB", "org_number": BARE},
    )
    assert "already registered" in admin.get_data(as_text=True)
    assert _organisation_count(db) == before


def test_profile_keeps_its_own_number_and_refuses_another(
    client: Any, auth: Any, db: Session, make_company: Callable[..., Organisation]
) -> None:
    make_company(org_number=NUMBER)
    user = auth.login(Role.COMPANY, language="en")
    own = db.get(Organisation, user.organisation_id)
    assert own is not None and own.org_number
    profile = {
        "version": "1",
        "name": own.name,
        "locality": "Mora",
        "sni_code": "25",
        "contact_name": "Anna",
        "contact_email": "anna@example.se",
    }
    taken = client.post_form("/company/profile", {**profile, "org_number": BARE})
    assert "already has this organisation number" in taken.get_data(as_text=True)
    kept = client.post_form(
        "/company/profile", {**profile, "org_number": own.org_number}
    )
    assert kept.status_code == 302


def test_import_finds_the_company_by_its_normalised_number(
    client: Any, auth: Any, db: Session, make_company: Callable[..., Organisation]
) -> None:
    company = make_company(org_number=NUMBER, name="Gamla namnet AB")
    auth.login(Role.ADMIN, language="en")
    content = f"organisationsnummer;företag;ort\n{BARE};Nya namnet AB;Orsa\n"
    response = client.post_form(
        "/admin/import",
        {"file": (io.BytesIO(content.encode()), "f.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    db.expire_all()
    assert db.get(Organisation, company.id).name == "Nya namnet AB"  # type: ignore[union-attr]
    holders = db.exec(
        select(func.count())
        .select_from(Organisation)
        .where(Organisation.org_number == NUMBER)
    ).one()
    assert holders == 1  # updated, not duplicated
