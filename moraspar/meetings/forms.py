"""Forms of council meetings: the meeting itself and a decision per item."""

from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from moraspar.council.forms import decline_reason_choices
from moraspar.formkit.base import FlaskForm
from moraspar.formkit.choices import as_choices
from moraspar.formkit.ids import IdSelectField
from moraspar.formkit.select import SelectField
from moraspar.formkit.validators import NoPersonalNumber
from moraspar.i18n import lazy_gettext as _l

TOO_LONG = _l("At most %(max)d characters.")

OUTCOME_CHOICES = [
    ("", _l("No change to the proposal")),
    ("approve", _l("Approve the proposal")),
    ("decline", _l("Decline the proposal")),
    ("defer", _l("Defer the proposal")),
]


class MeetingForm(FlaskForm):
    title = StringField(
        _l("Title"),
        validators=[
            DataRequired(message=_l("Enter a title for the meeting.")),
            Length(max=200, message=TOO_LONG),
            NoPersonalNumber(),
        ],
        description=_l("E.g. Kompetensrådet, spring meeting."),
    )
    held_on = DateField(
        _l("Date"),
        validators=[InputRequired(message=_l("Enter the date of the meeting."))],
    )
    council_id = IdSelectField(
        _l("Council"),
        optional=True,
        validators=[InputRequired(message=_l("Choose the council that meets."))],
    )
    notes = TextAreaField(
        _l("Notes"),
        validators=[Optional(), Length(max=8000, message=TOO_LONG), NoPersonalNumber()],
        description=_l("Place, participants' organisations, anything to prepare."),
    )

    def set_councils(self, councils: list[tuple[int, str]]) -> None:
        self.council_id.choices = as_choices(councils)


class DecisionForm(FlaskForm):
    decision = TextAreaField(
        _l("Decision"),
        validators=[
            DataRequired(message=_l("Write down what the council decided.")),
            Length(max=2000, message=TOO_LONG),
            NoPersonalNumber(),
        ],
    )
    outcome = SelectField(
        _l("What happens to the proposal"),
        choices=as_choices(OUTCOME_CHOICES),
        validators=[Optional()],
    )
    decline_reason = SelectField(
        _l("Reason for declining"),
        choices=decline_reason_choices(),
        default="",
        description=_l(
            "Needed when the proposal is declined. For another reason, say which "
            "in the decision."
        ),
    )

    def validate_decline_reason(self, field: SelectField) -> None:
        if self.outcome.data != "decline":
            return
        if not field.data:
            raise ValidationError(_l("Choose why the proposal is declined."))
        # The decision text is the decline's comment: "other" must say which.
        if field.data == "other" and not (self.decision.data or "").strip():
            raise ValidationError(_l("Declining for another reason needs a comment."))
