"""Configuration: safe development defaults, overridden by MORASPAR_* variables.

Every setting can be given as an environment variable with the MORASPAR_ prefix
(MORASPAR_DATABASE_URL, MORASPAR_SECRET_KEY, ...); Flask parses the value as JSON
where it can, so MORASPAR_MAIL_PORT=587 arrives as an int.

Every setting the code reads has its default here, in `defaults`.
"""

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from moraspar.paths import translations_folder

DEV_SECRET_KEY = "dev-only-insecure-secret-key"  # noqa: S105 - refused in production
DEV_BASE_URL = "http://127.0.0.1:5000"  # refused in production
ENV_PREFIX = "MORASPAR"
# Hosts a development server is opened on, trusted besides BASE_URL's.
LOCAL_HOSTS = ("localhost", "127.0.0.1")


class ConfigError(RuntimeError):
    """The configuration cannot run safely (e.g. production without a secret)."""


def default_instance_path() -> Path:
    """MORASPAR_INSTANCE_PATH, else instance/ in the checkout, else in the cwd."""
    configured = os.environ.get(f"{ENV_PREFIX}_INSTANCE_PATH")
    if configured:
        return Path(configured).resolve()
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file():
        return checkout / "instance"
    return Path.cwd() / "instance"


def database_url(instance_path: Path | None = None) -> str:
    """The database URL from the environment, or the embedded SQLite default.

    Alembic's env.py calls this without building the app.
    """
    url = os.environ.get(f"{ENV_PREFIX}_DATABASE_URL")
    if url:
        return url
    folder = instance_path or default_instance_path()
    return f"sqlite:///{folder / 'moraspar.db'}"


def defaults(instance_path: Path) -> dict[str, Any]:
    return {
        "ENV": "development",
        "SECRET_KEY": DEV_SECRET_KEY,
        "DATABASE_URL": database_url(instance_path),
        # The site's address: every link in an email is built from it, never
        # from the request's Host header.
        "BASE_URL": DEV_BASE_URL,
        # Host names requests may carry (others get a 400); None: BASE_URL's
        # host and SERVER_NAME's, plus localhost and 127.0.0.1 outside production.
        "TRUSTED_HOSTS": None,
        "SERVER_NAME": None,
        "BABEL_DEFAULT_LOCALE": "sv",
        "BABEL_TRANSLATION_DIRECTORIES": translations_folder(),
        "BABEL_DEFAULT_TIMEZONE": "Europe/Stockholm",
        "LANGUAGES": ["sv", "en"],
        "MAIL_FROM": "Moraspår <no-reply@moraspar.example>",
        # Where a school asks the business office for an invitation (the
        # front page names it).
        "BUSINESS_OFFICE_EMAIL": "naringsliv@moraspar.example",
        "MAIL_SERVER": "",
        "MAIL_PORT": 25,
        "MAIL_USERNAME": "",
        "MAIL_PASSWORD": "",
        "MAIL_USE_TLS": False,
        "MAIL_TLS_CAFILE": "",
        "MAIL_TIMEOUT": 30,
        "MAIL_LEASE_SECONDS": 300,
        "MAIL_MAX_ATTEMPTS": 10,
        "MAIL_RETRY_SECONDS": 60,
        "OUTBOX_DIR": str(instance_path / "outbox"),
        # The task queue: a SQLite file beside the database by default,
        # redis://host:6379/0 when web and workers are separate machines.
        "QUEUE_URL": f"sqlite:///{instance_path / 'jobs.db'}",
        "JOBS_IMMEDIATE": False,
        "JOB_LEASE_SECONDS": 600,
        # Seconds between a change of the postings and the refit of the
        # matching model it asks for (changes meanwhile share that refit).
        "MODEL_REFRESH_DELAY": 60,
        "METRICS_TOKEN": "",
        "LOG_FORMAT": "text",
        # argon2 profile for new password hashes; tests use "CHEAPEST".
        "PASSWORD_HASH_PROFILE": "RFC_9106_LOW_MEMORY",
        "PASSWORD_RESET_MAX_AGE": 3600,
        "INVITE_MAX_AGE": 7 * 24 * 3600,
        "PAGE_SIZE": 20,
        # Rendered fragments (review-board cards) memoised per worker by the
        # values they show (moraspar/web/fragments.py); 0 turns it off.
        "FRAGMENT_MEMO_SIZE": 2000,
        # Whole pages of the busiest views served again per worker while the
        # database's change counter stands still (moraspar/web/pagecache.py):
        # at most this many pages (0 turns it off), each at most this old.
        "PAGE_CACHE_SIZE": 500,
        "PAGE_CACHE_SECONDS": 60,
        # Shortest period of a placement per kind, in weekdays (Mon–Fri):
        # APL at least two weeks, prao at least three days.
        "MIN_PLACEMENT_WEEKDAYS": {"apl": 10, "prao": 3},
        "RETENTION_MONTHS": 24,
        # Reminders (moraspar.bookings.reminders): a side that has not answered
        # an approved proposal after this many working days, and a side that
        # has not evaluated a booking this many days after its end.
        "REMINDER_UNANSWERED_WORKDAYS": 3,
        "REMINDER_EVALUATION_DAYS": 7,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_DURATION": 30 * 24 * 3600,
        # A signed-in session ends after this long without a request, and
        # this long after signing in (moraspar.auth.sessions).
        "SESSION_IDLE_SECONDS": 2 * 3600,
        "SESSION_MAX_SECONDS": 12 * 3600,
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
        "PROXY_FIX_HOPS": 0,
        # Fernet key(s) for TOTP secrets, comma-separated to rotate (the first
        # encrypts); derived from SECRET_KEY when empty, refused in production.
        "TOTP_KEY": "",
        # Rate limits (moraspar.web.ratelimit); Redis shares them across
        # workers when REDIS_URL is set, else the database does. Failures per
        # account and IP pair before each check waits 2, 4, 8 ... seconds:
        "SIGNIN_FREE_FAILURES": 5,
        "SIGNIN_MAX_DELAY_SECONDS": 5 * 60,
        # Failures per IP and window, whatever the account: high, for a
        # school behind one address.
        "SIGNIN_LIMIT_IP": 200,
        "SIGNIN_WINDOW_SECONDS": 15 * 60,
        "RESET_LIMIT_ACCOUNT": 5,
        "RESET_LIMIT_IP": 10,
        "REGISTER_LIMIT_IP": 10,
        # Opened signed answer links (moraspar.bookings.links) per IP and
        # window: a company answers a handful, a guesser needs millions.
        "ACTION_LINK_LIMIT_IP": 60,
        # Days an emailed answer link stays valid.
        "ACTION_LINK_DAYS": 14,
        "REDIS_URL": "",
        "RATELIMIT_KEY_PREFIX": "moraspar:rl:",
        "SQL_ECHO": False,
        # A ready engine handed in by the tests; None: built from DATABASE_URL.
        "DATABASE_ENGINE": None,
    }


