"""The Mora demo loader: enough realistic data, valid, and safe to run twice."""

import re
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, SQLModel, func, select

from moraspar.auth.services import authenticate
from moraspar.companies.services import placement_search_text
from moraspar.db import make_engine
from moraspar.demo import DEMO_PASSWORD, DemoSummary, load_demo
from moraspar.demo import dataset as demo_dataset
from moraspar.demo.dataset import DATA_DIR, DemoDataError, load_dataset
from moraspar.formkit.validators import contains_personal_number
from moraspar.models import (
    BOOKING_HOLDS_PLACES,
    AuditEvent,
    Booking,
    BookingStatus,
    Council,
    CouncilMember,
    Evaluation,
    Level,
    MatchProposal,
    Need,
    Organisation,
    OrgKind,
    Placement,
    PostingKind,
    Programme,
    ProposalStatus,
    SkillGap,
    User,
)
from moraspar.reference import orgnumber
from moraspar.reference.gazetteer import LOCALITIES
from moraspar.schools.services import need_search_text

MORA_LOCALITIES = {
    "Mora",
    "Färnäs",
    "Noret",
    "Östnor",
    "Nusnäs",
    "Sollerön",
    "Venjan",
    "Våmhus",
    "Bonäs",
    "Oxberg",
    "Garsås",
}
TABLES: tuple[type[SQLModel], ...] = (
    Organisation,
    User,
    Programme,
    Need,
    Placement,
    SkillGap,
    Council,
    CouncilMember,
)


def fresh_session() -> Session:
    engine = make_engine("sqlite://")
    SQLModel.metadata.create_all(engine)
    return Session(engine)


@pytest.fixture(scope="module")
def loaded() -> Iterator[tuple[Session, DemoSummary]]:
    with fresh_session() as session:
        summary = load_demo(session)
        session.commit()
        yield session, summary


def count(session: Session, model: type[SQLModel]) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def organisations(session: Session, kind: OrgKind) -> list[Organisation]:
    query = select(Organisation).where(Organisation.kind == kind)
    return list(session.exec(query).all())


def test_summary_counts_what_is_in_the_database(
    loaded: tuple[Session, DemoSummary],
) -> None:
    session, summary = loaded
    assert summary.organisations == count(session, Organisation)
    assert summary.users == count(session, User) == 4
    assert summary.programmes == count(session, Programme)
    assert summary.needs == count(session, Need) >= 30
    assert summary.placements == count(session, Placement) >= 80
    assert summary.skill_gaps == count(session, SkillGap) >= 25
    assert summary.councils == count(session, Council) == 1


def test_companies_are_many_approved_and_spread_over_mora(
    loaded: tuple[Session, DemoSummary],
) -> None:
    session, _ = loaded
    companies = organisations(session, OrgKind.COMPANY)
    assert len(companies) >= 40
    assert all(company.approved for company in companies)
    assert all(re.fullmatch(r"\d{2}", company.sni_code or "") for company in companies)
    assert len({company.locality for company in companies} & MORA_LOCALITIES) >= 10
    for company in companies:
        assert (company.lat, company.lon) == LOCALITIES[company.locality]
        assert company.contact_email.endswith(".example")
        assert re.fullmatch(r"025[01]-\d{3} \d{2}", company.contact_phone)


def test_schools_and_programmes(loaded: tuple[Session, DemoSummary]) -> None:
    session, _ = loaded
    assert len(organisations(session, OrgKind.SCHOOL)) >= 3
    assert len(organisations(session, OrgKind.MUNICIPALITY)) == 1
    programmes = session.exec(select(Programme)).all()
    codes = {p.code for p in programmes if p.level == Level.GYMNASIUM}
    assert {"BA", "EE", "FT", "RL", "VO", "BF", "NA", "TE"} <= codes
    grundskola = [p for p in programmes if p.level == Level.GRUNDSKOLA]
    assert len({p.school_id for p in grundskola}) >= 2
    assert all(5 <= len(p.skills) <= 10 for p in programmes if p.code)


def test_every_organisation_number_is_valid_and_unique(
    loaded: tuple[Session, DemoSummary],
) -> None:
    session, _ = loaded
    numbers = [o.org_number for o in session.exec(select(Organisation)).all()]
    assert all(number is not None for number in numbers)
    assert len(set(numbers)) == len(numbers)
    for number in numbers:
        assert number is not None
        assert orgnumber.normalise(number) == number
        assert int(number[2]) >= 2  # a legal entity, not a person


