"""Load the Mora demo dataset: `moraspar seed-demo` calls `load_demo`.

The data lives in the TOML files of `mora/`, read and checked by
`moraspar.demo.dataset`. Loading is idempotent: every row is looked up by its
natural key (organisation number, email, school and name, company and title)
before it is inserted, so a second run adds nothing and leaves edited rows
alone. It flushes, never commits.

The bookings of `loop.toml` get their dates from the day of loading (`today`):
a booking is looked up by its need and placement, so a later run on another
day adds none and moves none.
"""

import hashlib
import unicodedata
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlmodel import Session, SQLModel, select

from moraspar import audit
from moraspar.auth.services import create_user, find_by_email
from moraspar.bookings.services import recount_places
from moraspar.companies.services import (
    placement_search_text,
    skill_gap_search_text,
)
from moraspar.demo.dataset import (
    BookingSpec,
    CompanySpec,
    CouncilSpec,
    Dataset,
    NeedSpec,
    PlacementSpec,
    SchoolSpec,
    UserSpec,
    WaitingSpec,
    load_dataset,
    offset_weeks,
)
from moraspar.models import (
    Booking,
    Council,
    CouncilMember,
    CouncilOrganisation,
    Evaluation,
    MatchProposal,
    Need,
    Organisation,
    OrgKind,
    Placement,
    Programme,
    ProposalStatus,
    Role,
    SkillGap,
    User,
)
from moraspar.reference import orgnumber
from moraspar.reference.gazetteer import coordinates
from moraspar.schools.services import need_search_text

DEMO_PASSWORD = "moraspar-demo"  # noqa: S105 - published in the README on purpose

T = TypeVar("T", bound=SQLModel)


@dataclass(frozen=True)
class DemoSummary:
    """Rows created by one call; all zero when the data was already there."""

    organisations: int = 0
    users: int = 0
    programmes: int = 0
    needs: int = 0
    placements: int = 0
    skill_gaps: int = 0
    councils: int = 0
    proposals: int = 0
    bookings: int = 0
    evaluations: int = 0

    @property
    def total(self) -> int:
        return (
            self.organisations
            + self.users
            + self.programmes
            + self.needs
            + self.placements
            + self.skill_gaps
            + self.councils
            + self.proposals
            + self.bookings
            + self.evaluations
        )


