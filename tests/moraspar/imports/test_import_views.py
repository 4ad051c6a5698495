"""The admin CSV import through the test client: all or nothing, idempotent."""

import io
import re
from typing import Any

import pytest
from sqlmodel import Session, col, func, select

from moraspar.models import AuditEvent, Organisation, Placement, Role
from moraspar.reference import orgnumber

URL = "/admin/import"
SAW = orgnumber.complete("556677889")
BAKERY = orgnumber.complete("556011223")

UTF8_COMMA = (
    "org_number,company,locality,address,sni,contact_name,contact_email,"
    "kind,title,description,skills,places,start,end,supervisor_name\n"
    f"{SAW},Älvdalens Såg AB,Älvdalen,Sågvägen 1,16,Åsa Öberg,asa@sag.example,"
    'apl,APL på sågen,Sågning och truck,"truckkort, svetsning",2,2027-02-01,'
    "2027-05-14,Åsa Öberg\n"
    f"{SAW},Älvdalens Såg AB,Älvdalen,,,,,prao,Prao på sågen,,,1,2027/03/01,"
    "2027/03/12,\n"
    f"{BAKERY},Orsa Bageri,Orsa,,,,,,,,,,,,\n"
)


def _counts(db: Session) -> dict[str, int]:
    db.expire_all()
    return {
        model.__name__: db.exec(select(func.count()).select_from(model)).one()
        for model in (Organisation, Placement, AuditEvent)
    }


def _upload(client: Any, content: bytes, name: str = "foretag.csv") -> Any:
    return client.post_form(
        URL,
        {"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


@pytest.fixture
def admin(auth: Any) -> Any:
    return auth.login(Role.ADMIN, language="en")


def test_page_documents_columns_and_offers_template(client: Any, admin: Any) -> None:
    page = client.get(URL).get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    assert "organisationsnummer" in page and "handledarkontakt" in page
    template = client.get("/admin/import/template.csv")
    assert template.status_code == 200
    assert template.mimetype == "text/csv"
    header = template.get_data().decode("utf-8-sig").splitlines()[0]
    assert header.split(";")[:3] == ["organisationsnummer", "företag", "ort"]


def test_utf8_comma_file_creates_companies_and_placements(
    client: Any, admin: Any, db: Session
) -> None:
    response = _upload(client, UTF8_COMMA.encode("utf-8"))
    assert response.status_code == 302
    db.expire_all()
    saw = db.exec(select(Organisation).where(Organisation.org_number == SAW)).one()
    assert saw.name == "Älvdalens Såg AB"
    assert saw.kind == "company" and saw.approved
    assert saw.sni_code == "16" and saw.contact_email == "asa@sag.example"
    assert (saw.lat, saw.lon) == (61.2260, 14.0400)  # from the gazetteer
    placements = db.exec(
        select(Placement)
        .where(Placement.company_id == saw.id)
        .order_by(col(Placement.title))
    ).all()
    assert [(p.kind, p.title, p.places) for p in placements] == [
        ("apl", "APL på sågen", 2),
        ("prao", "Prao på sågen", 1),
    ]
    apl = placements[0]
    assert apl.skills == ["truckkort", "svetsning"]
    assert str(apl.start_date) == "2027-02-01" and str(apl.end_date) == "2027-05-14"
    assert "svets" in apl.search_text  # indexed for the Swedish search
    assert str(placements[1].start_date) == "2027-03-01"  # YYYY/MM/DD accepted
    bakery = db.exec(select(Organisation).where(Organisation.org_number == BAKERY))
    assert bakery.one().locality == "Orsa"
    actions = db.exec(select(AuditEvent.action)).all()
    assert actions.count("organisation.create") == 2
    assert actions.count("placement.create") == 2
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "import.csv")).one()
    assert event.actor_id == admin.id
    assert event.details["companies_created"] == 2
    assert event.details["placements_created"] == 2
    page = client.get(URL).get_data(as_text=True)
    assert "Companies added: 2, updated: 0, unchanged: 0." in page
    assert "Placements added: 2, already there: 0." in page


def test_cp1252_semicolon_file_with_swedish_letters(
    client: Any, admin: Any, db: Session
) -> None:
    content = (
        "Organisationsnummer;Företag;Ort;Kontaktperson;Typ;Rubrik;Kompetenser;"
        "Platser;Start;Slut\r\n"
        f"{SAW};Sågverket i Sollerön;sollerön;Örjan Åkesson;Studiebesök;"
        "Besök på sågen;träteknik, säkerhet;12;2027-04-01;2027-04-01\r\n"
    ).encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")  # really Windows-1252
    assert _upload(client, content).status_code == 302
    db.expire_all()
    company = db.exec(select(Organisation).where(Organisation.org_number == SAW)).one()
    assert company.name == "Sågverket i Sollerön"
    assert company.locality == "Sollerön"  # matched case-insensitively
    assert company.contact_name == "Örjan Åkesson"
    placement = db.exec(select(Placement)).one()
    assert placement.kind == "study_visit"
    assert placement.skills == ["träteknik", "säkerhet"]
    assert placement.places == 12


