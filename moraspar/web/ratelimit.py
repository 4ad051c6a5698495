"""Rate limits on password and code checks, shared by every worker.

Two rules, both counted per key within a window:

- a growing delay per (account, IP address) pair: after SIGNIN_FREE_FAILURES
  failures the next check waits 2, 4, 8 … seconds after the last failure, up to
  SIGNIN_MAX_DELAY_SECONDS. Nobody can lock an account from elsewhere: the
  owner's own address has its own pair.
- a hard ceiling per IP address (SIGNIN_LIMIT_IP failures per window), high
  enough for a school behind one NAT address; set PROXY_FIX_HOPS behind a
  reverse proxy, or every visitor shares the proxy's address.

An attempt is counted before the password is checked, atomically: the event is
stored and made visible to every worker first (a committed row, or a Redis
transaction), and only then are the events counted, this one included. Of N
attempts racing for the last free check, at most one sees a count that lets
it through. A refused attempt takes its event back; a successful one takes
its events back and clears its pair.

Events live in Redis when REDIS_URL is set, in the database (table
login_attempt) otherwise. Keys never hold an address or an IP in clear: they
are HMACs under the secret key ("pair:…", "ip:…").

Settings (defaults in moraspar.config; each also as a MORASPAR_* variable):
SIGNIN_FREE_FAILURES, SIGNIN_MAX_DELAY_SECONDS, SIGNIN_LIMIT_IP,
SIGNIN_WINDOW_SECONDS, RESET_LIMIT_IP, RESET_LIMIT_ACCOUNT, REGISTER_LIMIT_IP,
REDIS_URL, RATELIMIT_KEY_PREFIX.
"""

import hashlib
import hmac
import math
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from flask import Flask, current_app, render_template, request
from flask_babel import format_datetime, format_timedelta
from sqlmodel import Session, col, select
from werkzeug.wrappers import Response

from moraspar.models import LoginAttempt, User, utcnow

Clock = Callable[[], datetime]

KEEP_SECONDS = 3600


@dataclass(frozen=True)
class Ceiling:
    """At most `attempts` events per key within `window` seconds."""

    attempts: int
    window: int

    def wait(self, others: Sequence[datetime], now: datetime) -> int:
        excess = len(others) - self.attempts
        if excess < 0:
            return 0
        # Under the ceiling again once the (excess+1) oldest events expire.
        expires = sorted(others)[excess] + timedelta(seconds=self.window)
        return max(1, math.ceil((expires - now).total_seconds()))


@dataclass(frozen=True)
class Backoff:
    """`free` events per window without delay; then each check waits 2**k
    seconds after the latest event (k = 1, 2, …), at most `cap` seconds."""

    free: int
    cap: int
    window: int

    def delay(self, failures: int) -> int:
        if failures < self.free:
            return 0
        return min(2 ** min(failures - self.free + 1, 30), self.cap)

    def wait(self, others: Sequence[datetime], now: datetime) -> int:
        delay = self.delay(len(others))
        if not delay:
            return 0
        ready = max(others) + timedelta(seconds=delay)
        return max(0, math.ceil((ready - now).total_seconds()))


Rule = Ceiling | Backoff


@dataclass(frozen=True)
class Check:
    key: str
    rule: Rule
    clear_on_success: bool = False  # the pair forgets its failures on success


class Backend(Protocol):
    def add(self, key: str, window: int, now: datetime) -> str:
        """Store an event; return a token that names it."""
        ...

    def others(
        self, key: str, token: str, window: int, now: datetime
    ) -> list[datetime]:
        """Times of the key's events within the window, except token's."""
        ...

    def remove(self, key: str, token: str) -> None: ...

    def clear(self, key: str) -> None: ...


