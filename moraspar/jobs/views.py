"""The admin's view of the jobs: periodic jobs, failures, undelivered mail."""

from collections.abc import Hashable
from datetime import timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from sqlmodel import col, select
from werkzeug.wrappers import Response

from moraspar.db import get_session
from moraspar.formkit.confirm import ConfirmForm
from moraspar.i18n import gettext as _
from moraspar.i18n import lazy_gettext as _l
from moraspar.i18n import ngettext
from moraspar.jobs import records, tasks
from moraspar.jobs.queue import queue
from moraspar.models import MailStatus, MatchRun, RunStatus, utcnow
from moraspar.notifications import mail
from moraspar.web.pagecache import cached_page_also

bp = Blueprint("jobs", __name__)

JOB_LABELS = {
    "deliver_mail": _l("Email delivery"),
    "recover": _l("Taking up interrupted work"),
    "close_expired": _l("Closing expired postings"),
    "purge": _l("Removing old contact details"),
    "refit_ranker": _l("Learning from the council's decisions"),
    "refresh_model": _l("Refitting the matching model when postings changed"),
    tasks.MODEL_REFRESH: _l("Refitting the matching model"),
    "request_evaluations": _l("Asking for evaluations"),
    "send_reminders": _l("Sending reminders"),
    tasks.MATCH_RUN: _l("Match run"),
}
MAIL_STATUS_LABELS = {
    MailStatus.PENDING: _l("Waiting to be sent again"),
    MailStatus.FAILED: _l("Not delivered"),
    MailStatus.UNCERTAIN: _l("Maybe delivered"),
}


def _schedule_text(schedule: tasks.Schedule) -> str:
    if schedule.minute is None:
        if schedule.every > 1:
            return ngettext(
                "Every %(num)d minute", "Every %(num)d minutes", schedule.every
            )
        return _("Every minute")
    time = f"{schedule.hour or 0:02d}:{schedule.minute:02d} UTC"
    if schedule.day_of_week is None:
        return _("Daily at %(time)s", time=time)
    return _("Weekly on Sundays at %(time)s", time=time)


def _state() -> Hashable:
    """What the page shows beyond the counted tables: the runs, the queue's
    length and the minute (the next runs are shown to the minute)."""
    minute = utcnow().replace(second=0, microsecond=0)
    return (records.state(get_session()), _queued(), minute)


def _queued() -> int | None:
    try:
        return int(queue(current_app).pending_count())
    except Exception:  # the queue is down: say so rather than fail the page
        return None


@bp.route("/")
@cached_page_also(_state)
def index() -> str:
    db = get_session()
    now = utcnow()
    last = records.last_runs(db, [job.name for job in tasks.JOBS])
    periodic = [
        {
            "name": job.name,
            "label": JOB_LABELS.get(job.name, job.name),
            "schedule": _schedule_text(job.schedule),
            "last": last.get(job.name),
            "next": job.schedule.next_after(now),
        }
        for job in tasks.JOBS
    ]
    failed_runs = db.exec(
        select(MatchRun)
        .where(MatchRun.status == RunStatus.FAILED)
        .where(col(MatchRun.created_at) >= now - timedelta(days=30))
        .order_by(col(MatchRun.id).desc())
        .limit(20)
    ).all()
    return render_template(
        "jobs/index.html",
        periodic=periodic,
        failures=records.failures(db),
        failed_runs=failed_runs,
        undelivered=mail.undelivered(db),
        waiting=mail.waiting_count(db),
        queued=_queued(),
        job_labels=JOB_LABELS,
        mail_status_labels=MAIL_STATUS_LABELS,
        retry_form=ConfirmForm(),
    )


@bp.route("/mail/<int:message_id>/retry", methods=["POST"])
def mail_retry(message_id: int) -> Response:
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash(_("The form had expired. Please send it again."), "error")
        return redirect(url_for("jobs.index"))
    db = get_session()
    try:
        mail.retry(db, message_id=message_id)
    except mail.NotRetriable:
        db.rollback()
        abort(404)
    db.commit()
    flash(_("The email will be sent again now."), "success")
    return redirect(url_for("jobs.index"))
