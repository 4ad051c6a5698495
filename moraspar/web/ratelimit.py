"""Sign-in rate limits per account and per IP address, shared by every worker.

Failures are counted in Redis when MORASPAR_REDIS_URL is set, in the database
(table login_attempt) otherwise, so that the limit holds across gunicorn
workers either way. Keys never hold an address or an IP in clear: they are
HMACs under the secret key ("account:…", "ip:…").

Configuration (defaults in moraspar.config; each also as a MORASPAR_* variable):
SIGNIN_LIMIT_ACCOUNT (failures per account and window), SIGNIN_LIMIT_IP
(failures per IP and window), RESET_LIMIT_IP (reset requests per IP and
window), SIGNIN_WINDOW_SECONDS, REDIS_URL, RATELIMIT_KEY_PREFIX.
"""

import hashlib
import hmac
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from flask import Flask, current_app, render_template, request
from sqlmodel import Session, col, func, select
from werkzeug.wrappers import Response

from moraspar.models import LoginAttempt, User, utcnow

Clock = Callable[[], datetime]

KEEP_SECONDS = 3600


@dataclass(frozen=True)
class Limit:
    attempts: int
    window: int  # seconds


class Backend(Protocol):
    """Counts events per key within a window that starts at the first event."""

    def hit(self, key: str, limit: Limit, now: datetime) -> None: ...

    def count(self, key: str, limit: Limit, now: datetime) -> int: ...

    def retry_after(self, key: str, limit: Limit, now: datetime) -> int:
        """Seconds until the key is under its limit again."""
        ...

    def clear(self, key: str) -> None: ...


