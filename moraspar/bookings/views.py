"""Bookings: each side's answer to an approved proposal, the bookings list, the
calendar file and the evaluation after the period."""

from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response as BaseResponse

from moraspar import audit
from moraspar.auth.current import signed_in_user
from moraspar.bookings import forms, links, services
from moraspar.bookings.services import Side, When
from moraspar.council.scope import scope_of
from moraspar.db import get_session
from moraspar.i18n import gettext as _
from moraspar.i18n import lazy_gettext as _l
from moraspar.models import Attendance, LinkPurpose, PostingKind, ProposalStatus, Role
from moraspar.reference.labels import label
from moraspar.web import downloads, ratelimit
from moraspar.web.links import external_url
from moraspar.web.pagecache import cached_page
from moraspar.web.pagination import page_number, paginate
from moraspar.web.redirects import safe_next

bp = Blueprint("bookings", __name__)

SHORT_KIND = {
    PostingKind.APL: _l("APL"),
    PostingKind.PRAO: _l("Prao"),
    PostingKind.STUDY_VISIT: _l("Study visit"),
    PostingKind.GUEST_LECTURE: _l("Guest lecture"),
    PostingKind.PROJECT: _l("Project"),
}
QUESTION_LABELS = {
    Side.SCHOOL: {
        "supervision": _l("How was the supervision at the workplace?"),
        "preparation": _l(
            "How well was the workplace prepared for the students "
            "(introduction, tasks, safety)?"
        ),
    },
    Side.COMPANY: {
        "supervision": _l("How well did the school keep in touch during the period?"),
        "preparation": _l("How well prepared were the students?"),
    },
}


def today() -> date:
    return date.today()


@bp.route("/")
@cached_page
def index() -> str:
    db = get_session()
    user = signed_in_user()
    try:
        when = When(request.args.get("when") or When.UPCOMING)
    except ValueError:
        when = When.UPCOMING
    scope = scope_of(db, user=user)
    page = paginate(
        db,
        services.bookings_query(user, when=when, today=today(), scope=scope),
        page=page_number(request.args.get("page")),
        per_page=20,
    )
    return render_template(
        "bookings/index.html",
        page=page,
        rows=services.booking_views(db, user, page.items),
        when=when,
        today=today(),
        waiting=services.waiting_for(db, user=user, today=today()),
        no_shows=(
            services.no_shows_by_school(db, scope=scope)
            if user.role in (Role.COUNCIL, Role.ADMIN)
            else []
        ),
        role=user.role,
    )


@bp.route("/proposals/<int:proposal_id>", methods=["GET", "POST"])
@cached_page
def respond(proposal_id: int) -> BaseResponse | str:
    db = get_session()
    user = signed_in_user()
    try:
        pairing = services.proposal_for(db, proposal_id=proposal_id, user=user)
    except services.NotFound:
        abort(404)
    except services.NotAParty:
        abort(403)
    side = services.side_of(user, need=pairing.need, placement=pairing.placement)
    form = forms.RespondForm()
    if form.validate_on_submit() and (form.confirm.data or form.decline.data):
        confirm = bool(form.confirm.data)
        try:
            booking = services.respond(
                db,
                proposal_id=proposal_id,
                user=user,
                confirm=confirm,
                reason=(form.reason.data or "").strip() if not confirm else "",
                decline_reason="" if confirm else form.decline_reason.data,
            )
        except services.NoFreePlaces:
            db.rollback()
            flash(
                _(
                    "The placement has no free places left for this booking, so "
                    "nothing was booked. The council has the proposal."
                ),
                "error",
            )
            return redirect(url_for("bookings.respond", proposal_id=proposal_id))
        except services.AlreadyResponded:
            db.rollback()
            flash(_("Your side has already answered this proposal."), "info")
            return redirect(url_for("bookings.respond", proposal_id=proposal_id))
        except services.NotAwaitingResponse:
            db.rollback()
            flash(_("This proposal is no longer waiting for an answer."), "info")
            return redirect(url_for("bookings.respond", proposal_id=proposal_id))
        db.commit()
        if booking is not None:
            flash(_("Both sides have confirmed: the booking is made."), "success")
            return redirect(
                safe_next(request.args.get("next")) or url_for("bookings.index")
            )
        if confirm:
            flash(_("Confirmed. We have asked the other side to confirm."), "success")
        else:
            flash(_("You declined the proposal. The other side is told."), "success")
        return redirect(_back(proposal_id))
    return render_template(
        "bookings/respond.html", pairing=pairing, side=side, form=form
    )