class DatabaseBackend:
    """One row per event. Flushes; `admit` commits so other workers see it."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, key: str, window: int, now: datetime) -> str:
        # Old rows are worthless: drop them as we go. One cutoff for every key,
        # so a short window never deletes a longer one's rows.
        cutoff = now - timedelta(seconds=max(window, KEEP_SECONDS))
        self.session.execute(
            sa.delete(LoginAttempt).where(col(LoginAttempt.at) <= cutoff)
        )
        row = LoginAttempt(key=key, at=now)
        self.session.add(row)
        self.session.flush()
        return str(row.id)

    def others(
        self, key: str, token: str, window: int, now: datetime
    ) -> list[datetime]:
        cutoff = now - timedelta(seconds=window)
        query = (
            select(LoginAttempt.at)
            .where(LoginAttempt.key == key)
            .where(col(LoginAttempt.at) > cutoff)
            .where(LoginAttempt.id != int(token))
        )
        return list(self.session.exec(query).all())

    def remove(self, key: str, token: str) -> None:
        self.session.execute(
            sa.delete(LoginAttempt).where(col(LoginAttempt.id) == int(token))
        )
        self.session.flush()

    def clear(self, key: str) -> None:
        self.session.execute(
            sa.delete(LoginAttempt).where(col(LoginAttempt.key) == key)
        )
        self.session.flush()


class RedisBackend:
    """A sorted set per key: one member per event, scored by its time.

    Adding, pruning and reading happen in one MULTI/EXEC transaction, so an
    event is visible to every worker before its own count is read.
    """

    def __init__(self, client: Any, prefix: str = "moraspar:rl:") -> None:
        self.client = client
        self.prefix = prefix
        self._seen: dict[str, list[datetime]] = {}

    def add(self, key: str, window: int, now: datetime) -> str:
        name = self.prefix + key
        token = secrets.token_hex(8)
        stamp = now.timestamp()
        pipe = self.client.pipeline(transaction=True)
        pipe.zadd(name, {token: stamp})
        pipe.zremrangebyscore(name, "-inf", stamp - window)
        pipe.zrange(name, 0, -1, withscores=True)
        pipe.expire(name, window)
        _added, _pruned, members, _expiry = pipe.execute()
        self._seen[token] = [
            datetime.fromtimestamp(score, tz=now.tzinfo)
            for member, score in members
            if _text(member) != token
        ]
        return token

    def others(
        self, key: str, token: str, window: int, now: datetime
    ) -> list[datetime]:
        # Read in the same transaction as the add: nothing can slip in between.
        cutoff = now - timedelta(seconds=window)
        return [at for at in self._seen.pop(token, []) if at > cutoff]

    def remove(self, key: str, token: str) -> None:
        self.client.zrem(self.prefix + key, token)

    def clear(self, key: str) -> None:
        self.client.delete(self.prefix + key)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass
class Attempt:
    """One counted attempt: its events, and how long it must wait (0: go on)."""

    limiter: "Limiter"
    events: list[tuple[Check, str]] = field(default_factory=list)
    wait: int = 0

    def succeeded(self, *, keep_pair: bool = False) -> None:
        """The password was right: it was no failure. keep_pair leaves the
        pair's failures for a second step still to come."""
        for check, token in self.events:
            self.limiter.backend.remove(check.key, token)
            if check.clear_on_success and not keep_pair:
                self.limiter.backend.clear(check.key)
        self.events = []

    def failed(self) -> None:
        """The password was wrong: the events stay and count."""
        self.events = []


class Limiter:
    def __init__(self, backend: Backend, *, clock: Clock = utcnow) -> None:
        self.backend = backend
        self.clock = clock

    def reserve(self, checks: Sequence[Check]) -> Attempt:
        now = self.clock()
        attempt = Attempt(self)
        for check in checks:
            token = self.backend.add(check.key, check.rule.window, now)
            attempt.events.append((check, token))
        return attempt

    def judge(self, attempt: Attempt) -> int:
        """Count the events (this attempt's already stored) and decide."""
        now = self.clock()
        attempt.wait = max(
            (
                check.rule.wait(
                    self.backend.others(check.key, token, check.rule.window, now),
                    now,
                )
                for check, token in attempt.events
            ),
            default=0,
        )
        if attempt.wait:
            # Refused before any check: it was no attempt at the password.
            for check, token in attempt.events:
                self.backend.remove(check.key, token)
            attempt.events = []
        return attempt.wait

    def clear(self, key: str) -> None:
        self.backend.clear(key)


# --- wiring into the app -------------------------------------------------------


