"""URL converters: <int:...> in a route is a record id, 1 to 2**31 - 1.

Werkzeug's int converter takes any length of digits; a number past
PostgreSQL's integer range then fails in the database (a 500). Bounded here,
/school/needs/99999999999 is a 404 like any other missing record.
"""

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

from moraspar.formkit.ids import MAX_ID


class IdConverter(IntegerConverter):
    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int = MAX_ID,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


def register_url_converters(app: Flask) -> None:
    """Before the blueprints: a rule picks its converter when it is added."""
    app.url_map.converters["int"] = IdConverter
