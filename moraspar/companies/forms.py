"""Forms for a company's profile, placements, skill gaps and the needs search."""

import re
from typing import Any

from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    Field,
    FloatField,
    IntegerField,
    SearchField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from moraspar.bookings.requests import OfferData
from moraspar.companies import services
from moraspar.formkit.base import FlaskForm
from moraspar.formkit.choices import as_choices
from moraspar.formkit.fields import EndDate, TagsField
from moraspar.formkit.ids import IdSelectField
from moraspar.formkit.select import SelectField
from moraspar.formkit.validators import NoPersonalNumber, OrgNumber, WebAddress
from moraspar.i18n import lazy_gettext as _l
from moraspar.organisations.forms import VersionField
from moraspar.reference.gazetteer import LOCALITIES
from moraspar.reference.labels import HORIZON_LABELS, KIND_LABELS, LEVEL_LABELS
from moraspar.reference.vocabulary import industry_choices, occupations

_PHONE = re.compile(r"^\+?[0-9][0-9 ()\-]{4,22}$")

# A generous box around Mora, Orsa and Älvdalen: an exact position far
# outside it is a typing mistake (swapped latitude and longitude, say).
LAT_RANGE = (59.0, 63.0)
LON_RANGE = (11.0, 18.0)


def _pairs(labels: dict[Any, Any]) -> list[tuple[str, Any]]:
    """A label table of labels.py as (stored value, label) pairs."""
    return [(str(value), label) for value, label in labels.items()]


def _too_long(limit: int) -> Length:
    return Length(max=limit, message=_l("At most %(max)d characters, please."))


def _locality_choices(blank: object | None = None) -> list[Any]:
    pairs: list[tuple[str, object]] = [("", blank)] if blank is not None else []
    pairs += [(name, name) for name in sorted(LOCALITIES)]
    return as_choices(pairs)


def _is_phone(value: str) -> bool:
    return bool(_PHONE.match(value)) and sum(c.isdigit() for c in value) >= 5


class Phone:
    def __call__(self, form: Any, field: Field) -> None:
        if field.data and not _is_phone(field.data.strip()):
            raise ValidationError(
                _l("Write a phone number with digits only, e.g. 0250-123 45.")
            )


class EmailOrPhone:
    def __call__(self, form: Any, field: Field) -> None:
        value = (field.data or "").strip()
        if not value:
            return
        if "@" in value:
            Email(message=_l("Enter a valid email address."))(form, field)
        elif not _is_phone(value):
            raise ValidationError(_l("Write an email address or a phone number."))


class BothOrNeither:
    """Latitude and longitude come together, or not at all."""

    def __init__(self, other: str) -> None:
        self.other = other

    def __call__(self, form: Any, field: Field) -> None:
        if (field.data is None) != (form[self.other].data is None) and not form[
            self.other
        ].errors:
            raise ValidationError(
                _l("Give both latitude and longitude, or leave both empty.")
            )


UNKNOWN_SSYK = _l(
    "Enter an SSYK 2012 occupation code that exists, e.g. 7231 for vehicle mechanics."
)


class KnownOccupation:
    """An SSYK 2012 code of the shipped vocabulary (occupations())."""

    def __call__(self, form: Any, field: Field) -> None:
        if field.data and field.data.strip() not in occupations():
            raise ValidationError(UNKNOWN_SSYK)