def check_production(config: dict[str, Any]) -> None:
    """Refuse to start in production with a missing or default secret key, or
    without the site's own https address."""
    if config.get("ENV") != "production":
        return
    secret = config.get("SECRET_KEY")
    if not secret or secret == DEV_SECRET_KEY or len(str(secret)) < 32:
        raise ConfigError(
            "MORASPAR_SECRET_KEY must be set to a random value of at least 32 "
            "characters in production"
        )
    base_url = str(config.get("BASE_URL") or "")
    if base_url == DEV_BASE_URL or urlsplit(base_url).scheme != "https":
        raise ConfigError(
            "MORASPAR_BASE_URL must be set to the site's https:// address in "
            "production (e.g. https://moraspar.mora.se)"
        )
    if not config.get("TOTP_KEY"):
        raise ConfigError(
            "MORASPAR_TOTP_KEY must be set in production: a Fernet key (e.g. from "
            "`python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'`)"
        )
    config["SESSION_COOKIE_SECURE"] = True
    config["REMEMBER_COOKIE_SECURE"] = True


def checked_base_url(value: object) -> str:
    """BASE_URL without a trailing slash; ConfigError unless it is an http(s)
    address with a host."""
    url = str(value or "").rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"MORASPAR_BASE_URL must be the site's address, such as "
            f"https://moraspar.mora.se, not {value!r}"
        )
    if parts.query or parts.fragment:
        raise ConfigError("MORASPAR_BASE_URL must not carry a query or fragment")
    return url


def trusted_hosts(config: dict[str, Any]) -> list[str]:
    """The host names requests may name: BASE_URL's and SERVER_NAME's, plus
    the local ones outside production."""
    hosts = [urlsplit(config["BASE_URL"]).hostname or ""]
    server_name = config.get("SERVER_NAME")
    if server_name:
        hosts.append(urlsplit(f"//{server_name}").hostname or "")
    if config.get("ENV") != "production":
        hosts.extend(LOCAL_HOSTS)
    return list(dict.fromkeys(host for host in hosts if host))


def configure(app: Any, test_config: dict[str, Any] | None) -> None:
    """Defaults, then MORASPAR_* variables, then the test's overrides."""
    instance = default_instance_path()
    app.instance_path = str(instance)
    app.config.from_mapping(defaults(instance))
    app.config.from_prefixed_env(ENV_PREFIX)
    if test_config is not None:
        app.config.from_mapping(test_config)
    app.config["BASE_URL"] = checked_base_url(app.config["BASE_URL"])
    check_production(app.config)
    if app.config["TRUSTED_HOSTS"] is None:
        app.config["TRUSTED_HOSTS"] = trusted_hosts(app.config)
    elif isinstance(app.config["TRUSTED_HOSTS"], str):
        app.config["TRUSTED_HOSTS"] = [app.config["TRUSTED_HOSTS"]]
    if not app.config["DATABASE_URL"].startswith("sqlite:///"):
        return
    instance.mkdir(parents=True, exist_ok=True)
