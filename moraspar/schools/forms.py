"""Forms of school staff: programmes, needs, and the placement search."""

from datetime import date
from typing import Any

from wtforms import BooleanField, DateField, IntegerField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from moraspar.bookings.requests import RequestData
from moraspar.formkit.base import FlaskForm
from moraspar.formkit.choices import as_choices
from moraspar.formkit.fields import EndDate, TagsField
from moraspar.formkit.ids import IdSelectField
from moraspar.formkit.select import SelectField
from moraspar.formkit.validators import NoPersonalNumber
from moraspar.i18n import lazy_gettext as _l
from moraspar.models import Level, PostingKind
from moraspar.organisations.forms import VersionField
from moraspar.reference.gazetteer import LOCALITIES
from moraspar.reference.labels import KIND_LABELS, LEVEL_LABELS
from moraspar.reference.vocabulary import industry_choices
from moraspar.schools import services

KIND_CHOICES = [(kind.value, KIND_LABELS[kind]) for kind in PostingKind]
LEVEL_CHOICES = [(level.value, LEVEL_LABELS[level]) for level in Level]
TOO_LONG = _l("At most %(max)d characters.")


def locality_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(LOCALITIES)]


def distance_validators() -> list[Any]:
    """A travel distance in km: empty, or 0 to services.MAX_KM."""
    return [
        Optional(),
        NumberRange(min=0, message=_l("The distance cannot be below zero.")),
        NumberRange(
            max=services.MAX_KM, message=_l("The distance can be at most 500 km.")
        ),
    ]


def period_message(error: services.SchoolError) -> object:
    """The form message for a period rule broken in services.check_period."""
    if isinstance(error, services.PeriodRequired):
        return _l("APL and prao need a start and an end date.")
    if isinstance(error, services.PeriodTooShort):
        return _l(
            "APL and prao come in whole weeks: the period must include at least "
            "5 weekdays."
        )
    return _l("The end date must not be before the start date.")


class ProgrammeForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(message=_l("Enter the name of the programme.")),
            Length(max=200, message=TOO_LONG),
            NoPersonalNumber(),
        ],
        description=_l("E.g. Fordons- och transportprogrammet."),
    )
    code = StringField(
        _l("Code"),
        validators=[Length(max=20, message=TOO_LONG), NoPersonalNumber()],
        description=_l("The programme code, e.g. FT."),
    )
    orientation = StringField(
        _l("Orientation"),
        validators=[Length(max=200, message=TOO_LONG), NoPersonalNumber()],
        description=_l("Inriktning, e.g. Personbil."),
    )
    level = SelectField(
        _l("Level"),
        choices=as_choices(LEVEL_CHOICES),
        default=Level.GYMNASIUM.value,
        invalid_choice_message=_l("Pick a level from the list."),
    )
    description = TextAreaField(
        _l("Description"),
        validators=[Length(max=4000, message=TOO_LONG), NoPersonalNumber()],
    )
    skills = TagsField(
        _l("Skills and learning goals"),
        description=_l(
            "Separate with commas, e.g. svetsning, felsökning. Used to find "
            "placements and companies that fit."
        ),
    )
    places_per_year = IntegerField(
        _l("Students per year"),
        default=0,
        validators=[
            Optional(),
            NumberRange(min=0, message=_l("The number cannot be below zero.")),
            NumberRange(max=10_000, message=_l("At most 10,000.")),
        ],
        description=_l("About how many students a year need a placement."),
    )
    version = VersionField()

    def data_for_service(self) -> services.ProgrammeData:
        return services.ProgrammeData(
            name=self.name.data or "",
            code=self.code.data or "",
            orientation=self.orientation.data or "",
            level=self.level.data or "",
            description=self.description.data or "",
            skills=tuple(self.skills.data or ()),
            places_per_year=self.places_per_year.data or 0,
            version=self.version.read(),
        )


