"""Personal data in free text: the detector, every form field, the CSV import."""

import importlib
import inspect
import io
import pkgutil
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask_wtf import FlaskForm
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import Session, func, select
from wtforms import EmailField, HiddenField, PasswordField, StringField

import moraspar
from moraspar.formkit.validators import NoPersonalNumber
from moraspar.models import (
    Need,
    Organisation,
    Placement,
    Programme,
    Role,
    SkillGap,
)
from moraspar.privacy.personal_data import (
    contains_personal_number,
    normalise,
    personal_numbers,
    student_health,
)
from moraspar.reference import orgnumber

# -- the detector ------------------------------------------------------------

# Luhn-valid: 050101-2389 (1 January 2005), 050161-2386 (its samordningsnummer),
# 811218-9876, 070315-1233, 000229-1235 (a leap day).
FOUND = [
    # The variants that got through the old check, digit for digit. They fail
    # the Luhn check but are written the way identity numbers are written.
    "Eleven 050101–2384 behöver anpassning",  # en dash
    "05 01 01-2384",
    "０５０１０１－２３８４",  # full-width digits and hyphen
    "050161-2384",  # samordningsnummer
    "050101/2384",
    "Elev Kalle Svensson 200501012384 har diabetes",  # the import incident
    "Elev 0501011234",  # fails the Luhn check, but whose it is is said
    "personnummer 05 01 01 2384",
    # Luhn-valid numbers in every shape.
    "050101-2389",
    "0501012389",
    "200501012389",
    "20050101-2389",
    "050101 2389",
    "05 01 01 2389",
    "050101 - 2389",
    "050101—2389",  # em dash
    "050101\u22122389",  # minus sign
    "050101\u00a02389",  # no-break space
    "050101\u200b-2389",  # zero-width space
    "050161-2386",
    "811218+9876",  # a hundred years old or more
    "19811218-9876",
    "pnr:8112189876.",
    "070315-1233",
    "000229-1235",
    "٠٥٠١٠١-٢٣٨٩",  # Arabic-Indic digits
    "född 050101.2389",
]

NOT_FOUND = [
    "070-123 45 67",  # mobile numbers written the Swedish way
    "070-1234567",
    "0250-123 45",
    "+46 70 123 45 67",
    "08-123 456 78",
    "556036-0793",  # organisation numbers: month digits 20 or more
    "5560360793",
    "212000-2411",
    "16556036-0793",
    "0701234567",  # a phone number in one run: fails the Luhn check
    "050101 2384",  # spaces only and the Luhn check fails
    "Ring 0501011234 efter kl. 16",  # the same digits, no word about a person
    "Perioden 2027-03-01 – 2027-03-15",
    "2027-03-01 - 2027-03-01",
    "051301-2384",  # month 13
    "050132-2384",  # day 32
    "050230-2384",  # 30 February
    "050192-2384",  # day 92
    "050101-238",  # three digits
    "1050101-2389",  # inside a longer number
    "050101-23891",
    "Postnummer 792 30 Mora, SSYK 7223",
    "Kl. 08.00–16.00, vecka 12–14",
    "",
]


@pytest.mark.parametrize("text", FOUND)
def test_personal_numbers_are_found(text: str) -> None:
    assert contains_personal_number(text)


@pytest.mark.parametrize("text", NOT_FOUND)
def test_phone_org_numbers_and_dates_are_not_personal_numbers(text: str) -> None:
    assert personal_numbers(text) == []


def test_found_number_says_what_it_is() -> None:
    [number] = personal_numbers("Eleven ０５０１６１－２３８６ kommer")
    assert number.digits == "0501612386"
    assert number.coordination and number.luhn_ok


def test_normalise_folds_width_dashes_and_spaces() -> None:
    assert normalise("０５\u2013\u00a0x\u200by") == "05- xy"


