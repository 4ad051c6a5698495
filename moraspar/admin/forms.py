from typing import Any

from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, EmailField, RadioField, StringField
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from moraspar.admin import services
from moraspar.council import services as council_services
from moraspar.formkit.base import FlaskForm
from moraspar.formkit.choices import as_choices
from moraspar.formkit.ids import NOT_AN_OPTION, IdMultipleField, IdSelectField
from moraspar.formkit.select import SelectField
from moraspar.formkit.validators import NoPersonalNumber, OrgNumber
from moraspar.i18n import lazy_gettext as _l
from moraspar.models import PostingKind
from moraspar.reference.gazetteer import LOCALITIES
from moraspar.reference.labels import KIND_LABELS, ROUTE_LABELS

ROLE_CHOICES = [
    ("teacher", _l("Teacher / school staff")),
    ("company", _l("Company contact")),
    ("council", _l("Council member")),
    ("admin", _l("Administrator")),
]

ORG_KIND_CHOICES = [
    ("school", _l("School")),
    ("company", _l("Company")),
    ("municipality", _l("Municipality")),
]


class InviteForm(FlaskForm):
    email = EmailField(
        _l("Email"),
        validators=[
            DataRequired(message=_l("Enter an email address.")),
            Email(message=_l("Enter a valid email address.")),
            Length(max=254),
        ],
    )
    display_name = StringField(
        _l("Name"),
        validators=[
            DataRequired(message=_l("Enter a name.")),
            Length(max=200),
            NoPersonalNumber(in_a_name=True),
        ],
    )
    role = SelectField(_l("Role"), choices=as_choices(ROLE_CHOICES))
    # No organisation is picked for the admin: the first of the list would
    # rarely fit the role.
    organisation_id = IdSelectField(
        _l("Organisation"),
        choices=[],
        optional=True,
        validators=[InputRequired(message=_l("Choose the user's organisation."))],
    )
    language = SelectField(
        _l("Language"), choices=as_choices([("sv", "Svenska"), ("en", "English")])
    )


class OrganisationForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=as_choices(ORG_KIND_CHOICES))
    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(message=_l("Enter a name.")),
            Length(max=200),
            NoPersonalNumber(),
        ],
    )
    org_number = StringField(
        _l("Organisation number"),
        validators=[Optional(), OrgNumber()],
        description=_l("Ten digits, e.g. 556036-0793."),
    )
    address = StringField(
        _l("Address"), validators=[Length(max=200), NoPersonalNumber()]
    )
    locality = SelectField(
        _l("Locality"),
        choices=as_choices((n, n) for n in sorted(LOCALITIES)),
        default="Mora",
    )
    contact_name = StringField(
        _l("Contact person"),
        validators=[Length(max=200), NoPersonalNumber(in_a_name=True)],
    )
    contact_email = EmailField(
        _l("Contact email"),
        validators=[
            Optional(),
            Email(message=_l("Enter a valid email address.")),
            Length(max=254),
        ],
    )

    def data_for_service(self) -> services.OrganisationData:
        return services.OrganisationData(
            kind=self.kind.data or "",
            name=self.name.data or "",
            org_number=self.org_number.data or "",
            address=self.address.data or "",
            locality=self.locality.data or "",
            contact_name=self.contact_name.data or "",
            contact_email=self.contact_email.data or "",
        )


class ImportForm(FlaskForm):
    file = FileField(
        _l("CSV file"),
        validators=[
            FileRequired(message=_l("Choose a CSV file to import.")),
            FileAllowed(
                ["csv", "txt"], message=_l("The file must be a CSV file (.csv).")
            ),
        ],
        description=_l(
            "UTF-8 or Excel's “CSV (semicolon separated)”, at most 5 MB and 5,000 rows."
        ),
    )


class CouncilAreaForm(FlaskForm):
    """A council's area: the ticked schools and companies among those shown
    (the page renders the boxes itself, grouped by kind)."""

    takes_new_organisations = BooleanField(
        _l("New schools and companies join this council's area"),
        description=_l(
            "When the business office adds one, a company registers itself or "
            "an import creates one."
        ),
    )
    organisations = IdMultipleField(
        _l("Schools and companies in the area"), validate_choice=False
    )
    shown = IdMultipleField(_l("Organisations shown"), validate_choice=False)

    def __init__(
        self, *args: object, known: set[int] | None = None, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)
        # The ids of every school and company: anything else is refused.
        self.known = known or set()

    def validate_organisations(self, field: IdMultipleField) -> None:
        if set(field.data or ()) - self.known:
            raise ValidationError(NOT_AN_OPTION)

    def validate_shown(self, field: IdMultipleField) -> None:
        if set(field.data or ()) - self.known:
            raise ValidationError(NOT_AN_OPTION)

    def data_for_service(self) -> council_services.AreaData:
        return council_services.AreaData(
            takes_new_organisations=bool(self.takes_new_organisations.data),
            ticked=frozenset(self.organisations.data or ()),
            shown=frozenset(self.shown.data or ()),
        )


ROUTE_CHOICES = [
    ("direct", ROUTE_LABELS["direct"]),
    ("council", ROUTE_LABELS["council"]),
]


def _route(kind: PostingKind) -> RadioField:
    return RadioField(
        KIND_LABELS[kind],
        choices=as_choices(ROUTE_CHOICES),
        validators=[DataRequired(message=_l("Choose where requests go."))],
    )


class RoutingForm(FlaskForm):
    """Per kind: does a teacher's request go to the council first?"""

    route_apl = _route(PostingKind.APL)
    route_prao = _route(PostingKind.PRAO)
    route_study_visit = _route(PostingKind.STUDY_VISIT)
    route_guest_lecture = _route(PostingKind.GUEST_LECTURE)
    route_project = _route(PostingKind.PROJECT)

    def fill(self, routes: dict[str, bool]) -> None:
        for kind, via_council in routes.items():
            self[f"route_{kind}"].data = "council" if via_council else "direct"

    def route_fields(self) -> list[Any]:
        return [self[f"route_{kind}"] for kind in PostingKind]

    def to_choices(self) -> dict[str, bool]:
        return {kind: self[f"route_{kind}"].data == "council" for kind in PostingKind}
