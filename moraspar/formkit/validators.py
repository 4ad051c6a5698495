"""WTForms validators shared by several features' forms."""

import re
from typing import Any

from flask import flash, g, render_template
from markupsafe import Markup
from wtforms import Field, Form
from wtforms.validators import URL, ValidationError

from moraspar.i18n import lazy_gettext as _l
from moraspar.privacy import personal_data
from moraspar.reference import orgnumber


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


class WebAddress:
    """An http:// or https:// address with a host (WTForms' URL check), with
    one message whichever part is wrong: two validators in a chain would each
    add theirs."""

    _SCHEME = re.compile(r"^https?://", re.IGNORECASE)

    def __init__(self) -> None:
        self.message = _l("Enter a web address starting with https://.")
        self._url = URL(message=self.message)

    def __call__(self, form: Form, field: Field) -> None:
        if not self._SCHEME.match(field.data or ""):
            raise ValidationError(self.message)
        self._url(form, field)


IN_A_NAME = _l("This looks like a personal identity number. Write the name only.")


class NoPersonalNumber:
    """Refuse a personal identity number; warn about a student's health data.

    Works on text fields and on TagsField (a list of tags). The number check is
    moraspar.privacy.personal_data's, the same one the CSV import uses. A text
    that seems to name a student together with a health word is not refused:
    the user gets a warning with the reason and may edit the text.
    """

    def __init__(self, *, in_a_name: bool = False) -> None:
        # A person's name field (a user, a contact, a supervisor) says so
        # plainly; the students' advice is for the postings' texts.
        self.in_a_name = in_a_name

    def __call__(self, form: Form, field: Field) -> None:
        texts = _texts(field)
        if personal_data.any_personal_number(texts):
            if self.in_a_name:
                raise ValidationError(IN_A_NAME)
            raise ValidationError(
                _l(
                    "This looks like a personal identity number. Describe students "
                    "as a group only: no names, identity numbers or health data. "
                    "A phone number: write it as 070-123 45 67."
                )
            )
        mention = personal_data.student_health(", ".join(texts))
        if mention is not None:
            warn_student_health(field, mention)


def _texts(field: Field) -> list[str]:
    value: Any = field.data
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [item for item in value if isinstance(item, str)]
    return []


def warn_student_health(field: Field, mention: personal_data.HealthMention) -> None:
    """Flash why a student's health data is kept out: once a request, since
    flashed messages travel in the session cookie."""
    if g.get("student_health_warned"):
        return
    g.student_health_warned = True
    html = render_template(
        "privacy/_student_health_warning.html",
        field=field.label.text,
        name=mention.name,
        health_word=mention.health_word,
    )
    # The template escaped what the user typed: its output is safe markup.
    flash(Markup(html), "warning")  # noqa: S704  # nosec


def contains_personal_number(text: str) -> bool:
    return personal_data.contains_personal_number(text)
