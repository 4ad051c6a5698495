"""Council meetings: list, prepare the agenda, record decisions, export."""

from collections.abc import Callable

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
from werkzeug.wrappers import Response as BaseResponse

from moraspar.auth.current import signed_in_user
from moraspar.council import services as council_services
from moraspar.council.scope import NotAMember, scope_of
from moraspar.db import get_session
from moraspar.formkit.confirm import ConfirmForm
from moraspar.formkit.ids import parse_ids
from moraspar.i18n import gettext as _
from moraspar.i18n import ngettext
from moraspar.meetings import documents, forms, services
from moraspar.models import Council, Meeting, MeetingItem, ProposalStatus, User
from moraspar.reference.gazetteer import LOCALITIES
from moraspar.web import downloads
from moraspar.web.export import FORMATS, export_response
from moraspar.web.pagecache import cached_page
from moraspar.web.pagination import page_number, paginate
from moraspar.web.redirects import safe_next

bp = Blueprint("meetings", __name__)

PER_PAGE = 25
LISTS = ("proposals", "gaps")


def _meeting(meeting_id: int) -> tuple[Meeting, Council]:
    """The meeting and its council; 404 if unknown, 403 if not the user's."""
    db = get_session()
    meeting = db.get(Meeting, meeting_id)
    if meeting is None:
        abort(404)
    try:
        services.check_member(db, user=signed_in_user(), council_id=meeting.council_id)
    except NotAMember:
        abort(403)
    council = db.get(Council, meeting.council_id)
    if council is None:
        abort(404)
    return meeting, council


def _item(meeting: Meeting, item_id: int) -> MeetingItem:
    item = get_session().get(MeetingItem, item_id)
    if item is None or item.meeting_id != meeting.id:
        abort(404)
    return item


def _council_choices(user: User) -> list[tuple[int, str]]:
    return [
        (c.id, c.name)
        for c in services.councils_for(get_session(), user=user)
        if c.id is not None
    ]


def _data(form: forms.MeetingForm) -> services.MeetingData:
    return services.MeetingData(
        title=form.title.data or "",
        held_on=form.held_on.data,
        council_id=int(form.council_id.data),
        notes=form.notes.data or "",
    )


def _held_refusal(meeting: Meeting) -> BaseResponse:
    flash(_("The meeting is held: its agenda can no longer change."), "error")
    return redirect(url_for("meetings.show", meeting_id=meeting.id))


@bp.route("/")
@cached_page
def index() -> str:
    db = get_session()
    user = signed_in_user()
    page = paginate(
        db,
        services.meetings_query(within=scope_of(db, user=user)),
        page=page_number(request.args.get("page")),
        per_page=PER_PAGE,
    )
    return render_template(
        "meetings/index.html",
        page=page,
        may_create=bool(_council_choices(user)),
    )


@bp.route("/new", methods=["GET", "POST"])
@cached_page
def new() -> str | BaseResponse:
    user = signed_in_user()
    choices = _council_choices(user)
    form = forms.MeetingForm()
    form.set_councils(choices)
    if request.method == "GET" and len(choices) == 1:
        form.council_id.data = choices[0][0]
    if choices and form.validate_on_submit():
        db = get_session()
        try:
            meeting = services.create_meeting(db, actor=user, data=_data(form))
        except NotAMember:
            form.council_id.errors = [_("You are not a member of that council.")]
        else:
            db.commit()
            flash(
                _("Meeting created. Now put proposals and gaps on the agenda."),
                "success",
            )
            return redirect(url_for("meetings.show", meeting_id=meeting.id))
    return render_template(
        "meetings/form.html", form=form, meeting=None, choices=choices
    )


@bp.route("/<int:meeting_id>")
@cached_page
def show(meeting_id: int) -> str:
    meeting, council = _meeting(meeting_id)
    items = services.agenda(get_session(), meeting=meeting)
    return render_template(
        "meetings/show.html",
        meeting=meeting,
        council=council,
        items=items,
        held=meeting.status == services.HELD,
        confirm=ConfirmForm(),
        subject=documents.item_subject,
        formats=FORMATS,
    )


@bp.route("/<int:meeting_id>/edit", methods=["GET", "POST"])
@cached_page
def edit(meeting_id: int) -> str | BaseResponse:
    meeting, _council = _meeting(meeting_id)
    user = signed_in_user()
    choices = _council_choices(user)
    form = forms.MeetingForm(obj=meeting)
    form.set_councils(choices)
    if form.validate_on_submit():
        db = get_session()
        try:
            services.update_meeting(db, actor=user, meeting=meeting, data=_data(form))
        except NotAMember:
            form.council_id.errors = [_("You are not a member of that council.")]
        else:
            db.commit()
            flash(_("Meeting saved."), "success")
            return redirect(url_for("meetings.show", meeting_id=meeting.id))
    return render_template(
        "meetings/form.html", form=form, meeting=meeting, choices=choices
    )


