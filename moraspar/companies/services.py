"""A company's operations: its profile, placements and skill gaps, and the
search over schools' open needs and programmes.

Plain functions with keyword arguments; they flush and never commit, and they
raise the named errors below, which the views turn into form errors or 403s.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from math import cos, radians
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, or_, select

from moraspar import audit, lifecycle, search
from moraspar.models import (
    Need,
    Organisation,
    OrgKind,
    Placement,
    PostingStatus,
    Programme,
    SkillGap,
    User,
    utcnow,
)
from moraspar.organisations import (
    check_org_number_free,
    check_owner,
    claim_edit,
    may_change,
    stale_edit,
)
from moraspar.reference.gazetteer import coordinates, km_between
from moraspar.reference.vocabulary import occupations
from moraspar.schools.services import need_search_text, weekdays_between

# Length of one degree of latitude in km. Distances in SQL use the
# equirectangular approximation: plain arithmetic, so it runs the same on
# SQLite and PostgreSQL, and within a fraction of a percent of the
# great-circle distance at the scale of a municipality.
KM_PER_DEGREE = 111.195
NO_MINIMUM: Mapping[str, int] = {}


class CompanyError(Exception):
    """A business rule refused the change; `field` names the form field."""

    field: str | None = None


class PlacesBelowBooked(CompanyError):
    field = "places"

    def __init__(self, booked: int) -> None:
        super().__init__(f"{booked} places are booked")
        self.booked = booked


class EndDateRequired(CompanyError):
    """A placement needs an end date: without one it would stay open for ever."""

    field = "end_date"


class StartDateRequired(CompanyError):
    """Kinds with a minimum length need a start date to measure it from."""

    field = "start_date"


class EndBeforeStart(CompanyError):
    field = "end_date"


class PeriodInPast(CompanyError):
    """A new placement cannot start, or end, before today."""

    field = "start_date"


class PeriodTooShort(CompanyError):
    field = "end_date"

    def __init__(self, minimum: int) -> None:
        super().__init__(f"at least {minimum} weekdays")
        self.minimum = minimum  # weekdays


class UnknownOccupation(CompanyError):
    """Not an SSYK 2012 code of the shipped vocabulary."""

    field = "ssyk_code"


class NotApproved(CompanyError):
    """The business office has not approved the company yet: it may not post."""


@dataclass(frozen=True)
class ProfileData:
    name: str
    org_number: str
    locality: str
    address: str = ""
    postcode: str = ""
    lat: float | None = None
    lon: float | None = None
    sni_code: str = ""
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    website: str = ""
    description: str = ""
    version: int | None = None  # the version the edit form read


@dataclass(frozen=True)
class PlacementData:
    kind: str
    title: str
    places: int
    description: str = ""
    tasks: str = ""
    skills: Sequence[str] = ()
    start_date: date | None = None
    end_date: date | None = None
    locality: str = ""
    supervisor_name: str = ""
    supervisor_contact: str = ""
    supervisor_trained: bool = False
    requirements: str = ""
    version: int | None = None  # the version the edit form read; None when new


@dataclass(frozen=True)
class SkillGapData:
    title: str
    headcount: int
    horizon: str
    description: str = ""
    skills: Sequence[str] = ()
    ssyk_code: str = ""
    version: int | None = None  # the version the edit form read; None when new


def check_may_post(company: Organisation) -> None:
    if not company.approved:
        raise NotApproved()


def may_view_company(user: User, company: Organisation) -> bool:
    if company.kind != OrgKind.COMPANY:
        return False
    return company.approved or may_change(user, company.id)


# -- profile ---------------------------------------------------------------


def exact_position(company: Organisation) -> tuple[float, float] | None:
    """The stored position if it is not just the locality's centre."""
    if company.lat is None or company.lon is None:
        return None
    if coordinates(company.locality) == (company.lat, company.lon):
        return None
    return (company.lat, company.lon)


