"""Council members: match runs, the review board, decisions, the allocation."""

from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

from matching import Weights
from moraspar.auth.current import signed_in_user
from moraspar.council import forms, learning, runs, scope, services
from moraspar.db import get_session
from moraspar.formkit.confirm import ConfirmForm
from moraspar.formkit.ids import parse_id
from moraspar.i18n import gettext as _
from moraspar.i18n import ngettext
from moraspar.jobs import tasks
from moraspar.models import (
    MatchProposal,
    MatchRun,
    ProposalStatus,
    RankerWeights,
    RunStatus,
)
from moraspar.reference.labels import (
    KIND_LABELS,
    PROPOSAL_STATUS_LABELS,
    RUN_STATUS_LABELS,
    label,
)
from moraspar.web.errors import render_error
from moraspar.web.pagecache import cached_page
from moraspar.web.pagination import Page, page_number, paginate
from moraspar.web.redirects import safe_next

bp = Blueprint("council", __name__)
# Work of a council the user does not sit on: 403, on every page here.
bp.register_error_handler(scope.NotAMember, lambda _error: render_error(403))


# -- helpers ---------------------------------------------------------------


def _scope() -> scope.CouncilScope:
    """The councils whose work the signed-in user sees (admins: all)."""
    return scope.scope_of(get_session(), user=signed_in_user())


def _run_form(within: scope.CouncilScope) -> forms.RunForm:
    form = forms.RunForm()
    form.set_councils(
        [(c.id, c.name) for c in scope.councils(get_session(), scope=within) if c.id]
    )
    return form


def _back(default: str) -> str:
    """The `next` the form sent, if it is a path on this site."""
    return safe_next(request.form.get("next")) or default


def _run_status_label(status: str) -> str:
    return label(RUN_STATUS_LABELS, status)


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def _programme_id(raw: str) -> int | None:
    if not raw:
        return None
    programme_id = parse_id(raw)
    if programme_id is None:
        flash(_("There is no such programme: the filter is left out."), "info")
    return programme_id


def _filters() -> services.BoardFilters:
    args = request.args
    statuses = {s.value for s in ProposalStatus} | {services.STATUS_ALL}
    status = args.get("status") or ProposalStatus.PROPOSED
    kind = args.get("kind", "")
    programme = args.get("programme", "")
    group = args.get("group", "")
    return services.BoardFilters(
        status=status if status in statuses else ProposalStatus.PROPOSED,
        kind=kind if kind in KIND_LABELS else "",
        programme_id=_programme_id(programme),
        locality=args.get("locality", "")[:100],
        period_from=_date_arg("from"),
        period_to=_date_arg("to"),
        group=group if group in services.GROUPS else "",
        text=" ".join(args.get("q", "").split())[:200],
    )


def _flash_invalid(error: services.InvalidDecision) -> None:
    if isinstance(error, services.NoFreePlaces):
        flash(_("The placement has no free places left to approve."), "error")
    elif isinstance(error, services.NeedCovered):
        flash(
            _(
                "Nothing was approved: other proposals already cover all of the "
                "need's students. Decline or reverse one of them first."
            ),
            "error",
        )
    elif error.proposal_ids and len(error.proposal_ids) > 1:
        flash(
            _(
                "Nothing was changed: %(num)d of the selected proposals cannot "
                "take this decision in their current state.",
                num=len(error.proposal_ids),
            ),
            "error",
        )
    else:
        flash(
            _(
                "Nothing was changed: the proposal cannot take this decision in "
                "its current state."
            ),
            "error",
        )


def _start(app: Flask, run_id: int, actor_id: int | None) -> None:
    """Hand the queued run to a worker (moraspar.jobs); under TESTING the job
    runs here and now. If the queue cannot be reached the run stays queued
    and the recovery job enqueues it again."""
    try:
        tasks.enqueue_match_run(app, run_id, actor_id)
    except Exception:
        app.logger.exception("could not enqueue match run %s", run_id)


# -- home and runs ---------------------------------------------------------


@bp.route("/")
@cached_page
def home() -> str:
    db = get_session()
    mine = _scope()
    return render_template(
        "council/home.html",
        councils=services.councils_of(db, user=signed_in_user()),
        counts=services.status_counts(db, scope=mine),
        statuses=list(ProposalStatus),
        latest=runs.latest_run(db, scope=mine),
        run_form=_run_form(mine),
        run_status_label=_run_status_label,
    )


