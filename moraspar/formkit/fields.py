"""Form fields shared by the postings forms: skill tags and date periods."""

from datetime import date
from typing import Any

from wtforms import Field, StringField
from wtforms.validators import ValidationError

from moraspar.formkit.validators import NoPersonalNumber
from moraspar.i18n import lazy_gettext as _l
from moraspar.reference.vocabulary import parse_tags

MAX_TAGS = 30


class TagsField(StringField):
    """Skills or learning goals typed as comma-separated tags; data is a list.

    Rendered with data-tags so static/js/tags.js can offer suggestions from
    the skill vocabulary; without JavaScript it is a plain text box.
    """

    def __init__(self, label: Any = None, validators: Any = None, **kwargs: Any):
        render_kw = {"data-tags": "skills", "autocomplete": "off"}
        render_kw.update(kwargs.pop("render_kw", {}) or {})
        # Every tag field: a tag is free text and is shown to other users.
        validators = [*(validators or ()), NoPersonalNumber()]
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.raw_text = valuelist[0] if valuelist else ""
        self.data = parse_tags(self.raw_text, max_tags=MAX_TAGS + 1)

    def _value(self) -> str:
        if isinstance(self.data, list | tuple):
            return ", ".join(self.data)
        return str(self.data or "")

    def pre_validate(self, form: Any) -> None:
        if isinstance(self.data, list) and len(self.data) > MAX_TAGS:
            raise ValidationError(_l("At most 30 tags."))


class EndDate:
    """The end date is on or after the start date named start_field."""

    def __init__(self, start_field: str = "start_date") -> None:
        self.start_field = start_field

    def __call__(self, form: Any, field: Field) -> None:
        start: date | None = form[self.start_field].data
        if start and field.data and field.data < start:
            raise ValidationError(_l("The end date must not be before the start date."))
