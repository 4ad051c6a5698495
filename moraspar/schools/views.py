"""School staff: their school's programmes and needs, and the placement search."""

from datetime import date
from typing import TypeVar

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

from moraspar.auth.current import signed_in_user
from moraspar.bookings import requests
from moraspar.bookings.forms import RespondForm
from moraspar.bookings.services import NotFound
from moraspar.db import get_session
from moraspar.formkit.choices import as_choices
from moraspar.formkit.confirm import ConfirmForm
from moraspar.i18n import gettext as _
from moraspar.i18n import ngettext
from moraspar.lifecycle import InvalidTransition
from moraspar.models import (
    Need,
    Organisation,
    PostingKind,
    PostingStatus,
    Programme,
    ProposalStatus,
)
from moraspar.organisations import NotOwner, StaleEdit, check_owner
from moraspar.organisations.forms import show_stale
from moraspar.ranking import live_matches
from moraspar.reference.gazetteer import LOCALITIES
from moraspar.reference.labels import KIND_LABELS, STATUS_LABELS
from moraspar.schools import exports, forms, services
from moraspar.web.errors import render_error
from moraspar.web.export import columns_response, requested_format
from moraspar.web.pagecache import cached_page
from moraspar.web.pagination import page_number, paginate

bp = Blueprint("schools", __name__)
# A posting or programme of another school: the same 403 page everywhere.
bp.register_error_handler(NotOwner, lambda _error: render_error(403))

SEARCH_PAGE_SIZE = 20


# --- helpers ---------------------------------------------------------------


def _school_or_none() -> Organisation | None:
    try:
        return services.school_of(get_session(), user=signed_in_user())
    except services.NotASchool:
        return None


def _school() -> Organisation:
    """The user's school; 404 for an admin whose organisation is no school."""
    school = _school_or_none()
    if school is None:
        abort(404)
    return school


_Owned = TypeVar("_Owned", Need, Programme)


def _owned(model: type[_Owned], item_id: int) -> _Owned:
    """The need or programme; 404 if unknown, 403 if another school's."""
    item = get_session().get(model, item_id)
    if item is None:
        abort(404)
    check_owner(signed_in_user(), item.school_id)
    return item


# --- dashboard ---------------------------------------------------------------


@bp.route("/")
@cached_page
def home() -> str:
    db = get_session()
    school = _school_or_none()
    if school is None:
        return render_template("schools/home.html", school=None)
    assert school.id is not None
    programmes = services.active_programmes(db, school_id=school.id)
    latest = db.exec(
        services.need_query(school_id=school.id, filters=services.NeedFilters()).limit(
            8
        )
    ).all()
    return render_template(
        "schools/home.html",
        school=school,
        programmes=programmes,
        needs=latest,
        counts=services.need_counts(db, school_id=school.id),
    )


# --- programmes -----------------------------------------------------------


@bp.route("/programmes")
@cached_page
def programmes() -> str:
    school = _school()
    page = paginate(
        get_session(),
        services.programme_query(school=school),
        page=page_number(request.args.get("page")),
        per_page=current_app.config["PAGE_SIZE"],
    )
    return render_template("schools/programmes.html", school=school, page=page)


@bp.route("/programmes/new", methods=["GET", "POST"])
@cached_page
def programme_new() -> Response | str:
    school = _school()
    form = forms.ProgrammeForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            programme = services.create_programme(
                db, school=school, actor=signed_in_user(), data=form.data_for_service()
            )
        except services.UnknownLevel:
            form.level.errors.append(_("Pick a level from the list."))
        else:
            db.commit()
            flash(_("The programme %(name)s is added.", name=programme.name), "success")
            return redirect(url_for("schools.programmes"))
    return render_template("schools/programme_form.html", form=form, programme=None)


@bp.route("/programmes/<int:programme_id>/edit", methods=["GET", "POST"])
@cached_page
def programme_edit(programme_id: int) -> Response | str:
    programme = _owned(Programme, programme_id)
    form = forms.ProgrammeForm(obj=programme)
    if form.validate_on_submit():
        db = get_session()
        try:
            services.update_programme(
                db,
                programme=programme,
                actor=signed_in_user(),
                data=form.data_for_service(),
            )
        except services.UnknownLevel:
            form.level.errors.append(_("Pick a level from the list."))
        except StaleEdit as stale:
            show_stale(form, stale, version=form.version)
        else:
            db.commit()
            flash(_("The programme %(name)s is saved.", name=programme.name), "success")
            return redirect(url_for("schools.programmes"))
    return render_template(
        "schools/programme_form.html", form=form, programme=programme
    )