def init_app(app: Flask) -> None:
    url = app.config["REDIS_URL"]
    if url:
        import redis

        app.extensions["moraspar.redis"] = redis.Redis.from_url(url)


def limiter(session: Session) -> Limiter:
    """The app's limiter: Redis when configured, else the request's database
    session."""
    clock: Clock = current_app.extensions.get("moraspar.clock", utcnow)
    client = current_app.extensions.get("moraspar.redis")
    backend: Backend
    if client is not None:
        backend = RedisBackend(client, current_app.config["RATELIMIT_KEY_PREFIX"])
    else:
        backend = DatabaseBackend(session)
    return Limiter(backend, clock=clock)


def admit(session: Session, checks: Sequence[Check]) -> Attempt:
    """Count an attempt before the password or code is checked.

    Commits the request's session twice: the stored events must be visible to
    every other worker before they are counted, and a refused attempt's events
    must be gone before the 429 goes out. Call it before the request changes
    anything else.
    """
    chosen = limiter(session)
    attempt = chosen.reserve(checks)
    session.commit()
    if chosen.judge(attempt):
        session.commit()
    return attempt


def _digest(kind: str, value: str) -> str:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    mac = hmac.new(secret, f"{kind}:{value}".encode(), hashlib.sha256)
    return f"{kind}:{mac.hexdigest()[:40]}"


def _window() -> int:
    return int(current_app.config["SIGNIN_WINDOW_SECONDS"])


def _ceiling(name: str) -> Ceiling:
    return Ceiling(int(current_app.config[name]), _window())


def client_ip() -> str:
    # ProxyFix (PROXY_FIX_HOPS) has already put the client's address here when
    # the app runs behind a trusted proxy; X-Forwarded-For is ignored otherwise.
    return request.remote_addr or "unknown"


def pair_key(email: str) -> str:
    return _digest("pair", f"{email.strip().lower()}|{client_ip()}")


def signin_checks(email: str) -> list[Check]:
    """Checks for a password or a code: the pair's delay, the IP's ceiling."""
    config = current_app.config
    backoff = Backoff(
        int(config["SIGNIN_FREE_FAILURES"]),
        int(config["SIGNIN_MAX_DELAY_SECONDS"]),
        _window(),
    )
    return [
        Check(pair_key(email), backoff, clear_on_success=True),
        Check(_digest("ip", client_ip()), _ceiling("SIGNIN_LIMIT_IP")),
    ]


def reset_checks(email: str) -> list[Check]:
    """Reset requests: per IP, and per address so nobody can flood a mailbox."""
    return [
        Check(
            _digest("reset-account", email.strip().lower()),
            _ceiling("RESET_LIMIT_ACCOUNT"),
        ),
        Check(_digest("reset-ip", client_ip()), _ceiling("RESET_LIMIT_IP")),
    ]


def register_checks() -> list[Check]:
    return [Check(_digest("register-ip", client_ip()), _ceiling("REGISTER_LIMIT_IP"))]


def action_link_checks() -> list[Check]:
    """Opened signed answer links, per IP: the token is long enough that
    guessing is hopeless; this keeps anyone from trying at speed."""
    return [Check(_digest("link-ip", client_ip()), _ceiling("ACTION_LINK_LIMIT_IP"))]


def code_used_checks(user: User, step: int) -> list[Check]:
    """A one-time code is used up once it has signed someone in: its time step
    is remembered for the window (which must outlast the codes' 90 seconds)."""
    window = max(_window(), 120)
    return [Check(_digest("code", f"{user.id}:{step}"), Ceiling(1, window))]


def too_many_attempts(retry_after: int) -> Response:
    """The 429 page in the user's language: how long to wait, and until when."""
    clock: Clock = current_app.extensions.get("moraspar.clock", utcnow)
    wait = timedelta(seconds=retry_after)
    page = render_template(
        "auth/too_many_attempts.html",
        wait=format_timedelta(wait, granularity="second", threshold=1.0),
        until=format_datetime(clock() + wait, "short"),
    )
    response = Response(page, status=429, mimetype="text/html")
    response.headers["Retry-After"] = str(retry_after)
    return response
