"""Fixtures in the style of Flask's tutorial: app, client, runner, auth, factories.

The database is a fresh in-memory SQLite per test, or, when
MORASPAR_TEST_DATABASE_URL is set (CI does so for PostgreSQL), that database
with its tables emptied after every test.
"""

import os
import secrets
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from itsdangerous import URLSafeTimedSerializer
from sqlmodel import Session, SQLModel, select

from moraspar import create_app
from moraspar.auth.services import hash_password, new_session_token, use_hash_profile
from moraspar.db import make_engine
from moraspar.models import (
    ChangeCounter,
    Council,
    CouncilMember,
    CouncilOrganisation,
    Need,
    Organisation,
    OrgKind,
    Placement,
    Programme,
    Role,
    SkillGap,
    User,
)
from moraspar.reference import orgnumber

TEST_DATABASE_URL = os.environ.get("MORASPAR_TEST_DATABASE_URL", "")
# Every app the tests build, in this process or a child, hashes cheaply.
os.environ.setdefault("MORASPAR_PASSWORD_HASH_PROFILE", "CHEAPEST")
PASSWORD = "correct horse battery"
# argon2's cheapest profile under test (tests/moraspar/auth/test_hashing.py
# pins production's); create_app sets the same from PASSWORD_HASH_PROFILE.
use_hash_profile("CHEAPEST")
_PASSWORD_HASH = hash_password(PASSWORD)


class Client(FlaskClient):
    """A test client that sends the CSRF token with form posts, like a browser."""

    def csrf_token(self) -> str:
        """The token a page would carry, signed from the session's raw token the
        way Flask-WTF does it, without fetching a page."""
        app = self.application
        with self.session_transaction() as session:
            raw = session.get("csrf_token")
            if raw is None:
                raw = session["csrf_token"] = secrets.token_hex(20)
        signer = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token")
        return str(signer.dumps(raw))

    def post_form(self, url: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        payload = {"csrf_token": self.csrf_token(), **(data or {})}
        return self.post(url, data=payload, **kw)


@pytest.fixture(scope="session")
def shared_engine() -> Iterator[sa.Engine | None]:
    if not TEST_DATABASE_URL:
        yield None
        return
    engine = make_engine(TEST_DATABASE_URL)
    SQLModel.metadata.drop_all(engine)
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


def _empty_tables(engine: sa.Engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        # the change counter's row, as the schema has it when made
        connection.execute(sa.insert(ChangeCounter).values(id=1, value=0))


@pytest.fixture
def engine(shared_engine: sa.Engine | None) -> Iterator[sa.Engine]:
    if shared_engine is not None:
        yield shared_engine
        _empty_tables(shared_engine)
        return
    engine = make_engine("sqlite://")
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite-file", "database-url"])
def race_engine(request: Any, tmp_path: Any) -> Iterator[sa.Engine]:
    """An engine that several processes or connections can share: a SQLite
    file, then the configured database (PostgreSQL in CI's second pass)."""
    if request.param == "database-url":
        if not TEST_DATABASE_URL:
            pytest.skip("MORASPAR_TEST_DATABASE_URL is not set")
        yield request.getfixturevalue("engine")  # emptied after the test
        return
    engine = make_engine(f"sqlite:///{tmp_path / 'race.db'}")
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def app(engine: sa.Engine, tmp_path: Any) -> Flask:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "DATABASE_URL": str(engine.url),
            "DATABASE_ENGINE": engine,
            "OUTBOX_DIR": str(tmp_path / "outbox"),
            "SERVER_NAME": "moraspar.test",
            "BASE_URL": "http://moraspar.test",
            "PASSWORD_HASH_PROFILE": "CHEAPEST",
        }
    )
    app.test_client_class = Client
    return app


@pytest.fixture
def client(app: Flask) -> Client:
    return app.test_client()  # type: ignore[return-value]


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def db(engine: sa.Engine) -> Iterator[Session]:
    """A session for the test's own setup and checks (separate from requests)."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


_counter = iter(range(10_000, 99_999))
TEST_COUNCIL = "Testrådet"  # name and mark (description) of the default council


def _councils_or_default(db: Session, councils: list[Council] | None) -> list[Council]:
    return [default_council(db)] if councils is None else councils


def default_council(db: Session) -> Council:
    """The council every factory-made school, company and council member
    belongs to, unless a test asks otherwise (one per test database; a test
    may rename it)."""
    council = db.exec(
        select(Council).where(Council.description == TEST_COUNCIL)
    ).first()
    if council is None:
        council = Council(name=TEST_COUNCIL, description=TEST_COUNCIL)
        db.add(council)
        db.commit()
    return council


def _org_number() -> str:
    return orgnumber.complete(f"5560{next(_counter):05d}")


@pytest.fixture
def make_organisation(db: Session) -> Callable[..., Organisation]:
    def make(
        kind: str = OrgKind.COMPANY,
        councils: list[Council] | None = None,
        **overrides: Any,
    ) -> Organisation:
        """An organisation; schools and companies join `councils`' areas (by
        default the test council's)."""
        values: dict[str, Any] = {
            "kind": kind,
            "name": f"Test {kind} {next(_counter)}",
            "org_number": _org_number(),
            "locality": "Mora",
            "lat": 61.0047,
            "lon": 14.5372,
            "approved": True,
        }
        values.update(overrides)
        organisation = Organisation(**values)
        db.add(organisation)
        db.commit()
        if kind in (OrgKind.SCHOOL, OrgKind.COMPANY):
            for council in _councils_or_default(db, councils):
                db.add(
                    CouncilOrganisation(
                        council_id=council.id, organisation_id=organisation.id
                    )
                )
            db.commit()
        return organisation

    return make