@bp.route("/programmes/<int:programme_id>/active", methods=["GET", "POST"])
@cached_page
def programme_active(programme_id: int) -> Response | str:
    programme = _owned(Programme, programme_id)
    activate = not programme.active
    form = ConfirmForm()
    if form.validate_on_submit():
        db = get_session()
        services.set_programme_active(
            db, programme=programme, actor=signed_in_user(), active=activate
        )
        db.commit()
        if activate:
            flash(_("%(name)s is active again.", name=programme.name), "success")
        else:
            flash(_("%(name)s is deactivated.", name=programme.name), "success")
        return redirect(url_for("schools.programmes"))
    return render_template(
        "schools/programme_active.html",
        form=form,
        programme=programme,
        activate=activate,
    )


# --- needs ----------------------------------------------------------------


def _need_filters() -> services.NeedFilters:
    status = request.args.get("status", "")
    kind = request.args.get("kind", "")
    return services.NeedFilters(
        status=status if status in set(PostingStatus) else "",
        kind=kind if kind in set(PostingKind) else "",
    )


@bp.route("/needs")
@cached_page
def needs() -> Response | str:
    school = _school()
    assert school.id is not None
    db = get_session()
    filters = _need_filters()
    query = services.need_query(school_id=school.id, filters=filters)
    fmt = requested_format()
    if fmt is not None:
        return columns_response(
            exports.NEEDS,
            db.exec(query.limit(services.EXPORT_LIMIT)).all(),
            fmt=fmt,
            filename=f"{_('needs')}-{date.today().isoformat()}",
        )
    page = paginate(
        db,
        query,
        page=page_number(request.args.get("page")),
        per_page=current_app.config["PAGE_SIZE"],
    )
    return render_template(
        "schools/needs.html",
        school=school,
        page=page,
        filters=filters,
        statuses=list(STATUS_LABELS.items()),
        kinds=list(KIND_LABELS.items()),
        export_args=_export_args(),
    )


def _export_args() -> dict[str, str]:
    """The current filters, for the export links (without page and format)."""
    return {
        key: value
        for key, value in request.args.items()
        if key not in ("page", "format") and value
    }


def _need_form(school_id: int, need: Need | None = None) -> forms.NeedForm:
    form = forms.NeedForm(obj=need)
    if request.method == "GET" and need is not None and need.max_km is not None:
        form.max_km.data = round(need.max_km)  # stored as float, edited in whole km
    programmes = services.active_programmes(get_session(), school_id=school_id)
    if need is not None and need.programme_id is not None:
        current = get_session().get(Programme, need.programme_id)
        if current is not None and not current.active:
            programmes.append(current)  # keep what the need already has
    form.programme_id.choices = as_choices(
        [("", _("No specific programme"))]
        + [(p.id, f"{p.name} ({p.code})" if p.code else p.name) for p in programmes]
    )
    return form


def _need_error(form: forms.NeedForm, error: services.SchoolError) -> None:
    """Show a service's named error beside the field it concerns."""
    messages: dict[type[services.SchoolError], str] = {
        services.ProgrammeNotInSchool: _("Pick one of your school's programmes."),
        services.UnknownLocality: _("Pick a locality from the list."),
        services.UnknownKind: _("Pick a kind from the list."),
        services.InvalidStudents: _("Between 1 and 500 students."),
        services.InvalidDistance: _("The distance must be between 0 and 500 km."),
    }
    if isinstance(
        error,
        services.InvalidPeriod | services.PeriodRequired | services.PeriodTooShort,
    ):
        message = str(forms.period_message(error))
    else:
        message = messages.get(type(error), _("Please check this field."))
    target = form[error.field] if error.field else form.title
    target.errors = [*target.errors, message]