def test_demo_users_sign_in_with_their_roles(
    loaded: tuple[Session, DemoSummary],
) -> None:
    session, _ = loaded
    expected = {
        "teacher@moraspar.example": ("teacher", OrgKind.SCHOOL),
        "company@moraspar.example": ("company", OrgKind.COMPANY),
        "council@moraspar.example": ("council", OrgKind.MUNICIPALITY),
        "admin@moraspar.example": ("admin", OrgKind.MUNICIPALITY),
    }
    for email, (role, kind) in expected.items():
        user = authenticate(session, email=email, password=DEMO_PASSWORD)
        assert user.role == role
        organisation = session.get(Organisation, user.organisation_id)
        assert organisation is not None and organisation.kind == kind
    company_user = authenticate(
        session, email="company@moraspar.example", password=DEMO_PASSWORD
    )
    offered = select(Placement).where(
        Placement.company_id == company_user.organisation_id
    )
    assert len(session.exec(offered).all()) >= 3


def test_council_user_chairs_the_kompetensrad(
    loaded: tuple[Session, DemoSummary],
) -> None:
    session, _ = loaded
    council = session.exec(select(Council)).one()
    assert council.name == "Kompetensrådet Mora"
    assert council.kind == "kompetensrad"
    member = session.exec(select(CouncilMember)).one()
    user = session.get(User, member.user_id)
    assert user is not None and user.email == "council@moraspar.example"
    assert member.chair


def test_postings_are_consistent(loaded: tuple[Session, DemoSummary]) -> None:
    session, _ = loaded
    kinds = {str(kind) for kind in PostingKind}
    placements = session.exec(select(Placement)).all()
    for placement in placements:
        assert placement.kind in kinds
        assert placement.start_date is not None and placement.end_date is not None
        assert placement.end_date >= placement.start_date
        assert placement.start_date.weekday() < 5 and placement.end_date.weekday() < 5
        assert 1 <= placement.places <= 4
        assert placement.skills and placement.supervisor_name
        assert placement.status == "open"
        assert placement.lat is not None
    assert {p.kind for p in placements} == kinds
    prao_days = {
        (p.end_date - p.start_date).days
        for p in placements
        if p.kind == PostingKind.PRAO and p.start_date and p.end_date
    }
    assert prao_days == {11}  # Monday to Friday of the following week


def test_needs_are_group_level_only(loaded: tuple[Session, DemoSummary]) -> None:
    session, _ = loaded
    for need in session.exec(select(Need)).all():
        text = " ".join((need.title, need.description, need.requirements))
        assert not contains_personal_number(text)
        assert 1 <= need.students <= 12
        assert need.max_km is not None and 10 <= need.max_km <= 60
        assert need.programme_id is not None
        programme = session.get(Programme, need.programme_id)
        assert programme is not None and programme.school_id == need.school_id
        assert need.start_date is not None and need.end_date is not None
        assert need.end_date >= need.start_date


def test_some_needs_are_uncovered_but_most_are_covered(
    loaded: tuple[Session, DemoSummary],
) -> None:
    session, _ = loaded
    placements = session.exec(select(Placement)).all()

    def covered(need: Need) -> bool:
        assert need.start_date is not None and need.end_date is not None
        return any(
            p.kind == need.kind
            and p.start_date is not None
            and p.end_date is not None
            and p.start_date <= need.end_date
            and need.start_date <= p.end_date
            for p in placements
        )

    needs = session.exec(select(Need)).all()
    uncovered = [need for need in needs if not covered(need)]
    assert uncovered
    assert len(uncovered) <= len(needs) // 4


def test_some_skill_gaps_name_skills_no_programme_teaches(
    loaded: tuple[Session, DemoSummary],
) -> None:
    session, _ = loaded
    taught = {
        skill for p in session.exec(select(Programme)).all() for skill in p.skills
    }
    gaps = session.exec(select(SkillGap)).all()
    assert all(g.ssyk_code is None or re.fullmatch(r"\d{4}", g.ssyk_code) for g in gaps)
    assert {g.horizon for g in gaps} == {"now", "1-3", "3-5"}
    unmet = [g for g in gaps if not set(g.skills) & taught]
    assert unmet
    assert len(unmet) < len(gaps)


def test_second_load_creates_nothing_and_changes_nothing() -> None:
    with fresh_session() as session:
        first = load_demo(session)
        session.commit()
        before = {model: count(session, model) for model in TABLES}
        hashes = {u.email: u.password_hash for u in session.exec(select(User)).all()}

        second = load_demo(session)
        session.commit()

        assert first.total > 0
        assert second == DemoSummary()
        assert {model: count(session, model) for model in TABLES} == before
        after = {u.email: u.password_hash for u in session.exec(select(User)).all()}
        assert after == hashes
        loads = select(AuditEvent).where(AuditEvent.action == "demo.load")
        assert len(session.exec(loads).all()) == 1


def test_load_only_flushes() -> None:
    engine = make_engine("sqlite://")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        load_demo(session)
        session.rollback()
        assert count(session, Organisation) == 0


