"""Download names: in the reader's language, and safe on every operating system."""

import re
from typing import Any
from urllib.parse import unquote

import pytest
from flask import Flask

from moraspar.models import Role
from moraspar.web.downloads import ascii_filename, content_disposition, safe_filename

FORBIDDEN = set('/\\:*?"<>|')


def _names(disposition: str) -> tuple[str, str]:
    fallback = re.search(r'filename="([^"]*)"', disposition)
    utf8 = re.search(r"filename\*=UTF-8''(\S+)", disposition)
    assert fallback and utf8, disposition
    return fallback.group(1), unquote(utf8.group(1))


@pytest.mark.parametrize(
    ("name", "expected_utf8", "expected_ascii"),
    [
        ("Företag i Älvdalen.csv", "Företag i Älvdalen.csv", "Foretag-i-Alvdalen.csv"),
        (
            'a/b\\c:d*e?f"g<h>i|j.odt',
            "a-b-c-d-e-f-g-h-i-j.odt",
            "a-b-c-d-e-f-g-h-i-j.odt",
        ),
        ("  ..möte\x00\tprotokoll.. .ics", "möte-protokoll.ics", "mote-protokoll.ics"),
        ("CON.json", "moraspar-CON.json", "moraspar-CON.json"),
        ("åäö.csv", "åäö.csv", "aao.csv"),
        ("???.csv", "moraspar.csv", "moraspar.csv"),
    ],
)
def test_names_are_safe_everywhere(
    name: str, expected_utf8: str, expected_ascii: str
) -> None:
    assert safe_filename(name) == expected_utf8
    assert ascii_filename(name) == expected_ascii
    fallback, utf8 = _names(content_disposition(name))
    assert (fallback, utf8) == (expected_ascii, expected_utf8)
    assert fallback.isascii()
    assert not FORBIDDEN & set(fallback) and not FORBIDDEN & set(utf8)


def test_long_names_are_cut_below_the_file_system_limit() -> None:
    name = safe_filename("ö" * 300 + ".xlsx")
    assert name.endswith(".xlsx") and len(name.encode("utf-8")) <= 200


def _switch_to_english(client: Any) -> None:
    client.post_form("/language", {"language": "en"})


@pytest.mark.parametrize(
    ("language", "expected"), [("sv", "mina-uppgifter.json"), ("en", "my-data.json")]
)
def test_own_data_file_is_named_in_the_readers_language(
    client: Any, auth: Any, language: str, expected: str
) -> None:
    auth.login(Role.TEACHER)
    if language == "en":
        _switch_to_english(client)
    response = client.get("/my-data/export.json")
    _fallback, utf8 = _names(response.headers["Content-Disposition"])
    assert utf8 == expected
    assert "no-store" in response.headers["Cache-Control"]


@pytest.mark.parametrize(
    ("language", "expected"),
    [("sv", "importmall.csv"), ("en", "import-template.csv")],
)
def test_import_template_is_named_in_the_readers_language(
    client: Any, auth: Any, language: str, expected: str
) -> None:
    auth.login(Role.ADMIN)
    if language == "en":
        _switch_to_english(client)
    response = client.get("/admin/import/template.csv")
    assert _names(response.headers["Content-Disposition"]) == (expected, expected)


@pytest.mark.parametrize(
    ("language", "stem"), [("sv", "praktikplatser"), ("en", "placements")]
)
def test_school_search_export_is_named_in_the_readers_language(
    client: Any, auth: Any, app: Flask, language: str, stem: str
) -> None:
    auth.login(Role.TEACHER)
    if language == "en":
        _switch_to_english(client)
    response = client.get("/school/search?format=csv")
    assert response.status_code == 200
    fallback, utf8 = _names(response.headers["Content-Disposition"])
    assert utf8.startswith(f"{stem}-") and utf8.endswith(".csv")
    assert fallback == utf8
