"""Record ids read from URLs, query strings and forms of the council's pages
(and the bookings, meetings and notifications beside them).

Ids are PostgreSQL `integer` columns, 1..2**31-1. A number outside that range
names no record: it is "not found" (a 404 for an id in the path, an ignored
filter or choice elsewhere), never a database error. SQLite refuses integers
past 2**63 outright, PostgreSQL past 2**31 in an integer comparison.
"""

from collections.abc import Iterable, Mapping

from flask import Blueprint, abort

MAX_ID = 2**31 - 1


def valid_id(value: int) -> bool:
    return 1 <= value <= MAX_ID


def parse_id(raw: str | None) -> int | None:
    """The id in raw ("12"), or None for anything else (blank, "abc", "-1",
    "99999999999999999999")."""
    text = (raw or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_ID)):
        return None
    value = int(text)
    return value if valid_id(value) else None


def parse_ids(raws: Iterable[str]) -> list[int]:
    """The valid ids among raws, in order; the rest are left out."""
    return [value for raw in raws if (value := parse_id(raw)) is not None]


def _path_ids_in_range(
    _endpoint: str | None, values: Mapping[str, object] | None
) -> None:
    for value in (values or {}).values():
        number = isinstance(value, int) and not isinstance(value, bool)
        if number and not valid_id(value):  # type: ignore[arg-type]
            abort(404)


def guard_path_ids(bp: Blueprint) -> None:
    """404 for any <int:...> in the blueprint's URLs that names no record."""
    bp.url_value_preprocessor(_path_ids_in_range)
