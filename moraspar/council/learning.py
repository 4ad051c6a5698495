"""Learning from decisions: refit the ranker's part weights on the council's
approvals and declines.

Labels: proposals approved or booked (1) against declined (0), each with the
score parts the ranker stored (text, skills, period, distance, capacity).
Deferred, proposed and withdrawn proposals carry no verdict and are left out.

Method: a stratified split (seeded) into training and held-out decisions; a
logistic regression (seeded) on the training parts; its coefficients, with
negatives clipped to 0 and normalised to sum 1, become the new part weights.
Both the current and the new weights are judged the same way on the held-out
decisions: the score is the weighted mean of the parts, as the ranker computes
it, and the metric is ROC AUC (how often an approved pair outranks a declined
one, 0.5 = chance). The new weights are activated only when their AUC is
strictly higher; a RankerWeights row is stored either way, so the attempts and
their figures are on record.

Parts and weights: matching's PART_NAMES and Weights field names are the same
(text, skills, period, distance, capacity); PART_TO_WEIGHT maps them
explicitly so a rename on either side fails loudly here. The text mix
(`latent`, `chars`) and `distance_scale_km` are not learned from decisions and
are carried over from the current weights.

Plain functions with the session passed in; they flush, never commit.
"""

from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sqlmodel import Session, col, select

from matching import Weights
from moraspar import audit
from moraspar.models import MatchProposal, ProposalStatus, RankerWeights, User

PART_TO_WEIGHT = {
    "text": "text",
    "skills": "skills",
    "period": "period",
    "distance": "distance",
    "capacity": "capacity",
}
PARTS = tuple(PART_TO_WEIGHT)
POSITIVE = (ProposalStatus.APPROVED, ProposalStatus.BOOKED)
NEGATIVE = (ProposalStatus.DECLINED,)
MIN_LABELS = 20
MIN_PER_CLASS = 5
HELD_OUT = 0.3
SEED = 0

ACTIVATED = "activated"
KEPT = "kept"
REFUSED = "refused"
# Refitted on request from the council's pages: better weights are stored but
# wait for a member to apply them.
CANDIDATE = "candidate"


class VersionNotFound(LookupError):
    """No stored weights with this id."""


@dataclass(frozen=True)
class RefitResult:
    outcome: str  # ACTIVATED, KEPT or REFUSED
    message: str
    labels: int = 0
    approved: int = 0
    declined: int = 0
    quality_before: float | None = None
    quality_after: float | None = None
    weights_before: dict[str, float] | None = None
    weights_after: dict[str, float] | None = None
    row_id: int | None = None


def active_row(session: Session) -> RankerWeights | None:
    return session.exec(
        select(RankerWeights)
        .where(col(RankerWeights.active).is_(True))
        .order_by(col(RankerWeights.created_at).desc(), col(RankerWeights.id).desc())
    ).first()


def active_weights(session: Session) -> Weights:
    """The weights the ranker should use: the active row's, else the defaults."""
    row = active_row(session)
    if row is None:
        return Weights()
    known = {f.name for f in fields(Weights)}
    values = {k: float(v) for k, v in (row.weights or {}).items() if k in known}
    try:
        return Weights(**values)
    except Exception:  # a stored row that no longer validates: use the defaults
        return Weights()


def labelled_decisions(session: Session) -> tuple[np.ndarray, np.ndarray]:
    """(X parts (n, 5) in PARTS order, y 0/1 (n,)) of decided proposals with
    every part stored, in proposal id order."""
    rows = session.exec(
        select(MatchProposal.parts, MatchProposal.status)
        .where(col(MatchProposal.status).in_([*POSITIVE, *NEGATIVE]))
        .order_by(col(MatchProposal.id))
    ).all()
    x: list[list[float]] = []
    y: list[int] = []
    for parts, status in rows:
        if not parts or any(p not in parts for p in PARTS):
            continue
        try:
            x.append([float(parts[p]) for p in PARTS])
        except (TypeError, ValueError):
            continue
        y.append(1 if status in POSITIVE else 0)
    return np.asarray(x, dtype=np.float64).reshape(-1, len(PARTS)), np.asarray(
        y, dtype=np.int64
    )


def _part_vector(weights: Weights) -> np.ndarray:
    return np.array([getattr(weights, PART_TO_WEIGHT[p]) for p in PARTS], dtype=float)


def _scores(x: np.ndarray, part_weights: np.ndarray) -> np.ndarray:
    total = part_weights.sum()
    return x @ (part_weights / total) if total > 0 else np.zeros(len(x))