def _check_digit(nine: str) -> str:
    total = 0
    for index, char in enumerate(nine):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value // 10 + value % 10
    return str((10 - total % 10) % 10)


DATE_SEPARATORS = ["", " ", "-", "–", ".", "/", " - "]
SERIAL_SEPARATORS = ["", "-", "–", "—", "－", "+", " ", "/", " - ", "\u00a0"]
# Padding around the number: any text, but not digits or separators right
# next to it (those would make it part of a longer number).
PADDING = st.text(max_size=40)


@given(
    born=st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31)),
    serial=st.integers(min_value=0, max_value=999),
    coordination=st.booleans(),
    century=st.booleans(),
    date_sep=st.sampled_from(DATE_SEPARATORS),
    serial_sep=st.sampled_from(SERIAL_SEPARATORS),
    full_width=st.booleans(),
    before=PADDING,
    after=PADDING,
)
def test_a_valid_number_in_any_text_and_shape_is_found(
    born: date,
    serial: int,
    coordination: bool,
    century: bool,
    date_sep: str,
    serial_sep: str,
    full_width: bool,
    before: str,
    after: str,
) -> None:
    day = born.day + (60 if coordination else 0)
    nine = f"{born:%y%m}{day:02d}{serial:03d}"
    digits = nine + _check_digit(nine)
    year = f"{born:%Y}" if century else digits[:2]
    written = (
        f"{year}{date_sep}{digits[2:4]}{date_sep}{digits[4:6]}{serial_sep}{digits[6:]}"
    )
    if full_width:
        written = "".join(
            chr(ord(c) - ord("0") + 0xFF10) if c.isdigit() else c for c in written
        )
    text = f"{before} {written} {after}"
    assert digits in {number.digits for number in personal_numbers(text)}


HEALTH_FOUND = [
    ("Elev Kalle Svensson 200501012384 har diabetes", "diabetes"),
    ("Eleven Kalle har astma.", "astma"),
    ("Kim Larsson har ADD och behöver en lugn miljö.", "ADD"),
    ("Sara Nilsson är allergisk mot nötter", "allergisk"),
    ("Student Anna has epilepsy", "epilepsy"),
    ("Ahmed Hassan har dyslexi och läser långsamt", "dyslexi"),
    ("Vi tar emot eleven Lisa, som har en diagnos inom NPF", "diagnos"),
    ("Ella Björk har glutenallergi.", "glutenallergi"),
]

HEALTH_NOT_FOUND = [
    "Gruppen har elever med astma.",  # the group, no name
    "Två elever har nötallergi; arbetsplatsen bör vara nötfri.",
    "Mora Gymnasium har elever med allergi",
    "Kalle Svensson är handledare. Vi har elever med astma.",  # two sentences
    "We add Anna Berg as supervisor",
    "Färnäs Bygg tar emot elever med dyslexi",
    "Kalle Svensson svetsar och bockar plåt",  # a name, no health word
    "",
]


@pytest.mark.parametrize(("text", "word"), HEALTH_FOUND)
def test_student_named_with_a_health_word_is_found(text: str, word: str) -> None:
    mention = student_health(text)
    assert mention is not None and mention.health_word == word


@pytest.mark.parametrize("text", HEALTH_NOT_FOUND)
def test_group_level_health_facts_are_not_flagged(text: str) -> None:
    assert student_health(text) is None


# -- every form field --------------------------------------------------------