def update_profile(
    session: Session, *, company: Organisation, data: ProfileData, actor: User
) -> Organisation:
    """Save the profile form; StaleEdit if someone saved it since data.version."""
    check_owner(actor, company.id)
    _claim(session, company, data.version)
    number = check_org_number_free(session, data.org_number, except_id=company.id)
    if data.lat is not None and data.lon is not None:
        position: tuple[float, float] | None = (float(data.lat), float(data.lon))
    else:
        position = coordinates(data.locality)
    changed = []
    values = {
        "name": data.name.strip(),
        "org_number": number,
        "address": data.address,
        "postcode": data.postcode,
        "locality": data.locality,
        "lat": position[0] if position else None,
        "lon": position[1] if position else None,
        "sni_code": data.sni_code or None,
        "contact_name": data.contact_name,
        "contact_email": data.contact_email.strip().lower(),
        "contact_phone": data.contact_phone,
        "website": data.website,
        "description": data.description,
    }
    for name, value in values.items():
        if getattr(company, name) != value:
            changed.append(name)
            setattr(company, name, value)
    company.updated_at = utcnow()
    session.add(company)
    if {"name", "locality"} & set(changed):
        _refresh_search_text(session, company)
    audit.record(
        session,
        company,
        actor=actor,
        action="organisation.update",
        fields=changed,
        version=company.version,
    )
    session.flush()
    return company


def _claim(session: Session, record: Any, read_version: int | None) -> None:
    if not claim_edit(session, record, read_version=read_version):
        raise stale_edit(session, record, read_version=read_version)


# -- placements ------------------------------------------------------------

PLACEMENT_FIELDS = (
    "kind",
    "title",
    "description",
    "tasks",
    "skills",
    "places",
    "start_date",
    "end_date",
    "locality",
    "supervisor_name",
    "supervisor_contact",
    "supervisor_trained",
    "requirements",
)


def placement_search_text(placement: Placement, company: Organisation) -> str:
    return search.index_text(
        placement.title,
        placement.description,
        placement.tasks,
        placement.skills,
        placement.requirements,
        placement.locality,
        company.name,
    )


def _assign(
    posting: Any,
    fields: Any,
    data: Any,
    *,
    blank_is_none: tuple[str, ...] = (),
) -> list[str]:
    """Copy the given fields of data onto posting; return the names that changed.

    Text is stripped, skills become a list, and the fields in blank_is_none
    store None rather than an empty string.
    """
    changed = []
    for name in fields:
        value = getattr(data, name)
        if isinstance(value, str):
            value = value.strip()
        if name == "skills":
            value = list(value or [])
        if name in blank_is_none:
            value = value or None
        if getattr(posting, name) != value:
            changed.append(name)
            setattr(posting, name, value)
    return changed


def _add_new(session: Session, *, posting: Placement | SkillGap, actor: User) -> None:
    """Store a posting just filled in from the form as the actor's, and record
    its creation (after the flush, which gives it its id)."""
    posting.created_by_id = actor.id
    session.add(posting)
    session.flush()
    entity = lifecycle.entity_name(posting)
    audit.record(session, posting, actor=actor, action=f"{entity}.create")


def _save_changes(
    session: Session, *, posting: Placement | SkillGap, actor: User, changed: list[str]
) -> None:
    """Store an edited posting and record which fields the edit changed."""
    session.add(posting)
    entity = lifecycle.entity_name(posting)
    audit.record(
        session,
        posting,
        actor=actor,
        action=f"{entity}.update",
        fields=changed,
        version=posting.version,
    )
    session.flush()


def check_period(
    data: PlacementData,
    *,
    min_weekdays: Mapping[str, int],
    today: date | None = None,
) -> None:
    """A placement's period: an end date, not before the start, at least
    min_weekdays[kind] weekdays long (a setting), and, for a new placement
    (today given), not in the past. Raises the period errors above."""
    start, end = data.start_date, data.end_date
    if end is None:
        raise EndDateRequired()
    if start is not None and end < start:
        raise EndBeforeStart()
    if today is not None and (end < today or (start is not None and start < today)):
        raise PeriodInPast()
    minimum = min_weekdays.get(data.kind, 0)
    if minimum:
        if start is None:
            raise StartDateRequired()
        if weekdays_between(start, end, at_least=minimum) < minimum:
            raise PeriodTooShort(minimum)


def _apply_placement(
    placement: Placement, company: Organisation, data: PlacementData
) -> list[str]:
    changed = _assign(placement, PLACEMENT_FIELDS, data)
    locality = placement.locality or company.locality
    placement.locality = locality
    # A placement at the company's own locality is at the company's position
    # (which may be exact); elsewhere at that locality's centre.
    if (
        locality == company.locality
        and company.lat is not None
        and company.lon is not None
    ):
        position: tuple[float, float] | None = (company.lat, company.lon)
    else:
        position = coordinates(locality)
    placement.lat, placement.lon = position if position else (None, None)
    placement.search_text = placement_search_text(placement, company)
    placement.updated_at = utcnow()
    return changed