class _Loader:
    def __init__(self, session: Session, postcodes: dict[str, str]) -> None:
        self.session = session
        self.postcodes = postcodes
        self.created = {field.name: 0 for field in fields(DemoSummary)}

    def find(self, model: type[T], **criteria: Any) -> T | None:
        query = select(model)
        for column, value in criteria.items():
            query = query.where(getattr(model, column) == value)
        return self.session.exec(query).first()

    def add(self, counter: str, row: T) -> T:
        self.session.add(row)
        self.session.flush()
        self.created[counter] += 1
        return row

    def organisation(
        self, spec: CompanySpec, kind: OrgKind, *, description: str = ""
    ) -> Organisation:
        number = org_number_for(spec.name, kind)
        existing = self.find(Organisation, org_number=number)
        if existing is not None:
            return existing
        lat, lon = _position(spec.locality)
        domain = email_domain(spec.name)
        return self.add(
            "organisations",
            Organisation(
                kind=str(kind),
                name=spec.name,
                org_number=number,
                address=spec.address,
                postcode=self.postcodes[spec.locality],
                locality=spec.locality,
                lat=lat,
                lon=lon,
                sni_code=spec.sni_code if kind == OrgKind.COMPANY else None,
                contact_name=spec.contact_name,
                contact_email=f"info@{domain}",
                contact_phone=phone_for(spec.name, spec.locality),
                description=description or spec.description,
                approved=True,
            ),
        )

    def school(self, spec: SchoolSpec) -> Organisation:
        as_org = CompanySpec(
            name=spec.name,
            locality=spec.locality,
            sni_code="85",
            address=spec.address,
            contact_name=spec.contact_name,
            description="",
        )
        school = self.organisation(as_org, OrgKind.SCHOOL, description=spec.description)
        assert school.id is not None
        programmes: dict[str, Programme] = {}
        for item in spec.programmes:
            programme = self.find(Programme, school_id=school.id, name=item.name)
            if programme is None:
                programme = self.add(
                    "programmes",
                    Programme(
                        school_id=school.id,
                        name=item.name,
                        code=item.code,
                        orientation=item.orientation,
                        level=str(item.level),
                        description=item.description,
                        skills=list(item.skills),
                        places_per_year=item.places_per_year,
                    ),
                )
            programmes[item.name] = programme
        for need in spec.needs:
            self.need(school, programmes[need.programme], need)
        return school

    def need(self, school: Organisation, programme: Programme, spec: NeedSpec) -> None:
        assert school.id is not None
        if self.find(Need, school_id=school.id, title=spec.title) is not None:
            return
        start, end = spec.period
        need = Need(
            school_id=school.id,
            programme_id=programme.id,
            kind=str(spec.kind),
            title=spec.title,
            description=spec.description,
            skills=list(spec.skills),
            students=spec.students,
            start_date=start,
            end_date=end,
            locality=school.locality,
            lat=school.lat,
            lon=school.lon,
            max_km=spec.max_km,
            requirements=spec.requirements,
        )
        need.search_text = need_search_text(need, programme)
        self.add("needs", need)

    def company(self, spec: CompanySpec) -> Organisation:
        company = self.organisation(spec, OrgKind.COMPANY)
        for placement in spec.placements:
            self.placement(company, placement)
        for gap in spec.gaps:
            assert company.id is not None
            if self.find(SkillGap, company_id=company.id, title=gap.title) is None:
                skill_gap = SkillGap(
                    company_id=company.id,
                    title=gap.title,
                    description=gap.description,
                    skills=list(gap.skills),
                    ssyk_code=gap.ssyk_code,
                    headcount=gap.headcount,
                    horizon=str(gap.horizon),
                )
                skill_gap.search_text = skill_gap_search_text(skill_gap, company)
                self.add("skill_gaps", skill_gap)
        return company

    def placement(self, company: Organisation, spec: PlacementSpec) -> None:
        assert company.id is not None
        if self.find(Placement, company_id=company.id, title=spec.title) is not None:
            return
        start, end = spec.period
        placement = Placement(
            company_id=company.id,
            kind=str(spec.kind),
            title=spec.title,
            description=spec.description,
            tasks=spec.tasks,
            skills=list(spec.skills),
            places=spec.places,
            start_date=start,
            end_date=end,
            locality=company.locality,
            lat=company.lat,
            lon=company.lon,
            supervisor_name=spec.supervisor,
            supervisor_contact=person_email(spec.supervisor, company.name),
            supervisor_trained=spec.supervisor_trained,
            requirements=spec.requirements,
        )
        placement.search_text = placement_search_text(placement, company)
        self.add("placements", placement)

    def user(self, spec: UserSpec, organisations: dict[str, Organisation]) -> User:
        existing = find_by_email(self.session, spec.email)
        if existing is not None:
            # Never rehash on a rerun: argon2 is slow on purpose.
            return existing
        user = create_user(
            self.session,
            email=spec.email,
            display_name=spec.display_name,
            role=spec.role,
            organisation=organisations[spec.organisation],
            password=DEMO_PASSWORD,
        )
        self.created["users"] += 1
        return user

    def council(
        self,
        spec: CouncilSpec,
        municipality: Organisation,
        chair: User,
        area: list[Organisation],
    ) -> None:
        council = self.find(Council, name=spec.name)
        if council is None:
            council = self.add(
                "councils",
                Council(
                    name=spec.name,
                    kind=spec.kind,
                    organisation_id=municipality.id,
                    description=spec.description,
                ),
            )
        assert council.id is not None and chair.id is not None
        if self.find(CouncilMember, council_id=council.id, user_id=chair.id) is None:
            self.session.add(
                CouncilMember(council_id=council.id, user_id=chair.id, chair=True)
            )
            self.session.flush()
        # The council works for every demo school and company.
        for organisation in area:
            assert organisation.id is not None
            found = self.find(
                CouncilOrganisation,
                council_id=council.id,
                organisation_id=organisation.id,
            )
            if found is None:
                self.session.add(
                    CouncilOrganisation(
                        council_id=council.id, organisation_id=organisation.id
                    )
                )
        self.session.flush()

    def proposal(
        self,
        spec: BookingSpec | WaitingSpec,
        organisations: dict[str, Organisation],
        council: User,
        decided_at: datetime,
    ) -> MatchProposal | None:
        """The approved proposal of a spec's need and placement; None when the
        pair is there already (an earlier load, or the council's own work)."""
        need = self.find(Need, school_id=organisations[spec.school].id, title=spec.need)
        placement = self.find(
            Placement, company_id=organisations[spec.company].id, title=spec.placement
        )
        assert need is not None and placement is not None  # checked by dataset
        if self.find(MatchProposal, need_id=need.id, placement_id=placement.id):
            return None
        return self.add(
            "proposals",
            MatchProposal(
                need_id=need.id,  # type: ignore[arg-type]
                placement_id=placement.id,  # type: ignore[arg-type]
                score=0.8,
                students=spec.students,
                status=ProposalStatus.APPROVED,
                decided_by_id=council.id,
                decided_at=decided_at,
            ),
        )

    def waiting(
        self,
        spec: WaitingSpec,
        organisations: dict[str, Organisation],
        council: User,
        today: date,
    ) -> None:
        approved = _morning(today - timedelta(days=spec.approved_days_ago))
        proposal = self.proposal(spec, organisations, council, approved)
        if proposal is None:
            return
        waits_for_school = spec.waiting_for == "school"
        proposal.school_confirmed = None if waits_for_school else True
        proposal.company_confirmed = True if waits_for_school else None
        proposal.created_at = proposal.updated_at = approved
        self.session.add(proposal)
        self.session.flush()

    def booking(
        self,
        spec: BookingSpec,
        organisations: dict[str, Organisation],
        users: dict[str, User],
        today: date,
    ) -> None:
        start, end = offset_weeks(today, spec.start_offset_weeks, spec.length_weeks)
        booked_on = _morning(min(today, start) - timedelta(weeks=4))
        proposal = self.proposal(spec, organisations, users["council"], booked_on)
        if proposal is None:
            return
        proposal.status = ProposalStatus.BOOKED
        proposal.school_confirmed = proposal.company_confirmed = True
        proposal.created_at = proposal.updated_at = booked_on
        self.session.add(proposal)
        booking = Booking(
            proposal_id=proposal.id,  # type: ignore[arg-type]
            need_id=proposal.need_id,
            placement_id=proposal.placement_id,
            students=spec.students,
            start_date=start,
            end_date=end,
            status=str(spec.state),
            created_at=booked_on,
        )
        if spec.attendance is not None:
            booking.attendance = str(spec.attendance)
            booking.attendance_recorded_at = _morning(start + timedelta(days=1))
        if spec.cancel_reason is not None:
            booking.cancelled_side = str(spec.cancelled_side)
            booking.cancel_reason = str(spec.cancel_reason)
            booking.cancel_comment = spec.cancel_comment
            booking.cancelled_by_id = _side_user(
                spec.cancelled_side, spec, users, organisations
            )
            booking.cancelled_at = _morning(min(today, start) - timedelta(days=3))
        if spec.move_side is not None and spec.move_offset_weeks is not None:
            booking.proposed_start_date, booking.proposed_end_date = offset_weeks(
                today, spec.move_offset_weeks, spec.length_weeks
            )
            booking.change_requested_side = str(spec.move_side)
        self.add("bookings", booking)
        for evaluation in spec.evaluations:
            self.add(
                "evaluations",
                Evaluation(
                    booking_id=booking.id,  # type: ignore[arg-type]
                    side=str(evaluation.side),
                    overall=evaluation.overall,
                    supervision=evaluation.supervision,
                    preparation=evaluation.preparation,
                    comment=evaluation.comment,
                    created_by_id=_side_user(
                        evaluation.side, spec, users, organisations
                    ),
                    created_at=_morning(end + timedelta(days=3)),
                ),
            )
        # places_booked is never set by hand: it is the bookings' recount.
        recount_places(self.session, placement_id=booking.placement_id)


