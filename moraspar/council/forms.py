"""Forms of the council: starting a run, decisions, bulk decisions, reversals."""

from typing import Any

from wtforms import (
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, Length, Optional, ValidationError

from moraspar.council import services
from moraspar.formkit.base import FlaskForm
from moraspar.formkit.choices import as_choices
from moraspar.formkit.ids import IdMultipleField
from moraspar.formkit.validators import NoPersonalNumber
from moraspar.i18n import lazy_gettext as _l

TOO_LONG = _l("At most %(max)d characters.")
COMMENT_MAX = 2000

DECLINE_REASON_LABELS = {
    "no_capacity": _l("No capacity"),
    "wrong_period": _l("Wrong period"),
    "too_far": _l("Too far away"),
    "not_suitable": _l("Not suitable"),
    "other": _l("Other (say which in the comment)"),
}
ACTION_LABELS = {
    services.APPROVE: _l("Approve"),
    services.DECLINE: _l("Decline"),
    services.DEFER: _l("Defer"),
}


def decline_reason_choices() -> list[Any]:
    return as_choices(
        [("", _l("Choose a reason"))]
        + [(code, DECLINE_REASON_LABELS[code]) for code in services.DECLINE_REASONS]
    )


def _comment(label: Any) -> TextAreaField:
    return TextAreaField(
        label,
        validators=[
            Optional(),
            Length(max=COMMENT_MAX, message=TOO_LONG),
            NoPersonalNumber(),
        ],
    )


def _check_decline(action: str | None, reason: Any, comment: Any) -> None:
    if action != services.DECLINE:
        return
    if not reason.data:
        raise ValidationError(_l("Choose why the proposal is declined."))
    if reason.data == "other" and not (comment.data or "").strip():
        comment.errors = [*comment.errors, _l("Say why in the comment.")]
        raise ValidationError(_l("Declining for another reason needs a comment."))


class RunForm(FlaskForm):
    """Starts a match run for one of the user's councils (a hidden field when
    they sit on one only)."""

    council_id = SelectField(_l("Council"), coerce=int)

    def set_councils(self, choices: list[tuple[int, str]]) -> None:
        self.council_id.choices = choices
        if len(choices) == 1 and not self.council_id.raw_data:
            self.council_id.data = choices[0][0]  # the only council: no choice


class DecisionForm(FlaskForm):
    action = StringField(
        _l("Decision"),
        validators=[
            DataRequired(),
            AnyOf(services.ACTIONS, message=_l("Choose a decision.")),
        ],
    )
    decline_reason = SelectField(
        _l("Reason for declining"), choices=decline_reason_choices(), default=""
    )
    comment = _comment(_l("Comment"))
    next = HiddenField()

    def validate_decline_reason(self, field: SelectField) -> None:
        _check_decline(self.action.data, field, self.comment)


class BulkForm(FlaskForm):
    """One decision for the proposals ticked on the board (names prefixed by
    hand, not with a form prefix, so the CSRF token keeps its usual name)."""

    # No Optional(): it would stop the chain before validate_proposal, and an
    # empty tick list would reach the service as "nothing could be changed".
    proposal = IdMultipleField(_l("Proposals"), validate_choice=False)
    bulk_action = SelectField(
        _l("Decision for the selected"),
        choices=as_choices(
            [("", _l("Choose a decision"))]
            + [(a, ACTION_LABELS[a]) for a in services.ACTIONS]
        ),
        validators=[
            DataRequired(message=_l("Choose a decision.")),
            AnyOf(services.ACTIONS, message=_l("Choose a decision.")),
        ],
    )
    bulk_reason = SelectField(
        _l("Reason, when declining"), choices=decline_reason_choices(), default=""
    )
    bulk_comment = _comment(_l("Comment"))
    next = HiddenField()

    def validate_proposal(self, field: SelectMultipleField) -> None:
        if not field.data:
            raise ValidationError(_l("You have not selected any proposals."))

    def validate_bulk_reason(self, field: SelectField) -> None:
        _check_decline(self.bulk_action.data, field, self.bulk_comment)


class ReverseForm(FlaskForm):
    reason = TextAreaField(
        _l("Why is the decision reversed?"),
        validators=[
            DataRequired(message=_l("Say why the decision is reversed.")),
            Length(max=COMMENT_MAX, message=TOO_LONG),
            NoPersonalNumber(),
        ],
    )
