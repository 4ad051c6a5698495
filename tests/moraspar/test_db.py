"""The database engine: SQL parameter values stay out of logged errors."""

import logging
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from moraspar.db import get_session, make_engine
from moraspar.web import access

SECRET = "anna.svetsare@ostnor.example"


def test_a_logged_database_error_carries_no_parameter_values(
    app: Flask, client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> str:
        get_session().execute(
            sa.text("INSERT INTO no_such_table (email) VALUES (:email)"),
            {"email": SECRET},
        )
        return "unreachable"

    app.add_url_rule("/broken-db", "main.broken_db", broken)
    access.RULES["main.broken_db"] = access.Access.PUBLIC  # type: ignore[index]
    try:
        with caplog.at_level(logging.ERROR):
            response = client.get("/broken-db")
    finally:
        del access.RULES["main.broken_db"]  # type: ignore[attr-defined]
    assert response.status_code == 500
    assert "no_such_table" in caplog.text  # the error itself is logged
    assert SECRET not in caplog.text
    assert SECRET not in response.get_data(as_text=True)


@pytest.mark.parametrize("hide", [True, False])
def test_parameters_are_hidden_unless_asked_for(hide: bool) -> None:
    engine = make_engine("sqlite://", hide_parameters=hide)
    with engine.connect() as connection, pytest.raises(sa.exc.DBAPIError) as error:
        connection.execute(
            sa.text("SELECT * FROM no_such_table WHERE x = :x"), {"x": SECRET}
        )
    engine.dispose()
    assert (SECRET in str(error.value)) is not hide
