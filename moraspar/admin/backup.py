"""Backups: SQLite's online backup API, or pg_dump / pg_restore for PostgreSQL."""

import shutil
import sqlite3

# subprocess runs pg_dump/pg_restore with fixed arguments and no shell.
import subprocess  # nosec B404
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(RuntimeError):
    pass


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _libpq_url(url: str) -> str:
    """postgresql+psycopg://… -> postgresql://… for the command-line tools."""
    return (
        make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    )


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed")
    return path


def backup(url: str, target: Path) -> Path:
    """Write a consistent copy of the database at url to target, while it runs."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if url.startswith("sqlite"):
        source = sqlite3.connect(_sqlite_path(url))
        copy = sqlite3.connect(target)
        try:
            with copy:
                source.backup(copy)
        finally:
            copy.close()
            source.close()
        return target
    if url.startswith("postgresql"):
        # A fixed tool and argument list, no shell.
        subprocess.run(  # noqa: S603  # nosec B603
            [
                _tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--file",
                str(target),
                _libpq_url(url),
            ],
            check=True,
            capture_output=True,
        )
        return target
    raise BackupError(f"no backup method for {make_url(url).drivername}")


def restore(url: str, source: Path) -> None:
    """Replace the database at url with the backup in source (stop the app first)."""
    if not source.is_file():
        raise BackupError(f"{source} does not exist")
    if url.startswith("sqlite"):
        backup_db = sqlite3.connect(source)
        live = sqlite3.connect(_sqlite_path(url))
        try:
            with live:
                backup_db.backup(live)
        finally:
            live.close()
            backup_db.close()
        return
    if url.startswith("postgresql"):
        # A fixed tool and argument list, no shell.
        subprocess.run(  # noqa: S603  # nosec B603
            [
                _tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--dbname",
                _libpq_url(url),
                str(source),
            ],
            check=True,
            capture_output=True,
        )
        return
    raise BackupError(f"no restore method for {make_url(url).drivername}")
