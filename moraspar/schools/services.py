"""School staff's operations: programmes, needs, and the placement search.

Plain functions with keyword arguments and the session passed in; they flush,
never commit, and raise the named errors below, which the views turn into form
errors; organisations.NotOwner (a 403) for another school's posting. Nothing
here imports flask or wtforms.

Periods of APL and prao: both come in whole weeks, so both need a start and an
end date and at least one school week (5 weekdays) between them. Prao adds up
to at least ten days over grades 8–9 by law, but schools often split it into
two weeks (one in grade 8, one in grade 9), so a single prao need of one week
is allowed; the form's help text says so. Study visits, guest lectures and
projects may leave the dates open.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from math import cos, radians
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from moraspar import audit, lifecycle
from moraspar.models import (
    Level,
    Need,
    Organisation,
    OrgKind,
    Placement,
    PostingKind,
    PostingStatus,
    Programme,
    User,
    load_columns,
    utcnow,
)
from moraspar.organisations import (
    changed_fields,
    check_owner,
    claim_edit,
    snapshot,
    stale_edit,
)
from moraspar.reference.gazetteer import LOCALITIES, coordinates, km_between
from moraspar.search import index_text, match_all, parse_query, relevance
from moraspar.web.pagination import MAX_PAGE_SIZE, Page, paginate

WEEK_KINDS = frozenset({PostingKind.APL, PostingKind.PRAO})
MIN_WEEKDAYS = 5
MAX_STUDENTS = 500
MAX_KM = 500
EXPORT_LIMIT = 10_000
# How many placements the distance filter checks exactly (after the bounding
# box); beyond that the search asks the user to narrow it down.
DISTANCE_CANDIDATES = 20_000


class SchoolError(Exception):
    """A rule of the school's postings was broken; field names the form field."""

    field: str | None = None


class NotASchool(SchoolError):
    """The user's organisation is not a school."""


class ProgrammeNotInSchool(SchoolError):
    field = "programme_id"


class UnknownLocality(SchoolError):
    field = "locality"


class UnknownLevel(SchoolError):
    field = "level"


class UnknownKind(SchoolError):
    field = "kind"


class InvalidPeriod(SchoolError):
    """End before start."""

    field = "end_date"


class PeriodRequired(SchoolError):
    """APL and prao need both dates."""

    field = "start_date"


class PeriodTooShort(SchoolError):
    """APL and prao need at least one school week."""

    field = "end_date"


class InvalidStudents(SchoolError):
    field = "students"


class InvalidDistance(SchoolError):
    field = "max_km"


class NeedClosed(SchoolError):
    """A closed need is final: copy it instead of editing it."""


@dataclass(frozen=True)
class ProgrammeData:
    name: str
    level: str
    code: str = ""
    orientation: str = ""
    description: str = ""
    skills: Sequence[str] = ()
    places_per_year: int = 0
    version: int | None = None  # the version the edit form read; None when new


@dataclass(frozen=True)
class NeedData:
    kind: str
    title: str
    students: int
    programme_id: int | None = None
    description: str = ""
    skills: Sequence[str] = ()
    start_date: date | None = None
    end_date: date | None = None
    locality: str = ""
    max_km: float | None = None
    requirements: str = ""
    version: int | None = None  # the version the edit form read; None when new


PROGRAMME_FIELDS = (
    "name",
    "code",
    "orientation",
    "level",
    "description",
    "skills",
    "places_per_year",
)
NEED_FIELDS = (
    "kind",
    "programme_id",
    "title",
    "description",
    "skills",
    "students",
    "start_date",
    "end_date",
    "locality",
    "max_km",
    "requirements",
)


def _claim(session: Session, record: Any, read_version: int | None) -> None:
    """StaleEdit (with what changed) if someone saved record since read_version."""
    if not claim_edit(session, record, read_version=read_version):
        raise stale_edit(session, record, read_version=read_version)


# --- ownership -------------------------------------------------------------


def school_of(session: Session, *, user: User) -> Organisation:
    """The school user works at, or NotASchool."""
    school = (
        session.get(Organisation, user.organisation_id)
        if user.organisation_id
        else None
    )
    if school is None or school.kind != OrgKind.SCHOOL:
        raise NotASchool()
    return school


# --- programmes ------------------------------------------------------------


def programme_query(*, school: Organisation) -> Any:
    return (
        select(Programme)
        .where(Programme.school_id == school.id)
        .order_by(col(Programme.active).desc(), Programme.name, col(Programme.id))
    )


def active_programmes(session: Session, *, school_id: int) -> list[Programme]:
    return list(
        session.exec(
            select(Programme)
            .where(Programme.school_id == school_id)
            .where(col(Programme.active).is_(True))
            .order_by(Programme.name, col(Programme.id))
        ).all()
    )


