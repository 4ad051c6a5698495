"""Company contacts: their profile, placements and skill gaps."""

from flask import Blueprint, abort, render_template
from flask_login import current_user
from sqlmodel import col, select

from moraspar.db import get_session
from moraspar.models import Organisation, Placement, SkillGap

bp = Blueprint("companies", __name__)


@bp.route("/")
def home() -> str:
    db = get_session()
    company = (
        db.get(Organisation, current_user.organisation_id)
        if current_user.organisation_id
        else None
    )
    if company is None:
        abort(404)
    placements = db.exec(
        select(Placement)
        .where(Placement.company_id == company.id)
        .order_by(col(Placement.updated_at).desc())
        .limit(10)
    ).all()
    gaps = db.exec(
        select(SkillGap)
        .where(SkillGap.company_id == company.id)
        .order_by(col(SkillGap.updated_at).desc())
        .limit(10)
    ).all()
    return render_template(
        "companies/home.html", company=company, placements=placements, gaps=gaps
    )
