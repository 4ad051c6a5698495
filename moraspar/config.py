"""Configuration: safe development defaults, overridden by MORASPAR_* variables.

Every setting can be given as an environment variable with the MORASPAR_ prefix
(MORASPAR_DATABASE_URL, MORASPAR_SECRET_KEY, ...); Flask parses the value as JSON
where it can, so MORASPAR_MAIL_PORT=587 arrives as an int.
"""

import os
from pathlib import Path
from typing import Any

DEV_SECRET_KEY = "dev-only-insecure-secret-key"  # noqa: S105 - refused in production
ENV_PREFIX = "MORASPAR"


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
        "BASE_URL": "http://127.0.0.1:5000",
        "BABEL_DEFAULT_LOCALE": "sv",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Stockholm",
        "LANGUAGES": ["sv", "en"],
        "MAIL_FROM": "Moraspår <no-reply@moraspar.example>",
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
        "METRICS_TOKEN": "",
        "LOG_FORMAT": "text",
        # argon2 profile for new password hashes; tests use "CHEAPEST".
        "PASSWORD_HASH_PROFILE": "RFC_9106_LOW_MEMORY",
        "PASSWORD_RESET_MAX_AGE": 3600,
        "INVITE_MAX_AGE": 7 * 24 * 3600,
        "PAGE_SIZE": 20,
        "RETENTION_MONTHS": 24,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": False,
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
        "PROXY_FIX_HOPS": 0,
        "SQL_ECHO": False,
    }


def check_production(config: dict[str, Any]) -> None:
    """Refuse to start in production with a missing or default secret key."""
    if config.get("ENV") != "production":
        return
    secret = config.get("SECRET_KEY")
    if not secret or secret == DEV_SECRET_KEY or len(str(secret)) < 32:
        raise ConfigError(
            "MORASPAR_SECRET_KEY must be set to a random value of at least 32 "
            "characters in production"
        )
    config["SESSION_COOKIE_SECURE"] = True
    config["REMEMBER_COOKIE_SECURE"] = True


def configure(app: Any, test_config: dict[str, Any] | None) -> None:
    """Defaults, then MORASPAR_* variables, then the test's overrides."""
    instance = default_instance_path()
    app.instance_path = str(instance)
    app.config.from_mapping(defaults(instance))
    app.config.from_prefixed_env(ENV_PREFIX)
    if test_config is not None:
        app.config.from_mapping(test_config)
    check_production(app.config)
    if not app.config["DATABASE_URL"].startswith("sqlite:///"):
        return
    instance.mkdir(parents=True, exist_ok=True)
