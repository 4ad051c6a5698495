"""Sign-in rate limits per account and per IP, in the database or in Redis."""

import multiprocessing
import re
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlmodel import Session, SQLModel, func, select

from moraspar import create_app
from moraspar.db import make_engine
from moraspar.models import LoginAttempt, Role
from moraspar.web import ratelimit
from tests.conftest import PASSWORD, TEST_DATABASE_URL, Client

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


def test_after_five_failures_the_pair_waits_even_with_the_right_password(
    client: Any, make_user: Any, db: Session, clock: FakeClock
) -> None:
    user = make_user(Role.TEACHER)
    for _ in range(5):
        assert _login(client, user.email, WRONG).status_code == 200
    response = _login(client, user.email, PASSWORD)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    page = response.get_data(as_text=True)
    assert "För många försök" in page  # Swedish default
    assert "Du kan försöka igen om 2 sekunder" in page
    assert client.get("/school/").status_code == 302  # not signed in
    assert _attempts(db) == 10  # pair and IP; HMACs, never the address in clear
    assert not db.exec(
        select(LoginAttempt).where(LoginAttempt.key.contains(user.email))  # type: ignore[attr-defined]
    ).first()
    clock.advance(2)
    assert _login(client, user.email, PASSWORD).status_code == 302


def test_delays_grow_and_stop_at_the_cap(
    app: Flask, client: Any, make_user: Any, clock: FakeClock
) -> None:
    app.config["SIGNIN_MAX_DELAY_SECONDS"] = 60
    user = make_user(Role.TEACHER)
    for _ in range(5):
        _login(client, user.email, WRONG)
    waits = []
    for _ in range(7):
        refused = _login(client, user.email, WRONG)
        assert refused.status_code == 429
        wait = int(refused.headers["Retry-After"])
        waits.append(wait)
        clock.advance(wait)
        assert _login(client, user.email, WRONG).status_code == 200
    assert waits == [2, 4, 8, 16, 32, 60, 60]


def test_right_password_from_another_address_is_not_locked_out(
    client: Any, make_user: Any, clock: FakeClock
) -> None:
    user = make_user(Role.TEACHER)
    attacker = {"REMOTE_ADDR": "203.0.113.66"}
    for _ in range(5):
        _login(client, user.email, WRONG, environ_base=attacker)
    assert _login(client, user.email, WRONG, environ_base=attacker).status_code == 429
    owner = _login(
        client, user.email, PASSWORD, environ_base={"REMOTE_ADDR": "10.1.2.3"}
    )
    assert owner.status_code == 302


def test_one_address_may_fail_for_many_accounts(
    client: Any, make_user: Any, clock: FakeClock
) -> None:
    # A school behind one NAT address: 25 mistyped passwords in a quarter of an
    # hour do not lock out the next pupil's teacher.
    for n in range(25):
        assert _login(client, f"nobody{n}@example.se", WRONG).status_code == 200
    fresh = make_user(Role.TEACHER)
    assert _login(client, fresh.email, PASSWORD).status_code == 302


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
    assert "You can try again in 2 seconds" in page
    assert response.headers["Content-Security-Policy"]


def test_failures_older_than_the_window_no_longer_count(
    client: Any, make_user: Any, clock: FakeClock
) -> None:
    user = make_user(Role.TEACHER)
    for _ in range(5):
        _login(client, user.email, WRONG)
    clock.advance(15 * 60 + 1)
    for _ in range(5):
        assert _login(client, user.email, WRONG).status_code == 200


def test_success_clears_the_pair(
    client: Any, auth: Any, make_user: Any, clock: FakeClock
) -> None:
    user = make_user(Role.TEACHER)
    for _ in range(4):
        _login(client, user.email, WRONG)
    assert _login(client, user.email, PASSWORD).status_code == 302
    auth.logout()
    for _ in range(5):
        assert _login(client, user.email, WRONG).status_code == 200
    assert _login(client, user.email, PASSWORD).status_code == 429


def test_per_ip_ceiling_across_accounts(
    app: Flask, client: Any, make_user: Any, clock: FakeClock
) -> None:
    app.config["SIGNIN_LIMIT_IP"] = 3
    for n in range(3):
        assert _login(client, f"nobody{n}@example.se", WRONG).status_code == 200
    fresh = make_user(Role.TEACHER)
    refused = _login(client, fresh.email, PASSWORD)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) == 15 * 60
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
    start = datetime(2027, 1, 1, tzinfo=UTC)
    backend.add("pair:a", 60, start)
    backend.add("pair:b", 60, start)
    later = start + timedelta(seconds=ratelimit.KEEP_SECONDS + 1)
    token = backend.add("pair:a", 60, later)
    assert backend.others("pair:a", token, 60, later) == []
    assert _attempts(db) == 1  # both old rows are gone


def test_an_attempt_is_counted_before_it_is_judged(engine: sa.Engine) -> None:
    """Two workers interleaved the worst way: both store, then both count.
    At most one may pass a limit of one; counting first and storing later let
    both through."""
    rule = ratelimit.Ceiling(1, 900)
    check = ratelimit.Check("pair:race", rule)
    clock = FakeClock()
    with Session(engine) as first, Session(engine) as second:
        limiters = [
            ratelimit.Limiter(ratelimit.DatabaseBackend(s), clock=clock)
            for s in (first, second)
        ]
        attempts = []
        for session, limiter in zip((first, second), limiters, strict=True):
            attempts.append(limiter.reserve([check]))
            session.commit()
        waits = [
            limiter.judge(attempt)
            for limiter, attempt in zip(limiters, attempts, strict=True)
        ]
    assert sum(wait == 0 for wait in waits) <= 1, waits


