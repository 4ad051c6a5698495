"""The company profile form: a valid edit, each kind of invalid input, access."""

from typing import Any

import pytest
from sqlmodel import select

from moraspar.models import AuditEvent, Organisation, Placement, Role
from moraspar.reference import orgnumber

URL = "/company/profile"


def _valid(**overrides: Any) -> dict[str, Any]:
    data = {
        "version": "1",  # what the form of a fresh profile carries
        "name": "Mora Svets AB",
        "org_number": orgnumber.complete("556677889"),
        "address": "Industrigatan 4",
        "postcode": "792 32",
        "locality": "Noret",
        "lat": "",
        "lon": "",
        "sni_code": "25",
        "contact_name": "Anna Andersson",
        "contact_email": "Anna@MoraSvets.example",
        "contact_phone": "0250-123 45",
        "website": "https://morasvets.example",
        "description": "Svetsning och plåtslageri.",
    }
    data.update(overrides)
    return data


def test_get_shows_the_profile(client: Any, auth: Any, db: Any) -> None:
    user = auth.login(Role.COMPANY, language="en")
    company = db.get(Organisation, user.organisation_id)
    page = client.get(URL).get_data(as_text=True)
    assert company.name in page
    assert 'name="sni_code"' in page
    assert "16 – " in page  # SNI picked from a list


def test_valid_edit_saves_and_audits(client: Any, auth: Any, db: Any) -> None:
    user = auth.login(Role.COMPANY, language="en")
    response = client.post_form(URL, _valid())
    assert response.status_code == 302
    db.expire_all()
    company = db.get(Organisation, user.organisation_id)
    assert company.name == "Mora Svets AB"
    assert company.org_number == orgnumber.complete("556677889")
    assert company.sni_code == "25"
    assert company.contact_email == "anna@morasvets.example"
    # Coordinates come from the locality when no exact position is given.
    assert (company.lat, company.lon) == (61.0105, 14.5560)
    event = db.exec(
        select(AuditEvent).where(AuditEvent.action == "organisation.update")
    ).one()
    assert event.entity_id == company.id
    assert "name" in event.details["fields"]


def test_renamed_company_is_found_by_its_new_name(
    client: Any, auth: Any, db: Any, make_placement: Any
) -> None:
    user = auth.login(Role.COMPANY, language="en")
    company = db.get(Organisation, user.organisation_id)
    placement = make_placement(company, title="APL verkstad", search_text="")
    response = client.post_form(URL, _valid(name="Dalaplåt AB"))
    assert response.status_code == 302
    db.expire_all()
    assert " dalaplåt " in db.get(Placement, placement.id).search_text


def test_exact_position_overrides_the_locality(client: Any, auth: Any, db: Any) -> None:
    user = auth.login(Role.COMPANY, language="en")
    response = client.post_form(URL, _valid(lat="61.01234", lon="14.56789"))
    assert response.status_code == 302
    db.expire_all()
    company = db.get(Organisation, user.organisation_id)
    assert (company.lat, company.lon) == (61.01234, 14.56789)
    page = client.get(URL).get_data(as_text=True)
    assert 'value="61.01234"' in page


def _refused(client: Any, db: Any, user: Any, data: dict[str, Any]) -> str:
    before = db.get(Organisation, user.organisation_id).name
    response = client.post_form(URL, data)
    assert response.status_code == 200
    db.expire_all()
    assert db.get(Organisation, user.organisation_id).name == before
    assert db.exec(select(AuditEvent)).all() == []
    page: str = response.get_data(as_text=True)
    assert 'value="Mora Svets AB"' in page  # what was typed is kept
    return page


def test_wrong_check_digit(client: Any, auth: Any, db: Any) -> None:
    user = auth.login(Role.COMPANY, language="en")
    good = orgnumber.complete("556677889")
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    page = _refused(client, db, user, _valid(org_number=bad))
    assert "The check digit is wrong" in page
    assert f'value="{bad}"' in page


def test_org_number_taken(client: Any, auth: Any, db: Any, make_company: Any) -> None:
    other = make_company()
    user = auth.login(Role.COMPANY, language="en")
    page = _refused(client, db, user, _valid(org_number=other.org_number))
    assert "Another organisation already has this organisation number" in page


def test_lat_without_lon(client: Any, auth: Any, db: Any) -> None:
    user = auth.login(Role.COMPANY, language="en")
    page = _refused(client, db, user, _valid(lat="61.02", lon=""))
    assert "Give both latitude and longitude" in page
    assert 'value="61.02"' in page


def test_position_out_of_range(client: Any, auth: Any, db: Any) -> None:
    user = auth.login(Role.COMPANY, language="en")
    page = _refused(client, db, user, _valid(lat="14.5", lon="61.0"))
    assert "The latitude must be between" in page


def test_over_long_description(client: Any, auth: Any, db: Any) -> None:
    user = auth.login(Role.COMPANY, language="en")
    page = _refused(client, db, user, _valid(description="x" * 4001))
    assert "At most 4000 characters" in page


def test_industry_must_be_picked_from_the_list(client: Any, auth: Any, db: Any) -> None:
    user = auth.login(Role.COMPANY, language="en")
    page = _refused(client, db, user, _valid(sni_code="Snickeri"))
    assert 'aria-invalid="true"' in page


def test_teacher_may_not_edit_a_company_profile(client: Any, auth: Any) -> None:
    auth.login(Role.TEACHER, language="en")
    assert client.get(URL).status_code == 403
    assert client.post_form(URL, _valid()).status_code == 403


@pytest.mark.parametrize("website", ["notaurl", "ftp://mora.example", "https://"])
def test_a_bad_web_address_says_so_once(
    client: Any, auth: Any, db: Any, website: str
) -> None:
    user = auth.login(Role.COMPANY, language="en")
    page = _refused(client, db, user, _valid(website=website))
    # once under the field and once in the error summary
    assert page.count("Enter a web address starting with https://.") == 2