@pytest.fixture
def make_school(
    make_organisation: Callable[..., Organisation],
) -> Callable[..., Organisation]:
    return lambda **kw: make_organisation(OrgKind.SCHOOL, **kw)


@pytest.fixture
def make_company(
    make_organisation: Callable[..., Organisation],
) -> Callable[..., Organisation]:
    return lambda **kw: make_organisation(OrgKind.COMPANY, sni_code="16", **kw)


@pytest.fixture
def make_user(
    db: Session, make_organisation: Callable[..., Organisation]
) -> Callable[..., User]:
    kinds = {
        Role.TEACHER: OrgKind.SCHOOL,
        Role.COMPANY: OrgKind.COMPANY,
        Role.COUNCIL: OrgKind.MUNICIPALITY,
        Role.ADMIN: OrgKind.MUNICIPALITY,
    }

    def make(
        role: str = Role.TEACHER,
        organisation: Organisation | None = None,
        councils: list[Council] | None = None,
        **overrides: Any,
    ) -> User:
        """A user; council members sit on `councils` (by default the test
        council)."""
        if organisation is None:
            organisation = make_organisation(kinds[Role(role)])
        n = next(_counter)
        values: dict[str, Any] = {
            "email": f"user{n}@example.se",
            "display_name": f"User {n}",
            "role": role,
            "organisation_id": organisation.id,
            "password_hash": _PASSWORD_HASH,
            "session_token": new_session_token(),
        }
        values.update(overrides)
        user = User(**values)
        db.add(user)
        db.commit()
        if role == Role.COUNCIL:
            for council in _councils_or_default(db, councils):
                db.add(CouncilMember(council_id=council.id, user_id=user.id))
            db.commit()
        return user

    return make


@pytest.fixture
def make_programme(db: Session) -> Callable[..., Programme]:
    def make(school: Organisation, **overrides: Any) -> Programme:
        values: dict[str, Any] = {
            "school_id": school.id,
            "name": "Fordons- och transportprogrammet",
            "code": "FT",
            "level": "gymnasium",
            "skills": ["fordonsteknik", "felsökning"],
        }
        values.update(overrides)
        programme = Programme(**values)
        db.add(programme)
        db.commit()
        return programme

    return make


@pytest.fixture
def make_need(db: Session) -> Callable[..., Need]:
    def make(school: Organisation, **overrides: Any) -> Need:
        values: dict[str, Any] = {
            "school_id": school.id,
            "kind": "apl",
            "title": "APL fordon åk 2",
            "description": "Elever som läser personbilsinriktningen.",
            "skills": ["fordonsteknik", "däckbyte"],
            "students": 3,
            "start_date": date(2027, 2, 1),
            "end_date": date(2027, 5, 14),
            "locality": school.locality,
            "lat": school.lat,
            "lon": school.lon,
            "max_km": 30.0,
        }
        values.update(overrides)
        need = Need(**values)
        db.add(need)
        db.commit()
        return need

    return make


@pytest.fixture
def make_placement(db: Session) -> Callable[..., Placement]:
    def make(company: Organisation, **overrides: Any) -> Placement:
        values: dict[str, Any] = {
            "company_id": company.id,
            "kind": "apl",
            "title": "APL i bilverkstad",
            "description": "Service och reparation av personbilar.",
            "skills": ["fordonsteknik", "service"],
            "places": 2,
            "start_date": date(2027, 1, 11),
            "end_date": date(2027, 6, 4),
            "locality": company.locality,
            "lat": company.lat,
            "lon": company.lon,
            "supervisor_name": "Kim Handledare",
            "supervisor_contact": "kim@verkstad.example",
        }
        values.update(overrides)
        placement = Placement(**values)
        db.add(placement)
        db.commit()
        return placement

    return make


@pytest.fixture
def make_skill_gap(db: Session) -> Callable[..., SkillGap]:
    def make(company: Organisation, **overrides: Any) -> SkillGap:
        values: dict[str, Any] = {
            "company_id": company.id,
            "title": "Fordonstekniker",
            "skills": ["fordonsteknik", "diagnostik"],
            "ssyk_code": "7231",
            "headcount": 2,
            "horizon": "1-3",
        }
        values.update(overrides)
        gap = SkillGap(**values)
        db.add(gap)
        db.commit()
        return gap

    return make


class AuthActions:
    def __init__(self, client: Client, make_user: Callable[..., User]) -> None:
        self._client = client
        self._make_user = make_user

    def login(self, role: str | User = Role.TEACHER, **user_kw: Any) -> User:
        user = role if isinstance(role, User) else self._make_user(role, **user_kw)
        response = self._client.post_form(
            "/login", {"email": user.email, "password": PASSWORD}
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    def logout(self) -> Any:
        return self._client.post_form("/logout")


@pytest.fixture
def auth(client: Client, make_user: Callable[..., User]) -> AuthActions:
    return AuthActions(client, make_user)


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def translation_lookups(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One entry per time flask_babel looks a catalogue up while the test runs
    (clear it between requests)."""
    import flask_babel

    calls: list[int] = []
    original = flask_babel.Domain.get_translations

    def counted(self: Any) -> Any:
        calls.append(1)
        return original(self)

    monkeypatch.setattr(flask_babel.Domain, "get_translations", counted)
    return calls


@pytest.fixture
def count_queries(engine: sa.Engine) -> Iterator[QueryCounter]:
    """Counts the SQL statements run while the test runs (for N+1 checks)."""
    counter = QueryCounter()

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        counter.statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", before)
    yield counter
    sa.event.remove(engine, "before_cursor_execute", before)