@bp.route("/needs/new", methods=["GET", "POST"])
@cached_page
def need_new() -> Response | str:
    school = _school()
    assert school.id is not None
    form = _need_form(school.id)
    if request.method == "GET":
        form.locality.data = (
            school.locality if school.locality in LOCALITIES else "Mora"
        )
    if form.validate_on_submit():
        db = get_session()
        try:
            need = services.post_need(
                db, school=school, actor=signed_in_user(), data=form.data_for_service()
            )
        except services.SchoolError as error:
            _need_error(form, error)
        else:
            db.commit()
            flash(_("The need %(title)s is posted.", title=need.title), "success")
            return redirect(url_for("schools.need", need_id=need.id))
    return render_template("schools/need_form.html", form=form, need=None)


@bp.route("/needs/<int:need_id>")
@cached_page
def need(need_id: int) -> str:
    db = get_session()
    need = _owned(Need, need_id)
    programme = db.get(Programme, need.programme_id) if need.programme_id else None
    uncovered = requests.uncovered_students(db, need=need)
    # Ranked placements to ask straight from the page, while students remain.
    matches = (
        live_matches(db, need=need, limit=10, today=date.today())
        if need.status == PostingStatus.OPEN and uncovered > 0
        else []
    )
    return render_template(
        "schools/need.html",
        need=need,
        programme=programme,
        form=ConfirmForm(),
        items=requests.need_items(db, need=need),
        uncovered=uncovered,
        matches=matches,
        respond_form=RespondForm(),
    )


# --- a placement, and a request for places on it ----------------------------


def _placement_or_404(placement_id: int) -> requests.PlacementFacts:
    try:
        return requests.placement_facts(get_session(), placement_id=placement_id)
    except NotFound:
        abort(404)


def _request_form(facts: requests.PlacementFacts) -> tuple[forms.RequestForm, int]:
    """The form with the school's open needs of the placement's kind, and
    how many there are."""
    school = _school_or_none()
    choices = requests.requestable_needs(
        get_session(),
        school_id=school.id if school else None,
        kind=facts.placement.kind,
    )
    form = forms.RequestForm()
    form.set_needs(
        [
            (
                choice.need.id,
                ngettext(
                    "%(title)s (%(num)d student not yet placed)",
                    "%(title)s (%(num)d students not yet placed)",
                    choice.uncovered,
                    title=choice.need.title,
                ),
            )
            for choice in choices
            if choice.need.id is not None
        ]
    )
    return form, len(choices)


def _request_error(error: requests.RequestError) -> str:
    if isinstance(error, requests.KindMismatch):
        return _("The need and the placement are of different kinds.")
    if isinstance(error, requests.NeedNotOpen):
        return _("The need is paused or closed. Resume it to send requests.")
    if isinstance(error, requests.PlacementNotOpen):
        return _("The company has paused or closed this placement.")
    if isinstance(error, requests.NoFreePlaces):
        return _("The placement has not that many free places.")
    if isinstance(error, requests.TooManyStudents):
        return _(
            "More students than the need has left without a place. Other "
            "requests or proposals already cover the rest."
        )
    if isinstance(error, requests.PeriodsApart):
        return _("The periods of the need and the placement do not overlap.")
    if isinstance(error, requests.AlreadyAsked):
        return _(
            "This need already has a request, offer or proposal for this "
            "placement. See where it stands on the need's page."
        )
    return _("This need is not your school's.")


@bp.route("/placements/<int:placement_id>")
@cached_page
def placement(placement_id: int) -> str:
    facts = _placement_or_404(placement_id)
    form, count = _request_form(facts)
    return render_template(
        "schools/placement.html", facts=facts, form=form, need_count=count
    )


@bp.route("/placements/<int:placement_id>/request", methods=["POST"])
def placement_request(placement_id: int) -> Response | str:
    db = get_session()
    facts = _placement_or_404(placement_id)
    form, count = _request_form(facts)
    if form.validate_on_submit():
        data = form.to_data()
        try:
            proposal = requests.send_request(
                db, placement_id=placement_id, user=signed_in_user(), data=data
            )
        except requests.RequestError as error:
            db.rollback()
            form.need.errors = [_request_error(error)]
        except NotFound:
            abort(404)
        else:
            db.commit()
            if proposal.status == ProposalStatus.PROPOSED:
                flash(
                    _(
                        "Your request is sent to the council, which passes it "
                        "on to the company."
                    ),
                    "success",
                )
            else:
                flash(_("Your request is sent to the company."), "success")
            return redirect(url_for("schools.need", need_id=data.need_id))
    return render_template(
        "schools/placement.html", facts=facts, form=form, need_count=count
    )