@bp.route("/runs")
@cached_page
def runs_list() -> str:
    db = get_session()
    mine = _scope()
    page: Page[Any] = paginate(
        db,
        runs.recent_runs_query(scope=mine),
        page=page_number(request.args.get("page")),
        per_page=current_app.config["PAGE_SIZE"],
    )
    return render_template(
        "council/runs.html",
        page=page,
        run_form=_run_form(mine),
        run_status_label=_run_status_label,
    )


@bp.route("/runs/new", methods=["POST"])
def run_start() -> Response:
    db = get_session()
    mine = _scope()
    form = _run_form(mine)
    if not form.council_id.choices:
        flash(_("You sit on no council, so there is nothing to match."), "error")
        return redirect(url_for("council.runs_list"))
    if not form.validate_on_submit():
        flash(_("The form had expired. Please send it again."), "error")
        return redirect(url_for("council.runs_list"))
    actor = signed_in_user()
    try:
        new_run = runs.create_run(db, actor=actor, council_id=form.council_id.data)
    except runs.RunInProgress as exc:
        db.rollback()
        flash(_("A matching run is already under way."), "info")
        if mine.has(exc.run.council_id) or exc.run.council_id is None:
            return redirect(url_for("council.run", run_id=exc.run.id))
        return redirect(url_for("council.runs_list"))
    db.commit()
    assert new_run.id is not None
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    _start(app, new_run.id, actor.id)
    flash(_("Matching has started."), "success")
    return redirect(url_for("council.run", run_id=new_run.id))


@bp.route("/runs/<int:run_id>")
@cached_page
def run(run_id: int) -> str:
    db = get_session()
    match_run = db.get(MatchRun, run_id)
    if match_run is None:
        abort(404)
    runs.check_run(_scope(), match_run)
    summary = (
        runs.run_summary(db, match_run) if match_run.status == RunStatus.DONE else None
    )
    return render_template(
        "council/run.html",
        run=match_run,
        summary=summary,
        run_status_label=_run_status_label,
        phases=runs.PHASES,
    )


@bp.route("/runs/<int:run_id>/status")
def run_status(run_id: int) -> Response:
    match_run = get_session().get(MatchRun, run_id)
    if match_run is None:
        abort(404)
    runs.check_run(_scope(), match_run)
    finished = match_run.status in (RunStatus.DONE, RunStatus.FAILED)
    return jsonify(
        id=match_run.id,
        status=match_run.status,
        label=_run_status_label(match_run.status),
        progress=match_run.progress,
        total=match_run.total,
        error=match_run.error,
        finished=finished,
        text=_run_text(match_run),
    )


def _run_text(match_run: MatchRun) -> str:
    if match_run.status == RunStatus.RUNNING:
        return _(
            "Running: step %(done)d of %(total)d",
            done=match_run.progress,
            total=match_run.total,
        )
    if match_run.status == RunStatus.FAILED:
        return _("Failed: %(reason)s", reason=match_run.error)
    return _run_status_label(match_run.status)


# -- the review board --------------------------------------------------------


@bp.route("/board")
@cached_page
def board() -> str:
    db = get_session()
    mine = _scope()
    filters = _filters()
    page = services.board(
        db,
        filters=filters,
        page=page_number(request.args.get("page")),
        per_page=current_app.config["PAGE_SIZE"],
        scope=mine,
    )
    return render_template(
        "council/board.html",
        page=page,
        filters=filters,
        options=services.board_options(db, scope=mine),
        kinds=KIND_LABELS,
        statuses=PROPOSAL_STATUS_LABELS,
        bulk_form=forms.BulkForm(),
        decidable=services.may_decide,
    )


@bp.route("/proposals/<int:proposal_id>")
@cached_page
def proposal(proposal_id: int) -> str:
    view = services.proposal_view(
        get_session(), proposal_id=proposal_id, scope=_scope()
    )
    if view is None:
        abort(404)
    return render_template(
        "council/proposal.html",
        view=view,
        decision_form=forms.DecisionForm(),
        reverse_form=forms.ReverseForm(),
        **_proposal_context(view.proposal),
    )