def _morning(day: date) -> datetime:
    return datetime.combine(day, time(8), tzinfo=UTC)


def _side_user(
    side: str | None,
    spec: BookingSpec,
    users: dict[str, User],
    organisations: dict[str, Organisation],
) -> int | None:
    """The demo user who speaks for the side in this booking, if there is one."""
    user = users.get("teacher" if side == "school" else "company")
    organisation = organisations[spec.school if side == "school" else spec.company]
    if user is None or user.organisation_id != organisation.id:
        return None
    return user.id


def load_demo(
    session: Session, dataset: Dataset | None = None, *, today: date | None = None
) -> DemoSummary:
    """Load the Mora demo data into session; rerunning it creates nothing.
    `today` places the bookings of the loop (by default the day it runs)."""
    data = dataset or load_dataset()
    loader = _Loader(session, data.postcodes)
    municipality = loader.organisation(data.municipality, OrgKind.MUNICIPALITY)
    organisations = {municipality.name: municipality}
    for school in data.schools:
        organisations[school.name] = loader.school(school)
    for company in data.companies:
        organisations[company.name] = loader.company(company)
    users = {spec.role: loader.user(spec, organisations) for spec in data.users}
    area = [o for o in organisations.values() if o is not municipality]
    loader.council(data.council, municipality, users[Role.COUNCIL], area)
    day = today or date.today()
    speakers = {str(role): user for role, user in users.items()}
    for booking in data.bookings:
        loader.booking(booking, organisations, speakers, day)
    for waiting in data.waiting:
        loader.waiting(waiting, organisations, users[Role.COUNCIL], day)
    summary = DemoSummary(**loader.created)
    if summary.total:
        audit.record(
            session,
            actor=None,
            action="demo.load",
            entity="demo",
            entity_id=None,
            **loader.created,
        )
        session.flush()
    return summary