# --- races: several processes at once --------------------------------------------

RACE_PROCESSES = 5
RACE_EACH = 6  # 30 guesses in all
RACE_TIME = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)


def _race_clock() -> datetime:
    # Every process lives at the same instant: no delay ever runs out, so any
    # check beyond the limit is the race, not the clock.
    return RACE_TIME


def _guess(url: str, emails: list[str], barrier: Any, results: Any) -> None:
    from moraspar import create_app

    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "race-secret",
            "WTF_CSRF_ENABLED": False,
            "SIGNIN_LIMIT_IP": 20,
        }
    )
    app.extensions["moraspar.clock"] = _race_clock
    client = app.test_client()
    client.get("/login")  # warm up before the start line
    barrier.wait(timeout=120)
    codes = [
        client.post(
            "/login",
            data={"email": email, "password": WRONG},
            environ_base={"REMOTE_ADDR": "192.0.2.10"},
        ).status_code
        for email in emails
    ]
    results.put(codes)


@pytest.fixture(params=["sqlite-file", "database-url"])
def race_url(request: Any, tmp_path: Any) -> Iterator[str]:
    if request.param == "database-url":
        if not TEST_DATABASE_URL:
            pytest.skip("MORASPAR_TEST_DATABASE_URL is not set")
        request.getfixturevalue("engine")  # tables made, and emptied afterwards
        yield TEST_DATABASE_URL
        return
    url = f"sqlite:///{tmp_path / 'race.db'}"
    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    engine.dispose()
    yield url


def _race(url: str, emails_per_process: list[list[str]]) -> tuple[list[int], int]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(emails_per_process))
    results = context.Queue()
    workers = [
        context.Process(target=_guess, args=(url, emails, barrier, results))
        for emails in emails_per_process
    ]
    for worker in workers:
        worker.start()
    codes = [code for _ in workers for code in results.get(timeout=300)]
    for worker in workers:
        worker.join(timeout=60)
    engine = make_engine(url)
    with Session(engine) as session:
        rows = _attempts(session)
    engine.dispose()
    return codes, rows


@pytest.mark.slow
def test_parallel_guesses_for_one_account_get_five_checks(race_url: str) -> None:
    emails = [["target@example.se"] * RACE_EACH for _ in range(RACE_PROCESSES)]
    codes, rows = _race(race_url, emails)
    checked = codes.count(200)
    assert set(codes) <= {200, 429}, codes
    assert 1 <= checked <= 5, codes
    assert rows == 2 * checked  # a refused guess leaves nothing behind


@pytest.mark.slow
def test_parallel_guesses_from_one_address_stop_at_its_ceiling(race_url: str) -> None:
    emails = [
        [f"p{p}-n{n}@example.se" for n in range(RACE_EACH)]
        for p in range(RACE_PROCESSES)
    ]
    codes, rows = _race(race_url, emails)
    checked = codes.count(200)
    assert set(codes) <= {200, 429}, codes
    assert 1 <= checked <= 20, codes
    assert rows == 2 * checked


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
    clock = FakeClock()
    limiter = ratelimit.Limiter(
        ratelimit.RedisBackend(redis_client, prefix), clock=clock
    )
    checks = [ratelimit.Check("ip:x", ratelimit.Ceiling(3, 900))]
    for _ in range(3):
        attempt = limiter.reserve(checks)
        assert limiter.judge(attempt) == 0
        attempt.failed()
    refused = limiter.reserve(checks)
    assert limiter.judge(refused) == 900
    assert redis_client.zcard(prefix + "ip:x") == 3  # the refusal took its event back
    assert 0 < redis_client.ttl(prefix + "ip:x") <= 900  # it will expire
    clock.advance(901)
    assert limiter.judge(limiter.reserve(checks)) == 0
    limiter.clear("ip:x")
    assert redis_client.zcard(prefix + "ip:x") == 0


def test_redis_counts_before_judging(redis_client: Any, prefix: str) -> None:
    clock = FakeClock()
    check = ratelimit.Check("pair:race", ratelimit.Ceiling(1, 900))
    workers = [
        ratelimit.Limiter(ratelimit.RedisBackend(redis_client, prefix), clock=clock)
        for _ in range(2)
    ]
    attempts = [worker.reserve([check]) for worker in workers]
    waits = [
        worker.judge(attempt) for worker, attempt in zip(workers, attempts, strict=True)
    ]
    assert sum(wait == 0 for wait in waits) <= 1, waits


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
    app.extensions["moraspar.clock"] = FakeClock()
    user = make_user(Role.TEACHER)
    first, second = app.test_client(), app.test_client()  # as two workers would
    here = {"REMOTE_ADDR": "10.0.0.1"}
    for client in (first, second, first, second, first):
        assert _login(client, user.email, WRONG, environ_base=here).status_code == 200
    response = _login(second, user.email, PASSWORD, environ_base=here)
    assert response.status_code == 429
    assert _attempts(db) == 0  # nothing went to the database
    assert any(redis_client.scan_iter(match=prefix + "pair:*"))
    elsewhere = {"REMOTE_ADDR": "10.0.0.2"}
    assert (
        _login(second, user.email, PASSWORD, environ_base=elsewhere).status_code == 302
    )


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
    import inspect

    from moraspar.config import defaults

    source = inspect.getsource(ratelimit)
    read = set(re.findall(r'config\["([A-Z_]+)"\]', source))
    read |= set(re.findall(r'_ceiling\("([A-Z_]+)"\)', source))
    settings = defaults(tmp_path)
    assert read and read <= set(settings), read - set(settings)
    assert settings["SIGNIN_LIMIT_IP"] >= 100  # a school behind one address