def _apply_programme(programme: Programme, data: ProgrammeData) -> None:
    if data.level not in set(Level):
        raise UnknownLevel()
    programme.name = data.name.strip()
    programme.code = data.code.strip()
    programme.orientation = data.orientation.strip()
    programme.level = data.level
    programme.description = data.description.strip()
    programme.skills = list(data.skills)
    programme.places_per_year = max(0, data.places_per_year)
    programme.updated_at = utcnow()


def create_programme(
    session: Session, *, school: Organisation, actor: User, data: ProgrammeData
) -> Programme:
    check_owner(actor, _id(school))
    programme = Programme(school_id=_id(school), name="", level=data.level)
    _apply_programme(programme, data)
    session.add(programme)
    session.flush()
    audit.record(
        session,
        programme,
        actor=actor,
        action="programme.create",
        school_id=school.id,
    )
    return programme


def update_programme(
    session: Session, *, programme: Programme, actor: User, data: ProgrammeData
) -> Programme:
    check_owner(actor, programme.school_id)
    _claim(session, programme, data.version)
    before = snapshot(programme, PROGRAMME_FIELDS)
    _apply_programme(programme, data)
    session.add(programme)
    audit.record(
        session,
        programme,
        actor=actor,
        action="programme.update",
        fields=changed_fields(programme, before),
        version=programme.version,
    )
    session.flush()
    return programme


def set_programme_active(
    session: Session, *, programme: Programme, actor: User, active: bool
) -> None:
    """Deactivated programmes stay on old needs but cannot be picked for new ones."""
    check_owner(actor, programme.school_id)
    if programme.active == active:
        return
    programme.active = active
    programme.updated_at = utcnow()
    session.add(programme)
    audit.record(
        session,
        programme,
        actor=actor,
        action="programme.reactivate" if active else "programme.deactivate",
    )
    session.flush()


# --- needs -----------------------------------------------------------------


def weekdays_between(start: date, end: date, *, at_least: int) -> int:
    """Weekdays (Mon–Fri) from start to end inclusive, counted up to at_least."""
    count, day = 0, start
    while day <= end and count < at_least:
        if day.weekday() < 5:
            count += 1
        day += timedelta(days=1)
    return count


def check_period(kind: str, start: date | None, end: date | None) -> None:
    """Raise InvalidPeriod, PeriodRequired or PeriodTooShort (see module doc)."""
    if start and end and end < start:
        raise InvalidPeriod()
    if kind in WEEK_KINDS:
        if start is None or end is None:
            raise PeriodRequired()
        if weekdays_between(start, end, at_least=MIN_WEEKDAYS) < MIN_WEEKDAYS:
            raise PeriodTooShort()


def _apply_need(
    session: Session, need: Need, *, school: Organisation, data: NeedData
) -> None:
    if data.kind not in set(PostingKind):
        raise UnknownKind()
    if not 1 <= data.students <= MAX_STUDENTS:
        raise InvalidStudents()
    if data.max_km is not None and not 0 <= data.max_km <= MAX_KM:
        raise InvalidDistance()
    check_period(data.kind, data.start_date, data.end_date)
    programme: Programme | None = None
    if data.programme_id is not None:
        programme = session.get(Programme, data.programme_id)
        if programme is None or programme.school_id != school.id:
            raise ProgrammeNotInSchool()
        if not programme.active and programme.id != need.programme_id:
            raise ProgrammeNotInSchool()
    locality = data.locality.strip() or school.locality
    position = coordinates(locality) if locality else None
    if locality and position is None:
        raise UnknownLocality()
    need.kind = data.kind
    need.programme_id = programme.id if programme else None
    need.title = data.title.strip()
    need.description = data.description.strip()
    need.skills = list(data.skills)
    need.students = data.students
    need.start_date = data.start_date
    need.end_date = data.end_date
    need.locality = locality
    need.lat, need.lon = position if position else (school.lat, school.lon)
    need.max_km = data.max_km
    need.requirements = data.requirements.strip()
    need.search_text = need_search_text(need, programme)
    need.updated_at = utcnow()


def need_search_text(need: Need, programme: Programme | None) -> str:
    return index_text(
        need.title,
        need.description,
        need.skills,
        need.requirements,
        need.locality,
        programme.name if programme else "",
    )


def post_need(
    session: Session, *, school: Organisation, actor: User, data: NeedData
) -> Need:
    check_owner(actor, _id(school))
    need = Need(school_id=_id(school), kind=data.kind, title="", created_by_id=actor.id)
    _apply_need(session, need, school=school, data=data)
    session.add(need)
    session.flush()
    audit.record(
        session,
        need,
        actor=actor,
        action="need.create",
        school_id=school.id,
    )
    return need