def create_placement(
    session: Session,
    *,
    company: Organisation,
    data: PlacementData,
    actor: User,
    min_weekdays: Mapping[str, int] = NO_MINIMUM,
    today: date | None = None,
) -> Placement:
    """Post a placement; min_weekdays is the MIN_PLACEMENT_WEEKDAYS setting."""
    check_owner(actor, company.id)
    check_may_post(company)
    check_period(data, min_weekdays=min_weekdays, today=today or date.today())
    placement = Placement(company_id=company.id or 0, kind="", title="")
    _apply_placement(placement, company, data)
    _add_new(session, posting=placement, actor=actor)
    return placement


def update_placement(
    session: Session,
    *,
    placement: Placement,
    company: Organisation,
    data: PlacementData,
    actor: User,
    min_weekdays: Mapping[str, int] = NO_MINIMUM,
) -> Placement:
    """Save the edit form. StaleEdit if someone saved the placement since
    data.version; PlacesBelowBooked if fewer places than are booked, checked in
    the same statement that claims the row, so a booking confirmed meanwhile
    is counted (bookings take the same row before they add theirs)."""
    check_owner(actor, placement.company_id)
    check_period(data, min_weekdays=min_weekdays)
    if data.places < placement.places_booked:
        raise PlacesBelowBooked(placement.places_booked)
    if not claim_edit(
        session,
        placement,
        read_version=data.version,
        guard=col(Placement.places_booked) <= data.places,
    ):
        if placement.version != data.version:
            raise stale_edit(session, placement, read_version=data.version)
        raise PlacesBelowBooked(placement.places_booked)
    changed = _apply_placement(placement, company, data)
    _save_changes(session, posting=placement, actor=actor, changed=changed)
    return placement


def set_status(
    session: Session,
    *,
    posting: Placement | SkillGap,
    company: Organisation,
    status: str,
    actor: User,
) -> None:
    """Pause, resume or close; resuming is posting again, so it needs approval."""
    check_owner(actor, posting.company_id)
    if status == PostingStatus.OPEN:
        check_may_post(company)
    lifecycle.set_status(session, posting=posting, status=status, actor=actor)


def copy_placement(
    session: Session, *, placement: Placement, company: Organisation, actor: User
) -> Placement:
    check_owner(actor, placement.company_id)
    check_may_post(company)
    copy = lifecycle.copy_posting(session, posting=placement, actor=actor)
    assert isinstance(copy, Placement)
    return copy


def placement_query(
    *, company_id: int, status: str = "", kind: str = "", q: str = ""
) -> Any:
    query = select(Placement).where(Placement.company_id == company_id)
    if status:
        query = query.where(Placement.status == status)
    if kind:
        query = query.where(Placement.kind == kind)
    terms = search.query_terms(q)
    if terms:
        query = query.where(search.match_all(col(Placement.search_text), terms))
    return query.order_by(
        col(Placement.status) == PostingStatus.CLOSED,
        col(Placement.updated_at).desc(),
        col(Placement.id).desc(),
    )


# -- skill gaps ------------------------------------------------------------

SKILL_GAP_FIELDS = (
    "title",
    "description",
    "skills",
    "ssyk_code",
    "headcount",
    "horizon",
)


def skill_gap_search_text(gap: SkillGap, company: Organisation) -> str:
    return search.index_text(
        gap.title, gap.description, gap.skills, company.locality, company.name
    )


def _refresh_search_text(session: Session, company: Organisation) -> None:
    """The company's name and locality are part of its postings' search words:
    the search finds them by the new name at once."""
    for placement in session.exec(
        select(Placement).where(Placement.company_id == company.id)
    ):
        placement.search_text = placement_search_text(placement, company)
    for gap in session.exec(select(SkillGap).where(SkillGap.company_id == company.id)):
        gap.search_text = skill_gap_search_text(gap, company)


def reindex_search_text(session: Session) -> dict[str, int]:
    """Analyse every posting's words again (after the search's analysis
    changed): counts of placements, needs and skill gaps whose search_text
    changed."""
    counts = {"placement": 0, "need": 0, "skill_gap": 0}
    placements = session.exec(
        select(Placement, Organisation).join(
            Organisation, col(Placement.company_id) == Organisation.id
        )
    ).all()
    for placement, company in placements:
        counts["placement"] += _set_text(
            placement, placement_search_text(placement, company)
        )
    gaps = session.exec(
        select(SkillGap, Organisation).join(
            Organisation, col(SkillGap.company_id) == Organisation.id
        )
    ).all()
    for gap, company in gaps:
        counts["skill_gap"] += _set_text(gap, skill_gap_search_text(gap, company))
    needs = session.exec(
        select(Need, Programme).outerjoin(
            Programme, col(Need.programme_id) == Programme.id
        )
    ).all()
    for need, programme in needs:
        counts["need"] += _set_text(need, need_search_text(need, programme))
    session.flush()
    return counts


