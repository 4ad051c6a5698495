"""Upgrading gives every existing council every existing school and company,
so an installation sees after the upgrade what it saw before."""

import os
from pathlib import Path

import sqlalchemy as sa
from alembic import command

from moraspar.cli import alembic_config


def _url(tmp_path: Path) -> str:
    url = os.environ.get("MORASPAR_TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path / 'areas.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA IF EXISTS area_migration CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA area_migration"))
    engine.dispose()
    return url + "?options=-csearch_path%3Darea_migration"


def test_existing_councils_get_every_school_and_company(tmp_path: Path) -> None:
    url = _url(tmp_path)
    config = alembic_config(url)
    command.upgrade(config, "0002")
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            for org_id, kind in ((1, "school"), (2, "company"), (3, "municipality")):
                connection.execute(
                    sa.text(
                        "INSERT INTO organisation (id, kind, name, address, "
                        "postcode, locality, contact_name, contact_email, "
                        "contact_phone, website, description, approved, "
                        "created_at, updated_at) VALUES (:id, :kind, :name, '', "
                        "'', '', '', '', '', '', '', true, :now, :now)"
                    ),
                    {"id": org_id, "kind": kind, "name": kind, "now": "2026-12-01"},
                )
            connection.execute(
                sa.text(
                    "INSERT INTO council (id, name, kind, description, created_at) "
                    "VALUES (1, 'Kompetensrådet', 'kompetensrad', '', '2026-12-01')"
                )
            )
        command.upgrade(config, "council_areas")
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT council_id, organisation_id FROM council_organisation "
                    "ORDER BY organisation_id"
                )
            ).all()
        assert [tuple(r) for r in rows] == [(1, 1), (1, 2)]
    finally:
        engine.dispose()


def test_existing_councils_take_new_organisations(tmp_path: Path) -> None:
    url = _url(tmp_path)
    config = alembic_config(url)
    command.upgrade(config, "jobs")
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO council (id, name, kind, description, created_at) "
                    "VALUES (1, 'Kompetensrådet', 'kompetensrad', '', '2026-12-01')"
                )
            )
        command.upgrade(config, "council_new_organisations")
        with engine.connect() as connection:
            flag = connection.execute(
                sa.text("SELECT takes_new_organisations FROM council")
            ).scalar_one()
        assert flag == 1  # true on PostgreSQL, 1 on SQLite
    finally:
        engine.dispose()