def update_need(session: Session, *, need: Need, actor: User, data: NeedData) -> Need:
    check_owner(actor, need.school_id)
    if need.status == PostingStatus.CLOSED:
        raise NeedClosed()
    _claim(session, need, data.version)
    school = session.get(Organisation, need.school_id)
    assert school is not None  # a foreign key
    before = snapshot(need, NEED_FIELDS)
    _apply_need(session, need, school=school, data=data)
    session.add(need)
    audit.record(
        session,
        need,
        actor=actor,
        action="need.update",
        fields=changed_fields(need, before),
        version=need.version,
    )
    session.flush()
    return need


def set_need_status(session: Session, *, need: Need, actor: User, status: str) -> None:
    """Pause, resume or close; lifecycle.InvalidTransition for a wrong step."""
    check_owner(actor, need.school_id)
    lifecycle.set_status(session, posting=need, status=status, actor=actor)


def copy_need(session: Session, *, need: Need, actor: User) -> Need:
    """An open copy (e.g. next term's APL); the caller opens its edit form."""
    check_owner(actor, need.school_id)
    copy = lifecycle.copy_posting(session, posting=need, actor=actor)
    assert isinstance(copy, Need)
    return copy


@dataclass(frozen=True)
class NeedFilters:
    status: str = ""
    kind: str = ""


def need_query(*, school_id: int, filters: NeedFilters) -> Any:
    """(Need, programme name or None) rows of the school, newest first."""
    query = (
        select(Need, Programme.name)
        .join(Programme, col(Need.programme_id) == Programme.id, isouter=True)
        .where(Need.school_id == school_id)
    )
    if filters.status in set(PostingStatus):
        query = query.where(Need.status == filters.status)
    if filters.kind in set(PostingKind):
        query = query.where(Need.kind == filters.kind)
    return query.order_by(col(Need.updated_at).desc(), col(Need.id).desc())


def need_counts(session: Session, *, school_id: int) -> dict[str, int]:
    rows = session.exec(
        select(Need.status, func.count())
        .where(Need.school_id == school_id)
        .group_by(Need.status)
    ).all()
    return {str(status): int(count) for status, count in rows}


# --- placement search ------------------------------------------------------


@dataclass(frozen=True)
class PlacementSearch:
    text: str = ""
    kind: str = ""
    locality: str = ""
    max_km: float | None = None
    period_from: date | None = None
    period_to: date | None = None
    industry: str = ""
    free_only: bool = False
    origin: tuple[float, float] | None = None  # the school, for distances


@dataclass(frozen=True)
class PlacementHit:
    placement: Placement
    company: Organisation
    km: float | None
    free: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "free", max(0, self.placement.places - self.placement.places_booked)
        )


# What a hit on the search page shows (the page never reads the placements'
# long texts or the companies' contact details).
HIT_COLUMNS = (
    load_columns(
        Placement.id,
        Placement.company_id,
        Placement.kind,
        Placement.title,
        Placement.skills,
        Placement.places,
        Placement.places_booked,
        Placement.start_date,
        Placement.end_date,
        Placement.locality,
        Placement.lat,
        Placement.lon,
    ),
    load_columns(
        Organisation.id,
        Organisation.name,
        Organisation.locality,
        Organisation.lat,
        Organisation.lon,
    ),
)


def _position(
    placement: Placement, company: Organisation
) -> tuple[float, float] | None:
    lat = placement.lat if placement.lat is not None else company.lat
    lon = placement.lon if placement.lon is not None else company.lon
    if lat is None or lon is None:
        return None
    return (lat, lon)


def _search_query(search: PlacementSearch, *columns: Any) -> Any:
    """Open placements of approved companies matching search, best first."""
    # The company's name is among the placement's search words (kept current
    # when the company is renamed), so one column is matched and ranked.
    text = col(Placement.search_text)
    terms = parse_query(search.text)
    query = (
        select(*columns)
        .join(Organisation, col(Placement.company_id) == Organisation.id)
        .where(Placement.status == PostingStatus.OPEN)
        .where(col(Organisation.approved).is_(True))
        # An ended placement is never shown as open, even before the nightly
        # close-expired run closes it.
        .where(
            sa.or_(
                col(Placement.end_date).is_(None),
                col(Placement.end_date) >= date.today(),
            )
        )
    )
    if terms:
        query = query.where(match_all(text, terms))
    if search.kind in set(PostingKind):
        query = query.where(Placement.kind == search.kind)
    if search.locality:
        query = query.where(
            sa.or_(
                col(Placement.locality) == search.locality,
                sa.and_(
                    col(Placement.locality) == "",
                    col(Organisation.locality) == search.locality,
                ),
            )
        )
    if search.period_to:
        query = query.where(
            sa.or_(
                col(Placement.start_date).is_(None),
                col(Placement.start_date) <= search.period_to,
            )
        )
    if search.period_from:
        query = query.where(
            sa.or_(
                col(Placement.end_date).is_(None),
                col(Placement.end_date) >= search.period_from,
            )
        )
    if search.industry:
        query = query.where(
            sa.or_(
                col(Organisation.sni_code) == search.industry,
                col(Organisation.sni_code).like(f"{search.industry}.%"),
            )
        )
    if search.free_only:
        query = query.where(col(Placement.places) - col(Placement.places_booked) > 0)
    if search.max_km is not None and search.origin is not None:
        # A box around the school in SQL; the exact distance is checked after.
        lat, lon = search.origin
        dlat = search.max_km / 111.0
        dlon = search.max_km / (111.320 * max(0.01, cos(radians(lat))))
        plat = sa.func.coalesce(Placement.lat, Organisation.lat)
        plon = sa.func.coalesce(Placement.lon, Organisation.lon)
        query = query.where(plat.between(lat - dlat, lat + dlat)).where(
            plon.between(lon - dlon, lon + dlon)
        )
    order: list[Any] = []
    if terms:
        order.append(relevance(text, terms).desc())
    order += [
        sa.case((col(Placement.start_date).is_(None), 1), else_=0),
        col(Placement.start_date),
        col(Placement.id),
    ]
    return query.order_by(*order)