def test_the_data_files_give_the_rows_and_dates_they_always_gave(
    loaded: tuple[Session, DemoSummary],
) -> None:
    session, summary = loaded
    assert (
        summary.organisations,
        summary.programmes,
        summary.needs,
        summary.placements,
        summary.skill_gaps,
    ) == (50, 19, 35, 108, 36)
    prao = session.exec(
        select(Placement).where(Placement.title == "Prao i hästverkstaden")
    ).one()
    assert (prao.kind, prao.places, prao.supervisor_trained) == ("prao", 2, True)
    # start_week = 10, length_weeks = 2: Monday of week 10 to Friday of week 11.
    assert (prao.start_date, prao.end_date) == (date(2027, 3, 8), date(2027, 3, 19))
    assert prao.skills == [
        "träarbete",
        "måleri",
        "hantverk",
        "noggrannhet",
        "kundbemötande",
    ]
    company = session.get(Organisation, prao.company_id)
    assert company is not None and company.name == "Nusnäs Trähantverk AB"
    assert prao.search_text == placement_search_text(prao, company)
    visit = session.exec(
        select(Placement).where(Placement.title == "Studiebesök i hantverksbageriet")
    ).one()
    # start_week = 46, weekday = 2: one Tuesday.
    assert visit.start_date == visit.end_date == date(2027, 11, 16)
    gap = session.exec(
        select(SkillGap).where(SkillGap.title == "Redovisningsekonom")
    ).one()
    assert (gap.ssyk_code, gap.headcount, gap.horizon) == ("3313", 1, "3-5")
    for need in session.exec(select(Need)).all():
        programme = session.get(Programme, need.programme_id)
        assert need.search_text == need_search_text(need, programme)
        assert need.search_text


def test_every_state_of_the_loop_is_there_after_seeding(
    loaded: tuple[Session, DemoSummary],
) -> None:
    session, summary = loaded
    today = date.today()
    bookings = session.exec(select(Booking)).all()
    sides = {
        booking.id: {
            e.side
            for e in session.exec(
                select(Evaluation).where(Evaluation.booking_id == booking.id)
            ).all()
        }
        for booking in bookings
    }
    by_status = {
        status: [b for b in bookings if b.status == status] for status in BookingStatus
    }

    ended = by_status[BookingStatus.ENDED]
    assert ended and all(b.end_date is not None and b.end_date < today for b in ended)
    assert any(sides[b.id] == {"school", "company"} for b in ended)
    assert any(sides[b.id] == {"school"} for b in ended)
    assert {b.attendance for b in ended} >= {"came", "no_show"}

    active = by_status[BookingStatus.ACTIVE]
    assert any(b.start_date is not None and b.start_date > today for b in active)
    moving = [b for b in active if b.change_requested_side is not None]
    assert moving and all(
        b.proposed_start_date is not None and b.proposed_start_date > today
        for b in moving
    )

    [cancelled] = by_status[BookingStatus.CANCELLED]
    assert cancelled.start_date is not None and cancelled.start_date > today
    [aborted] = by_status[BookingStatus.ABORTED]
    assert aborted.start_date is not None and aborted.start_date <= today
    for called_off in (cancelled, aborted):
        assert called_off.cancel_reason and called_off.cancel_comment
        assert called_off.cancelled_side in ("school", "company")

    waiting = session.exec(
        select(MatchProposal).where(MatchProposal.status == ProposalStatus.APPROVED)
    ).all()
    assert any(p.school_confirmed is None and p.company_confirmed for p in waiting)
    assert any(p.company_confirmed is None and p.school_confirmed for p in waiting)
    assert summary.bookings == len(bookings)
    assert summary.evaluations == count(session, Evaluation)


def test_places_booked_agree_with_the_demo_bookings(
    loaded: tuple[Session, DemoSummary],
) -> None:
    session, _ = loaded
    held: dict[int, int] = {}
    for booking in session.exec(select(Booking)).all():
        if booking.status in BOOKING_HOLDS_PLACES:
            held[booking.placement_id] = (
                held.get(booking.placement_id, 0) + booking.students
            )
    for placement in session.exec(select(Placement)).all():
        assert placement.places_booked == held.get(placement.id, 0)
        assert placement.places_booked <= placement.places
    assert held


def test_the_loop_follows_the_seeding_day() -> None:
    with fresh_session() as session:
        load_demo(session, today=date(2031, 3, 12))  # a Wednesday
        session.flush()
        starts = sorted(b.start_date for b in session.exec(select(Booking)).all())
    # The earliest booking began nine weeks before the seeding week's Monday.
    assert starts[0] == date(2031, 1, 6)
    assert all(start.weekday() == 0 for start in starts)


def broken_copy(tmp_path: Path, file: str, old: str, new: str) -> Path:
    folder = tmp_path / "mora"
    shutil.copytree(DATA_DIR, folder)
    path = folder / file
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return folder