class DatabaseBackend:
    """One row per event; a sliding window. Flushes, never commits."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def hit(self, key: str, limit: Limit, now: datetime) -> None:
        # Old rows are worthless: drop them as we go, so the table only holds
        # the last hour (or the longest window). One cutoff for every key, so
        # a short window never deletes a longer one's rows.
        cutoff = now - timedelta(seconds=max(limit.window, KEEP_SECONDS))
        self.session.execute(
            sa.delete(LoginAttempt).where(col(LoginAttempt.at) <= cutoff)
        )
        self.session.add(LoginAttempt(key=key, at=now))
        self.session.flush()

    def _recent(self, key: str, limit: Limit, now: datetime) -> Any:
        cutoff = now - timedelta(seconds=limit.window)
        return (
            select(LoginAttempt.at)
            .where(LoginAttempt.key == key)
            .where(col(LoginAttempt.at) > cutoff)
        )

    def count(self, key: str, limit: Limit, now: datetime) -> int:
        query = select(func.count()).select_from(
            self._recent(key, limit, now).subquery()
        )
        return int(self.session.exec(query).one())

    def retry_after(self, key: str, limit: Limit, now: datetime) -> int:
        excess = self.count(key, limit, now) - limit.attempts
        if excess < 0:
            return 0
        # The key is under its limit once the (excess+1)th oldest event expires.
        query = (
            self._recent(key, limit, now)
            .order_by(col(LoginAttempt.at))
            .offset(excess)
            .limit(1)
        )
        oldest = self.session.exec(query).first()
        if oldest is None:
            return 0
        expires = oldest + timedelta(seconds=limit.window)
        return max(1, math.ceil((expires - now).total_seconds()))

    def clear(self, key: str) -> None:
        self.session.execute(
            sa.delete(LoginAttempt).where(col(LoginAttempt.key) == key)
        )
        self.session.flush()


class RedisBackend:
    """A counter per key that expires a window after its first event.

    Redis keeps the time, so `now` is not used: the window cannot be moved by a
    test clock, only by Redis's own expiry.
    """

    def __init__(self, client: Any, prefix: str = "moraspar:rl:") -> None:
        self.client = client
        self.prefix = prefix

    def hit(self, key: str, limit: Limit, now: datetime) -> None:
        name = self.prefix + key
        pipe = self.client.pipeline(transaction=True)
        # SET NX EX starts the window on the first event; INCR keeps the TTL.
        pipe.set(name, 0, ex=limit.window, nx=True)
        pipe.incr(name)
        pipe.execute()

    def count(self, key: str, limit: Limit, now: datetime) -> int:
        value = self.client.get(self.prefix + key)
        return int(value) if value is not None else 0

    def retry_after(self, key: str, limit: Limit, now: datetime) -> int:
        if self.count(key, limit, now) < limit.attempts:
            return 0
        ttl = int(self.client.ttl(self.prefix + key))
        return max(1, ttl)

    def clear(self, key: str) -> None:
        self.client.delete(self.prefix + key)


class SignInLimiter:
    """Checks and counts failures for a set of keys, each with its own limit."""

    def __init__(self, backend: Backend, *, clock: Clock = utcnow) -> None:
        self.backend = backend
        self.clock = clock

    def retry_after(self, limits: Iterable[tuple[str, Limit]]) -> int:
        """0 if every key is under its limit, else seconds to wait."""
        now = self.clock()
        waits = [
            self.backend.retry_after(key, limit, now)
            for key, limit in limits
            if self.backend.count(key, limit, now) >= limit.attempts
        ]
        return max(waits, default=0)

    def hit(self, limits: Iterable[tuple[str, Limit]]) -> None:
        now = self.clock()
        for key, limit in limits:
            self.backend.hit(key, limit, now)

    def clear(self, key: str) -> None:
        self.backend.clear(key)


# --- wiring into the app -------------------------------------------------------


def init_app(app: Flask) -> None:
    url = app.config["REDIS_URL"]
    if url:
        import redis

        app.extensions["moraspar.redis"] = redis.Redis.from_url(url)


def limiter(session: Session) -> SignInLimiter:
    """The app's limiter: Redis when configured, else the request's database
    session (the caller commits)."""
    clock: Clock = current_app.extensions.get("moraspar.clock", utcnow)
    client = current_app.extensions.get("moraspar.redis")
    backend: Backend
    if client is not None:
        backend = RedisBackend(client, current_app.config["RATELIMIT_KEY_PREFIX"])
    else:
        backend = DatabaseBackend(session)
    return SignInLimiter(backend, clock=clock)


def _digest(kind: str, value: str) -> str:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    mac = hmac.new(secret, f"{kind}:{value}".encode(), hashlib.sha256)
    return f"{kind}:{mac.hexdigest()[:40]}"


def _limit(name: str) -> Limit:
    config = current_app.config
    return Limit(int(config[name]), int(config["SIGNIN_WINDOW_SECONDS"]))


def account_key(email: str) -> str:
    return _digest("account", email.strip().lower())


def client_ip() -> str:
    # ProxyFix (PROXY_FIX_HOPS) has already put the client's address here when
    # the app runs behind a trusted proxy; X-Forwarded-For is ignored otherwise.
    return request.remote_addr or "unknown"


def signin_limits(email: str) -> list[tuple[str, Limit]]:
    return [
        (account_key(email), _limit("SIGNIN_LIMIT_ACCOUNT")),
        (_digest("ip", client_ip()), _limit("SIGNIN_LIMIT_IP")),
    ]


def reset_limits(email: str) -> list[tuple[str, Limit]]:
    """Reset requests: per IP, and per address so nobody can flood a mailbox."""
    return [
        (
            _digest("reset-account", email.strip().lower()),
            _limit("SIGNIN_LIMIT_ACCOUNT"),
        ),
        (_digest("reset-ip", client_ip()), _limit("RESET_LIMIT_IP")),
    ]


def code_used_limits(user: User, step: int) -> list[tuple[str, Limit]]:
    """A one-time code is used up once it has signed someone in: its time step
    is remembered for the window (which must outlast the codes' 90 seconds)."""
    window = max(int(current_app.config["SIGNIN_WINDOW_SECONDS"]), 120)
    return [(_digest("code", f"{user.id}:{step}"), Limit(1, window))]


def too_many_attempts(retry_after: int) -> Response:
    """The 429 page in the user's language, with Retry-After."""
    from moraspar.web.errors import MESSAGES

    title, message = MESSAGES[429]
    page = render_template("errors/error.html", code=429, title=title, message=message)
    response = Response(page, status=429, mimetype="text/html")
    response.headers["Retry-After"] = str(retry_after)
    return response