def _back(proposal_id: int) -> str:
    """Where an answer returns: the page it came from (the need page answers
    offers too), else the proposal."""
    return safe_next(request.args.get("next")) or url_for(
        "bookings.respond", proposal_id=proposal_id
    )


# --- answering through a signed link, without signing in --------------------------

LINK_REFUSED = {
    links.InvalidLink: (
        400,
        _l(
            "This link is not valid. It may have been copied incompletely. "
            "Sign in to Moraspår to answer, or ask the school to send the "
            "request again."
        ),
    ),
    links.UsedLink: (
        410,
        _l(
            "This link has already been used: the answer is recorded. Sign in "
            "to Moraspår to see where the request stands."
        ),
    ),
    links.ExpiredLink: (
        410,
        _l(
            "This link has expired. Sign in to Moraspår to answer, or contact "
            "the school."
        ),
    ),
}


def _link_refused(exc: links.LinkError) -> tuple[str, int]:
    status, message = LINK_REFUSED[type(exc)]
    return (
        render_template("bookings/answer_link.html", refused=message, pairing=None),
        status,
    )


@bp.route("/answer/<token>", methods=["GET", "POST"])
def answer_link(token: str) -> BaseResponse | str | tuple[str, int]:
    """A company's answer from the emailed link. GET shows what is asked and
    changes nothing; POST answers once."""
    db = get_session()
    attempt = ratelimit.admit(db, ratelimit.action_link_checks())
    if attempt.wait:
        return ratelimit.too_many_attempts(attempt.wait)
    purpose = LinkPurpose.ANSWER_PROPOSAL
    try:
        link = links.look_up(db, token=token, purpose=purpose)
    except links.LinkError as exc:
        return _link_refused(exc)
    assert link.proposal_id is not None
    pairing = services.pairing_of(db, proposal_id=link.proposal_id)
    if pairing.company.id != link.organisation_id:  # the placement moved owner
        return _link_refused(links.InvalidLink())
    proposal = pairing.proposal
    open_ = (
        proposal.status == ProposalStatus.APPROVED
        and proposal.company_confirmed is None
    )
    form = forms.RespondForm()
    if open_ and form.validate_on_submit() and (form.confirm.data or form.decline.data):
        confirm = bool(form.confirm.data)
        try:
            link = links.use(db, token=token, purpose=purpose)
            booking = services.answer(
                db,
                pairing=pairing,
                side=Side.COMPANY,
                actor=None,
                confirm=confirm,
                reason="" if confirm else (form.reason.data or "").strip(),
                decline_reason="" if confirm else form.decline_reason.data,
            )
        except links.LinkError as exc:
            db.rollback()
            return _link_refused(exc)
        except services.NoFreePlaces:
            # Rolled back: the link stays unused, the proposal waits.
            db.rollback()
            return (
                render_template(
                    "bookings/answer_link.html",
                    pairing=pairing,
                    refused=_(
                        "The placement has no free places left for this booking, "
                        "so nothing was booked. The council has the proposal."
                    ),
                ),
                409,
            )
        except services.BookingError:
            db.rollback()
            open_ = False
        else:
            audit.record(
                db,
                link,
                actor=None,
                action="action_link.use",
                proposal_id=proposal.id,
                confirm=confirm,
            )
            db.commit()
            return render_template(
                "bookings/answer_link.html",
                pairing=pairing,
                done="booked" if booking else ("confirmed" if confirm else "declined"),
                refused=None,
            )
    status = 200 if open_ else 410
    return (
        render_template(
            "bookings/answer_link.html",
            pairing=pairing,
            form=form if open_ else None,
            refused=None
            if open_
            else _l("This request is no longer waiting for your answer."),
            done=None,
        ),
        status,
    )


# --- evaluating through a signed link, without signing in -------------------------