class NeedForm(FlaskForm):
    kind = SelectField(
        _l("Kind"),
        choices=as_choices(KIND_CHOICES),
        invalid_choice_message=_l("Pick a kind from the list."),
    )
    # Choices are set by the view: the school's active programmes. Not checked
    # against them here: services.ProgrammeNotInSchool says what is wrong.
    programme_id = IdSelectField(
        _l("Programme"), optional=True, choices=[], validate_choice=False
    )
    title = StringField(
        _l("Title"),
        validators=[
            DataRequired(message=_l("Enter a title.")),
            Length(max=200, message=TOO_LONG),
            NoPersonalNumber(),
        ],
        description=_l("E.g. APL vehicle technology, year 2, spring term."),
    )
    description = TextAreaField(
        _l("Description"),
        validators=[Length(max=4000, message=TOO_LONG), NoPersonalNumber()],
        description=_l(
            "Describe the group only: what the students study and can do. Never "
            "write student names, personal identity numbers or health information."
        ),
    )
    skills = TagsField(
        _l("Skills or learning goals"),
        description=_l("Separate with commas, e.g. svetsning, truckkort."),
    )
    students = IntegerField(
        _l("Number of students"),
        default=1,
        validators=[
            InputRequired(message=_l("Enter the number of students.")),
            NumberRange(min=1, message=_l("At least one student.")),
            NumberRange(max=services.MAX_STUDENTS, message=_l("At most 500 students.")),
        ],
    )
    start_date = DateField(_l("Start date"), validators=[Optional()])
    end_date = DateField(
        _l("End date"),
        validators=[Optional(), EndDate()],
        description=_l(
            "APL and prao come in whole weeks: give both dates, at least one "
            "school week. Prao adds up to at least ten days over grades 8–9 and "
            "may be split into two needs."
        ),
    )
    locality = SelectField(
        _l("Locality"),
        choices=as_choices(locality_choices()),
        invalid_choice_message=_l("Pick a locality from the list."),
        description=_l("Where the students start from."),
    )
    max_km = IntegerField(
        _l("Farthest travel distance (km)"),
        validators=distance_validators(),
        description=_l("Leave empty for any distance."),
    )
    requirements = TextAreaField(
        _l("Requirements"),
        validators=[Length(max=2000, message=TOO_LONG), NoPersonalNumber()],
        description=_l(
            "For the whole group, e.g. minimum age 16, driving licence B, hygiene "
            "or safety equipment. No health information about individual students."
        ),
    )
    version = VersionField()

    def validate(self, extra_validators: Any = None) -> bool:
        """Field checks, then the period rules of services.check_period."""
        valid: bool = super().validate(extra_validators)
        if self.kind.errors or self.start_date.errors or self.end_date.errors:
            return valid
        try:
            services.check_period(
                self.kind.data or "", self.start_date.data, self.end_date.data
            )
        except services.PeriodRequired as error:
            missing = self.start_date if self.start_date.data is None else self.end_date
            missing.errors = [*missing.errors, period_message(error)]
            return False
        except services.SchoolError as error:
            self.end_date.errors = [*self.end_date.errors, period_message(error)]
            return False
        if self.end_date.data and self.end_date.data < date.today():
            self.end_date.errors = [
                *self.end_date.errors,
                _l("The end date has already passed."),
            ]
            return False
        return valid

    def data_for_service(self) -> services.NeedData:
        return services.NeedData(
            kind=self.kind.data or "",
            programme_id=self.programme_id.data,
            title=self.title.data or "",
            description=self.description.data or "",
            skills=tuple(self.skills.data or ()),
            students=self.students.data or 0,
            start_date=self.start_date.data,
            end_date=self.end_date.data,
            locality=self.locality.data or "",
            max_km=float(self.max_km.data) if self.max_km.data is not None else None,
            requirements=self.requirements.data or "",
            version=self.version.read(),
        )


class SearchForm(FlaskForm):
    """The placement search: a GET form, so a search can be bookmarked."""

    class Meta:
        csrf = False

    q = StringField(
        _l("Search"),
        validators=[Length(max=200, message=TOO_LONG)],
        description=_l("E.g. svetsare, frisör, lager."),
    )
    kind = SelectField(
        _l("Kind"),
        choices=as_choices([("", _l("All kinds")), *KIND_CHOICES]),
        default="",
        invalid_choice_message=_l("Pick a kind from the list."),
    )
    locality = SelectField(
        _l("Locality"),
        choices=as_choices([("", _l("All localities")), *locality_choices()]),
        default="",
        invalid_choice_message=_l("Pick a locality from the list."),
    )
    km = IntegerField(
        _l("Within km of the school"),
        validators=distance_validators(),
    )
    start = DateField(_l("Period from"), validators=[Optional()])
    end = DateField(_l("Period to"), validators=[Optional(), EndDate("start")])
    industry = SelectField(
        _l("Industry"),
        choices=lambda: as_choices([("", _l("All industries")), *industry_choices()]),
        default="",
        invalid_choice_message=_l("Pick an industry from the list."),
    )
    free = BooleanField(_l("Only with free places"))

    def to_search(self, origin: tuple[float, float] | None) -> services.PlacementSearch:
        return services.PlacementSearch(
            text=self.q.data or "",
            kind=self.kind.data or "",
            locality=self.locality.data or "",
            max_km=float(self.km.data) if self.km.data is not None else None,
            period_from=self.start.data,
            period_to=self.end.data,
            industry=self.industry.data or "",
            free_only=bool(self.free.data),
            origin=origin,
        )


class RequestForm(FlaskForm):
    """A teacher's request for places on a placement ("Skicka förfrågan")."""

    need = IdSelectField(
        _l("For which of your needs?"),
        validators=[InputRequired(message=_l("Choose one of your needs."))],
    )
    students = IntegerField(
        _l("Number of students"),
        default=1,
        validators=[
            InputRequired(message=_l("Enter the number of students.")),
            NumberRange(min=1, message=_l("At least one student.")),
            NumberRange(max=services.MAX_STUDENTS, message=_l("At most 500 students.")),
        ],
    )
    message = TextAreaField(
        _l("Message to the company"),
        description=_l(
            "Optional: what the students will do, or practical details. "
            "Describe the group, never individual students."
        ),
        validators=[Optional(), Length(max=1000, message=TOO_LONG), NoPersonalNumber()],
    )

    def set_needs(self, choices: list[tuple[int, str]]) -> None:
        self.need.choices = as_choices(choices)

    def to_data(self) -> RequestData:
        return RequestData(
            need_id=self.need.data,
            students=int(self.students.data),
            message=(self.message.data or "").strip(),
        )
