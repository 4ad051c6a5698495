"""The database engine: SQL parameter values stay out of logged errors, and a
connection the server dropped is replaced."""

import logging
import os
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from moraspar import db
from moraspar.db import get_session, make_engine
from moraspar.web import access

SECRET = "anna.svetsare@ostnor.example"
SERVER_URL = os.environ.get("MORASPAR_TEST_DATABASE_URL", "")


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


def _server_drops(engine: sa.Engine) -> int:
    """Has the server end the pooled connection (as a restart would) from
    another connection; returns the dropped backend's process id."""
    with engine.connect() as connection:
        pid = int(connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())
    other = make_engine(str(engine.url.render_as_string(hide_password=False)))
    try:
        with other.connect() as connection:
            connection.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid})
    finally:
        other.dispose()
    return pid


def _pid(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())


@pytest.fixture
def server_engine() -> Any:
    if not SERVER_URL.startswith("postgresql"):
        pytest.skip("needs a database server (MORASPAR_TEST_DATABASE_URL)")
    engine = make_engine(SERVER_URL)
    yield engine
    engine.dispose()


def test_an_idle_connection_the_server_dropped_is_replaced_unseen(
    server_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    dropped = _server_drops(server_engine)
    # Idle long enough to be tested before use: the dead one is replaced.
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.0)
    assert _pid(server_engine) != dropped


def test_a_connection_dropped_moments_after_use_fails_once_then_all_are_new(
    server_engine: sa.Engine,
) -> None:
    # Returned moments ago, it is used untested (no round trip a request):
    # the first use fails, and the pool replaces what it holds.
    dropped = _server_drops(server_engine)
    with pytest.raises(sa.exc.DBAPIError) as failed:
        _pid(server_engine)
    assert failed.value.connection_invalidated
    assert _pid(server_engine) != dropped
