"""WTForms validators shared by several features' forms."""

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import Field, Form
from wtforms.validators import ValidationError

from moraspar.reference import orgnumber

# YYMMDD-NNNN or YYYYMMDDNNNN with a plausible month and day: a Swedish
# personal identity number, which must never be stored with a posting.
_PERSONNUMMER = re.compile(
    r"(?<!\d)(?:19|20)?\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])[-+ ]?\d{4}(?!\d)"
)


class OrgNumber:
    def __call__(self, form: Form, field: Field) -> None:
        if not field.data:
            return
        try:
            field.data = orgnumber.normalise(field.data)
        except orgnumber.InvalidOrgNumber as exc:
            if exc.reason == "check_digit":
                raise ValidationError(
                    _l("The check digit is wrong: please check the number.")
                ) from exc
            raise ValidationError(
                _l("Write the organisation number as ten digits, e.g. 556036-0793.")
            ) from exc


class NoPersonalNumber:
    """Refuse text that looks like a personal identity number (personnummer)."""

    def __call__(self, form: Form, field: Field) -> None:
        value: Any = field.data
        if isinstance(value, str) and _PERSONNUMMER.search(value):
            raise ValidationError(
                _l(
                    "This looks like a personal identity number. Describe students "
                    "as a group only: no names, identity numbers or health data."
                )
            )


def contains_personal_number(text: str) -> bool:
    return bool(_PERSONNUMMER.search(text))
