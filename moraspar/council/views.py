"""Council members: the councils they sit on and the proposals to review."""

from flask import Blueprint, render_template
from flask_login import current_user
from sqlmodel import col, func, select

from moraspar.db import get_session
from moraspar.models import Council, CouncilMember, MatchProposal, ProposalStatus

bp = Blueprint("council", __name__)


@bp.route("/")
def home() -> str:
    db = get_session()
    councils = db.exec(
        select(Council)
        .join(CouncilMember, col(CouncilMember.council_id) == Council.id)
        .where(CouncilMember.user_id == current_user.id)
        .order_by(Council.name)
    ).all()
    counts = dict(
        db.exec(
            select(MatchProposal.status, func.count()).group_by(
                col(MatchProposal.status)
            )
        ).all()
    )
    return render_template(
        "council/home.html",
        councils=councils,
        counts=counts,
        statuses=list(ProposalStatus),
    )