EVALUATE_LINK_REFUSED = {
    links.InvalidLink: (
        400,
        _l(
            "This link is not valid. It may have been copied incompletely. "
            "Sign in to Moraspår to evaluate the booking."
        ),
    ),
    links.UsedLink: (
        410,
        _l("This link has already been used: the evaluation is recorded. Thank you!"),
    ),
    links.ExpiredLink: (
        410,
        _l("This link has expired. Sign in to Moraspår to evaluate the booking."),
    ),
}
ALREADY_EVALUATED = _l("Your side has already evaluated this booking. Thank you!")
NOT_OPEN = _l("You can evaluate the booking when its period has ended.")


def _evaluate_link_page(
    *, message: object, status: int, done: bool = False
) -> tuple[str, int]:
    return (
        render_template("bookings/evaluate_link.html", message=message, done=done),
        status,
    )


def _evaluate_link_refused(exc: links.LinkError) -> tuple[str, int]:
    status, message = EVALUATE_LINK_REFUSED[type(exc)]
    return _evaluate_link_page(message=message, status=status)


@bp.route("/evaluate/<token>", methods=["GET", "POST"])
def evaluate_link(token: str) -> BaseResponse | str | tuple[str, int]:
    """A company's evaluation from the emailed link. GET shows the form and
    changes nothing; POST records the evaluation once. A form with errors
    leaves the link unused."""
    db = get_session()
    attempt = ratelimit.admit(db, ratelimit.action_link_checks())
    if attempt.wait:
        return ratelimit.too_many_attempts(attempt.wait)
    purpose = LinkPurpose.EVALUATE
    try:
        link = links.look_up(db, token=token, purpose=purpose)
        assert link.proposal_id is not None
        view = services.booking_of_side(
            db, proposal_id=link.proposal_id, side=Side.COMPANY
        )
    except links.LinkError as exc:
        return _evaluate_link_refused(exc)
    except services.NotFound:
        return _evaluate_link_refused(links.InvalidLink())
    if view.company.id != link.organisation_id:  # the placement moved owner
        return _evaluate_link_refused(links.InvalidLink())
    if Side.COMPANY in view.evaluated:
        return _evaluate_link_page(message=ALREADY_EVALUATED, status=410)
    if not services.evaluation_open(view.booking, today=today()):
        return _evaluate_link_page(message=NOT_OPEN, status=409)
    form = forms.EvaluationForm()
    for name, question in QUESTION_LABELS[Side.COMPANY].items():
        form[name].label.text = question
    if form.validate_on_submit():
        try:
            link = links.use(db, token=token, purpose=purpose)
            services.evaluate(
                db,
                booking_id=view.booking.id,  # type: ignore[arg-type]
                user=None,
                side=Side.COMPANY,
                overall=int(form.overall.data),
                supervision=int(form.supervision.data),
                preparation=int(form.preparation.data),
                comment=form.comment.data or "",
                today=today(),
            )
            audit.record(
                db,
                link,
                actor=None,
                action="action_link.evaluate",
                booking_id=view.booking.id,
            )
            db.commit()
        except links.LinkError as exc:
            db.rollback()
            return _evaluate_link_refused(exc)
        except (services.AlreadyEvaluated, IntegrityError):
            # Rolled back: someone of the company evaluated meanwhile.
            db.rollback()
            return _evaluate_link_page(message=ALREADY_EVALUATED, status=410)
        except services.BookingError:
            db.rollback()
            return _evaluate_link_page(message=NOT_OPEN, status=409)
        return _evaluate_link_page(
            message=_l("Thank you for your evaluation."), status=200, done=True
        )
    return render_template(
        "bookings/evaluate.html", view=view, form=form, via_link=True
    )


def _calendar_texts(view: services.BookingView) -> tuple[str, str]:
    kind = label(SHORT_KIND, view.placement.kind)
    summary = _(
        "%(kind)s: %(title)s – %(company)s",
        kind=kind,
        title=view.placement.title,
        company=view.company.name,
    )
    lines = [
        _(
            "Need: %(title)s (%(school)s)",
            title=view.need.title,
            school=view.school.name,
        ),
        _("Students: %(count)d", count=view.booking.students),
    ]
    if view.placement.supervisor_name or view.placement.supervisor_contact:
        lines.append(
            _(
                "Supervisor: %(name)s %(contact)s",
                name=view.placement.supervisor_name,
                contact=view.placement.supervisor_contact,
            ).strip()
        )
    lines.append(external_url("bookings.index"))
    return summary, "\n".join(lines)