def _ids(name: str) -> list[int]:
    return parse_ids(request.form.getlist(name))


def _add_ticked(
    meeting: Meeting,
    form: ConfirmForm,
    *,
    add: Callable[[], int],
    added: Callable[[int], str],
    none_ticked: str,
) -> BaseResponse:
    """The POST half of the proposal and gap pickers. add puts the ticked rows
    on the agenda and returns how many; with none, back to the same filtered
    page."""
    if meeting.status == services.HELD:
        return _held_refusal(meeting)
    if form.validate_on_submit():
        count = add()
        get_session().commit()
        if count:
            flash(added(count), "success")
            return redirect(url_for("meetings.show", meeting_id=meeting.id))
        flash(none_ticked, "error")
    return redirect(safe_next(request.full_path.rstrip("?")) or request.path)


@bp.route("/<int:meeting_id>/proposals", methods=["GET", "POST"])
@cached_page
def pick_proposals(meeting_id: int) -> str | BaseResponse:
    meeting, council = _meeting(meeting_id)
    db = get_session()
    form = ConfirmForm()
    if request.method == "POST":
        return _add_ticked(
            meeting,
            form,
            add=lambda: services.add_proposals(
                db,
                actor=signed_in_user(),
                meeting=meeting,
                proposal_ids=_ids("proposal_id"),
            ),
            added=lambda num: ngettext(
                "%(num)d proposal added to the agenda.",
                "%(num)d proposals added to the agenda.",
                num,
            ),
            none_ticked=_("Tick at least one proposal to add."),
        )
    filters = services.ProposalFilters(
        status=request.args.get("status", ""),
        q=request.args.get("q", "").strip()[:200],
        locality=request.args.get("locality", ""),
    )
    page = paginate(
        db,
        services.proposal_candidates_query(filters, meeting=meeting),
        page=page_number(request.args.get("page")),
        per_page=PER_PAGE,
    )
    present, _gaps = services.on_agenda(db, meeting=meeting)
    return render_template(
        "meetings/pick_proposals.html",
        meeting=meeting,
        council=council,
        page=page,
        filters=filters,
        present=present,
        form=form,
        statuses=[ProposalStatus.PROPOSED, ProposalStatus.DEFERRED],
        localities=sorted(LOCALITIES),
    )


@bp.route("/<int:meeting_id>/gaps", methods=["GET", "POST"])
@cached_page
def pick_gaps(meeting_id: int) -> str | BaseResponse:
    meeting, council = _meeting(meeting_id)
    db = get_session()
    form = ConfirmForm()
    if request.method == "POST":
        return _add_ticked(
            meeting,
            form,
            add=lambda: services.add_gaps(
                db, actor=signed_in_user(), meeting=meeting, gap_ids=_ids("gap_id")
            ),
            added=lambda num: ngettext(
                "%(num)d skill gap added to the agenda.",
                "%(num)d skill gaps added to the agenda.",
                num,
            ),
            none_ticked=_("Tick at least one skill gap to add."),
        )
    q = request.args.get("q", "").strip()[:200]
    locality = request.args.get("locality", "")
    page = paginate(
        db,
        services.gap_candidates_query(meeting=meeting, q=q, locality=locality),
        page=page_number(request.args.get("page")),
        per_page=PER_PAGE,
    )
    _proposals, present = services.on_agenda(db, meeting=meeting)
    return render_template(
        "meetings/pick_gaps.html",
        meeting=meeting,
        council=council,
        page=page,
        q=q,
        locality=locality,
        present=present,
        form=form,
        localities=sorted(LOCALITIES),
    )


@bp.route("/<int:meeting_id>/items/<int:item_id>/move", methods=["POST"])
def move_item(meeting_id: int, item_id: int) -> BaseResponse:
    meeting, _council = _meeting(meeting_id)
    item = _item(meeting, item_id)
    if meeting.status == services.HELD:
        return _held_refusal(meeting)
    if ConfirmForm().validate_on_submit():
        step = -1 if request.form.get("direction") == "up" else 1
        db = get_session()
        services.move_item(
            db, actor=signed_in_user(), meeting=meeting, item=item, step=step
        )
        db.commit()
        flash(_("Agenda reordered."), "success")
    return redirect(url_for("meetings.show", meeting_id=meeting.id, _anchor="agenda"))


