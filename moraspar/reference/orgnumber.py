"""Swedish organisation numbers (organisationsnummer): format and check digit."""

import re

_SHAPE = re.compile(r"^(\d{6})-?(\d{4})$")


class InvalidOrgNumber(ValueError):
    """Not a valid Swedish organisation number; `reason` says which rule failed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "format" or "check_digit"


def luhn_check_digit(first_nine: str) -> int:
    total = 0
    for position, char in enumerate(first_nine):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return (10 - total % 10) % 10


def normalise(raw: str) -> str:
    """'5560360793' or '556036-0793' -> '556036-0793'; raises InvalidOrgNumber."""
    match = _SHAPE.match(raw.strip().replace(" ", ""))
    if not match:
        raise InvalidOrgNumber("format")
    digits = match.group(1) + match.group(2)
    if luhn_check_digit(digits[:9]) != int(digits[9]):
        raise InvalidOrgNumber("check_digit")
    return f"{digits[:6]}-{digits[6:]}"


def complete(first_nine: str) -> str:
    """The valid number that starts with first_nine (for demo data and tests)."""
    return normalise(first_nine + str(luhn_check_digit(first_nine)))