# Text fields that do not take the check, and why. Email, password and hidden
# fields are left out by type: they hold addresses, secrets and form state.
NOT_CHECKED = {
    ("moraspar.admin.forms.OrganisationForm", "org_number"): "OrgNumber validator",
    ("moraspar.auth.forms.RegisterCompanyForm", "org_number"): "OrgNumber validator",
    ("moraspar.companies.forms.ProfileForm", "org_number"): "OrgNumber validator",
    ("moraspar.companies.forms.ProfileForm", "postcode"): "five digits (Regexp)",
    ("moraspar.companies.forms.ProfileForm", "contact_phone"): "Phone validator",
    ("moraspar.companies.forms.SkillGapForm", "ssyk_code"): "four digits (Regexp)",
    ("moraspar.auth.forms.CodeForm", "code"): "a one-time code, never stored",
    ("moraspar.council.forms.DecisionForm", "action"): "one of a fixed set (AnyOf)",
    ("moraspar.schools.forms.SearchForm", "q"): "a search box, never stored",
    ("moraspar.companies.forms.NeedSearchForm", "q"): "a search box, never stored",
}
NOT_TEXT_TYPES = (EmailField, PasswordField, HiddenField)


def _form_classes() -> list[type[FlaskForm]]:
    classes: dict[str, type[FlaskForm]] = {}
    for module_info in pkgutil.walk_packages(moraspar.__path__, "moraspar."):
        if not module_info.name.endswith((".forms", ".views", ".confirm")):
            continue
        module = importlib.import_module(module_info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, FlaskForm) and cls.__module__ == module.__name__:
                classes[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return [classes[name] for name in sorted(classes)]


def test_every_free_text_field_refuses_personal_data(app: Flask) -> None:
    missing, checked = [], 0
    with app.test_request_context():
        for cls in _form_classes():
            form = cls(meta={"csrf": False})
            name = f"{cls.__module__}.{cls.__qualname__}"
            for field in form:
                if not isinstance(field, StringField) or isinstance(
                    field, NOT_TEXT_TYPES
                ):
                    continue
                validators = field.validators
                has_check = any(isinstance(v, NoPersonalNumber) for v in validators)
                if (name, field.name) in NOT_CHECKED:
                    assert not has_check, f"{name}.{field.name} is listed as unchecked"
                    continue
                checked += 1
                if not has_check:
                    missing.append(f"{name}.{field.name}")
    assert missing == []
    assert checked >= 35  # the walk found the forms (39 fields today)
    assert len(_form_classes()) >= 25


# -- through the web ---------------------------------------------------------

QUOTED_VARIANTS = [
    "050101–2384",
    "05 01 01-2384",
    "０５０１０１－２３８４",
    "050161-2384",
    "050101/2384",
]
REFUSED = "This looks like a personal identity number."


def _need(**overrides: str) -> dict[str, str]:
    return {
        "kind": "apl",
        "title": "APL svetsning åk 2",
        "description": "Elever som läser svetsteknik, andra året.",
        "skills": "svetsning, ritningsläsning",
        "students": "4",
        "start_date": "2027-02-01",
        "end_date": "2027-03-12",
        "locality": "Orsa",
        "max_km": "30",
        "requirements": "Skyddsskor",
        **overrides,
    }


@pytest.fixture
def teacher(auth: Any, make_school: Any) -> Any:
    return auth.login(Role.TEACHER, organisation=make_school(), language="en")


@pytest.mark.parametrize("variant", QUOTED_VARIANTS)
def test_need_description_refuses_every_variant(
    client: Any, db: Session, teacher: Any, variant: str
) -> None:
    text = f"Eleven {variant} behöver anpassning."
    response = client.post_form("/school/needs/new", _need(description=text))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert REFUSED in page and "Describe students as a group only" in page
    assert db.exec(select(Need)).all() == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("title", "APL för 050101-2389"), ("skills", "svetsning, 050101-2389")],
)
def test_need_title_and_tags_refuse_a_number(
    client: Any, db: Session, teacher: Any, field: str, value: str
) -> None:
    response = client.post_form("/school/needs/new", _need(**{field: value}))
    assert REFUSED in response.get_data(as_text=True)
    assert db.exec(select(Need)).all() == []