def org_number_for(name: str, kind: OrgKind) -> str:
    """A fictional, valid and stable organisation number for a demo name.

    Derived from the name rather than from a running counter, so adding a
    company to the list never renumbers the others (which would break
    idempotency). The prefixes keep clear of the ranges in use as far as we
    know: 552 for companies (aktiebolag are numbered from 556), 2129 for
    municipal bodies (municipalities are 212000-…).
    """
    digits = f"{_stable_int(name) % 1_000_000:06d}"
    if kind == OrgKind.COMPANY:
        return orgnumber.complete("552" + digits)
    return orgnumber.complete("2129" + digits[:5])


def phone_for(name: str, locality: str) -> str:
    area = "0251" if locality == "Älvdalen" else "0250"
    number = 10_000 + _stable_int("phone:" + name) % 90_000
    return f"{area}-{number // 100:03d} {number % 100:02d}"


def email_domain(name: str) -> str:
    words = _ascii(name).lower().replace("&", " ").split()
    return "-".join(word for word in words if word != "ab") + ".example"


def person_email(person: str, organisation: str) -> str:
    local = ".".join(_ascii(person).lower().replace("-", "").split())
    return f"{local}@{email_domain(organisation)}"


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _stable_int(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def _position(locality: str) -> tuple[float, float]:
    position = coordinates(locality)
    if position is None:
        raise LookupError(f"{locality!r} is missing from the gazetteer")
    return position
