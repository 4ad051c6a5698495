"""Pick-list options for WTForms select fields (WTForms 3.3's SelectChoice)."""

from collections.abc import Iterable
from typing import Any

from wtforms import SelectChoice


def as_choices(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    """[(value, label), ...] -> SelectChoice options, in the given order."""
    return [SelectChoice(value, label) for value, label in pairs]