def _hit(
    placement: Placement, company: Organisation, origin: tuple[float, float] | None
) -> PlacementHit:
    position = _position(placement, company)
    km = km_between(origin, position) if origin and position else None
    return PlacementHit(placement=placement, company=company, km=km)


def search_placements(
    session: Session, *, search: PlacementSearch, page: int, per_page: int
) -> Page[PlacementHit]:
    """One page of hits: two statements, however many results there are."""
    if search.max_km is None or search.origin is None:
        rows = paginate(
            session,
            _search_query(search, Placement, Organisation).options(*HIT_COLUMNS),
            page=page,
            per_page=per_page,
        )
        return Page(
            items=[_hit(p, c, search.origin) for p, c in rows.items],
            page=rows.page,
            per_page=rows.per_page,
            total=rows.total,
        )
    # Distance: the ids within the box in rank order, the exact distance in
    # Python, then only the page's rows with their companies.
    per_page = max(1, min(per_page, MAX_PAGE_SIZE))
    ids = _ids_within(session, search, limit=DISTANCE_CANDIDATES)
    chosen = ids[(page - 1) * per_page : page * per_page]
    return Page(
        items=_load_hits(session, chosen, search.origin, options=HIT_COLUMNS),
        page=page,
        per_page=per_page,
        total=len(ids),
    )


def _ids_within(session: Session, search: PlacementSearch, *, limit: int) -> list[int]:
    assert search.origin is not None and search.max_km is not None
    candidates = session.exec(
        _search_query(
            search,
            Placement.id,
            sa.func.coalesce(Placement.lat, Organisation.lat),
            sa.func.coalesce(Placement.lon, Organisation.lon),
        ).limit(limit)
    ).all()
    return [
        int(pid)
        for pid, lat, lon in candidates
        if lat is not None
        and lon is not None
        and km_between(search.origin, (lat, lon)) <= search.max_km
    ]


def _load_hits(
    session: Session,
    ids: list[int],
    origin: tuple[float, float] | None,
    *,
    options: Sequence[Any] = (),
) -> list[PlacementHit]:
    if not ids:
        return []
    rows = session.exec(
        select(Placement, Organisation)
        .join(Organisation, col(Placement.company_id) == Organisation.id)
        .where(col(Placement.id).in_(ids))
        .options(*options)
    ).all()
    by_id = {p.id: (p, c) for p, c in rows}
    return [_hit(*by_id[i], origin) for i in ids if i in by_id]


def all_placement_hits(
    session: Session, *, search: PlacementSearch, limit: int = EXPORT_LIMIT
) -> list[PlacementHit]:
    """Every hit (up to limit) for an export, in the same order as the pages."""
    if search.max_km is None or search.origin is None:
        rows = session.exec(
            _search_query(search, Placement, Organisation).limit(limit)
        ).all()
        return [_hit(p, c, search.origin) for p, c in rows]
    ids = _ids_within(session, search, limit=DISTANCE_CANDIDATES)[:limit]
    hits: list[PlacementHit] = []
    for start in range(0, len(ids), 500):  # stay below parameter limits
        hits += _load_hits(session, ids[start : start + 500], search.origin)
    return hits


def school_position(school: Organisation | None) -> tuple[float, float] | None:
    if school is None:
        return None
    if school.lat is not None and school.lon is not None:
        return (school.lat, school.lon)
    return coordinates(school.locality) if school.locality else None


def locality_names() -> list[str]:
    return sorted(LOCALITIES)


def _id(organisation: Organisation) -> int:
    assert organisation.id is not None
    return organisation.id
