"""Load the Mora demo dataset: `moraspar seed-demo` calls `load_demo`.

The data lives in the TOML files of `mora/`, read and checked by
`moraspar.demo.dataset`. Loading is idempotent: every row is looked up by its
natural key (organisation number, email, school and name, company and title)
before it is inserted, so a second run adds nothing and leaves edited rows
alone. It flushes, never commits.
"""

import hashlib
import unicodedata
from dataclasses import dataclass, fields
from typing import Any, TypeVar

from sqlmodel import Session, SQLModel, select

from moraspar import audit
from moraspar.auth.services import create_user, find_by_email
from moraspar.companies.services import (
    placement_search_text,
    skill_gap_search_text,
)
from moraspar.demo.dataset import (
    CompanySpec,
    CouncilSpec,
    Dataset,
    NeedSpec,
    PlacementSpec,
    SchoolSpec,
    UserSpec,
    load_dataset,
)
from moraspar.models import (
    Council,
    CouncilMember,
    CouncilOrganisation,
    Need,
    Organisation,
    OrgKind,
    Placement,
    Programme,
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


def load_demo(session: Session, dataset: Dataset | None = None) -> DemoSummary:
    """Load the Mora demo data into session; rerunning it creates nothing."""
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
