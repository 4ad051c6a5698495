"""The database engine, and one Session per request on flask.g."""

import time
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy.pool import StaticPool
from sqlmodel import Session

from moraspar.bookings import links
from moraspar.changes import watch_sessions
from moraspar.notifications.unsubscribe import SIGNING_INFO
from moraspar.web.links import external_url

SQLITE_BUSY_TIMEOUT_MS = 15_000

PING_AFTER_IDLE_S = 5.0
"""A pooled database-server connection idle this long is tested before use."""
_RETURNED = "moraspar.db.returned"

# Every committed write raises the change counter, in every process.
watch_sessions()


def make_engine(
    url: str, *, echo: bool = False, hide_parameters: bool = True
) -> sa.Engine:
    """An engine for url; SQLite gets WAL, a busy timeout and foreign keys.

    SQL parameters are left out of error messages and echoed SQL unless
    hide_parameters=False: they carry people's emails, names and free text,
    and an error message ends up in the logs.
    """
    kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": hide_parameters}
    in_memory = url in ("sqlite://", "sqlite:///:memory:")
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {
            "check_same_thread": False,
            "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
        }
        if in_memory:
            # One shared connection, or every session would see its own empty DB.
            kwargs["poolclass"] = StaticPool
    engine = sa.create_engine(url, **kwargs)
    if not url.startswith("sqlite"):
        _ping_after_idle(engine)
    if url.startswith("sqlite"):
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    if url.startswith("sqlite") and not in_memory:
        # Only a file can have concurrent writers; an in-memory database is
        # one shared connection (StaticPool) that must keep the driver's own
        # transaction handling.
        sa.event.listen(engine, "connect", _sqlite_manual_transactions)
        sa.event.listen(engine, "begin", _sqlite_begin)
    return engine


def _ping_after_idle(engine: sa.Engine) -> None:
    """Test a pooled connection before use when it has lain idle for
    `PING_AFTER_IDLE_S` or longer, and hand out a new one if the server
    dropped it (a restart, a network cut, an idle timeout): SQLAlchemy's
    pessimistic disconnect handling, less the round trip its pre-ping costs
    every request. A connection returned moments ago is used as it is; if the
    server went away in those moments, the request on it fails once and the
    pool replaces every connection it holds (the optimistic handling)."""
    dialect = engine.dialect

    def fresh(_dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED] = time.monotonic()

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get(_RETURNED, 0.0) < PING_AFTER_IDLE_S:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            # The pool retries the checkout with a new connection.
            raise sa.exc.DisconnectionError(str(error)) from error

    sa.event.listen(engine, "connect", fresh)
    sa.event.listen(engine, "checkin", fresh)
    sa.event.listen(engine, "checkout", checkout)


def _writes_expected() -> bool:
    """A request that may write (or any CLI command) takes the write lock up front."""
    if not has_request_context():
        return True
    return request.method not in ("GET", "HEAD", "OPTIONS")


def _sqlite_begin(connection: sa.Connection) -> None:
    # SQLite upgrades a read transaction to a write one without waiting on the
    # busy timeout ("database is locked" at once) when another writer got in
    # between. BEGIN IMMEDIATE takes the write lock first, so writers queue.
    connection.exec_driver_sql("BEGIN IMMEDIATE" if _writes_expected() else "BEGIN")


def _sqlite_manual_transactions(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN instead of the driver.
    dbapi_connection.isolation_level = None


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLite's own lower() folds ASCII only, so "Östra" would not match
    # "östra"; Python's folds every letter, as PostgreSQL's does.
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def register_database(app: Flask) -> None:
    """The engine (DATABASE_ENGINE if a test hands one in) and the per-request
    session's teardown."""
    engine = app.config.get("DATABASE_ENGINE") or make_engine(
        app.config["DATABASE_URL"], echo=app.config["SQL_ECHO"]
    )
    app.extensions["moraspar.engine"] = engine
    app.teardown_appcontext(close_session)


def get_engine() -> sa.Engine:
    engine: sa.Engine = current_app.extensions["moraspar.engine"]
    return engine


def get_session() -> Session:
    """The Session of this request (or CLI app context), opened on first use."""
    if "db_session" not in g:
        g.db_session = Session(
            get_engine(),
            expire_on_commit=False,
            # Notification services sign unsubscribe links without Flask.
            info={
                SIGNING_INFO: current_app.config["SECRET_KEY"],
                links.DAYS_INFO: current_app.config["ACTION_LINK_DAYS"],
                # The site's root from BASE_URL (never the request's Host),
                # for the answer links in emails.
                links.SITE_INFO: external_url("main.home"),
            },
        )
    session: Session = g.db_session
    return session


def close_session(_exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