NUSNAS = "companies.toml, [[companies]] #1 (Nusnäs Trähantverk AB)"
FIRST_PRAO = f"{NUSNAS}, [[companies.placements]] #1 (Prao i hästverkstaden)"
GYMNASIUM = "schools.toml, [[schools]] #1 (Mora gymnasium)"
FIRST_BOOKING = "loop.toml, [[bookings]] #1 (APL husbyggnad, årskurs 2)"


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        (
            "companies.toml",
            "places = 2",
            'places = "två"',
            f"{FIRST_PRAO}, key 'places': expected an integer, got 'två'",
        ),
        (
            "companies.toml",
            'kind = "prao"',
            'kind = "praktik"',
            f"{FIRST_PRAO}, key 'kind': expected one of ['apl', 'prao', ",
        ),
        (
            "companies.toml",
            "supervisor_trained = true",
            "supervisor_trained = true\ncolour = 'red'",
            f"{FIRST_PRAO}: unknown key 'colour'",
        ),
        (
            "companies.toml",
            'supervisor = "Olle Ersson"',
            "",
            f"{FIRST_PRAO}: missing key 'supervisor'",
        ),
        (
            "companies.toml",
            "length_weeks = 2",
            "length_weeks = 2\nweekday = 3",
            f"{FIRST_PRAO}: needs exactly one of 'length_weeks' and 'weekday'",
        ),
        (
            "companies.toml",
            "start_week = 10",
            "start_week = 60",
            f"{FIRST_PRAO}: not a period of 2027",
        ),
        (
            "companies.toml",
            'locality = "Nusnäs"',
            'locality = "Nusnäs by"',
            f"{NUSNAS}, key 'locality': no postcode for 'Nusnäs by'",
        ),
        (
            "schools.toml",
            'programme = "Bygg- och anläggningsprogrammet"',
            'programme = "Byggprogrammet"',
            f"{GYMNASIUM}, [[schools.needs]] #1 (APL husbyggnad, årskurs 2), "
            "key 'programme': 'Byggprogrammet' is not a programme of this school",
        ),
        (
            "schools.toml",
            'level = "gymnasium"',
            "level = gymnasium",
            "schools.toml: not valid TOML",
        ),
        (
            "municipality.toml",
            "year = 2027",
            "",
            "municipality.toml: missing key 'year'",
        ),
        (
            "municipality.toml",
            'sni_code = "84"',
            "sni_code = 84",
            "municipality.toml, [municipality], key 'sni_code': "
            "expected a string, got 84",
        ),
        (
            "municipality.toml",
            'role = "admin"',
            'role = "root"',
            "municipality.toml, [[users]] #4 (admin@moraspar.example), key 'role'",
        ),
        (
            "loop.toml",
            "start_offset_weeks = -9",
            "start_offset_weeks = 2",
            f"{FIRST_BOOKING}, key 'start_offset_weeks': does not fit a booking "
            "that is ended",
        ),
        (
            "loop.toml",
            'placement = "APL husbyggnad: villaprojekt i Färnäs"',
            'placement = "APL takläggning"',
            f"{FIRST_BOOKING}, key 'placement': 'Färnäs Bygg & Montage AB' has no "
            "placement called 'APL takläggning'",
        ),
        (
            "loop.toml",
            'state = "ended"',
            'state = "finished"',
            f"{FIRST_BOOKING}, key 'state': expected one of",
        ),
        (
            "loop.toml",
            "overall = 5",
            "overall = 6",
            f"{FIRST_BOOKING}, key 'evaluations': ratings run from 1 to 5",
        ),
        (
            "loop.toml",
            'cancel_reason = "supervisor_unavailable"\n',
            "",
            "loop.toml, [[bookings]] #6 (APL kök, vintersäsong), key 'cancel_reason'",
        ),
        (
            "loop.toml",
            "students = 2\nstate",
            "students = 9\nstate",
            f"{FIRST_BOOKING}, key 'students': expected 1 to 8",
        ),
    ],
)
def test_a_mistake_in_the_data_names_its_file_table_and_key(
    tmp_path: Path, file: str, old: str, new: str, message: str
) -> None:
    folder = broken_copy(tmp_path, file, old, new)
    with pytest.raises(DemoDataError) as raised:
        load_dataset(folder)
    assert str(raised.value).startswith(message)


def test_seed_demo_refuses_broken_data_and_writes_nothing(
    runner: Any, db: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = broken_copy(tmp_path, "companies.toml", "places = 2", "places = -")
    monkeypatch.setattr(demo_dataset, "DATA_DIR", folder)
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 1
    assert "companies.toml: not valid TOML" in result.output
    assert count(db, Organisation) == 0