@bp.route("/<int:meeting_id>/items/<int:item_id>/remove", methods=["POST"])
def remove_item(meeting_id: int, item_id: int) -> BaseResponse:
    meeting, _council = _meeting(meeting_id)
    item = _item(meeting, item_id)
    if meeting.status == services.HELD:
        return _held_refusal(meeting)
    if ConfirmForm().validate_on_submit():
        db = get_session()
        services.remove_item(db, actor=signed_in_user(), meeting=meeting, item=item)
        db.commit()
        flash(
            _("Item removed from the agenda. The proposal or gap itself is unchanged."),
            "success",
        )
    return redirect(url_for("meetings.show", meeting_id=meeting.id, _anchor="agenda"))


def _refusal(error: services.DecisionRefused) -> str:
    cause = error.__cause__
    if isinstance(cause, council_services.NoFreePlaces):
        return _("The placement has no free places left, so it cannot be approved.")
    if isinstance(cause, council_services.NeedCovered):
        return _(
            "Other proposals already cover all of the need's students, so this "
            "one cannot be approved."
        )
    if isinstance(cause, council_services.DeclineReasonRequired):
        return _("Choose why the proposal is declined.")
    return _(
        "The proposal cannot be decided that way in its current state. "
        "Look at it on the review board."
    )


@bp.route("/<int:meeting_id>/items/<int:item_id>/decide", methods=["GET", "POST"])
def decide(meeting_id: int, item_id: int) -> str | BaseResponse:
    meeting, council = _meeting(meeting_id)
    item = _item(meeting, item_id)
    db = get_session()
    entry = next(
        e for e in services.agenda(db, meeting=meeting) if e.item.id == item.id
    )
    form = forms.DecisionForm(
        data={"decision": item.decision} if request.method == "GET" else None
    )
    if form.validate_on_submit():
        outcome = form.outcome.data or ""
        try:
            result = services.decide_item(
                db,
                actor=signed_in_user(),
                meeting=meeting,
                item=item,
                decision=form.decision.data or "",
                outcome=outcome,
                decline_reason=form.decline_reason.data or "",
            )
        except services.NotAProposal:
            db.rollback()
            form.outcome.errors = [
                _("Only proposal items can be approved, declined or deferred.")
            ]
        except services.DecisionRefused as error:
            db.rollback()
            form.outcome.errors = [_refusal(error)]
        else:
            db.commit()
            if result.applied:
                flash(_("Decision recorded and the proposal updated."), "success")
            else:
                flash(_("Decision recorded."), "success")
            return redirect(
                url_for(
                    "meetings.show", meeting_id=meeting.id, _anchor=f"item-{item.id}"
                )
            )
    return render_template(
        "meetings/decide.html",
        meeting=meeting,
        council=council,
        entry=entry,
        form=form,
        subject=documents.item_subject(entry),
        details=documents.item_details(entry),
    )


@bp.route("/<int:meeting_id>/held", methods=["GET", "POST"])
@cached_page
def held(meeting_id: int) -> str | BaseResponse:
    meeting, council = _meeting(meeting_id)
    form = ConfirmForm()
    if meeting.status == services.HELD:
        flash(_("The meeting is already marked as held."), "success")
        return redirect(url_for("meetings.show", meeting_id=meeting.id))
    if form.validate_on_submit():
        db = get_session()
        services.mark_held(db, actor=signed_in_user(), meeting=meeting)
        db.commit()
        flash(_("Meeting marked as held. The agenda is now fixed."), "success")
        return redirect(url_for("meetings.show", meeting_id=meeting.id))
    undecided = sum(
        1
        for e in services.agenda(get_session(), meeting=meeting)
        if not e.item.decision
    )
    return render_template(
        "meetings/held.html",
        meeting=meeting,
        council=council,
        form=form,
        undecided=undecided,
    )


def _filename(meeting: Meeting, suffix: str) -> str:
    return f"{meeting.held_on.isoformat()} {meeting.title} {suffix}".strip()


@bp.route("/<int:meeting_id>/minutes.odt")
def export_document(meeting_id: int) -> Response:
    meeting, council = _meeting(meeting_id)
    items = services.agenda(get_session(), meeting=meeting)
    body = documents.meeting_odt(meeting=meeting, council=council, items=items)
    name = f"{_filename(meeting, _('minutes'))}.odt"
    return downloads.attach(Response(body, mimetype=documents.ODT_MIMETYPE), name)


@bp.route("/<int:meeting_id>/export/<list_name>")
def export_list(meeting_id: int, list_name: str) -> Response:
    meeting, _council = _meeting(meeting_id)
    if list_name not in LISTS:
        abort(404)
    fmt = request.args.get("format", "xlsx")
    if fmt not in FORMATS:
        abort(400)
    items = services.agenda(get_session(), meeting=meeting)
    if list_name == "proposals":
        headers, rows = documents.proposal_rows(items)
        suffix = _("proposals")
    else:
        headers, rows = documents.gap_rows(items)
        suffix = _("skill gaps")
    return export_response(headers, rows, fmt=fmt, filename=_filename(meeting, suffix))