@bp.route("/<int:booking_id>.ics")
def ics(booking_id: int) -> Response | BaseResponse:
    db = get_session()
    try:
        view = services.booking_for(db, booking_id=booking_id, user=signed_in_user())
    except services.NotFound:
        abort(404)
    except services.NotAParty:
        abort(403)
    summary, description = _calendar_texts(view)
    try:
        body = services.calendar_file(view, summary=summary, description=description)
    except services.NoCalendarDates:
        flash(
            _(
                "This booking has no dates that a calendar can hold, so there is "
                "no calendar file for it. Ask the school to correct its period."
            ),
            "error",
        )
        return redirect(url_for("bookings.index"))
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    return downloads.attach(response, f"{_('booking')}-{booking_id}.ics")


@bp.route("/<int:booking_id>/evaluate", methods=["GET", "POST"])
def evaluate(booking_id: int) -> BaseResponse | str:
    db = get_session()
    user = signed_in_user()
    try:
        view = services.booking_for(db, booking_id=booking_id, user=user)
    except services.NotFound:
        abort(404)
    except services.NotAParty:
        abort(403)
    if view.side is None:
        abort(403)  # council members and admins read, the two sides evaluate
    if view.side in view.evaluated:
        flash(_("Your side has already evaluated this booking. Thank you!"), "info")
        return redirect(url_for("bookings.index", when=When.PAST))
    if not services.evaluation_open(view.booking, today=today()):
        flash(_("You can evaluate the booking when its period has ended."), "info")
        return redirect(url_for("bookings.index"))
    form = forms.EvaluationForm()
    for name, question in QUESTION_LABELS[view.side].items():
        form[name].label.text = question
    if form.validate_on_submit():
        try:
            services.evaluate(
                db,
                booking_id=booking_id,
                user=user,
                overall=int(form.overall.data),
                supervision=int(form.supervision.data),
                preparation=int(form.preparation.data),
                comment=form.comment.data or "",
                today=today(),
            )
            db.commit()
        except (services.AlreadyEvaluated, IntegrityError):
            db.rollback()
            flash(_("Your side has already evaluated this booking. Thank you!"), "info")
            return redirect(url_for("bookings.index", when=When.PAST))
        except services.EvaluationNotOpen:
            db.rollback()
            flash(_("You can evaluate the booking when its period has ended."), "info")
            return redirect(url_for("bookings.index"))
        flash(_("Thank you for your evaluation."), "success")
        return redirect(url_for("bookings.index", when=When.PAST))
    return render_template("bookings/evaluate.html", view=view, form=form)


def _booking_or_abort(booking_id: int) -> services.BookingView:
    try:
        return services.booking_for(
            get_session(), booking_id=booking_id, user=signed_in_user()
        )
    except services.NotFound:
        abort(404)
    except services.NotAParty:
        abort(403)


def _refused(exc: services.BookingError) -> str:
    """The user's-language message for a refused step on a booking."""
    if isinstance(exc, services.InvalidDates):
        return _(
            "The new dates must not be in the past, and the last day must not "
            "come before the first."
        )
    if isinstance(exc, services.NotYourSide):
        return _("This step belongs to the other side of the booking.")
    return _(
        "The booking can no longer take this step (it is %(status)s). "
        "Nothing was changed.",
        status=booking_status_label(getattr(exc, "status", "")),
    )


BOOKING_STATUS = {
    "active": _l("booked"),
    "ended": _l("ended"),
    "cancelled": _l("cancelled"),
    "aborted": _l("aborted"),
    "moving": _l("waiting for an answer on new dates"),
}


def booking_status_label(status: str) -> str:
    return str(label(BOOKING_STATUS, status))


@bp.app_template_global()
def booking_status(status: str) -> str:
    return booking_status_label(status)


@bp.route("/<int:booking_id>")
@cached_page
def show(booking_id: int) -> str:
    view = _booking_or_abort(booking_id)
    booking = view.booking
    can_change = view.side is not None and services.cancellable(booking, today=today())
    return render_template(
        "bookings/show.html",
        view=view,
        today=today(),
        can_cancel=can_change,
        can_move=can_change and booking.change_requested_side is None,
        can_answer=can_change
        and booking.change_requested_side not in (None, view.side),
        can_record=view.side == Side.SCHOOL
        and booking.status in ("active", "ended")
        and services.started(booking, today=today()),
        move_form=forms.DateChangeForm(),
        answer_form=forms.AnswerChangeForm(),
        attendance_form=forms.AttendanceForm(),
        reasons=forms.CANCEL_REASONS,
    )


