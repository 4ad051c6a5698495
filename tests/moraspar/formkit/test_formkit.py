"""The form kit: id fields within PostgreSQL's integer range, and file parts
refused outside file fields, on the app's real forms."""

import io
from typing import Any

import flask_wtf
import pytest
from flask import Flask
from sqlmodel import Session, select

from moraspar.formkit.base import FlaskForm
from moraspar.formkit.ids import MAX_ID, parse_id, record_id
from moraspar.models import MatchProposal, Need, Role

NEED = {
    "kind": "apl",
    "title": "APL svetsning åk 2",
    "description": "Elever som läser svetsteknik, andra året.",
    "skills": "svetsning, ritningsläsning",
    "students": "4",
    "start_date": "2027-02-01",
    "end_date": "2027-03-12",
    "locality": "Mora",
    "max_km": "30",
}


@pytest.mark.parametrize("raw", ["1", "42", " 7 ", str(MAX_ID)])
def test_record_id_takes_ids_in_range(raw: str) -> None:
    assert record_id(raw) == int(raw)


@pytest.mark.parametrize(
    "raw",
    ["0", "-1", str(MAX_ID + 1), "100000000000", "9" * 400, "1.0", "1e3", "١٢",
     "１２", "", "abc", "0x10"],
)  # fmt: skip
def test_record_id_refuses_everything_else(raw: str) -> None:
    with pytest.raises(ValueError):
        record_id(raw)
    assert parse_id(raw) is None


def test_a_programme_id_past_the_integer_range_is_a_form_error(
    client: Any, auth: Any, db: Session
) -> None:
    auth.login(Role.TEACHER)
    response = client.post_form(
        "/school/needs/new", {**NEED, "programme_id": "100000000000"}
    )
    assert response.status_code == 200
    assert "Välj ett av alternativen i listan." in response.get_data(as_text=True)
    assert db.exec(select(Need)).first() is None


def test_an_organisation_id_past_the_range_is_a_form_error(
    client: Any, auth: Any, db: Session
) -> None:
    auth.login(Role.ADMIN)
    response = client.post_form(
        "/admin/users/invite",
        {
            "email": "ny@noret.example",
            "display_name": "Ny",
            "role": "teacher",
            "organisation_id": str(2**63),
            "language": "sv",
        },
    )
    assert response.status_code == 200
    assert "Välj ett av alternativen i listan." in response.get_data(as_text=True)


def test_a_ticked_proposal_id_past_the_range_changes_nothing(
    client: Any, auth: Any, db: Session
) -> None:
    auth.login(Role.COUNCIL)
    response = client.post_form(
        "/council/proposals/bulk",
        {"proposal": ["1", "100000000000"], "bulk_action": "defer"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert db.exec(select(MatchProposal)).first() is None


@pytest.mark.parametrize(
    "url",
    [
        "/school/needs/100000000000",
        "/school/needs/2147483648/edit",
        "/council/proposals/99999999999999999999",
    ],
)
def test_an_id_past_the_range_in_the_address_is_a_404(
    client: Any, auth: Any, url: str
) -> None:
    auth.login(Role.ADMIN)
    assert client.get(url).status_code == 404


def test_a_council_board_filter_past_the_range_is_ignored(
    client: Any, auth: Any
) -> None:
    auth.login(Role.COUNCIL)
    response = client.get("/council/board?programme=100000000000")
    assert response.status_code == 200


@pytest.mark.parametrize("field", ["title", "skills", "start_date", "students"])
def test_a_file_sent_in_a_text_field_is_a_form_error(
    client: Any, auth: Any, db: Session, field: str
) -> None:
    auth.login(Role.TEACHER)
    data: dict[str, Any] = {"csrf_token": client.csrf_token(), **NEED}
    data[field] = (io.BytesIO(b"=cmd|' /C calc'!A0"), "evil.csv")
    response = client.post(
        "/school/needs/new", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 200
    assert "Fältet tar emot text, inte en fil." in response.get_data(as_text=True)
    assert db.exec(select(Need)).first() is None


def test_a_file_field_still_takes_files(client: Any, auth: Any) -> None:
    auth.login(Role.ADMIN)
    response = client.post(
        "/admin/import",
        data={
            "csrf_token": client.csrf_token(),
            "file": (io.BytesIO(b"not,a,known,header\n"), "import.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code < 500
    assert "Fältet tar emot text, inte en fil." not in response.get_data(as_text=True)


def _subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


def test_every_form_of_the_app_is_built_on_the_kit(app: Flask) -> None:
    forms = {
        form
        for form in _subclasses(flask_wtf.FlaskForm)
        if form.__module__.startswith("moraspar.")
    }
    assert len(forms) > 20  # the scan found the app's forms
    outside = sorted(f.__qualname__ for f in forms if not issubclass(f, FlaskForm))
    assert not outside, f"forms not built on moraspar.formkit.base: {outside}"


def test_wtforms_own_messages_follow_the_language_read_once_each(app: Flask) -> None:
    from flask_babel import force_locale
    from wtforms import IntegerField

    from moraspar.formkit.base import wtforms_messages

    class Count(FlaskForm):
        n = IntegerField()

    wtforms_messages.cache_clear()
    expected = {"sv": "Inte ett giltigt heltal", "en": "Not a valid integer value."}
    for _ in range(3):
        for locale, message in expected.items():
            with (
                app.test_request_context(method="POST", data={"n": "x"}),
                force_locale(locale),
            ):
                form = Count(meta={"csrf": False})
                assert not form.validate()
                assert form.n.errors == [message]
    # One read of each language's catalogue, not one per form or request.
    assert wtforms_messages.cache_info().misses == 2
