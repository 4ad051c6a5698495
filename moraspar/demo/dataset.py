"""The Mora demo dataset: TOML files in `mora/`, read into frozen spec dataclasses.

Every company, person, address and telephone number in the files is fictional.
The programme codes are the real national codes of the Swedish upper-secondary
school, SNI codes are SNI 2007 level 2 and SSYK codes are SSYK 2012 level 4.

A period is given in ISO weeks of the dataset's `year`, never as dates:
`start_week` and `length_weeks` run from the Monday of the first week to the
Friday of the last; `start_week` and `weekday` (1 = Monday) make a single day.
The APL windows follow Mora gymnasium's usual rhythm, prao lies in weeks 10–11
(year 8) and 40–41 (year 9).

The loop of bookings (`loop.toml`) is the exception: a demo seeded on any day
must show bookings that are over and bookings still to come, so their periods
are counted in weeks from the week the demo is seeded (`start_offset_weeks`,
0 = this week, -3 = three weeks ago), Monday of the first week to Friday of
the last, and the loader turns them into dates on the day it runs.

Each TOML table is checked against the dataclass of the same shape, key by key
(the keys are the field names): a missing, unknown or mistyped key raises
DemoDataError naming the file, the table and the key.
"""

import enum
import tomllib
import types
import typing
from dataclasses import MISSING, dataclass, fields, is_dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar

from moraspar.models import (
    Attendance,
    CancelReason,
    Horizon,
    Level,
    PostingKind,
    Role,
)
from moraspar.reference.gazetteer import coordinates

DATA_DIR = Path(__file__).with_name("mora")

Period = tuple[date, date]
PERIOD_KEYS = ("start_week", "length_weeks", "weekday")

S = TypeVar("S")


class DemoDataError(ValueError):
    """A demo data file does not fit its spec."""


@dataclass(frozen=True, kw_only=True)
class PlacementSpec:
    kind: PostingKind
    title: str
    description: str
    tasks: str
    skills: tuple[str, ...]
    places: int
    period: Period
    supervisor: str
    supervisor_trained: bool
    requirements: str = ""


@dataclass(frozen=True, kw_only=True)
class GapSpec:
    title: str
    description: str
    skills: tuple[str, ...]
    ssyk_code: str | None = None
    headcount: int
    horizon: Horizon


