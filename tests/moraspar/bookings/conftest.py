"""An approved proposal with a teacher and a company contact on either side."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlmodel import Session

from moraspar.bookings import services
from moraspar.models import (
    MatchProposal,
    Need,
    Organisation,
    Placement,
    ProposalStatus,
    Role,
    User,
)


@dataclass
class Pair:
    school: Organisation
    company: Organisation
    teacher: User
    contact: User
    need: Need
    placement: Placement
    proposal: MatchProposal


@pytest.fixture
def make_pair(
    db: Session,
    make_school: Callable[..., Organisation],
    make_company: Callable[..., Organisation],
    make_user: Callable[..., User],
    make_programme: Callable[..., Any],
    make_need: Callable[..., Need],
    make_placement: Callable[..., Placement],
) -> Callable[..., Pair]:
    def make(
        *,
        need_kw: dict[str, Any] | None = None,
        placement_kw: dict[str, Any] | None = None,
        students: int = 2,
        notify: bool = True,
        placement: Placement | None = None,
        company: Organisation | None = None,
        contact: User | None = None,
    ) -> Pair:
        school = make_school()
        company = company or make_company()
        teacher = make_user(Role.TEACHER, school, language="en")
        contact = contact or make_user(Role.COMPANY, company, language="en")
        programme = make_programme(school)
        need = make_need(school, programme_id=programme.id, **(need_kw or {}))
        placement = placement or make_placement(company, **(placement_kw or {}))
        proposal = MatchProposal(
            need_id=need.id,
            placement_id=placement.id,
            score=0.8,
            students=students,
            status=ProposalStatus.APPROVED,
        )
        db.add(proposal)
        db.commit()
        if notify:
            services.on_proposal_approved(db, proposal=proposal, actor=None)
            db.commit()
        return Pair(school, company, teacher, contact, need, placement, proposal)

    return make


@pytest.fixture
def pair(make_pair: Callable[..., Pair]) -> Pair:
    return make_pair()
