"""The business office adds organisations and approves self-registered
companies through its pages, in Swedish."""

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlmodel import Session, col, select

from moraspar.models import AuditEvent, Organisation, OrgKind, Role
from moraspar.reference.gazetteer import LOCALITIES

NEW = "/admin/organisations/new"
VALID = {
    "kind": "company",
    "name": "Siljans Snickeri AB",
    "org_number": "5560360793",
    "address": "Strandgatan 4",
    "locality": "Färnäs",
    "contact_name": "Sara Snickare",
    "contact_email": "Sara@Siljansnickeri.example",
}


def organisations_named(db: Session, name: str) -> list[Organisation]:
    db.expire_all()
    query = select(Organisation).where(Organisation.name == name)
    return list(db.exec(query).all())


def events(db: Session, action: str) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.action == action)
    return list(db.exec(query.order_by(col(AuditEvent.id))).all())


# --- adding an organisation --------------------------------------------------


def test_the_form_is_in_swedish(client: Any, auth: Any) -> None:
    auth.login(Role.ADMIN)
    page = client.get(NEW).get_data(as_text=True)
    assert '<html lang="sv">' in page
    for label in ("Organisationsnummer", "Kontaktperson", "Ort"):
        assert label in page
    assert 'name="csrf_token"' in page


def test_an_admin_adds_an_organisation(client: Any, auth: Any, db: Session) -> None:
    admin = auth.login(Role.ADMIN)

    response = client.post_form(NEW, VALID, follow_redirects=True)

    assert response.status_code == 200
    assert response.request.path == "/admin/organisations"
    page = response.get_data(as_text=True)
    assert "Siljans Snickeri AB har lagts till." in page
    (organisation,) = organisations_named(db, "Siljans Snickeri AB")
    assert organisation.kind == OrgKind.COMPANY
    assert organisation.org_number == "556036-0793"  # normalised
    assert organisation.approved  # added by the office: nothing to approve
    assert (organisation.lat, organisation.lon) == LOCALITIES["Färnäs"]
    assert organisation.contact_name == "Sara Snickare"
    (event,) = events(db, "organisation.create")
    assert (event.actor_id, event.entity, event.entity_id) == (
        admin.id,
        "organisation",
        organisation.id,
    )
    assert event.details["kind"] == "company"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"name": "   "}, "Ange ett namn."),
        ({"org_number": "556036-0794"}, "Kontrollsiffran stämmer inte."),
        ({"org_number": "55603"}, "Skriv organisationsnumret med tio siffror"),
        ({"contact_email": "inte-en-adress"}, "Ange en giltig e-postadress."),
        ({"kind": "forening"}, "Inte ett giltigt val"),
        ({"locality": "Stockholm"}, "Inte ett giltigt val"),
    ],
)
def test_a_bad_field_is_named_in_swedish_and_nothing_is_added(
    client: Any, auth: Any, db: Session, changes: dict[str, str], error: str
) -> None:
    auth.login(Role.ADMIN)

    response = client.post_form(NEW, {**VALID, **changes})

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert error in page
    assert 'value="Strandgatan 4"' in page  # what was typed is kept
    assert organisations_named(db, "Siljans Snickeri AB") == []
    assert events(db, "organisation.create") == []


def test_an_organisation_number_already_registered_is_refused(
    client: Any, auth: Any, db: Session, make_company: Callable[..., Organisation]
) -> None:
    make_company(name="Gamla Snickeriet AB", org_number="556036-0793")
    auth.login(Role.ADMIN)

    response = client.post_form(NEW, VALID)

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Det finns redan en organisation registrerad med det här numret." in page
    assert organisations_named(db, "Siljans Snickeri AB") == []


def test_the_form_needs_its_csrf_token(client: Any, auth: Any, db: Session) -> None:
    auth.login(Role.ADMIN)
    response = client.post(NEW, data=VALID)
    assert response.status_code == 400
    assert organisations_named(db, "Siljans Snickeri AB") == []


