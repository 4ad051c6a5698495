"""The lowest versions pyproject.toml allows are the ones CI installs once."""

import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _floors() -> dict[str, str]:
    module = runpy.run_path(str(ROOT / ".ci" / "floors.py"))
    pins = module["floors"](ROOT / "pyproject.toml")
    return dict(pin.split("==") for pin in pins)


def test_every_runtime_dependency_has_a_floor() -> None:
    floors = _floors()
    for name in ("flask", "sqlmodel", "sqlalchemy", "alembic", "psycopg", "numpy"):
        assert name in floors, name


def test_sqlmodel_floor_has_the_type_the_migrations_use() -> None:
    # sqlmodel.sql.sqltypes.UTCDateTime, used by migrations/versions, arrived
    # in sqlmodel 0.0.45.
    used = any(
        "sqlmodel.sql.sqltypes.UTCDateTime" in path.read_text(encoding="utf-8")
        for path in (ROOT / "migrations" / "versions").glob("*.py")
    )
    assert used
    version = tuple(int(part) for part in _floors()["sqlmodel"].split("."))
    assert version >= (0, 0, 45)
