"""Forms of the booking step: a side's answer to a proposal, and the evaluation."""

from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from moraspar.formkit.base import FlaskForm
from moraspar.formkit.choices import as_choices
from moraspar.formkit.validators import NoPersonalNumber

TOO_LONG = _l("At most %(max)d characters.")
RATING_CHOICES = [
    (1, _l("1 – poor")),
    (2, "2"),
    (3, "3"),
    (4, "4"),
    (5, _l("5 – excellent")),
]


class RespondForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason (if you decline)"),
        description=_l(
            "Optional. Shown to the other side and the council; no student names."
        ),
        validators=[Optional(), Length(max=500, message=TOO_LONG), NoPersonalNumber()],
    )
    confirm = SubmitField(_l("Confirm"))
    decline = SubmitField(_l("Decline"))


def _rating(label: object) -> RadioField:
    return RadioField(
        label,
        choices=as_choices(RATING_CHOICES),
        coerce=int,
        validators=[InputRequired(message=_l("Choose a rating from 1 to 5."))],
    )


class EvaluationForm(FlaskForm):
    overall = _rating(_l("Overall, how did the placement go?"))
    supervision = _rating(_l("How was the supervision at the workplace?"))
    preparation = _rating(_l("How well prepared were the students?"))
    comment = TextAreaField(
        _l("Comment"),
        description=_l("Optional. Describe the group, never individual students."),
        validators=[Optional(), Length(max=2000, message=TOO_LONG), NoPersonalNumber()],
    )