def _set_text(posting: Placement | Need | SkillGap, text: str) -> int:
    if posting.search_text == text:
        return 0
    posting.search_text = text
    return 1


def _apply_skill_gap(
    gap: SkillGap, company: Organisation, data: SkillGapData
) -> list[str]:
    if data.ssyk_code and data.ssyk_code not in occupations():
        raise UnknownOccupation()
    changed = _assign(gap, SKILL_GAP_FIELDS, data, blank_is_none=("ssyk_code",))
    gap.search_text = skill_gap_search_text(gap, company)
    gap.updated_at = utcnow()
    return changed


def create_skill_gap(
    session: Session, *, company: Organisation, data: SkillGapData, actor: User
) -> SkillGap:
    check_owner(actor, company.id)
    check_may_post(company)
    gap = SkillGap(company_id=company.id or 0, title="")
    _apply_skill_gap(gap, company, data)
    _add_new(session, posting=gap, actor=actor)
    return gap


def update_skill_gap(
    session: Session,
    *,
    gap: SkillGap,
    company: Organisation,
    data: SkillGapData,
    actor: User,
) -> SkillGap:
    check_owner(actor, gap.company_id)
    _claim(session, gap, data.version)
    changed = _apply_skill_gap(gap, company, data)
    _save_changes(session, posting=gap, actor=actor, changed=changed)
    return gap


def skill_gap_query(*, company_id: int, status: str = "") -> Any:
    query = select(SkillGap).where(SkillGap.company_id == company_id)
    if status:
        query = query.where(SkillGap.status == status)
    return query.order_by(
        col(SkillGap.status) == PostingStatus.CLOSED,
        col(SkillGap.updated_at).desc(),
        col(SkillGap.id).desc(),
    )


# -- dashboard and company page ---------------------------------------------


@dataclass(frozen=True)
class Summary:
    open_placements: int
    free_places: int
    booked_places: int
    open_gaps: int
    open_needs: int


def not_ended(model: type[Need] | type[Placement]) -> Any:
    """SQL: the posting's period has not ended (an ended posting is never
    shown as open, even before the nightly close-expired run closes it)."""
    return or_(col(model.end_date).is_(None), col(model.end_date) >= date.today())


def _summary_statement() -> Any:
    company: Any = sa.bindparam("company_id")
    placed = (
        select(
            func.count(),
            func.coalesce(func.sum(Placement.places), 0),
            func.coalesce(func.sum(Placement.places_booked), 0),
        )
        .select_from(Placement)
        .where(Placement.company_id == company)
        .where(col(Placement.status).in_([PostingStatus.OPEN, PostingStatus.PAUSED]))
        .subquery()
    )
    gaps = (
        select(func.count())
        .select_from(SkillGap)
        .where(SkillGap.company_id == company)
        .where(SkillGap.status == PostingStatus.OPEN)
        .scalar_subquery()
    )
    needs = (
        select(func.count())
        .select_from(Need)
        .where(Need.status == PostingStatus.OPEN)
        .scalar_subquery()
    )
    return sa.select(*placed.c, gaps, needs)


# Built once (the company's home page shows it on every visit): one statement
# with the company as a parameter.
_SUMMARY = _summary_statement()


def summary(session: Session, *, company_id: int) -> Summary:
    count, places, booked, gaps, needs = session.execute(
        _SUMMARY, {"company_id": company_id}
    ).one()
    return Summary(
        open_placements=int(count),
        free_places=max(0, int(places) - int(booked)),
        booked_places=int(booked),
        open_gaps=int(gaps),
        open_needs=int(needs),
    )


def open_placements(session: Session, *, company_id: int) -> Sequence[Placement]:
    return session.exec(
        select(Placement)
        .where(Placement.company_id == company_id)
        .where(Placement.status == PostingStatus.OPEN)
        .where(not_ended(Placement))
        .order_by(col(Placement.start_date), col(Placement.id))
    ).all()