def _proposal_context(p: MatchProposal) -> dict[str, Any]:
    return {
        "may_approve": services.may_decide(p, services.APPROVE),
        "may_decline": services.may_decide(p, services.DECLINE),
        "may_defer": services.may_decide(p, services.DEFER),
        "may_reverse": services.may_reverse(p),
        "decline_labels": forms.DECLINE_REASON_LABELS,
    }


def _render_proposal_errors(
    proposal_id: int,
    decision_form: forms.DecisionForm | None = None,
    reverse_form: forms.ReverseForm | None = None,
) -> tuple[str, int]:
    view = services.proposal_view(
        get_session(), proposal_id=proposal_id, scope=_scope()
    )
    if view is None:
        abort(404)
    return render_template(
        "council/proposal.html",
        view=view,
        decision_form=decision_form or forms.DecisionForm(formdata=None),
        reverse_form=reverse_form or forms.ReverseForm(formdata=None),
        **_proposal_context(view.proposal),
    ), 400


@bp.route("/proposals/<int:proposal_id>/decide", methods=["POST"])
def decide(proposal_id: int) -> Response | tuple[str, int]:
    db = get_session()
    item = db.get(MatchProposal, proposal_id)
    if item is None:
        abort(404)
    services.check_proposal(db, scope=_scope(), proposal=item)
    form = forms.DecisionForm()
    if not form.validate_on_submit():
        return _render_proposal_errors(proposal_id, decision_form=form)
    try:
        services.decide(
            db,
            proposal=item,
            action=form.action.data,
            actor=signed_in_user(),
            decline_reason=form.decline_reason.data or "",
            comment=form.comment.data or "",
        )
    except services.InvalidDecision as exc:
        db.rollback()
        _flash_invalid(exc)
        return redirect(url_for("council.proposal", proposal_id=proposal_id))
    db.commit()
    if form.action.data == services.APPROVE:
        flash(
            ngettext(
                "The proposal is approved for %(num)d student.",
                "The proposal is approved for %(num)d students.",
                item.students,
            ),
            "success",
        )
        return redirect(_back(url_for("council.board")))
    messages = {
        services.DECLINE: _("The proposal is declined."),
        services.DEFER: _("The proposal is deferred."),
    }
    flash(messages[form.action.data], "success")
    return redirect(_back(url_for("council.board")))


@bp.route("/proposals/bulk", methods=["POST"])
def bulk() -> Response:
    db = get_session()
    form = forms.BulkForm()
    back = _back(url_for("council.board"))
    if not form.validate_on_submit():
        # Nothing ticked says it all; the other errors would only distract.
        shown = {"proposal": form.proposal.errors} if form.proposal.errors else {}
        for errors in (shown or form.errors).values():
            for error in errors:
                flash(str(error), "error")
        return redirect(back)
    try:
        done = services.decide_many(
            db,
            proposal_ids=form.proposal.data or [],
            action=form.bulk_action.data,
            actor=signed_in_user(),
            decline_reason=form.bulk_reason.data or "",
            comment=form.bulk_comment.data or "",
            scope=_scope(),
        )
    except services.InvalidDecision as exc:
        db.rollback()
        _flash_invalid(exc)
        return redirect(back)
    db.commit()
    flash(
        _(
            "%(action)s: %(num)d proposals.",
            action=forms.ACTION_LABELS[form.bulk_action.data],
            num=len(done),
        ),
        "success",
    )
    return redirect(back)


@bp.route("/proposals/<int:proposal_id>/reverse", methods=["POST"])
def reverse(proposal_id: int) -> Response | tuple[str, int]:
    db = get_session()
    item = db.get(MatchProposal, proposal_id)
    if item is None:
        abort(404)
    services.check_proposal(db, scope=_scope(), proposal=item)
    form = forms.ReverseForm()
    if not form.validate_on_submit():
        return _render_proposal_errors(proposal_id, reverse_form=form)
    try:
        services.reverse(
            db, proposal=item, actor=signed_in_user(), reason=form.reason.data
        )
    except services.InvalidDecision as exc:
        db.rollback()
        _flash_invalid(exc)
        return redirect(url_for("council.proposal", proposal_id=proposal_id))
    db.commit()
    flash(_("The decision is reversed: the proposal is open again."), "success")
    return redirect(url_for("council.proposal", proposal_id=proposal_id))


