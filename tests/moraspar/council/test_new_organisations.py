"""A school or company created later joins the area of every council that
takes new organisations, whichever way it was created, and not the others."""

import io
from typing import Any

import pytest
from sqlmodel import Session, col, select

from moraspar.models import (
    AuditEvent,
    Council,
    CouncilOrganisation,
    MatchProposal,
    Organisation,
    Role,
)
from moraspar.reference import orgnumber


def area_of(db: Session, council: Council) -> set[str]:
    """The names of the organisations in council's area."""
    db.expire_all()
    query = (
        select(Organisation.name)
        .join(
            CouncilOrganisation,
            col(CouncilOrganisation.organisation_id) == col(Organisation.id),
        )
        .where(CouncilOrganisation.council_id == council.id)
    )
    return set(db.exec(query).all())


@pytest.fixture
def councils(db: Session) -> tuple[Council, Council]:
    """Two councils: one takes new organisations, the other keeps its area."""
    open_ = Council(name="Kompetensrådet Mora")
    closed = Council(name="Programrådet Orsa", takes_new_organisations=False)
    db.add_all([open_, closed])
    db.commit()
    return open_, closed


def test_a_new_council_takes_new_organisations_by_default(db: Session) -> None:
    council = Council(name="Yrkesrådet")
    db.add(council)
    db.commit()
    db.expire_all()
    assert db.get(Council, council.id).takes_new_organisations is True  # type: ignore[union-attr]


@pytest.mark.parametrize("kind", ["school", "company"])
def test_the_admins_organisation_form_puts_it_in_the_flagged_areas(
    client: Any, auth: Any, db: Session, councils: tuple[Council, Council], kind: str
) -> None:
    open_, closed = councils
    auth.login(Role.ADMIN)

    response = client.post_form(
        "/admin/organisations/new",
        {"kind": kind, "name": "Nya Organisationen", "locality": "Mora"},
    )

    assert response.status_code == 302
    assert "Nya Organisationen" in area_of(db, open_)
    assert "Nya Organisationen" not in area_of(db, closed)
    event = db.exec(
        select(AuditEvent).where(AuditEvent.action == "organisation.create")
    ).one()
    assert open_.id in event.details["councils"]
    assert closed.id not in event.details["councils"]


def test_a_municipality_joins_no_area(
    client: Any, auth: Any, db: Session, councils: tuple[Council, Council]
) -> None:
    open_, _ = councils
    auth.login(Role.ADMIN)
    client.post_form(
        "/admin/organisations/new",
        {"kind": "municipality", "name": "Orsa kommun", "locality": "Orsa"},
    )
    assert "Orsa kommun" not in area_of(db, open_)


def test_a_company_registering_itself_joins_the_flagged_areas(
    client: Any, db: Session, councils: tuple[Council, Council]
) -> None:
    open_, closed = councils
    response = client.post_form(
        "/register",
        {
            "company_name": "Östnor Svets AB",
            "org_number": "556036-0793",
            "locality": "Östnor",
            "contact_name": "Anna Svetsare",
            "email": "anna@ostnorsvets.example",
            "password": "svetsning är kul",
            "confirm": "svetsning är kul",
        },
    )
    assert response.status_code == 302
    assert "Östnor Svets AB" in area_of(db, open_)
    assert "Östnor Svets AB" not in area_of(db, closed)


def test_imported_companies_join_the_flagged_areas(
    client: Any, auth: Any, db: Session, councils: tuple[Council, Council]
) -> None:
    open_, closed = councils
    auth.login(Role.ADMIN)
    saw = orgnumber.complete("556677889")
    bakery = orgnumber.complete("556011223")
    content = (
        "org_number,company,locality\n"
        f"{saw},Älvdalens Såg AB,Älvdalen\n"
        f"{bakery},Orsa Bageri,Orsa\n"
    ).encode()

    response = client.post_form(
        "/admin/import",
        {"file": (io.BytesIO(content), "foretag.csv")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 302
    assert {"Älvdalens Såg AB", "Orsa Bageri"} <= area_of(db, open_)
    assert not {"Älvdalens Såg AB", "Orsa Bageri"} & area_of(db, closed)
    # A second import of the same file adds no duplicate (and no error).
    again = client.post_form(
        "/admin/import",
        {"file": (io.BytesIO(content), "foretag.csv")},
        content_type="multipart/form-data",
    )
    assert again.status_code == 302


def test_the_flagged_councils_member_sees_the_new_schools_proposal(
    client: Any,
    auth: Any,
    db: Session,
    councils: tuple[Council, Council],
    make_company: Any,
    make_need: Any,
    make_placement: Any,
    make_user: Any,
) -> None:
    open_, closed = councils
    auth.login(Role.ADMIN)
    client.post_form(
        "/admin/organisations/new",
        {"kind": "school", "name": "Nya Gymnasiet", "locality": "Mora"},
    )
    auth.logout()
    school = db.exec(select(Organisation).where(Organisation.name == "Nya Gymnasiet"))
    need = make_need(school.one(), title="Behov Nya Gymnasiet")
    company = make_company(councils=[open_, closed])
    placement = make_placement(company)
    proposal = MatchProposal(
        need_id=need.id, placement_id=placement.id, score=0.8, students=1
    )
    db.add(proposal)
    db.commit()

    auth.login(make_user(Role.COUNCIL, councils=[open_]))
    assert "Behov Nya Gymnasiet" in client.get("/council/board?status=all").get_data(
        as_text=True
    )
    assert client.get(f"/council/proposals/{proposal.id}").status_code == 200
    auth.logout()

    auth.login(make_user(Role.COUNCIL, councils=[closed]))
    assert "Behov Nya Gymnasiet" not in client.get(
        "/council/board?status=all"
    ).get_data(as_text=True)
    assert client.get(f"/council/proposals/{proposal.id}").status_code == 403
