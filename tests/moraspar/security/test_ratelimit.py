"""Sign-in rate limits per account and per IP, in the database or in Redis."""

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlmodel import Session, func, select

from moraspar import create_app
from moraspar.models import LoginAttempt, Role
from moraspar.web import ratelimit
from tests.conftest import PASSWORD, Client

WRONG = "not the password at all"


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(app: Flask) -> FakeClock:
    fake = FakeClock()
    app.extensions["moraspar.clock"] = fake
    return fake


def _login(client: Any, email: str, password: str, **kw: Any) -> Any:
    return client.post_form("/login", {"email": email, "password": password}, **kw)


def _attempts(db: Session) -> int:
    return int(db.exec(select(func.count()).select_from(LoginAttempt)).one())


def test_sixth_attempt_is_refused_even_with_the_right_password(
    client: Any, make_user: Any, db: Session, clock: FakeClock
) -> None:
    user = make_user(Role.TEACHER)
    for _ in range(5):
        assert _login(client, user.email, WRONG).status_code == 200
    response = _login(client, user.email, PASSWORD)
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60
    assert "För många försök" in response.get_data(as_text=True)  # Swedish default
    assert client.get("/school/").status_code == 302  # not signed in
    assert _attempts(db) == 10  # account and IP; HMACs, never the address in clear
    assert not db.exec(
        select(LoginAttempt).where(LoginAttempt.key.contains(user.email))  # type: ignore[attr-defined]
    ).first()


def test_429_page_is_in_the_visitors_language(
    client: Any, make_user: Any, clock: FakeClock
) -> None:
    client.post_form("/language", {"language": "en", "next": "/login"})
    user = make_user(Role.COMPANY)
    for _ in range(5):
        _login(client, user.email, WRONG)
    response = _login(client, user.email, WRONG)
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "Too many attempts" in page
    assert response.headers["Content-Security-Policy"]


def test_window_expires(client: Any, make_user: Any, clock: FakeClock) -> None:
    user = make_user(Role.TEACHER)
    for _ in range(5):
        _login(client, user.email, WRONG)
    clock.advance(14 * 60)
    response = _login(client, user.email, PASSWORD)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) == 60
    clock.advance(61)
    assert _login(client, user.email, PASSWORD).status_code == 302


def test_sliding_window_counts_only_recent_failures(
    client: Any, make_user: Any, clock: FakeClock
) -> None:
    user = make_user(Role.TEACHER)
    for _ in range(3):
        _login(client, user.email, WRONG)
    clock.advance(10 * 60)
    for _ in range(2):
        _login(client, user.email, WRONG)
    assert _login(client, user.email, WRONG).status_code == 429
    clock.advance(5 * 60 + 1)  # the first three have aged out
    assert _login(client, user.email, WRONG).status_code == 200


def test_success_clears_the_account_counter(
    client: Any, auth: Any, make_user: Any, clock: FakeClock
) -> None:
    user = make_user(Role.TEACHER)
    for _ in range(4):
        _login(client, user.email, WRONG)
    assert _login(client, user.email, PASSWORD).status_code == 302
    auth.logout()
    for _ in range(4):
        assert _login(client, user.email, WRONG).status_code == 200
    assert _login(client, user.email, PASSWORD).status_code == 302


def test_per_ip_limit_across_accounts(
    app: Flask, client: Any, make_user: Any, clock: FakeClock
) -> None:
    app.config["SIGNIN_LIMIT_IP"] = 3
    for n in range(3):
        assert _login(client, f"nobody{n}@example.se", WRONG).status_code == 200
    fresh = make_user(Role.TEACHER)
    assert _login(client, fresh.email, PASSWORD).status_code == 429
    # Another address is not affected.
    other = _login(
        client, fresh.email, PASSWORD, environ_base={"REMOTE_ADDR": "10.9.8.7"}
    )
    assert other.status_code == 302


def _app_with(engine: sa.Engine, tmp_path: Any, **config: Any) -> Flask:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key",
            "DATABASE_URL": str(engine.url),
            "DATABASE_ENGINE": engine,
            "OUTBOX_DIR": str(tmp_path / "outbox"),
            "SERVER_NAME": "moraspar.test",
            "SIGNIN_LIMIT_IP": 2,
            **config,
        }
    )
    app.test_client_class = Client
    return app


@pytest.mark.parametrize("hops", [0, 1])
def test_x_forwarded_for_is_honoured_only_behind_a_configured_proxy(
    engine: sa.Engine, tmp_path: Any, make_user: Any, hops: int
) -> None:
    client = _app_with(engine, tmp_path, PROXY_FIX_HOPS=hops).test_client()
    for n in range(2):
        client.post_form(
            "/login",
            {"email": f"x{n}@example.se", "password": WRONG},
            headers={"X-Forwarded-For": "203.0.113.5"},
        )
    user = make_user(Role.TEACHER)
    response = client.post_form(
        "/login",
        {"email": user.email, "password": PASSWORD},
        headers={"X-Forwarded-For": "198.51.100.7"},
    )
    if hops:
        assert response.status_code == 302  # a different client behind the proxy
    else:
        assert response.status_code == 429  # a forged header changes nothing


