"""`moraspar backup` and `moraspar restore`: a round trip on the test database."""

import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel, func, select

from moraspar import create_app
from moraspar.db import make_engine
from moraspar.models import Organisation, OrgKind

PG_URL = os.environ.get("MORASPAR_TEST_DATABASE_URL", "")


def _count(engine: sa.Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(Organisation)).one())


def _round_trip(url: str, tmp_path: Path) -> None:
    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(Organisation(kind=OrgKind.SCHOOL, name="Före backup"))
        session.commit()
    app = create_app({"DATABASE_URL": url, "DATABASE_ENGINE": engine})
    runner = app.test_cli_runner()
    target = tmp_path / "backup.db"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert target.stat().st_size > 0

    with Session(engine) as session:
        session.add(Organisation(kind=OrgKind.SCHOOL, name="Efter backup"))
        session.commit()
    assert _count(engine) == 2
    engine.dispose()

    result = runner.invoke(args=["restore", "--yes", str(target)])
    assert result.exit_code == 0, result.output
    with Session(engine) as session:
        names = session.exec(select(Organisation.name)).all()
    assert names == ["Före backup"]
    engine.dispose()


def test_sqlite_backup_round_trip(tmp_path: Path) -> None:
    _round_trip(f"sqlite:///{tmp_path / 'live.db'}", tmp_path)


@pytest.mark.skipif(not PG_URL, reason="runs when MORASPAR_TEST_DATABASE_URL is set")
def test_postgresql_backup_round_trip(tmp_path: Path) -> None:
    if shutil.which("pg_dump") is None:
        pytest.fail("pg_dump is needed for PostgreSQL backups")
    name = f"moraspar_backup_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(PG_URL).set(database=name).render_as_string(False)
    try:
        _round_trip(url, tmp_path)
    finally:
        with admin.connect() as connection:
            connection.execute(
                sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            )
        admin.dispose()


def test_restore_asks_before_replacing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    app = create_app({"DATABASE_URL": url})
    (tmp_path / "b.db").write_bytes(b"")
    result: Any = app.test_cli_runner().invoke(
        args=["restore", str(tmp_path / "b.db")], input="n\n"
    )
    assert result.exit_code != 0
    assert "Aborted" in result.output
