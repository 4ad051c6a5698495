"""The council's pages for the ranker's weights: refit, apply, return."""

from typing import Any

import numpy as np
import pytest
from sqlmodel import Session, col, select

from matching import Weights
from moraspar.council import learning
from moraspar.models import (
    AuditEvent,
    MatchProposal,
    Need,
    Placement,
    ProposalStatus,
    RankerWeights,
    Role,
)


@pytest.fixture
def decisions(db: Session, make_school: Any, make_company: Any) -> Any:
    """make(n) stores n decided proposals: approved when the skills part is
    high, declined otherwise, so a refit learns to weigh skills."""
    school, company = make_school(), make_company()
    rng = np.random.default_rng(3)

    def make(n: int) -> None:
        for _ in range(n):
            need = Need(school_id=school.id, kind="apl", title="n")
            placement = Placement(company_id=company.id, kind="apl", title="p")
            db.add(need)
            db.add(placement)
            db.flush()
            parts = {name: float(rng.random()) for name in learning.PARTS}
            approved = parts["skills"] > 0.5
            db.add(
                MatchProposal(
                    need_id=need.id,
                    placement_id=placement.id,
                    parts=parts,
                    status=ProposalStatus.APPROVED
                    if approved
                    else ProposalStatus.DECLINED,
                )
            )
        db.commit()

    return make


def _actions(db: Session) -> list[str]:
    db.expire_all()
    return list(
        db.exec(
            select(AuditEvent.action)
            .where(col(AuditEvent.action).startswith("ranker."))
            .order_by(col(AuditEvent.id))
        ).all()
    )


def _active_ids(db: Session) -> list[int | None]:
    db.expire_all()
    rows = db.exec(select(RankerWeights).where(col(RankerWeights.active).is_(True)))
    return [row.id for row in rows]


def test_the_page_counts_the_decisions_and_shows_the_weights_in_use(
    client: Any, auth: Any, decisions: Any
) -> None:
    decisions(60)
    auth.login(Role.COUNCIL, language="en")

    page = client.get("/council/ranker").get_data(as_text=True)

    assert "60 decisions with score parts" in page
    assert "The built-in weights are in use" in page
    assert "No refit yet" in page


def test_a_refit_waits_until_a_member_applies_it(
    client: Any, auth: Any, db: Session, decisions: Any
) -> None:
    decisions(160)
    auth.login(Role.COUNCIL, language="en")

    response = client.post_form("/council/ranker/refit")

    [row] = db.exec(select(RankerWeights)).all()
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/council/ranker/{row.id}")
    assert row.active is False
    assert row.quality_after is not None and row.quality_before is not None
    assert row.quality_after > row.quality_before
    assert learning.active_weights(db) == Weights()
    page = client.get(f"/council/ranker/{row.id}").get_data(as_text=True)
    assert "Apply these weights" in page and "Keep the weights in use" in page
    assert f"{row.quality_after:.3f}"[:4] in page

    client.post_form(f"/council/ranker/{row.id}/activate")

    assert _active_ids(db) == [row.id]
    db.refresh(row)
    assert learning.part_weights(learning.active_weights(db)) == (
        learning.part_weights(row.weights)
    )
    assert _actions(db) == ["ranker.refit", "ranker.activate"]


def test_a_member_returns_to_an_earlier_version_and_to_the_defaults(
    client: Any, auth: Any, db: Session, decisions: Any
) -> None:
    decisions(160)
    first = learning.refit(db, activate=True)
    decisions(40)
    second = learning.refit(db, activate=False)
    learning.activate_version(db, row_id=second.row_id, actor=None)
    db.commit()
    auth.login(Role.COUNCIL, language="en")

    listing = client.get("/council/ranker").get_data(as_text=True)
    assert f"/council/ranker/{first.row_id}/activate" in listing
    confirm = client.get(f"/council/ranker/{first.row_id}/activate")
    assert confirm.status_code == 200
    assert _active_ids(db) == [second.row_id]  # a GET only asks

    client.post_form(f"/council/ranker/{first.row_id}/activate")
    assert _active_ids(db) == [first.row_id]

    client.post_form("/council/ranker/defaults/activate")
    assert _active_ids(db) == []
    assert learning.active_weights(db) == Weights()
    events = db.exec(
        select(AuditEvent)
        .where(AuditEvent.action == "ranker.activate")
        .order_by(col(AuditEvent.id))
    ).all()
    assert [(e.entity, e.entity_id) for e in events] == [
        ("ranker_weights", second.row_id),
        ("ranker_weights", first.row_id),
        ("ranker", None),
    ]
    assert events[-1].details["previous_id"] == first.row_id


def test_too_few_decisions_change_nothing(
    client: Any, auth: Any, db: Session, decisions: Any
) -> None:
    decisions(6)
    auth.login(Role.COUNCIL, language="en")

    response = client.post_form("/council/ranker/refit", follow_redirects=True)

    assert "Not enough decisions to learn from: 6" in response.get_data(as_text=True)
    assert db.exec(select(RankerWeights)).all() == []


def test_an_unknown_version_is_not_found(client: Any, auth: Any) -> None:
    auth.login(Role.COUNCIL)
    assert client.get("/council/ranker/999999").status_code == 404
    assert client.post_form("/council/ranker/999999/activate").status_code == 404


@pytest.mark.parametrize("role", [Role.TEACHER, Role.COMPANY])
def test_schools_and_companies_cannot_touch_the_weights(
    client: Any, auth: Any, db: Session, role: Role
) -> None:
    auth.login(role)
    assert client.get("/council/ranker").status_code == 403
    assert client.post_form("/council/ranker/defaults/activate").status_code == 403
    assert _actions(db) == []