class ProfileForm(FlaskForm):
    name = StringField(
        _l("Company name"),
        validators=[
            DataRequired(message=_l("Enter the company's name.")),
            _too_long(200),
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
    address = StringField(
        _l("Street address"), validators=[_too_long(200), NoPersonalNumber()]
    )
    postcode = StringField(
        _l("Postcode"),
        validators=[
            Optional(),
            Regexp(
                r"^\d{3} ?\d{2}$",
                message=_l("Write the postcode as five digits, e.g. 792 30."),
            ),
        ],
    )
    locality = SelectField(
        _l("Locality"),
        choices=_locality_choices(),
        description=_l("Sets the company's position for travel distances."),
    )
    lat = FloatField(
        _l("Latitude (optional)"),
        validators=[
            Optional(),
            NumberRange(
                min=LAT_RANGE[0],
                max=LAT_RANGE[1],
                message=_l("The latitude must be between 59 and 63 (Dalarna)."),
            ),
            BothOrNeither("lon"),
        ],
        description=_l(
            "An exact position instead of the locality's centre, in decimal "
            "degrees, e.g. 61.0047."
        ),
    )
    lon = FloatField(
        _l("Longitude (optional)"),
        validators=[
            Optional(),
            NumberRange(
                min=LON_RANGE[0],
                max=LON_RANGE[1],
                message=_l("The longitude must be between 11 and 18 (Dalarna)."),
            ),
            BothOrNeither("lat"),
        ],
        description=_l("In decimal degrees, e.g. 14.5372."),
    )
    sni_code = SelectField(
        _l("Industry (SNI)"),
        validators=[DataRequired(message=_l("Choose the company's industry."))],
        description=_l("The Swedish Standard Industrial Classification."),
    )
    contact_name = StringField(
        _l("Contact person"),
        validators=[
            DataRequired(message=_l("Enter the contact person's name.")),
            _too_long(200),
            NoPersonalNumber(in_a_name=True),
        ],
    )
    contact_email = EmailField(
        _l("Contact email"),
        validators=[
            DataRequired(message=_l("Enter the contact person's email address.")),
            Email(message=_l("Enter a valid email address.")),
            _too_long(254),
        ],
    )
    contact_phone = StringField(
        _l("Contact phone"), validators=[Optional(), Phone(), _too_long(40)]
    )
    website = URLField(
        _l("Website"),
        validators=[
            Optional(),
            WebAddress(),
            _too_long(200),
            NoPersonalNumber(),
        ],
    )
    description = TextAreaField(
        _l("About the company"),
        validators=[_too_long(4000), NoPersonalNumber()],
        description=_l("What you do, in a few sentences, for teachers and students."),
    )
    version = VersionField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sni_code.choices = as_choices(
            [("", _l("Choose an industry")), *industry_choices()]
        )

    def data_for_service(self) -> services.ProfileData:
        return services.ProfileData(
            name=self.name.data or "",
            org_number=self.org_number.data or "",
            locality=self.locality.data or "",
            address=self.address.data or "",
            postcode=self.postcode.data or "",
            lat=self.lat.data,
            lon=self.lon.data,
            sni_code=self.sni_code.data or "",
            contact_name=self.contact_name.data or "",
            contact_email=self.contact_email.data or "",
            contact_phone=self.contact_phone.data or "",
            website=self.website.data or "",
            description=self.description.data or "",
            version=self.version.read(),
        )


class PlacementForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=as_choices(_pairs(KIND_LABELS)))
    title = StringField(
        _l("Title"),
        validators=[
            DataRequired(message=_l("Enter a title.")),
            _too_long(200),
            NoPersonalNumber(),
        ],
        description=_l("E.g. “APL in our car workshop”."),
    )
    description = TextAreaField(
        _l("Description"), validators=[_too_long(4000), NoPersonalNumber()]
    )
    tasks = TextAreaField(
        _l("Tasks the student meets"),
        validators=[_too_long(4000), NoPersonalNumber()],
    )
    skills = TagsField(
        _l("Skills"),
        description=_l(
            "Separate skills with commas; suggestions appear as you type, and "
            "you may write your own."
        ),
    )
    places = IntegerField(
        _l("Number of places"),
        validators=[
            InputRequired(message=_l("Enter the number of places.")),
            NumberRange(min=1, message=_l("Offer at least one place.")),
            NumberRange(max=100, message=_l("At most 100 places per placement.")),
        ],
        default=1,
    )
    start_date = DateField(_l("Start date"), validators=[Optional()])
    end_date = DateField(_l("End date"), validators=[Optional(), EndDate()])
    locality = SelectField(
        _l("Locality"),
        choices=_locality_choices(),
        description=_l("Where the student will be; your company's by default."),
    )
    supervisor_name = StringField(
        _l("Supervisor (handledare)"),
        validators=[
            DataRequired(message=_l("Enter the supervisor's name.")),
            _too_long(200),
            NoPersonalNumber(in_a_name=True),
        ],
    )
    supervisor_contact = StringField(
        _l("Supervisor's email or phone"),
        validators=[
            DataRequired(message=_l("Enter an email address or phone number.")),
            EmailOrPhone(),
            _too_long(254),
            NoPersonalNumber(),
        ],
    )
    supervisor_trained = BooleanField(
        _l("The supervisor has taken supervisor training")
    )
    requirements = TextAreaField(
        _l("Requirements"),
        validators=[_too_long(2000), NoPersonalNumber()],
        description=_l("E.g. minimum age, driving licence, protective shoes."),
    )
    version = VersionField()

    def data_for_service(self) -> services.PlacementData:
        return services.PlacementData(
            kind=self.kind.data or "",
            title=self.title.data or "",
            places=self.places.data or 0,
            description=self.description.data or "",
            tasks=self.tasks.data or "",
            skills=tuple(self.skills.data or ()),
            start_date=self.start_date.data,
            end_date=self.end_date.data,
            locality=self.locality.data or "",
            supervisor_name=self.supervisor_name.data or "",
            supervisor_contact=self.supervisor_contact.data or "",
            supervisor_trained=bool(self.supervisor_trained.data),
            requirements=self.requirements.data or "",
            version=self.version.read(),
        )


class SkillGapForm(FlaskForm):
    title = StringField(
        _l("Title"),
        validators=[
            DataRequired(message=_l("Enter a title.")),
            _too_long(200),
            NoPersonalNumber(),
        ],
        description=_l("E.g. “CNC operators”."),
    )
    description = TextAreaField(
        _l("Description"), validators=[_too_long(4000), NoPersonalNumber()]
    )
    skills = TagsField(
        _l("Skills"),
        description=_l(
            "Separate skills with commas; suggestions appear as you type, and "
            "you may write your own."
        ),
    )
    ssyk_code = StringField(
        _l("Occupation code (SSYK, optional)"),
        validators=[
            Optional(),
            Regexp(r"^\d{4}$", message=_l("An SSYK code is four digits, e.g. 7213.")),
            KnownOccupation(),
        ],
        description=_l(
            "The four-digit code of the Swedish Standard Classification of "
            "Occupations (SSYK 2012), e.g. 7231 for vehicle mechanics."
        ),
    )
    headcount = IntegerField(
        _l("Number of people needed"),
        validators=[
            InputRequired(message=_l("Enter how many people you need.")),
            NumberRange(min=1, message=_l("Enter at least one person.")),
            NumberRange(max=1000, message=_l("At most 1,000 people.")),
        ],
        default=1,
    )
    horizon = SelectField(_l("When"), choices=as_choices(_pairs(HORIZON_LABELS)))
    version = VersionField()

    def data_for_service(self) -> services.SkillGapData:
        return services.SkillGapData(
            title=self.title.data or "",
            headcount=self.headcount.data or 0,
            horizon=self.horizon.data or "",
            description=self.description.data or "",
            skills=tuple(self.skills.data or ()),
            ssyk_code=self.ssyk_code.data or "",
            version=self.version.read(),
        )


WHAT_CHOICES = [("needs", _l("Needs")), ("programmes", _l("Programmes"))]


class NeedSearchForm(FlaskForm):
    """The filters of the needs browse, read from the query string."""

    class Meta:
        csrf = False

    q = SearchField(_l("Search"), validators=[Optional(), _too_long(200)])
    what = SelectField(_l("Show"), choices=as_choices(WHAT_CHOICES), default="needs")
    kind = SelectField(
        _l("Kind"),
        choices=as_choices([("", _l("All kinds")), *_pairs(KIND_LABELS)]),
        default="",
    )
    level = SelectField(
        _l("Level"),
        choices=as_choices([("", _l("All levels")), *_pairs(LEVEL_LABELS)]),
        default="",
    )
    locality = SelectField(
        _l("Locality"), choices=_locality_choices(_l("All localities")), default=""
    )
    km = FloatField(
        _l("Within km of us"),
        validators=[
            Optional(),
            NumberRange(min=0, message=_l("The distance cannot be below zero.")),
            NumberRange(max=500, message=_l("At most 500 km.")),
        ],
    )
    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional(), EndDate("start")])


class OfferForm(FlaskForm):
    """A company's offer of places on one of its placements for a school's
    need ("Erbjud plats")."""

    placement = IdSelectField(
        _l("Which placement do you offer?"),
        validators=[InputRequired(message=_l("Choose one of your placements."))],
    )
    students = IntegerField(
        _l("Number of students"),
        default=1,
        validators=[
            InputRequired(message=_l("Enter the number of students.")),
            NumberRange(min=1, max=500, message=_l("Between 1 and 500 students.")),
        ],
    )
    message = TextAreaField(
        _l("Message to the school"),
        description=_l("Optional: what the students will do, practical details."),
        validators=[Optional(), Length(max=1000), NoPersonalNumber()],
    )

    def set_placements(self, choices: list[tuple[int, str]]) -> None:
        self.placement.choices = as_choices(choices)

    def to_data(self) -> OfferData:
        return OfferData(
            placement_id=self.placement.data,
            students=int(self.students.data),
            message=(self.message.data or "").strip(),
        )