@pytest.mark.parametrize("role", [Role.TEACHER, Role.COMPANY, Role.COUNCIL])
def test_only_the_business_office_adds_organisations(
    client: Any, auth: Any, db: Session, role: Role
) -> None:
    auth.login(role)
    assert client.get(NEW).status_code == 403
    assert client.post_form(NEW, VALID).status_code == 403
    assert organisations_named(db, "Siljans Snickeri AB") == []


# --- approving a self-registered company -------------------------------------

REGISTRATION = {
    "company_name": "Östnor Svets AB",
    "org_number": "556036-0793",
    "locality": "Östnor",
    "contact_name": "Anna Svetsare",
    "email": "anna@ostnorsvets.example",
    "password": "svetsning är kul",
    "confirm": "svetsning är kul",
}


@pytest.fixture
def registered(app: Flask, db: Session) -> Organisation:
    """A company that signed itself up on the public page and now waits."""
    company_client: Any = app.test_client()
    assert company_client.post_form("/register", REGISTRATION).status_code == 302
    (company,) = organisations_named(db, "Östnor Svets AB")
    assert not company.approved
    return company


def approve_url(organisation: Organisation) -> str:
    return f"/admin/organisations/{organisation.id}/approve"


def test_the_office_finds_the_waiting_company_and_approves_it(
    client: Any, auth: Any, db: Session, registered: Organisation
) -> None:
    admin = auth.login(Role.ADMIN)

    home = client.get("/admin/").get_data(as_text=True)
    assert "Företag som väntar på godkännande" in home
    assert "Östnor Svets AB (556036-0793, Östnor)" in home
    listing = client.get("/admin/organisations").get_data(as_text=True)
    assert f'action="{approve_url(registered)}"' in listing
    assert "Godkänn" in listing

    response = client.post_form(approve_url(registered), follow_redirects=True)

    assert response.request.path == "/admin/organisations"
    page = response.get_data(as_text=True)
    assert "Östnor Svets AB har godkänts och kan nu publicera." in page
    assert f'action="{approve_url(registered)}"' not in page
    (company,) = organisations_named(db, "Östnor Svets AB")
    assert company.approved
    (event,) = events(db, "organisation.approve")
    assert (event.actor_id, event.entity_id) == (admin.id, company.id)
    home = client.get("/admin/").get_data(as_text=True)
    assert "Östnor Svets AB (556036-0793" not in home


def test_the_approved_company_may_post(
    app: Flask, client: Any, auth: Any, db: Session, registered: Organisation
) -> None:
    contact: Any = app.test_client()
    contact.post_form(
        "/login",
        {"email": REGISTRATION["email"], "password": REGISTRATION["password"]},
    )
    assert "Väntar på godkännande" in contact.get("/company/").get_data(as_text=True)

    auth.login(Role.ADMIN)
    client.post_form(approve_url(registered))

    assert "Väntar på godkännande" not in contact.get("/company/").get_data(
        as_text=True
    )


def test_approval_needs_the_csrf_token_and_a_post(
    client: Any, auth: Any, db: Session, registered: Organisation
) -> None:
    auth.login(Role.ADMIN)
    assert client.post(approve_url(registered)).status_code == 400
    assert client.get(approve_url(registered)).status_code == 405
    (company,) = organisations_named(db, "Östnor Svets AB")
    assert not company.approved
    assert events(db, "organisation.approve") == []


def test_only_companies_are_approved(
    client: Any, auth: Any, db: Session, make_school: Callable[..., Organisation]
) -> None:
    school = make_school(approved=False)
    auth.login(Role.ADMIN)
    assert client.post_form(approve_url(school)).status_code == 404
    assert client.post_form("/admin/organisations/999999/approve").status_code == 404
    db.refresh(school)
    assert not school.approved


@pytest.mark.parametrize("role", [Role.TEACHER, Role.COMPANY, Role.COUNCIL])
def test_only_the_business_office_approves(
    client: Any,
    auth: Any,
    db: Session,
    registered: Organisation,
    role: Role,
) -> None:
    auth.login(role)
    assert client.post_form(approve_url(registered)).status_code == 403
    (company,) = organisations_named(db, "Östnor Svets AB")
    assert not company.approved