def refit(
    session: Session,
    *,
    actor: User | None = None,
    min_labels: int = MIN_LABELS,
    seed: int = SEED,
    activate: bool = True,
) -> RefitResult:
    """Refit the part weights on the council's decisions; see the module doc.
    With activate=False better weights are stored as a candidate that
    `activate_version` applies (the council's pages ask a member first)."""
    x, y = labelled_decisions(session)
    approved, declined = int(y.sum()), int(len(y) - y.sum())
    counts: dict[str, Any] = {
        "labels": len(y),
        "approved": approved,
        "declined": declined,
    }
    if len(y) < min_labels:
        return RefitResult(
            REFUSED,
            f"Not enough decisions to learn from: {len(y)} labelled "
            f"(approved, booked or declined with score parts); at least "
            f"{min_labels} are needed. The weights are unchanged.",
            **counts,
        )
    if min(approved, declined) < MIN_PER_CLASS:
        kind = "declines" if declined < approved else "approvals"
        return RefitResult(
            REFUSED,
            f"Too few {kind} to learn from ({approved} approved, {declined} "
            f"declined); at least {MIN_PER_CLASS} of each are needed. The "
            f"weights are unchanged.",
            **counts,
        )
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=HELD_OUT, stratify=y, random_state=seed
    )
    current = active_weights(session)
    before = float(roc_auc_score(y_test, _scores(x_test, _part_vector(current))))

    model = LogisticRegression(random_state=seed, max_iter=1000)
    model.fit(x_train, y_train)
    coef = np.clip(model.coef_.ravel(), 0.0, None)
    new_values = asdict(current)
    after: float | None = None
    if coef.sum() > 0:
        coef = coef / coef.sum()
        for part, value in zip(PARTS, coef, strict=True):
            new_values[PART_TO_WEIGHT[part]] = round(float(value), 6)
        candidate = Weights(**new_values)
        after = float(roc_auc_score(y_test, _scores(x_test, _part_vector(candidate))))
    better = after is not None and after > before + 1e-12
    applied = better and activate

    if applied:
        for row in session.exec(
            select(RankerWeights).where(col(RankerWeights.active).is_(True))
        ).all():
            row.active = False
            session.add(row)
    row = RankerWeights(
        weights=new_values,
        quality_before=round(before, 6),
        quality_after=round(after, 6) if after is not None else None,
        active=applied,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        row,
        actor=actor,
        action="ranker.refit",
        activated=applied,
        quality_before=row.quality_before,
        quality_after=row.quality_after,
        **counts,
    )
    weights_before = {p: float(getattr(current, PART_TO_WEIGHT[p])) for p in PARTS}
    weights_after = {p: float(new_values[PART_TO_WEIGHT[p]]) for p in PARTS}
    after_text = f"{after:.3f}" if after is not None else "n/a"
    if applied:
        message = (
            f"New weights activated: ROC AUC on {len(y_test)} held-out decisions "
            f"{before:.3f} before, {after_text} after."
        )
    elif better:
        message = (
            f"New weights are better on {len(y_test)} held-out decisions (ROC "
            f"AUC {before:.3f} before, {after_text} after); not yet applied."
        )
    else:
        message = (
            f"Old weights kept: the new ones are not better on {len(y_test)} "
            f"held-out decisions (ROC AUC {before:.3f} before, {after_text} after)."
        )
    return RefitResult(
        ACTIVATED if applied else CANDIDATE if better else KEPT,
        message,
        quality_before=before,
        quality_after=after,
        weights_before=weights_before,
        weights_after=weights_after,
        row_id=row.id,
        **counts,
    )


# --- the council's pages: versions, and a return to any of them ---


def versions(session: Session, *, limit: int = 50) -> list[RankerWeights]:
    """The stored weights, newest first."""
    return list(
        session.exec(
            select(RankerWeights)
            .order_by(
                col(RankerWeights.created_at).desc(), col(RankerWeights.id).desc()
            )
            .limit(limit)
        ).all()
    )


def part_weights(weights: dict[str, Any] | Weights) -> dict[str, float]:
    """The learned part weights of stored weights (or of Weights), in PARTS order."""
    values = asdict(weights) if isinstance(weights, Weights) else weights
    return {part: float(values.get(PART_TO_WEIGHT[part], 0.0)) for part in PARTS}


@dataclass(frozen=True)
class Decisions:
    labels: int
    approved: int
    declined: int


def decision_counts(session: Session) -> Decisions:
    """How many decisions a refit would learn from."""
    _, y = labelled_decisions(session)
    approved = int(y.sum())
    return Decisions(labels=len(y), approved=approved, declined=len(y) - approved)


def activate_version(
    session: Session, *, row_id: int | None, actor: User | None
) -> RankerWeights | None:
    """Make stored weights the active ones (row_id None: the built-in
    defaults), in place of whatever was active. Audited. VersionNotFound."""
    row = session.get(RankerWeights, row_id) if row_id is not None else None
    if row_id is not None and row is None:
        raise VersionNotFound(row_id)
    previous = active_row(session)
    for active in session.exec(
        select(RankerWeights).where(col(RankerWeights.active).is_(True))
    ).all():
        active.active = False
        session.add(active)
    if row is not None:
        row.active = True
        session.add(row)
    session.flush()
    audit.record(
        session,
        row,
        actor=actor,
        action="ranker.activate",
        entity=None if row is not None else "ranker",
        previous_id=previous.id if previous is not None else None,
        weights=part_weights(row.weights if row is not None else Weights()),
    )
    session.flush()
    return row
