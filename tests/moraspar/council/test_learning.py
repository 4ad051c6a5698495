"""Refitting the ranker's weights on the council's decisions."""

from dataclasses import asdict
from typing import Any

import numpy as np
import pytest
from sqlmodel import select

from matching import Weights
from moraspar.council import learning
from moraspar.models import (
    AuditEvent,
    MatchProposal,
    Need,
    Placement,
    ProposalStatus,
    RankerWeights,
)

PARTS = ("text", "skills", "period", "distance", "capacity")


@pytest.fixture
def decisions(
    db: Any, make_school: Any, make_company: Any, make_need: Any, make_placement: Any
) -> Any:
    """make(n, label=..., status=...) stores n decided proposals with random
    parts; label(parts) -> bool decides approved (True) or declined."""
    school, company = make_school(), make_company()
    rng = np.random.default_rng(7)

    def make(n: int, label: Any = None, status: str | None = None) -> None:
        for _ in range(n):
            need = Need(school_id=school.id, kind="apl", title="n")
            placement = Placement(company_id=company.id, kind="apl", title="p")
            db.add(need)
            db.add(placement)
            db.flush()
            parts = {name: float(rng.random()) for name in PARTS}
            if status is None:
                approved = label(parts)
                decided = (
                    ProposalStatus.APPROVED if approved else ProposalStatus.DECLINED
                )
            else:
                decided = status
            db.add(
                MatchProposal(
                    need_id=need.id,
                    placement_id=placement.id,
                    parts=parts,
                    score=0.5,
                    status=decided,
                )
            )
        db.commit()

    return make


def skills_decide(parts: dict[str, float]) -> bool:
    return parts["skills"] > 0.5


def test_refit_activates_weights_that_emphasise_skills(db: Any, decisions: Any) -> None:
    decisions(160, label=skills_decide)
    result = learning.refit(db)
    db.commit()

    assert result.outcome == learning.ACTIVATED
    assert result.labels == 160
    assert result.quality_after is not None and result.quality_before is not None
    assert result.quality_after > result.quality_before
    assert result.quality_after > 0.9
    weights = result.weights_after
    assert weights is not None
    assert max(weights, key=weights.__getitem__) == "skills"
    assert weights["skills"] > 0.5
    assert sum(weights.values()) == pytest.approx(1.0, abs=1e-5)

    row = db.exec(select(RankerWeights)).one()
    assert row.active
    assert row.quality_before == pytest.approx(result.quality_before, abs=1e-6)
    assert learning.active_weights(db).skills == pytest.approx(weights["skills"])
    # The text mix is carried over from the current (default) weights.
    assert learning.active_weights(db).latent == Weights().latent
    assert db.exec(select(AuditEvent)).one().action == "ranker.refit"


def test_too_few_decisions_are_refused_without_change(db: Any, decisions: Any) -> None:
    decisions(12, label=skills_decide)
    decisions(5, status=ProposalStatus.PROPOSED)  # no verdict: not labels
    result = learning.refit(db)
    assert result.outcome == learning.REFUSED
    assert "at least 20" in result.message
    assert result.labels == 12
    assert db.exec(select(RankerWeights)).all() == []


def test_only_one_class_is_refused(db: Any, decisions: Any) -> None:
    decisions(30, status=ProposalStatus.APPROVED)
    result = learning.refit(db)
    assert result.outcome == learning.REFUSED
    assert "declines" in result.message
    assert db.exec(select(RankerWeights)).all() == []


def test_old_weights_kept_when_new_ones_are_not_better(db: Any, decisions: Any) -> None:
    # The current weights look at skills only, which decides every label: a
    # perfect ranking on held-out decisions that no refit can beat.
    perfect = asdict(Weights(text=0, skills=1, period=0, distance=0, capacity=0))
    old = RankerWeights(weights=perfect, active=True)
    db.add(old)
    db.commit()
    decisions(120, label=skills_decide)

    result = learning.refit(db)
    db.commit()
    assert result.outcome == learning.KEPT
    assert result.quality_before == pytest.approx(1.0)
    assert "Old weights kept" in result.message
    db.expire_all()
    rows = db.exec(select(RankerWeights).order_by(RankerWeights.id)).all()
    assert [r.active for r in rows] == [True, False]
    assert rows[1].quality_after is not None
    assert learning.active_weights(db).skills == 1.0


def test_booked_counts_as_approved_and_parts_are_required(
    db: Any, decisions: Any
) -> None:
    decisions(3, status=ProposalStatus.BOOKED)
    decisions(2, status=ProposalStatus.DECLINED)
    x, y = learning.labelled_decisions(db)
    assert x.shape == (5, 5)
    assert sorted(y.tolist()) == [0, 0, 1, 1, 1]


def test_cli_prints_before_and_after(runner: Any, db: Any, decisions: Any) -> None:
    decisions(100, label=skills_decide)
    result = runner.invoke(args=["refit-ranker"])
    assert result.exit_code == 0, result.output
    assert "ROC AUC before:" in result.output
    assert "ROC AUC after:" in result.output
    assert "New weights activated" in result.output
    db.expire_all()
    assert db.exec(select(RankerWeights)).one().active


def test_cli_refuses_politely(runner: Any, db: Any) -> None:
    result = runner.invoke(args=["refit-ranker"])
    assert result.exit_code == 0
    assert "Not enough decisions" in result.output
