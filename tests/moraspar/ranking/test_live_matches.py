"""live_matches: every hard rule keeps a placement off the list on its own."""

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlmodel import Session

from moraspar.models import (
    MatchProposal,
    Need,
    Organisation,
    Placement,
    PostingStatus,
    ProposalStatus,
)
from moraspar.ranking import LiveMatch, live_matches

TODAY = date(2027, 1, 4)
Factory = Callable[..., Any]


def _setup(
    make_school: Factory, make_company: Factory, make_need: Factory
) -> tuple[Need, Organisation]:
    school = make_school()
    need = make_need(school)
    return need, make_company()


def _ids(found: list[LiveMatch]) -> set[int | None]:
    return {m.placement.id for m in found}


def _with_control(
    db: Session,
    make_school: Factory,
    make_company: Factory,
    make_need: Factory,
    make_placement: Factory,
    **breaking: Any,
) -> tuple[list[LiveMatch], Placement, Placement]:
    """A good placement and one that breaks a rule through `breaking`."""
    need, company = _setup(make_school, make_company, make_need)
    good = make_placement(company)
    bad = make_placement(company, **breaking)
    return live_matches(db, need=need, today=TODAY), good, bad


def test_lists_a_matching_placement_with_its_company_and_free_places(
    db: Session,
    make_school: Factory,
    make_company: Factory,
    make_need: Factory,
    make_placement: Factory,
) -> None:
    need, company = _setup(make_school, make_company, make_need)
    placement = make_placement(company, places=3, places_booked=1)

    found = live_matches(db, need=need, today=TODAY)

    assert len(found) == 1
    assert found[0].placement.id == placement.id
    assert found[0].company.id == company.id
    assert found[0].free_places == 2
    assert found[0].match.need_id == str(need.id)
    assert 0.0 < found[0].match.score <= 1.0


def test_closed_placement_is_left_out(
    db: Session,
    make_school: Factory,
    make_company: Factory,
    make_need: Factory,
    make_placement: Factory,
) -> None:
    found, good, _ = _with_control(
        db,
        make_school,
        make_company,
        make_need,
        make_placement,
        status=PostingStatus.CLOSED,
    )
    assert _ids(found) == {good.id}


def test_placement_of_unapproved_company_is_left_out(
    db: Session,
    make_school: Factory,
    make_company: Factory,
    make_need: Factory,
    make_placement: Factory,
) -> None:
    need, company = _setup(make_school, make_company, make_need)
    good = make_placement(company)
    unapproved = make_company(approved=False)
    make_placement(unapproved)

    assert _ids(live_matches(db, need=need, today=TODAY)) == {good.id}


def test_placement_of_other_kind_is_left_out(
    db: Session,
    make_school: Factory,
    make_company: Factory,
    make_need: Factory,
    make_placement: Factory,
) -> None:
    found, good, _ = _with_control(
        db, make_school, make_company, make_need, make_placement, kind="prao"
    )
    assert _ids(found) == {good.id}


def test_placement_whose_period_does_not_overlap_is_left_out(
    db: Session,
    make_school: Factory,
    make_company: Factory,
    make_need: Factory,
    make_placement: Factory,
) -> None:
    # The need runs 2027-02-01 to 2027-05-14.
    found, good, _ = _with_control(
        db,
        make_school,
        make_company,
        make_need,
        make_placement,
        start_date=date(2027, 8, 16),
        end_date=date(2027, 12, 17),
    )
    assert _ids(found) == {good.id}


def test_placement_beyond_max_km_is_left_out(
    db: Session,
    make_school: Factory,
    make_company: Factory,
    make_need: Factory,
    make_placement: Factory,
) -> None:
    # Sälen is about 70 km from Mora; the need accepts 30 km.
    found, good, _ = _with_control(
        db,
        make_school,
        make_company,
        make_need,
        make_placement,
        locality="Sälen",
        lat=61.1580,
        lon=13.2660,
    )
    assert _ids(found) == {good.id}


