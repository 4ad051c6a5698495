"""NIST 800-63B: length, a list of common passwords, no composition rules."""

from typing import Any

import pytest

from moraspar.auth import services
from moraspar.models import Role
from tests.conftest import PASSWORD


@pytest.mark.parametrize(
    "password",
    [
        "password123456",
        "qwertyuiop123",
        "123456789012",
        "Sommar2024!!",
        "lösenord1234",
        "LÖSENORD1234",
        "Moraspår2025!",
        "qwerty 123456",
        "aaaaaaaaaaaa",
        "abababababab",
        "iloveyou12345",
    ],
)
def test_common_passwords_are_refused(password: str) -> None:
    with pytest.raises(services.WeakPassword) as info:
        services.check_password_policy(password, email="someone@example.se")
    assert info.value.reason == "common"


@pytest.mark.parametrize(
    "password",
    [
        PASSWORD,
        "svetsning är kul",
        "timmerhus vid siljan",
        "all lowercase no digits",  # no composition rules
        "7Gq#pL2v!xZ9",
    ],
)
def test_uncommon_passwords_pass(password: str) -> None:
    services.check_password_policy(password, email="someone@example.se")


def test_the_list_is_large_lowercase_and_has_no_blank_lines() -> None:
    listed = services.common_passwords()
    assert len(listed) > 5_000
    assert all(word == word.lower() and word.strip() == word for word in listed)
    assert {"password", "lösenord", "sommar2024"} <= listed


def test_change_password_explains_a_common_password(client: Any, auth: Any) -> None:
    auth.login(Role.TEACHER, language="en")
    response = client.post_form(
        "/password",
        {
            "current_password": PASSWORD,
            "password": "Password123456",
            "confirm": "Password123456",
        },
    )
    assert response.status_code == 200
    assert "among the most common" in response.get_data(as_text=True)


def test_registration_refuses_a_common_password(client: Any) -> None:
    client.post_form("/language", {"language": "en", "next": "/register"})
    response = client.post_form(
        "/register",
        {
            "company_name": "Snickeri AB",
            "org_number": "556036-0793",
            "locality": "Mora",
            "contact_name": "Kim",
            "email": "kim@snickeri.example",
            "password": "qwertyuiop123",
            "confirm": "qwertyuiop123",
        },
    )
    assert response.status_code == 200
    assert "among the most common" in response.get_data(as_text=True)
