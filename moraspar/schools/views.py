"""School staff: their school's programmes and needs."""

from flask import Blueprint, abort, render_template
from flask_login import current_user
from sqlmodel import col, select

from moraspar.db import get_session
from moraspar.models import Need, Organisation, Programme

bp = Blueprint("schools", __name__)


@bp.route("/")
def home() -> str:
    db = get_session()
    school = (
        db.get(Organisation, current_user.organisation_id)
        if current_user.organisation_id
        else None
    )
    if school is None:
        abort(404)
    programmes = db.exec(
        select(Programme)
        .where(Programme.school_id == school.id)
        .order_by(Programme.name)
    ).all()
    needs = db.exec(
        select(Need)
        .where(Need.school_id == school.id)
        .order_by(col(Need.updated_at).desc())
        .limit(10)
    ).all()
    return render_template(
        "schools/home.html", school=school, programmes=programmes, needs=needs
    )