@pytest.mark.parametrize("field", ["name", "code", "orientation", "description"])
def test_programme_fields_refuse_a_number(
    client: Any, db: Session, teacher: Any, field: str
) -> None:
    data = {
        "name": "El- och energiprogrammet",
        "code": "EE",
        "orientation": "Elteknik",
        "level": "gymnasium",
        "description": "Elinstallation i bostäder.",
        "skills": "elinstallation",
        "places_per_year": "16",
        field: "050101–2384",
    }
    response = client.post_form("/school/programmes/new", data)
    assert REFUSED in response.get_data(as_text=True)
    assert db.exec(select(Programme)).all() == []


def test_programme_tags_refuse_a_number(client: Any, db: Session, teacher: Any) -> None:
    data = {"name": "El", "level": "gymnasium", "skills": "el, 0501012389"}
    response = client.post_form("/school/programmes/new", data)
    assert REFUSED in response.get_data(as_text=True)
    assert db.exec(select(Programme)).all() == []


PLACEMENT = {
    "kind": "apl",
    "title": "APL i svetsverkstaden",
    "description": "Eleverna svetsar.",
    "skills": "Svetsning",
    "places": "3",
    "start_date": "2027-01-11",
    "end_date": "2027-03-19",
    "locality": "Mora",
    "supervisor_name": "Kim Handledare",
    "supervisor_contact": "070-123 45 67",
    "requirements": "Skyddsskor",
}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "APL för 200501012384"),
        ("skills", "Svetsning, 05 01 01-2384"),
        ("supervisor_name", "Kim 050101/2384"),
    ],
)
def test_placement_title_tags_and_names_refuse_a_number(
    client: Any, auth: Any, db: Session, field: str, value: str
) -> None:
    auth.login(Role.COMPANY, language="en")
    response = client.post_form("/company/placements/new", {**PLACEMENT, field: value})
    assert REFUSED in response.get_data(as_text=True)
    assert db.exec(select(Placement)).all() == []


def test_a_name_field_refuses_a_number_without_speaking_of_students(
    client: Any, auth: Any, db: Session
) -> None:
    auth.login(Role.COMPANY, language="en")
    response = client.post_form(
        "/company/placements/new", {**PLACEMENT, "supervisor_name": "Kim 050101/2384"}
    )
    page = response.get_data(as_text=True)
    assert "This looks like a personal identity number. Write the name only." in page
    assert "Describe students" not in page


def test_placement_with_phone_and_org_number_is_saved(
    client: Any, auth: Any, db: Session
) -> None:
    auth.login(Role.COMPANY, language="en")
    text = "Ring 0250-123 45. Vi är Färnäs Bygg, 556036-0793, sedan 2027-03-01."
    response = client.post_form(
        "/company/placements/new", {**PLACEMENT, "description": text}
    )
    assert response.status_code == 302
    assert db.exec(select(Placement)).one().description == text


@pytest.mark.parametrize(
    ("field", "value"),
    [("title", "CNC för 050161-2384"), ("skills", "CNC, ０５０１０１－２３８４")],
)
def test_skill_gap_title_and_tags_refuse_a_number(
    client: Any, auth: Any, db: Session, field: str, value: str
) -> None:
    auth.login(Role.COMPANY, language="en")
    data = {
        "title": "CNC-operatörer",
        "description": "Fleroperationsmaskiner.",
        "skills": "CNC-programmering",
        "ssyk_code": "7223",
        "headcount": "4",
        "horizon": "1-3",
        field: value,
    }
    response = client.post_form("/company/skill-gaps/new", data)
    assert REFUSED in response.get_data(as_text=True)
    assert db.exec(select(SkillGap)).all() == []


def test_refusal_is_in_swedish_for_a_swedish_user(
    client: Any, auth: Any, make_school: Any, db: Session
) -> None:
    auth.login(Role.TEACHER, organisation=make_school(), language="sv")
    response = client.post_form(
        "/school/needs/new", _need(description="Elev 050101-2389")
    )
    page = response.get_data(as_text=True)
    assert "personnummer" in page and "som grupp" in page
    assert REFUSED not in page
    assert db.exec(select(Need)).all() == []


