"""The form side of edit versions: the hidden field an edit form carries, and
the message shown when someone else saved first (see organisations/__init__)."""

from datetime import date
from typing import Any

from flask import flash
from flask_babel import format_date
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectChoice

from moraspar.formkit.select import SelectField
from moraspar.i18n import gettext as _
from moraspar.organisations import StaleEdit


class VersionField(HiddenField):
    """The version of the record the form was read at."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        # A posted form without the field read no version: not the stored one
        # (which HiddenField would keep from obj), so the save counts as stale.
        self.data = valuelist[0] if valuelist else None

    def read(self) -> int | None:
        """The version sent, or None for a new record (or a tampered field,
        which then counts as stale)."""
        if self.data is None:
            return None
        try:
            return int(self.data)
        except (TypeError, ValueError):
            return None

    def carry(self, version: int) -> None:
        """Send version with the form next time (after a stale save was shown)."""
        self.data = str(version)
        self.raw_data = [self.data]


def show_stale(form: FlaskForm, error: StaleEdit, *, version: VersionField) -> None:
    """Flash what someone else changed; the form keeps the user's input and
    now carries the stored version, so saving again overwrites knowingly."""
    changes = [
        _("%(field)s: %(value)s", field=_label(form, name), value=_value(form, name, v))
        for name, v in error.changes.items()
    ]
    if changes:
        flash(
            _(
                "Someone else saved this while you were editing it. They changed "
                "%(changes)s. Your input is kept below: check it against theirs "
                "and save again.",
                changes="; ".join(changes),
            ),
            "error",
        )
    else:
        flash(
            _(
                "Someone else saved this while you were editing it. Your input is "
                "kept below: check it and save again."
            ),
            "error",
        )
    version.carry(error.version)


def _label(form: FlaskForm, name: str) -> str:
    field = form._fields.get(name)
    return str(field.label.text) if field is not None else name


def _value(form: FlaskForm, name: str, value: Any) -> str:
    field = form._fields.get(name)
    if isinstance(field, SelectField) and field.choices:
        wanted = str(value if value is not None else "")
        for choice in field.choices:
            if isinstance(choice, SelectChoice):
                option, text = choice.value, choice.label
            else:
                option, text = choice[0], choice[1]
            if str(option) == wanted:
                return f"“{text}”"
    if value is None or value == "" or value == []:
        return "–"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, date):
        return format_date(value, "short")
    if isinstance(value, list | tuple):
        return "“" + ", ".join(str(item) for item in value) + "”"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return f"“{value}”"
    return str(value)
