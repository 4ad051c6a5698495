import re
from typing import Any

from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Regexp

from moraspar.auth.services import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from moraspar.formkit.base import FlaskForm
from moraspar.formkit.choices import as_choices
from moraspar.formkit.select import SelectField
from moraspar.formkit.validators import NoPersonalNumber, OrgNumber
from moraspar.i18n import lazy_gettext as _l
from moraspar.notifications.services import Kind
from moraspar.reference.gazetteer import LOCALITIES

_PASSWORD_HELP = _l(
    "At least 12 characters. A few random words make a strong, memorable password."
)


def _new_password(label: object = None) -> PasswordField:
    # The label is marked for translation here, where the catalogue finds it.
    return PasswordField(
        label or _l("New password"),
        validators=[
            DataRequired(message=_l("Choose a password.")),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=MAX_PASSWORD_LENGTH,
                message=_l("The password must be 12 to 256 characters long."),
            ),
        ],
        description=_PASSWORD_HELP,
    )


def _confirm(target: str) -> PasswordField:
    return PasswordField(
        _l("Repeat the password"),
        validators=[
            DataRequired(message=_l("Repeat the password.")),
            EqualTo(target, message=_l("The passwords do not match.")),
        ],
    )


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _email() -> EmailField:
    return EmailField(
        _l("Email"),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Enter your email address.")),
            Email(message=_l("Enter a valid email address.")),
            Length(max=254),
        ],
    )


class LoginForm(FlaskForm):
    email = _email()
    password = PasswordField(
        _l("Password"), validators=[DataRequired(message=_l("Enter your password."))]
    )
    remember = BooleanField(_l("Keep me signed in on this device"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(message=_l("Enter your current password."))],
    )
    password = _new_password()
    confirm = _confirm("password")


class ResetRequestForm(FlaskForm):
    email = _email()


class SetPasswordForm(FlaskForm):
    password = _new_password()
    confirm = _confirm("password")


# The optional notices, as the profile page and the unsubscribe page name them.
NOTICE_LABELS: dict[str, Any] = {
    Kind.CONFIRMATION_NEEDED: _l("A proposal waits for my confirmation"),
    Kind.PROPOSAL_APPROVED: _l("A proposal is approved"),
    Kind.PROPOSAL_DECLINED_BY_PARTY: _l("A proposal is declined"),
    Kind.BOOKING_CREATED: _l("A booking is made"),
    Kind.EVALUATION_REQUESTED: _l("An evaluation is asked for"),
    Kind.REMINDER_UNANSWERED: _l("Reminder: a proposal still waits for my answer"),
    Kind.REMINDER_BOOKING_STARTS: _l("Reminder: a booking starts soon"),
    Kind.REMINDER_EVALUATION: _l("Reminder: an evaluation is still to be given"),
    Kind.REQUEST_RECEIVED: _l("A school asks for one of our placements"),
    Kind.OFFER_RECEIVED: _l("A company offers places for one of our needs"),
    Kind.REQUEST_FOR_COUNCIL: _l("A school's request waits for the council"),
}


def notice_field(kind: str) -> str:
    return f"notice_{kind}"


class ProfileForm(FlaskForm):
    display_name = StringField(
        _l("Name"),
        validators=[
            DataRequired(message=_l("Enter your name.")),
            Length(max=200),
            NoPersonalNumber(in_a_name=True),
        ],
    )
    language = SelectField(
        _l("Language"), choices=as_choices([("sv", "Svenska"), ("en", "English")])
    )
    notice_confirmation_needed = BooleanField(NOTICE_LABELS[Kind.CONFIRMATION_NEEDED])
    notice_proposal_approved = BooleanField(NOTICE_LABELS[Kind.PROPOSAL_APPROVED])
    notice_proposal_declined_by_party = BooleanField(
        NOTICE_LABELS[Kind.PROPOSAL_DECLINED_BY_PARTY]
    )
    notice_booking_created = BooleanField(NOTICE_LABELS[Kind.BOOKING_CREATED])
    notice_evaluation_requested = BooleanField(NOTICE_LABELS[Kind.EVALUATION_REQUESTED])
    notice_reminder_unanswered = BooleanField(NOTICE_LABELS[Kind.REMINDER_UNANSWERED])
    notice_reminder_booking_starts = BooleanField(
        NOTICE_LABELS[Kind.REMINDER_BOOKING_STARTS]
    )
    notice_reminder_evaluation = BooleanField(NOTICE_LABELS[Kind.REMINDER_EVALUATION])
    notice_request_received = BooleanField(NOTICE_LABELS[Kind.REQUEST_RECEIVED])
    notice_offer_received = BooleanField(NOTICE_LABELS[Kind.OFFER_RECEIVED])
    notice_request_for_council = BooleanField(NOTICE_LABELS[Kind.REQUEST_FOR_COUNCIL])

    def notice_fields(self) -> list[Any]:
        return [self[notice_field(kind)] for kind in NOTICE_LABELS]

    def enabled_notices(self) -> set[str]:
        """The kinds of notice the user still wants by email."""
        return {str(kind) for kind in NOTICE_LABELS if self[notice_field(kind)].data}


class RegisterCompanyForm(FlaskForm):
    company_name = StringField(
        _l("Company name"),
        validators=[
            DataRequired(message=_l("Enter the company's name.")),
            Length(max=200),
            NoPersonalNumber(),
        ],
    )
    org_number = StringField(
        _l("Organisation number"),
        validators=[
            DataRequired(message=_l("Enter the organisation number.")),
            OrgNumber(),
        ],
        description=_l("Ten digits, e.g. 556036-0793."),
    )
    locality = SelectField(
        _l("Locality"),
        choices=as_choices((name, name) for name in sorted(LOCALITIES)),
        default="Mora",
    )
    contact_name = StringField(
        _l("Contact person"),
        validators=[
            DataRequired(message=_l("Enter a contact person.")),
            Length(max=200),
            NoPersonalNumber(in_a_name=True),
        ],
    )
    email = _email()
    password = _new_password(_l("Password"))
    confirm = _confirm("password")


class CodeForm(FlaskForm):
    code = StringField(
        _l("Code"),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Enter the six-digit code from your app.")),
            Length(max=12, message=_l("The code has six digits.")),
            Regexp(
                r"^[0-9 ]*$",
                flags=re.ASCII,
                message=_l("Enter the code with the digits 0 to 9."),
            ),
        ],
        description=_l("Six digits from your authenticator app."),
    )


class DisableTwoFactorForm(FlaskForm):
    password = PasswordField(
        _l("Password"), validators=[DataRequired(message=_l("Enter your password."))]
    )