def test_student_health_is_saved_with_a_warning(
    client: Any, db: Session, teacher: Any
) -> None:
    text = "Eleven Kalle Svensson har diabetes och behöver pauser."
    response = client.post_form("/school/needs/new", _need(description=text))
    assert response.status_code == 302  # saved: a warning, not a refusal
    assert db.exec(select(Need)).one().description == text
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'class="flash flash--warning"' in page
    assert "Kalle" in page and "“diabetes”" in page
    assert "GDPR (article 9)" in page and "duty of confidentiality" in page
    # Once: the next page has no warning left.
    assert "flash--warning" not in client.get("/school/needs").get_data(as_text=True)


def test_student_health_warning_is_in_swedish(
    client: Any, auth: Any, make_school: Any, db: Session
) -> None:
    auth.login(Role.TEACHER, organisation=make_school(), language="sv")
    data = _need(requirements="Sara Nilsson har astma.")
    response = client.post_form("/school/needs/new", data, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "flash--warning" in page and "tystnadsplikt" in page
    assert db.exec(select(Need)).one().requirements == "Sara Nilsson har astma."


def test_group_level_health_facts_save_without_a_warning(
    client: Any, db: Session, teacher: Any
) -> None:
    data = _need(requirements="Två elever har nötallergi: nötfri arbetsplats.")
    response = client.post_form("/school/needs/new", data, follow_redirects=True)
    assert "flash--warning" not in response.get_data(as_text=True)
    assert db.exec(select(Need)).one() is not None


# -- the CSV import ----------------------------------------------------------

SAW = orgnumber.complete("556677889")
HEADER = "organisationsnummer;företag;ort;typ;rubrik;beskrivning;kompetenser\n"


def _upload(client: Any, body: str) -> Any:
    return client.post_form(
        "/admin/import",
        {"file": (io.BytesIO((HEADER + body).encode()), "foretag.csv")},
        content_type="multipart/form-data",
    )


def _count(db: Session, model: Any) -> int:
    db.expire_all()
    return int(db.exec(select(func.count()).select_from(model)).one())


@pytest.mark.parametrize(
    ("row", "column"),
    [
        (
            f"{SAW};Såg AB;Mora;apl;APL;Elev Kalle Svensson 200501012384 har "
            "diabetes;truck\n",
            "beskrivning",
        ),
        (f"{SAW};Såg AB;Mora;apl;APL för 050101–2384;Sågning;truck\n", "rubrik"),
        (f"{SAW};Såg AB;Mora;apl;APL;Sågning;truck, 050161-2384\n", "kompetenser"),
        (f"{SAW};Såg AB 050101/2384;Mora;;;;\n", "företag"),
    ],
)
def test_import_refuses_the_row_with_its_line_and_column(
    client: Any, auth: Any, db: Session, row: str, column: str
) -> None:
    auth.login(Role.ADMIN, language="en")
    organisations = _count(db, Organisation)
    good = f"{orgnumber.complete('556011223')};Orsa Bageri;Orsa;apl;APL;Bak;deg\n"
    response = _upload(client, good + row)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This looks like a personal identity number; the row is refused." in page
    assert '<th scope="row">3</th>' in page
    assert column in page
    assert "2384" not in page  # the number is not repeated back
    assert _count(db, Organisation) == organisations  # nothing of any row
    assert _count(db, Placement) == 0


def test_import_warns_about_student_health_and_imports(
    client: Any, auth: Any, db: Session
) -> None:
    auth.login(Role.ADMIN, language="en")
    row = f"{SAW};Såg AB;Mora;apl;APL;Eleven Kalle har astma;truck\n"
    response = _upload(client, row)
    assert response.status_code == 302
    assert _count(db, Placement) == 1
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "flash--warning" in page
    assert "2 (beskrivning)" in page and "GDPR (article 9)" in page