@bp.route("/needs/<int:need_id>/edit", methods=["GET", "POST"])
@cached_page
def need_edit(need_id: int) -> Response | str:
    need = _owned(Need, need_id)
    if need.status == PostingStatus.CLOSED:
        flash(_("A closed need cannot be changed. Copy it to post it again."), "error")
        return redirect(url_for("schools.need", need_id=need.id))
    form = _need_form(need.school_id, need)
    if form.validate_on_submit():
        db = get_session()
        try:
            services.update_need(
                db, need=need, actor=signed_in_user(), data=form.data_for_service()
            )
        except services.NeedClosed:
            flash(_("A closed need cannot be changed."), "error")
            return redirect(url_for("schools.need", need_id=need.id))
        except StaleEdit as stale:
            show_stale(form, stale, version=form.version)
        except services.SchoolError as error:
            _need_error(form, error)
        else:
            db.commit()
            flash(_("The need %(title)s is saved.", title=need.title), "success")
            return redirect(url_for("schools.need", need_id=need.id))
    return render_template("schools/need_form.html", form=form, need=need)


def _change_status(need: Need, status: str, message: str) -> Response:
    db = get_session()
    try:
        services.set_need_status(db, need=need, actor=signed_in_user(), status=status)
    except InvalidTransition:
        flash(_("That change is not possible for this need any more."), "error")
        return redirect(url_for("schools.need", need_id=need.id))
    db.commit()
    flash(message, "success")
    return redirect(url_for("schools.need", need_id=need.id))


@bp.route("/needs/<int:need_id>/pause", methods=["POST"])
def need_pause(need_id: int) -> Response:
    need = _owned(Need, need_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return _change_status(
        need,
        PostingStatus.PAUSED,
        _(
            "%(title)s is paused: it is not matched until you resume it.",
            title=need.title,
        ),
    )


@bp.route("/needs/<int:need_id>/resume", methods=["POST"])
def need_resume(need_id: int) -> Response:
    need = _owned(Need, need_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return _change_status(
        need, PostingStatus.OPEN, _("%(title)s is open again.", title=need.title)
    )


@bp.route("/needs/<int:need_id>/close", methods=["GET", "POST"])
@cached_page
def need_close(need_id: int) -> Response | str:
    need = _owned(Need, need_id)
    if need.status == PostingStatus.CLOSED:
        flash(_("This need is already closed."), "info")
        return redirect(url_for("schools.need", need_id=need.id))
    form = ConfirmForm()
    if form.validate_on_submit():
        return _change_status(
            need, PostingStatus.CLOSED, _("%(title)s is closed.", title=need.title)
        )
    return render_template("schools/need_close.html", form=form, need=need)


@bp.route("/needs/<int:need_id>/copy", methods=["POST"])
def need_copy(need_id: int) -> Response:
    need = _owned(Need, need_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    db = get_session()
    copy = services.copy_need(db, need=need, actor=signed_in_user())
    db.commit()
    flash(
        _("This is a copy of %(title)s. Check the dates and save.", title=need.title),
        "success",
    )
    return redirect(url_for("schools.need_edit", need_id=copy.id))


# --- search -----------------------------------------------------------------


@bp.route("/search")
@cached_page
def search() -> Response | str:
    db = get_session()
    school = _school_or_none()
    origin = services.school_position(school)
    form = forms.SearchForm(formdata=request.args)
    page = None
    if form.validate():
        if form.km.data is not None and origin is None:
            form.km.errors = [
                _("Your school has no position: pick a locality instead.")
            ]
        else:
            criteria = form.to_search(origin)
            fmt = requested_format()
            if fmt is not None:
                hits = services.all_placement_hits(db, search=criteria)
                return columns_response(
                    exports.PLACEMENT_HITS,
                    hits,
                    fmt=fmt,
                    filename=f"{_('placements')}-{date.today().isoformat()}",
                )
            page = services.search_placements(
                db,
                search=criteria,
                page=page_number(request.args.get("page")),
                per_page=SEARCH_PAGE_SIZE,
            )
    return render_template(
        "schools/search.html",
        form=form,
        page=page,
        school=school,
        export_args=_export_args(),
    )