def test_reset_requests_are_limited(
    client: Any, make_user: Any, clock: FakeClock
) -> None:
    user = make_user(Role.TEACHER)
    for _ in range(5):
        response = client.post_form("/reset", {"email": user.email})
        assert response.status_code == 302
    response = client.post_form("/reset", {"email": user.email})
    assert response.status_code == 429
    assert "Retry-After" in response.headers


def test_reset_requests_are_limited_per_ip(
    app: Flask, client: Any, clock: FakeClock
) -> None:
    app.config["RESET_LIMIT_IP"] = 2
    for n in range(2):
        client.post_form("/reset", {"email": f"r{n}@example.se"})
    assert client.post_form("/reset", {"email": "r9@example.se"}).status_code == 429


def test_database_backend_prunes_old_rows(db: Session) -> None:
    backend = ratelimit.DatabaseBackend(db)
    limit = ratelimit.Limit(3, 60)
    start = datetime(2027, 1, 1, tzinfo=UTC)
    backend.hit("account:a", limit, start)
    backend.hit("account:b", limit, start)
    later = start + timedelta(seconds=ratelimit.KEEP_SECONDS + 1)
    backend.hit("account:a", limit, later)
    assert backend.count("account:a", limit, later) == 1
    assert _attempts(db) == 1  # both old rows are gone


# --- Redis -----------------------------------------------------------------------

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_client() -> Iterator[Any]:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis at 127.0.0.1:6379: the Redis backend is not tested")
    yield client
    client.close()


@pytest.fixture
def prefix(redis_client: Any) -> Iterator[str]:
    value = f"moraspar-test:{secrets.token_hex(8)}:"
    yield value
    for key in redis_client.scan_iter(match=value + "*"):
        redis_client.delete(key)


def test_redis_backend_counts_expires_and_clears(
    redis_client: Any, prefix: str
) -> None:
    backend = ratelimit.RedisBackend(redis_client, prefix)
    limiter = ratelimit.SignInLimiter(backend)
    limit = ratelimit.Limit(3, 900)
    keys = [("account:x", limit)]
    for _ in range(2):
        limiter.hit(keys)
    assert limiter.retry_after(keys) == 0
    limiter.hit(keys)
    wait = limiter.retry_after(keys)
    assert 0 < wait <= 900
    assert 0 < redis_client.ttl(prefix + "account:x") <= 900  # it will expire
    limiter.clear("account:x")
    assert limiter.retry_after(keys) == 0


def test_sign_in_limit_holds_in_redis(
    engine: sa.Engine,
    tmp_path: Any,
    make_user: Any,
    db: Session,
    redis_client: Any,
    prefix: str,
) -> None:
    app = _app_with(
        engine,
        tmp_path,
        REDIS_URL=REDIS_URL,
        RATELIMIT_KEY_PREFIX=prefix,
        SIGNIN_LIMIT_IP=20,
    )
    user = make_user(Role.TEACHER)
    first, second = app.test_client(), app.test_client()  # as two workers would
    for client in (first, second, first, second, first):
        _login(client, user.email, WRONG, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    response = _login(
        second, user.email, PASSWORD, environ_base={"REMOTE_ADDR": "10.0.0.2"}
    )
    assert response.status_code == 429
    assert _attempts(db) == 0  # nothing went to the database
    assert any(redis_client.scan_iter(match=prefix + "account:*"))


def test_every_timestamp_is_stored_and_read_as_utc() -> None:
    from sqlmodel import SQLModel
    from sqlmodel.sql.sqltypes import UTCDateTime

    naive = [
        f"{table.name}.{column.name}"
        for table in SQLModel.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, sa.DateTime)
        or (
            isinstance(column.type, sa.TypeDecorator)
            and isinstance(column.type.impl, sa.DateTime)
            and not isinstance(column.type, UTCDateTime)
        )
    ]
    assert naive == []


def test_attempt_times_come_back_aware(db: Session) -> None:
    at = datetime(2027, 1, 1, 12, 30, tzinfo=UTC)
    db.add(LoginAttempt(key="account:t", at=at))
    db.commit()
    db.expire_all()
    stored = db.exec(select(LoginAttempt.at)).one()
    assert stored == at and stored.utcoffset() == timedelta(0)


def test_limits_have_their_defaults_in_the_configuration(tmp_path: Any) -> None:
    from moraspar.config import defaults

    settings = defaults(tmp_path)
    for name in ("SIGNIN_LIMIT_ACCOUNT", "SIGNIN_LIMIT_IP", "SIGNIN_WINDOW_SECONDS"):
        assert name in settings