@dataclass(frozen=True, kw_only=True)
class CompanySpec:
    name: str
    locality: str
    sni_code: str
    address: str
    contact_name: str
    description: str
    placements: tuple[PlacementSpec, ...] = ()
    gaps: tuple[GapSpec, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ProgrammeSpec:
    code: str = ""  # the national programme code; empty for a prao group
    name: str
    orientation: str = ""
    level: Level
    description: str
    skills: tuple[str, ...]
    places_per_year: int


@dataclass(frozen=True, kw_only=True)
class NeedSpec:
    programme: str  # ProgrammeSpec.name within the same school
    kind: PostingKind
    title: str
    description: str
    skills: tuple[str, ...]
    students: int
    period: Period
    max_km: float
    requirements: str = ""


@dataclass(frozen=True, kw_only=True)
class SchoolSpec:
    name: str
    locality: str
    address: str
    contact_name: str
    description: str
    programmes: tuple[ProgrammeSpec, ...]
    needs: tuple[NeedSpec, ...]


@dataclass(frozen=True, kw_only=True)
class UserSpec:
    email: str
    display_name: str
    role: Role
    organisation: str  # Organisation.name


@dataclass(frozen=True, kw_only=True)
class CouncilSpec:
    name: str
    kind: str
    description: str


class Side(enum.StrEnum):
    SCHOOL = "school"
    COMPANY = "company"


class BookingState(enum.StrEnum):
    """Where a demo booking stands on the day the demo is seeded."""

    ENDED = "ended"  # over, evaluations asked for
    ACTIVE = "active"  # still to come
    CANCELLED = "cancelled"  # called off before the start
    ABORTED = "aborted"  # called off after the start


@dataclass(frozen=True, kw_only=True)
class EvaluationSpec:
    side: Side
    overall: int
    supervision: int
    preparation: int
    comment: str = ""


@dataclass(frozen=True, kw_only=True)
class BookingSpec:
    """A booking of a need (school and title) on a placement (company and
    title), its period in weeks from the seeding week."""

    school: str
    need: str
    company: str
    placement: str
    students: int
    state: BookingState
    start_offset_weeks: int
    length_weeks: int
    attendance: Attendance | None = None
    cancelled_side: Side | None = None
    cancel_reason: CancelReason | None = None
    cancel_comment: str = ""
    # New dates asked for by one side, waiting for the other's answer.
    move_side: Side | None = None
    move_offset_weeks: int | None = None
    evaluations: tuple[EvaluationSpec, ...] = ()


@dataclass(frozen=True, kw_only=True)
class WaitingSpec:
    """An approved proposal one side has confirmed and the other not yet."""

    school: str
    need: str
    company: str
    placement: str
    students: int
    waiting_for: Side
    approved_days_ago: int


@dataclass(frozen=True, kw_only=True)
class Dataset:
    year: int
    postcodes: dict[str, str]
    municipality: CompanySpec
    council: CouncilSpec
    users: tuple[UserSpec, ...]
    demo_company: str  # the company whose contact signs in as a demo user
    schools: tuple[SchoolSpec, ...]
    companies: tuple[CompanySpec, ...]
    bookings: tuple[BookingSpec, ...] = ()
    waiting: tuple[WaitingSpec, ...] = ()


# Which file holds which part of the dataset; the first is read first, since
# the periods in the others need its year.
FILES: dict[str, tuple[str, ...]] = {
    "municipality.toml": (
        "year",
        "postcodes",
        "municipality",
        "council",
        "users",
        "demo_company",
    ),
    "schools.toml": ("schools",),
    "companies.toml": ("companies",),
    "loop.toml": ("bookings", "waiting"),
}


def load_dataset(folder: Path | None = None) -> Dataset:
    """Read and check the dataset's TOML files; raise DemoDataError if one is off."""
    folder = folder or DATA_DIR
    values: dict[str, Any] = {}
    year = 0
    hints = typing.get_type_hints(Dataset)
    for name, keys in FILES.items():
        table = _read(folder / name)
        where = _Where(name)
        _check_keys(table, required=keys, allowed=keys, where=where)
        if "year" in keys:
            year = _value(int, table["year"], where.key("year"), year)
        for key in keys:
            values[key] = _value(hints[key], table[key], where.key(key), year)
    dataset = Dataset(**values)
    _check_references(dataset)
    _check_loop(dataset)
    return dataset


def offset_weeks(today: date, first: int, count: int) -> Period:
    """Monday of the week `first` weeks from today's to the Friday of the
    `count`-th week (first = 0: this week)."""
    monday = today - timedelta(days=today.weekday())
    start = monday + timedelta(weeks=first)
    return start, start + timedelta(weeks=count - 1, days=4)


def weeks(year: int, first: int, count: int) -> Period:
    """Monday of ISO week `first` to Friday of the `count`-th week."""
    start = date.fromisocalendar(year, first, 1)
    return start, date.fromisocalendar(year, first + count - 1, 5)


def day(year: int, week: int, weekday: int) -> Period:
    """A single day: weekday 1 = Monday."""
    moment = date.fromisocalendar(year, week, weekday)
    return moment, moment


class _Where:
    """Where in which file a value sits, for error messages."""

    def __init__(
        self,
        file: str,
        path: tuple[str, ...] = (),
        tables: tuple[str, ...] = (),
        last_key: str = "",
    ) -> None:
        self.file = file
        self.path = path
        self.tables = tables  # the dotted TOML name of the enclosing table
        self.last_key = last_key

    def key(self, key: str) -> "_Where":
        return _Where(self.file, (*self.path, f"key {key!r}"), self.tables, key)

    def table(self) -> "_Where":
        tables = (*self.tables, self.last_key)
        return _Where(self.file, (*self.path[:-1], f"[{'.'.join(tables)}]"), tables)

    def item(self, number: int, label: object) -> "_Where":
        tables = (*self.tables, self.last_key)
        named = f" ({label})" if isinstance(label, str) and label else ""
        place = f"[[{'.'.join(tables)}]] #{number}{named}"
        return _Where(self.file, (*self.path[:-1], place), tables)

    def error(self, message: str) -> DemoDataError:
        return DemoDataError(", ".join((self.file, *self.path)) + f": {message}")


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except OSError as exc:
        raise DemoDataError(f"{path.name}: cannot be read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise DemoDataError(f"{path.name}: not valid TOML: {exc}") from exc


def _check_keys(
    table: dict[str, Any],
    *,
    required: typing.Iterable[str],
    allowed: typing.Iterable[str],
    where: _Where,
) -> None:
    missing = [key for key in required if key not in table]
    if missing:
        raise where.error(f"missing key {missing[0]!r}")
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise where.error(f"unknown key {unknown[0]!r}")


def _build(spec: type[S], table: Any, where: _Where, year: int) -> S:
    if not isinstance(table, dict):
        raise where.error(f"expected a table, got {table!r}")
    hints = typing.get_type_hints(spec)
    values: dict[str, Any] = {}
    required: list[str] = []
    allowed: list[str] = []
    for field in fields(spec):  # type: ignore[arg-type]
        hint = hints[field.name]
        if hint == Period:
            allowed.extend(PERIOD_KEYS)
            values[field.name] = _period(table, where, year)
            continue
        allowed.append(field.name)
        optional = field.default is not MISSING or _optional(hint) is not None
        if field.name not in table:
            if not optional:
                required.append(field.name)
            continue
        values[field.name] = _value(
            hint, table[field.name], where.key(field.name), year
        )
    _check_keys(table, required=required, allowed=allowed, where=where)
    return spec(**values)


def _optional(hint: Any) -> Any:
    """X for `X | None`, else None."""
    if isinstance(hint, types.UnionType):
        others = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(others) == 1:
            return others[0]
    return None


def _value(hint: Any, value: Any, where: _Where, year: int) -> Any:
    inner = _optional(hint)
    if inner is not None:
        return _value(inner, value, where, year)
    origin = typing.get_origin(hint)
    if origin is tuple:
        item_type = typing.get_args(hint)[0]
        if not isinstance(value, list):
            raise where.error(f"expected a list, got {value!r}")
        if is_dataclass(item_type):
            return tuple(
                _build(item_type, item, where.item(number, _label(item)), year)  # type: ignore[arg-type]
                for number, item in enumerate(value, start=1)
            )
        return tuple(_value(item_type, item, where, year) for item in value)
    if origin is dict:
        if not isinstance(value, dict):
            raise where.error(f"expected a table, got {value!r}")
        return {
            key: _value(str, item, where.key(key), year) for key, item in value.items()
        }
    if is_dataclass(hint):
        return _build(hint, value, where.table(), year)  # type: ignore[arg-type]
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        allowed = [member.value for member in hint]
        if value not in allowed:
            raise where.error(f"expected one of {allowed}, got {value!r}")
        return hint(value)
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if hint is int and isinstance(value, bool):
        raise where.error(f"expected an integer, got {value!r}")
    if not isinstance(value, hint):
        expected = {str: "a string", int: "an integer", bool: "true or false"}
        raise where.error(f"expected {expected.get(hint, hint)}, got {value!r}")
    return value


def _label(item: Any) -> object:
    if isinstance(item, dict):
        return (
            item.get("name")
            or item.get("title")
            or item.get("email")
            or item.get("need")
        )
    return None


def _period(table: dict[str, Any], where: _Where, year: int) -> Period:
    if "start_week" not in table:
        raise where.error("missing key 'start_week'")
    first = _value(int, table["start_week"], where.key("start_week"), year)
    if ("length_weeks" in table) == ("weekday" in table):
        raise where.error("needs exactly one of 'length_weeks' and 'weekday'")
    try:
        if "weekday" in table:
            weekday = _value(int, table["weekday"], where.key("weekday"), year)
            return day(year, first, weekday)
        count = _value(int, table["length_weeks"], where.key("length_weeks"), year)
        if count < 1:
            raise ValueError("length_weeks must be at least 1")
        return weeks(year, first, count)
    except ValueError as exc:
        raise where.error(f"not a period of {year}: {exc}") from exc


def _check_references(dataset: Dataset) -> None:
    """What a single table cannot check: names that point into other tables."""

    def locality(where: _Where, name: str) -> None:
        if name not in dataset.postcodes:
            raise where.error(f"no postcode for {name!r} in municipality.toml")
        if coordinates(name) is None:
            raise where.error(f"{name!r} is missing from the gazetteer")

    town = _Where("municipality.toml", ("[municipality]",))
    locality(town.key("locality"), dataset.municipality.locality)
    for number, school in enumerate(dataset.schools, start=1):
        where = _Where("schools.toml", (f"[[schools]] #{number} ({school.name})",))
        locality(where.key("locality"), school.locality)
        names = {programme.name for programme in school.programmes}
        for index, need in enumerate(school.needs, start=1):
            if need.programme not in names:
                place = (*where.path, f"[[schools.needs]] #{index} ({need.title})")
                raise (
                    _Where("schools.toml", place)
                    .key("programme")
                    .error(f"{need.programme!r} is not a programme of this school")
                )
    companies = {company.name for company in dataset.companies}
    for number, company in enumerate(dataset.companies, start=1):
        where = _Where("companies.toml", (f"[[companies]] #{number} ({company.name})",))
        locality(where.key("locality"), company.locality)
    settings = _Where("municipality.toml")
    if dataset.demo_company not in companies:
        raise settings.key("demo_company").error(
            f"{dataset.demo_company!r} is not a company in companies.toml"
        )
    organisations = companies | {school.name for school in dataset.schools}
    organisations.add(dataset.municipality.name)
    for number, user in enumerate(dataset.users, start=1):
        where = _Where("municipality.toml", (f"[[users]] #{number} ({user.email})",))
        if user.organisation not in organisations:
            raise where.key("organisation").error(
                f"no organisation called {user.organisation!r}"
            )


def _check_loop(dataset: Dataset) -> None:
    """Bookings and waiting proposals: their names point at needs and
    placements, their states fit their weeks, and no placement is overbooked."""
    needs = {
        (school.name, need.title): need
        for school in dataset.schools
        for need in school.needs
    }
    placements = {
        (company.name, placement.title): placement
        for company in dataset.companies
        for placement in company.placements
    }
    pairs: set[tuple[str, str, str, str]] = set()
    held: dict[tuple[str, str], int] = {}
    items: list[tuple[str, BookingSpec | WaitingSpec]] = [
        *(("bookings", spec) for spec in dataset.bookings),
        *(("waiting", spec) for spec in dataset.waiting),
    ]
    numbers: dict[str, int] = {}
    for table, spec in items:
        numbers[table] = numbers.get(table, 0) + 1
        where = _Where("loop.toml", (f"[[{table}]] #{numbers[table]} ({spec.need})",))
        need = needs.get((spec.school, spec.need))
        if need is None:
            raise where.key("need").error(
                f"{spec.school!r} has no need called {spec.need!r}"
            )
        placement = placements.get((spec.company, spec.placement))
        if placement is None:
            raise where.key("placement").error(
                f"{spec.company!r} has no placement called {spec.placement!r}"
            )
        pair = (spec.school, spec.need, spec.company, spec.placement)
        if pair in pairs:
            raise where.error("this need and placement are paired twice")
        pairs.add(pair)
        if not 1 <= spec.students <= need.students:
            raise where.key("students").error(
                f"expected 1 to {need.students} (the need's students)"
            )
        if isinstance(spec, WaitingSpec):
            if spec.approved_days_ago < 0:
                raise where.key("approved_days_ago").error("cannot be in the future")
            continue
        _check_booking(spec, where)
        if spec.state in (BookingState.ENDED, BookingState.ACTIVE):
            key = (spec.company, spec.placement)
            held[key] = held.get(key, 0) + spec.students
            if held[key] > placement.places:
                raise where.key("students").error(
                    f"{spec.placement!r} has only {placement.places} places"
                )


def _check_booking(spec: BookingSpec, where: _Where) -> None:
    first, last = spec.start_offset_weeks, spec.start_offset_weeks + spec.length_weeks
    if spec.length_weeks < 1:
        raise where.key("length_weeks").error("must be at least 1")
    # What each state needs of its weeks (0 = the seeding week).
    fits = {
        BookingState.ENDED: last <= 0,
        BookingState.ACTIVE: first >= 1,
        BookingState.CANCELLED: first >= 1,
        BookingState.ABORTED: first <= 0 < last,
    }
    if not fits[spec.state]:
        raise where.key("start_offset_weeks").error(
            f"does not fit a booking that is {spec.state}"
        )
    called_off = spec.state in (BookingState.CANCELLED, BookingState.ABORTED)
    if called_off != (spec.cancel_reason is not None) or called_off != (
        spec.cancelled_side is not None
    ):
        raise where.key("cancel_reason").error(
            "a cancelled or aborted booking, and only such, has "
            "cancel_reason and cancelled_side"
        )
    started = spec.state in (BookingState.ENDED, BookingState.ABORTED)
    if spec.attendance is not None and not started:
        raise where.key("attendance").error("only a booking that has started")
    if (spec.move_side is None) != (spec.move_offset_weeks is None):
        raise where.key("move_side").error(
            "move_side and move_offset_weeks go together"
        )
    if spec.move_offset_weeks is not None and (
        spec.state != BookingState.ACTIVE or spec.move_offset_weeks < 1
    ):
        raise where.key("move_offset_weeks").error(
            "only an active booking moves, and to a later week"
        )
    sides = [evaluation.side for evaluation in spec.evaluations]
    if spec.evaluations and spec.state != BookingState.ENDED:
        raise where.key("evaluations").error("only an ended booking is evaluated")
    if len(set(sides)) != len(sides):
        raise where.key("evaluations").error("one evaluation per side")
    for evaluation in spec.evaluations:
        ratings = (evaluation.overall, evaluation.supervision, evaluation.preparation)
        if any(not 1 <= rating <= 5 for rating in ratings):
            raise where.key("evaluations").error("ratings run from 1 to 5")