def open_skill_gaps(session: Session, *, company_id: int) -> Sequence[SkillGap]:
    return session.exec(
        select(SkillGap)
        .where(SkillGap.company_id == company_id)
        .where(SkillGap.status == PostingStatus.OPEN)
        .order_by(col(SkillGap.updated_at).desc(), col(SkillGap.id))
    ).all()


# -- browsing schools' needs and programmes ----------------------------------


@dataclass(frozen=True)
class NeedFilters:
    q: str = ""
    kind: str = ""
    locality: str = ""
    max_km: float | None = None
    origin: tuple[float, float] | None = None
    start: date | None = None
    end: date | None = None


def _distance_sq(lat: Any, lon: Any, origin: tuple[float, float]) -> Any:
    scale = cos(radians(origin[0]))
    return ((lat - origin[0]) * KM_PER_DEGREE) * ((lat - origin[0]) * KM_PER_DEGREE) + (
        (lon - origin[1]) * KM_PER_DEGREE * scale
    ) * ((lon - origin[1]) * KM_PER_DEGREE * scale)


def needs_query(filters: NeedFilters) -> Any:
    """Open needs with their school's and programme's names, best first.

    Rows are (Need, school name, programme name or None): one statement, so a
    page of results costs the same whatever its size.
    """
    query = (
        select(Need, Organisation.name, Programme.name)
        .join(Organisation, col(Organisation.id) == Need.school_id)
        .outerjoin(Programme, col(Programme.id) == Need.programme_id)
        .where(Need.status == PostingStatus.OPEN)
        .where(not_ended(Need))
    )
    order: list[Any] = []
    terms = search.query_terms(filters.q)
    if terms:
        query = query.where(search.match_all(col(Need.search_text), terms))
        order.append(search.relevance(col(Need.search_text), terms).desc())
    if filters.kind:
        query = query.where(Need.kind == filters.kind)
    if filters.locality:
        query = query.where(Need.locality == filters.locality)
    if filters.start is not None:
        query = query.where(
            or_(col(Need.end_date).is_(None), col(Need.end_date) >= filters.start)
        )
    if filters.end is not None:
        query = query.where(
            or_(col(Need.start_date).is_(None), col(Need.start_date) <= filters.end)
        )
    if filters.origin is not None and filters.max_km is not None:
        distance_sq = _distance_sq(col(Need.lat), col(Need.lon), filters.origin)
        query = query.where(col(Need.lat).is_not(None)).where(
            distance_sq <= filters.max_km * filters.max_km
        )
        order.append(distance_sq)
    order.extend(
        [
            col(Need.start_date).is_(None),
            col(Need.start_date),
            col(Need.id),
        ]
    )
    return query.order_by(*order)


def need_distance(need: Need, origin: tuple[float, float] | None) -> float | None:
    if origin is None or need.lat is None or need.lon is None:
        return None
    return km_between(origin, (need.lat, need.lon))


@dataclass(frozen=True)
class ProgrammeHit:
    programme: Programme
    school: Organisation
    score: int
    km: float | None


def search_programmes(
    session: Session,
    *,
    q: str = "",
    level: str = "",
    locality: str = "",
    max_km: float | None = None,
    origin: tuple[float, float] | None = None,
) -> list[ProgrammeHit]:
    """Active programmes ranked by how well they match q, nearest first.

    Programmes carry no search_text column, and a municipality has tens of
    them, not thousands: they are matched in Python with the same stems and
    scores as the SQL search over postings.
    """
    query = (
        select(Programme, Organisation)
        .join(Organisation, col(Organisation.id) == Programme.school_id)
        .where(Programme.active == sa.true())
    )
    if level:
        query = query.where(Programme.level == level)
    if locality:
        query = query.where(Organisation.locality == locality)
    terms = search.query_terms(q)
    hits = []
    for programme, school in session.exec(query).all():
        km = (
            km_between(origin, (school.lat, school.lon))
            if origin is not None and school.lat is not None and school.lon is not None
            else None
        )
        if max_km is not None and (km is None or km > max_km):
            continue
        score = 0
        if terms:
            text = search.index_text(
                programme.name,
                programme.code,
                programme.orientation,
                programme.description,
                programme.skills,
            )
            for term in terms:
                if f" {term}" in text:
                    score += 2
                elif term in text:
                    score += 1
                else:
                    score = -1
                    break
            if score < 0:
                continue
        hits.append(ProgrammeHit(programme, school, score, km))
    hits.sort(
        key=lambda h: (
            -h.score,
            h.km if h.km is not None else float("inf"),
            h.programme.name.casefold(),
            h.programme.id or 0,
        )
    )
    return hits
