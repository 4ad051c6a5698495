"""Forms of the booking step: a side's answer to a proposal, and the evaluation."""

from typing import Any

from wtforms import DateField, RadioField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from moraspar.bookings.services import Cancellation, DateChange
from moraspar.formkit.base import FlaskForm
from moraspar.formkit.choices import as_choices
from moraspar.formkit.select import SelectField
from moraspar.formkit.validators import NoPersonalNumber
from moraspar.i18n import lazy_gettext as _l
from moraspar.models import CancelReason
from moraspar.reference.labels import DECLINE_REASON_LABELS

TOO_LONG = _l("At most %(max)d characters.")
RATING_CHOICES = [
    (1, _l("1 – poor")),
    (2, "2"),
    (3, "3"),
    (4, "4"),
    (5, _l("5 – excellent")),
]


DECLINE_CHOICES = [
    ("", _l("Choose a reason if you decline")),
    *DECLINE_REASON_LABELS.items(),
]


class RespondForm(FlaskForm):
    decline_reason = SelectField(
        _l("Why do you decline?"),
        choices=as_choices(DECLINE_CHOICES),
        validators=[Optional()],
    )
    reason = TextAreaField(
        _l("More about the reason (if you decline)"),
        description=_l(
            "Optional. Shown to the other side and the council; no student names."
        ),
        validators=[Optional(), Length(max=500, message=TOO_LONG), NoPersonalNumber()],
    )
    confirm = SubmitField(_l("Confirm"))
    decline = SubmitField(_l("Decline"))

    def validate(self, extra_validators: Any = None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.decline.data and not self.decline_reason.data:
            self.decline_reason.errors = [_l("Choose why you decline.")]
            return False
        return True


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


CANCEL_REASONS = {
    CancelReason.SUPERVISOR_UNAVAILABLE: _l("No supervisor available"),
    CancelReason.STUDENTS_UNAVAILABLE: _l("The students cannot come"),
    CancelReason.SCHEDULE: _l("Clash with the schedule"),
    CancelReason.ILLNESS: _l("Illness"),
    CancelReason.OTHER: _l("Other reason"),
}


class CancelForm(FlaskForm):
    reason = RadioField(
        _l("Why is the booking called off?"),
        choices=as_choices(CANCEL_REASONS.items()),
        validators=[InputRequired(message=_l("Choose a reason."))],
    )
    comment = TextAreaField(
        _l("More about the reason"),
        description=_l(
            "Optional. Shown to the other side and the council; no student names."
        ),
        validators=[Optional(), Length(max=500, message=TOO_LONG), NoPersonalNumber()],
    )
    submit = SubmitField(_l("Call off the booking"))

    def to_data(self) -> Cancellation:
        return Cancellation(
            reason=CancelReason(self.reason.data),
            comment=(self.comment.data or "").strip(),
        )


class DateChangeForm(FlaskForm):
    start = DateField(
        _l("New first day"),
        validators=[InputRequired(message=_l("Give the new first day."))],
    )
    end = DateField(
        _l("New last day"),
        validators=[InputRequired(message=_l("Give the new last day."))],
    )
    submit = SubmitField(_l("Ask the other side"))

    def to_data(self) -> DateChange:
        return DateChange(start=self.start.data, end=self.end.data)


class AnswerChangeForm(FlaskForm):
    accept = SubmitField(_l("Accept the new dates"))
    decline = SubmitField(_l("Keep the old dates"))


class AttendanceForm(FlaskForm):
    came = SubmitField(_l("The students came"))
    no_show = SubmitField(_l("The students did not come"))