def test_reimport_is_idempotent(client: Any, admin: Any, db: Session) -> None:
    assert _upload(client, UTF8_COMMA.encode("utf-8-sig")).status_code == 302
    before = _counts(db)
    assert _upload(client, UTF8_COMMA.encode("utf-8")).status_code == 302
    after = _counts(db)
    assert after["Organisation"] == before["Organisation"]
    assert after["Placement"] == before["Placement"]
    assert after["AuditEvent"] == before["AuditEvent"] + 1  # just the import event
    event = db.exec(
        select(AuditEvent)
        .where(AuditEvent.action == "import.csv")
        .order_by(col(AuditEvent.id).desc())
    ).first()
    assert event is not None
    assert event.details["companies_unchanged"] == 2
    assert event.details["placements_existing"] == 2
    page = client.get(URL).get_data(as_text=True)
    assert "Companies added: 0, updated: 0, unchanged: 2." in page
    assert "Placements added: 0, already there: 2." in page


def test_existing_company_is_updated_not_duplicated(
    client: Any, admin: Any, db: Session, make_company: Any
) -> None:
    company = make_company(
        org_number=SAW, name="Gamla Sågen", locality="Mora", contact_phone="0250-1"
    )
    content = f"organisationsnummer;företag;ort;telefon\n{SAW};Nya Sågen;Orsa;\n"
    assert _upload(client, content.encode()).status_code == 302
    db.expire_all()
    rows = db.exec(select(Organisation).where(Organisation.org_number == SAW)).all()
    assert [(o.id, o.name, o.locality) for o in rows] == [
        (company.id, "Nya Sågen", "Orsa")
    ]
    assert rows[0].contact_phone == "0250-1"  # a blank cell keeps the stored value
    assert (rows[0].lat, rows[0].lon) == (61.1200, 14.6160)
    update = db.exec(
        select(AuditEvent).where(AuditEvent.action == "organisation.update")
    ).one()
    assert update.entity_id == company.id
    assert set(update.details["fields"]) == {"name", "locality"}


def test_broken_row_rejects_file_and_writes_nothing(
    client: Any, admin: Any, db: Session
) -> None:
    wrong = SAW[:-1] + str((int(SAW[-1]) + 1) % 10)
    content = UTF8_COMMA.replace(f"{BAKERY},Orsa", f"{wrong},Orsa").encode()
    before = _counts(db)
    response = _upload(client, content)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "The file was not imported" in page
    assert re.search(r"<caption[^>]*>Problems in the file", page)
    assert '<th scope="row">4</th><td>org_number</td>' in page
    assert "check digit" in page
    assert _counts(db) == before


def test_every_bad_row_is_reported(client: Any, admin: Any, db: Session) -> None:
    content = (
        "org_number;company;locality;contact_email;kind;title;places;start;end\n"
        f"{SAW};Såg;Stockholm;x;apl;A;2;2027-02-01;2027-05-01\n"
        f"{SAW};Såg;Mora;;kurs;B;0;2027-02-01;2027-01-01\n"
        f"{BAKERY};{'x' * 201};Mora;;apl;C;tre;1/2/2027;\n"
        f"12345;Bageri;Mora;;;;;;\n"
    ).encode()
    before = _counts(db)
    page = _upload(client, content).get_data(as_text=True)
    expected = [
        (2, "locality", "not a locality we know"),
        (2, "contact_email", "not a valid email address"),
        (3, "kind", "not a kind of placement"),
        (3, "places", "at least 1"),
        (3, "end", "end date is before the start date"),
        (4, "company", "too long"),
        (4, "places", "not a whole number"),
        (4, "start", "write it as YYYY-MM-DD"),
        (5, "org_number", "ten digits"),
    ]
    for row, column, message in expected:
        assert f'<th scope="row">{row}</th><td>{column}</td><td>' in page, column
        assert message in page
    assert "9 problems were found" in page
    assert _counts(db) == before


def test_missing_required_column_rejects_file(
    client: Any, admin: Any, db: Session
) -> None:
    content = f"organisationsnummer;företag\n{SAW};Sågen\n".encode()
    before = _counts(db)
    response = _upload(client, content)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<th scope="row">1</th><td>ort</td>' in page
    assert "The column is missing" in page
    assert _counts(db) == before


def test_number_of_a_school_is_refused(
    client: Any, admin: Any, db: Session, make_school: Any
) -> None:
    make_school(org_number=SAW, name="Mora gymnasium")
    before = _counts(db)
    page = _upload(client, f"orgnr;namn;ort\n{SAW};Sågen;Mora\n".encode()).get_data(
        as_text=True
    )
    assert "belongs to Mora gymnasium, which is not a company" in page
    assert _counts(db) == before


def test_binary_or_wrong_extension_is_refused(
    client: Any, admin: Any, db: Session
) -> None:
    before = _counts(db)
    page = _upload(client, b"PK\x03\x04\x00\x00binary", "companies.csv").get_data(
        as_text=True
    )
    assert "not a CSV text file" in page
    response = _upload(client, UTF8_COMMA.encode(), "companies.xlsx")
    assert response.status_code == 200
    assert "must be a CSV file" in response.get_data(as_text=True)
    assert _counts(db) == before


@pytest.mark.parametrize("role", [Role.TEACHER, Role.COMPANY, Role.COUNCIL])
def test_only_admins_may_import(
    client: Any, auth: Any, db: Session, role: Role
) -> None:
    auth.login(role)
    assert client.get(URL).status_code == 403
    assert client.get("/admin/import/template.csv").status_code == 403
    response = _upload(client, UTF8_COMMA.encode())
    assert response.status_code == 403
    assert _counts(db)["Placement"] == 0
