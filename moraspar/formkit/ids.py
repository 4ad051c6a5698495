"""Record ids typed or tampered with by the client: whole numbers 1 to 2**31 - 1.

Ids are PostgreSQL `integer` columns: a larger number in a query is a database
error (a 500), not "no such record". The id pick lists (`IdSelectField`,
`IdMultipleField`) refuse anything else with a form error; `parse_id` is for
query strings and ticked lists, where a bad id is simply ignored.
"""

from collections.abc import Iterable
from typing import Any

from moraspar.formkit.select import SelectField, SelectMultipleField
from moraspar.i18n import lazy_gettext as _l

MAX_ID = 2**31 - 1
NOT_AN_OPTION = _l("Choose one of the options in the list.")


def record_id(value: object) -> int:
    """value as an id; ValueError unless it is a whole number in 1..MAX_ID."""
    text = str(value).strip()
    if not text.isascii() or not text.isdigit():
        raise ValueError(f"not an id: {text[:20]!r}")
    number = int(text)
    if not 1 <= number <= MAX_ID:
        raise ValueError(f"id out of range: {text[:20]!r}")
    return number


def optional_record_id(value: object) -> int | None:
    """As record_id, but empty (no choice) is None."""
    if value in (None, "", "None"):
        return None
    return record_id(value)


def parse_id(raw: str | None) -> int | None:
    """raw as an id, or None when it is not one."""
    try:
        return optional_record_id(raw)
    except ValueError:
        return None


def parse_ids(raws: Iterable[str]) -> list[int]:
    """The ids among raws, in order; anything that is not one is left out."""
    return [value for raw in raws if (value := parse_id(raw)) is not None]


def valid_id(value: int) -> bool:
    return 1 <= value <= MAX_ID


class IdSelectField(SelectField):
    """A pick list of records: data is an id (None when empty and optional=True)."""

    data: Any

    def __init__(self, *args: Any, optional: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("coerce", optional_record_id if optional else record_id)
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            self.data = None
            raise ValueError(NOT_AN_OPTION) from exc


class IdMultipleField(SelectMultipleField):
    """Ticked records: data is a list of ids."""

    data: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("coerce", record_id)
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            self.data = []
            raise ValueError(NOT_AN_OPTION) from exc