@bp.route("/<int:booking_id>/cancel", methods=["GET", "POST"])
@cached_page
def cancel(booking_id: int) -> BaseResponse | str:
    db = get_session()
    user = signed_in_user()
    view = _booking_or_abort(booking_id)
    if view.side is None:
        abort(403)  # council members and admins read; the two sides act
    back = url_for("bookings.show", booking_id=booking_id)
    if not services.cancellable(view.booking, today=today()):
        refused = _refused(
            services.InvalidTransition(booking_id, view.booking.status, "cancel")
        )
        if request.method == "POST":
            flash(refused, "error")
            return redirect(back)
        return render_template(
            "bookings/cancel.html", view=view, form=None, refused=refused
        )
    form = forms.CancelForm()
    if form.validate_on_submit():
        try:
            booking = services.cancel(
                db,
                booking_id=booking_id,
                user=user,
                data=form.to_data(),
                today=today(),
            )
        except services.BookingError as exc:
            db.rollback()
            flash(_refused(exc), "error")
            return redirect(back)
        db.commit()
        if booking.status == "aborted":
            flash(
                _("The booking is aborted. The other side and the council are told."),
                "success",
            )
        else:
            flash(
                _("The booking is cancelled. The other side and the council are told."),
                "success",
            )
        return redirect(back)
    return render_template(
        "bookings/cancel.html",
        view=view,
        form=form,
        after_start=services.started(view.booking, today=today()),
    )


@bp.route("/<int:booking_id>/move", methods=["POST"])
def move(booking_id: int) -> BaseResponse | str:
    db = get_session()
    _booking_or_abort(booking_id)  # 404 or 403 before anything else
    back = url_for("bookings.show", booking_id=booking_id)
    form = forms.DateChangeForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(str(error), "error")
        return redirect(back)
    try:
        services.request_date_change(
            db,
            booking_id=booking_id,
            user=signed_in_user(),
            data=form.to_data(),
            today=today(),
        )
    except services.BookingError as exc:
        db.rollback()
        flash(_refused(exc), "error")
        return redirect(back)
    db.commit()
    flash(_("We have asked the other side to accept the new dates."), "success")
    return redirect(back)


@bp.route("/<int:booking_id>/move/answer", methods=["POST"])
def answer_move(booking_id: int) -> BaseResponse:
    db = get_session()
    _booking_or_abort(booking_id)  # 404 or 403 before anything else
    back = url_for("bookings.show", booking_id=booking_id)
    form = forms.AnswerChangeForm()
    if not form.validate_on_submit() or not (form.accept.data or form.decline.data):
        return redirect(back)
    try:
        services.answer_date_change(
            db,
            booking_id=booking_id,
            user=signed_in_user(),
            accept=bool(form.accept.data),
            today=today(),
        )
    except services.BookingError as exc:
        db.rollback()
        flash(_refused(exc), "error")
        return redirect(back)
    db.commit()
    if form.accept.data:
        flash(_("The booking is moved to the new dates."), "success")
    else:
        flash(_("The booking keeps its dates. The other side is told."), "success")
    return redirect(back)


@bp.route("/<int:booking_id>/attendance", methods=["POST"])
def attendance(booking_id: int) -> BaseResponse:
    db = get_session()
    _booking_or_abort(booking_id)  # 404 or 403 before anything else
    back = url_for("bookings.show", booking_id=booking_id)
    form = forms.AttendanceForm()
    if not form.validate_on_submit() or not (form.came.data or form.no_show.data):
        return redirect(back)
    try:
        services.record_attendance(
            db,
            booking_id=booking_id,
            user=signed_in_user(),
            attendance=Attendance.CAME if form.came.data else Attendance.NO_SHOW,
            today=today(),
        )
    except services.BookingError as exc:
        db.rollback()
        flash(_refused(exc), "error")
        return redirect(back)
    db.commit()
    flash(_("Attendance recorded."), "success")
    return redirect(back)