# -- the allocation overview -------------------------------------------------


@bp.route("/allocation")
@cached_page
def allocation() -> str:
    mine = _scope()
    overview = services.allocation_overview(get_session(), scope=mine)
    per_page = current_app.config["PAGE_SIZE"]
    number = page_number(request.args.get("page"))
    rows = overview.needs
    page = Page(
        items=rows[(number - 1) * per_page : number * per_page],
        page=number,
        per_page=per_page,
        total=len(rows),
    )
    return render_template(
        "council/allocation.html",
        overview=overview,
        page=page,
        reasons=[
            services.NO_HOST,
            services.TOO_FAR,
            services.NO_PERIOD,
            services.NO_PLACES,
            services.TAKEN,
            services.NOT_RANKED,
        ],
        run_form=_run_form(mine),
    )


# -- the ranker's score weights: refit on decisions, apply, return ------------


@bp.route("/ranker")
@cached_page
def ranker() -> str:
    db = get_session()
    return render_template(
        "council/ranker.html",
        decisions=learning.decision_counts(db),
        min_labels=learning.MIN_LABELS,
        min_per_class=learning.MIN_PER_CLASS,
        parts=learning.PARTS,
        current=learning.part_weights(learning.active_weights(db)),
        active=learning.active_row(db),
        defaults=learning.part_weights(Weights()),
        versions=[
            (row, learning.part_weights(row.weights)) for row in learning.versions(db)
        ],
        form=ConfirmForm(),
    )


@bp.route("/ranker/refit", methods=["POST"])
def ranker_refit() -> Response:
    db = get_session()
    if not ConfirmForm().validate_on_submit():
        flash(_("The form had expired. Please send it again."), "error")
        return redirect(url_for("council.ranker"))
    result = learning.refit(db, actor=signed_in_user(), activate=False)
    db.commit()
    if result.outcome == learning.REFUSED:
        flash(
            _(
                "Not enough decisions to learn from: %(labels)d (%(approved)d "
                "approved, %(declined)d declined). The weights are unchanged.",
                labels=result.labels,
                approved=result.approved,
                declined=result.declined,
            ),
            "error",
        )
        return redirect(url_for("council.ranker"))
    if result.outcome == learning.CANDIDATE:
        flash(_("The new weights rank the held-out decisions better."), "success")
    else:
        flash(
            _("The new weights are not better: keep the old ones."),
            "info",
        )
    return redirect(url_for("council.ranker_version", version_id=result.row_id))


@bp.route("/ranker/<int:version_id>")
def ranker_version(version_id: int) -> str:
    db = get_session()
    row = db.get(RankerWeights, version_id)
    if row is None:
        abort(404)
    return render_template(
        "council/ranker_version.html",
        row=row,
        parts=learning.PARTS,
        weights=learning.part_weights(row.weights),
        current=learning.part_weights(learning.active_weights(db)),
        form=ConfirmForm(),
    )


@bp.route("/ranker/<int:version_id>/activate", methods=["GET", "POST"])
def ranker_activate(version_id: int) -> Response | str:
    db = get_session()
    row = db.get(RankerWeights, version_id)
    if row is None:
        abort(404)
    return _activate(row)


@bp.route("/ranker/defaults/activate", methods=["GET", "POST"])
def ranker_defaults() -> Response | str:
    return _activate(None)


def _activate(row: RankerWeights | None) -> Response | str:
    """Confirm (GET), then make the version the active weights (POST)."""
    db = get_session()
    form = ConfirmForm()
    if form.validate_on_submit():
        learning.activate_version(
            db, row_id=row.id if row is not None else None, actor=signed_in_user()
        )
        db.commit()
        flash(_("The ranker uses these weights from the next match run."), "success")
        return redirect(url_for("council.ranker"))
    weights = row.weights if row is not None else Weights()
    return render_template(
        "council/ranker_activate.html",
        row=row,
        parts=learning.PARTS,
        weights=learning.part_weights(weights),
        current=learning.part_weights(learning.active_weights(db)),
        form=form,
    )