def test_full_placement_is_left_out(
    db: Session,
    make_school: Factory,
    make_company: Factory,
    make_need: Factory,
    make_placement: Factory,
) -> None:
    found, good, _ = _with_control(
        db,
        make_school,
        make_company,
        make_need,
        make_placement,
        places=2,
        places_booked=2,
    )
    assert _ids(found) == {good.id}


def test_placement_filled_by_approved_proposals_is_left_out(
    db: Session,
    make_school: Factory,
    make_company: Factory,
    make_need: Factory,
    make_placement: Factory,
) -> None:
    need, company = _setup(make_school, make_company, make_need)
    good = make_placement(company)
    full = make_placement(company, places=2)
    other_need = make_need(make_school())
    db.add(
        MatchProposal(
            need_id=other_need.id,
            placement_id=full.id,
            status=ProposalStatus.APPROVED,
            students=2,
        )
    )
    db.commit()

    assert _ids(live_matches(db, need=need, today=TODAY)) == {good.id}


def test_free_places_count_booked_and_approved_students_of_other_needs(
    db: Session,
    make_school: Factory,
    make_company: Factory,
    make_need: Factory,
    make_placement: Factory,
) -> None:
    need, company = _setup(make_school, make_company, make_need)
    placement = make_placement(company, places=5, places_booked=1)
    for students, status in (
        (2, ProposalStatus.APPROVED),
        (1, ProposalStatus.APPROVED),
        (3, ProposalStatus.PROPOSED),  # not yet decided: takes no place
    ):
        db.add(
            MatchProposal(
                need_id=make_need(make_school()).id,
                placement_id=placement.id,
                status=status,
                students=students,
            )
        )
    db.commit()

    (found,) = live_matches(db, need=need, today=TODAY)

    assert found.placement.id == placement.id
    assert found.free_places == 1
    assert found.match.offer_id == str(placement.id)


def test_placement_already_paired_with_the_need_is_left_out(
    db: Session,
    make_school: Factory,
    make_company: Factory,
    make_need: Factory,
    make_placement: Factory,
) -> None:
    need, company = _setup(make_school, make_company, make_need)
    good = make_placement(company)
    paired = make_placement(company)
    db.add(
        MatchProposal(
            need_id=need.id, placement_id=paired.id, status=ProposalStatus.DECLINED
        )
    )
    db.commit()

    assert _ids(live_matches(db, need=need, today=TODAY)) == {good.id}


def test_limit_keeps_the_best(
    db: Session,
    make_school: Factory,
    make_company: Factory,
    make_need: Factory,
    make_placement: Factory,
) -> None:
    need, company = _setup(make_school, make_company, make_need)
    for _ in range(4):
        make_placement(company)

    found = live_matches(db, need=need, limit=2, today=TODAY)

    assert len(found) == 2
    assert found[0].match.score >= found[1].match.score


def test_a_placement_without_a_position_takes_its_companys(
    db: Session,
    make_school: Factory,
    make_company: Factory,
    make_need: Factory,
    make_placement: Factory,
) -> None:
    need, near = _setup(make_school, make_company, make_need)
    far = make_company(locality="Sälen", lat=61.1580, lon=13.2660)
    in_mora = make_placement(far, locality="Mora", lat=61.0047, lon=14.5372)
    make_placement(far, locality="", lat=None, lon=None)  # at the company: too far
    unplaced_near = make_placement(near, locality="", lat=None, lon=None)

    found = live_matches(db, need=need, today=TODAY)

    assert _ids(found) == {in_mora.id, unplaced_near.id}


def test_a_need_the_library_refuses_has_no_live_matches(
    db: Session,
    make_school: Factory,
    make_company: Factory,
    make_need: Factory,
    make_placement: Factory,
) -> None:
    # An imported need that ends before it starts: left out, not an error.
    need = make_need(
        make_school(), start_date=date(2027, 5, 14), end_date=date(2027, 2, 1)
    )
    make_placement(make_company())

    assert live_matches(db, need=need, today=TODAY) == []
