"""Company contacts: their profile, placements, skill gaps, the needs browse,
and the company page that teachers see."""

from collections.abc import Sequence
from typing import Any

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
from flask_login import current_user
from werkzeug.wrappers import Response

from moraspar import lifecycle
from moraspar.auth.current import signed_in_user
from moraspar.bookings import requests
from moraspar.bookings.services import company_ratings, recent_school_comments
from moraspar.companies import exports, forms, services
from moraspar.db import get_session
from moraspar.formkit.confirm import ConfirmForm
from moraspar.i18n import gettext as _
from moraspar.i18n import ngettext
from moraspar.models import (
    Need,
    Organisation,
    OrgKind,
    Placement,
    PostingKind,
    PostingStatus,
    SkillGap,
)
from moraspar.organisations import (
    NotOwner,
    OrgNumberTaken,
    StaleEdit,
    check_owner,
    may_change,
)
from moraspar.organisations.forms import show_stale
from moraspar.reference.gazetteer import coordinates
from moraspar.reference.labels import (
    KIND_LABELS,
    STATUS_LABELS,
)
from moraspar.reference.vocabulary import industry_label
from moraspar.web.errors import render_error
from moraspar.web.export import columns_response, requested_format
from moraspar.web.pagecache import cached_page
from moraspar.web.pagination import Page, page_number, paginate

bp = Blueprint("companies", __name__)
# A posting or profile of another organisation: the same 403 page everywhere.
bp.register_error_handler(NotOwner, lambda _error: render_error(403))

EXPORT_LIMIT = 10_000


# -- helpers ---------------------------------------------------------------


def _own_company() -> Organisation:
    """The signed-in user's company; 404 for accounts without one."""
    if not current_user.organisation_id:
        abort(404)
    company = get_session().get(Organisation, current_user.organisation_id)
    if company is None or company.kind != OrgKind.COMPANY:
        abort(404)
    return company


def _owned(model: type[Placement] | type[SkillGap], posting_id: int) -> Any:
    """The posting and its company; 404 if unknown, 403 (NotOwner) if not the
    user's."""
    db = get_session()
    posting: Any = db.get(model, posting_id)
    if posting is None:
        abort(404)
    check_owner(signed_in_user(), posting.company_id)
    company = db.get(Organisation, posting.company_id)
    if company is None:
        abort(404)
    return posting, company


PERIOD_ERRORS = (
    services.EndDateRequired,
    services.StartDateRequired,
    services.EndBeforeStart,
    services.PeriodInPast,
    services.PeriodTooShort,
)


def _period_error(form: forms.PlacementForm, error: services.CompanyError) -> None:
    """Show a period rule the service refused beside its date field."""
    if isinstance(error, services.PeriodTooShort):
        message = ngettext(
            "This kind of placement lasts at least %(num)d weekday.",
            "This kind of placement lasts at least %(num)d weekdays.",
            error.minimum,
        )
    else:
        message = {
            services.EndDateRequired: _("Enter an end date."),
            services.StartDateRequired: _("Enter a start date."),
            services.EndBeforeStart: _(
                "The end date must not be before the start date."
            ),
            services.PeriodInPast: _("The period must not start or end in the past."),
        }[type(error)]
    target = form.end_date if error.field == "end_date" else form.start_date
    target.errors = [*target.errors, message]


def _not_approved(company: Organisation) -> tuple[str, int]:
    return render_template("companies/not_approved.html", company=company), 403


def _choice(value: str | None, allowed: Any) -> str:
    return value if value in {str(v) for v in allowed} else ""


def _all_rows(query: Any) -> Sequence[Any]:
    return get_session().exec(query.limit(EXPORT_LIMIT)).all()


def _page(query: Any) -> Page[Any]:
    return paginate(
        get_session(),
        query,
        page=page_number(request.args.get("page")),
        per_page=current_app.config["PAGE_SIZE"],
    )


def _confirm_close(
    posting: Placement | SkillGap,
    company: Organisation,
    *,
    kind: str,
    listing: str,
    already_closed: str,
    closed: str,
) -> Response | str:
    """Closing is final, so GET asks first and POST closes; both end on the
    listing endpoint."""
    form = ConfirmForm()
    if posting.status == PostingStatus.CLOSED:
        flash(already_closed, "error")
        return redirect(url_for(listing))
    if form.validate_on_submit():
        db = get_session()
        services.set_status(
            db,
            posting=posting,
            company=company,
            status=PostingStatus.CLOSED,
            actor=signed_in_user(),
        )
        db.commit()
        flash(closed, "success")
        return redirect(url_for(listing))
    return render_template(
        "companies/confirm_close.html",
        form=form,
        title=posting.title,
        kind=kind,
        cancel=url_for(listing),
    )


# -- dashboard and profile -------------------------------------------------


@bp.route("/")
@cached_page
def home() -> str:
    db = get_session()
    company = _own_company()
    assert company.id is not None
    placements = db.exec(services.placement_query(company_id=company.id).limit(5)).all()
    gaps = db.exec(services.skill_gap_query(company_id=company.id).limit(5)).all()
    return render_template(
        "companies/home.html",
        company=company,
        summary=services.summary(db, company_id=company.id),
        placements=placements,
        gaps=gaps,
        industry=industry_label(company.sni_code),
    )


@bp.route("/profile", methods=["GET", "POST"])
@cached_page
def profile() -> Response | str:
    db = get_session()
    company = _own_company()
    form = forms.ProfileForm(obj=company)
    if request.method == "GET":
        exact = services.exact_position(company)
        form.lat.data, form.lon.data = exact if exact else (None, None)
        if company.locality not in {c.value for c in form.locality.choices}:
            form.locality.data = "Mora"
    if form.validate_on_submit():
        try:
            services.update_profile(
                db,
                company=company,
                data=form.data_for_service(),
                actor=signed_in_user(),
            )
        except OrgNumberTaken:
            form.org_number.errors.append(
                _("Another organisation already has this organisation number.")
            )
        except StaleEdit as stale:
            show_stale(form, stale, version=form.version)
        else:
            db.commit()
            flash(_("The company profile is saved."), "success")
            return redirect(url_for("companies.home"))
    return render_template("companies/profile.html", form=form, company=company)


# -- placements ------------------------------------------------------------


def _placement_form_defaults(form: forms.PlacementForm, company: Organisation) -> None:
    if request.method == "GET" and company.locality in {
        c.value for c in form.locality.choices
    }:
        form.locality.data = company.locality


@bp.route("/placements")
@cached_page
def placements() -> Response | str:
    company = _own_company()
    assert company.id is not None
    status = _choice(request.args.get("status"), PostingStatus)
    kind = _choice(request.args.get("kind"), PostingKind)
    q = request.args.get("q", "")[:200]
    query = services.placement_query(
        company_id=company.id, status=status, kind=kind, q=q
    )
    fmt = requested_format()
    if fmt:
        return columns_response(
            exports.PLACEMENTS, _all_rows(query), fmt=fmt, filename=_("placements")
        )
    return render_template(
        "companies/placements.html",
        company=company,
        page=_page(query),
        status=status,
        kind=kind,
        q=q,
        statuses=STATUS_LABELS,
        kinds=KIND_LABELS,
    )


@bp.route("/placements/new", methods=["GET", "POST"])
@cached_page
def placement_new() -> Response | str | tuple[str, int]:
    db = get_session()
    company = _own_company()
    if not company.approved:
        return _not_approved(company)
    form = forms.PlacementForm()
    _placement_form_defaults(form, company)
    if form.validate_on_submit():
        try:
            placement = services.create_placement(
                db,
                company=company,
                data=form.data_for_service(),
                actor=signed_in_user(),
                min_weekdays=current_app.config["MIN_PLACEMENT_WEEKDAYS"],
            )
        except services.NotApproved:
            return _not_approved(company)
        except PERIOD_ERRORS as error:
            _period_error(form, error)
        else:
            db.commit()
            flash(
                _("The placement “%(title)s” is posted.", title=placement.title),
                "success",
            )
            return redirect(url_for("companies.placements"))
    return render_template(
        "companies/placement_form.html", form=form, company=company, placement=None
    )


@bp.route("/placements/<int:placement_id>/edit", methods=["GET", "POST"])
@cached_page
def placement_edit(placement_id: int) -> Response | str:
    db = get_session()
    placement, company = _owned(Placement, placement_id)
    form = forms.PlacementForm(obj=placement)
    if form.validate_on_submit():
        try:
            services.update_placement(
                db,
                placement=placement,
                company=company,
                data=form.data_for_service(),
                actor=signed_in_user(),
                min_weekdays=current_app.config["MIN_PLACEMENT_WEEKDAYS"],
            )
        except PERIOD_ERRORS as error:
            _period_error(form, error)
        except services.PlacesBelowBooked as exc:
            form.places.errors.append(
                _(
                    "%(booked)d places are already booked: offer at least that many.",
                    booked=exc.booked,
                )
            )
        except StaleEdit as stale:
            show_stale(form, stale, version=form.version)
        else:
            db.commit()
            flash(_("The placement is saved."), "success")
            return redirect(url_for("companies.placements"))
    return render_template(
        "companies/placement_form.html",
        form=form,
        company=company,
        placement=placement,
    )


@bp.route("/placements/<int:placement_id>/status", methods=["POST"])
def placement_status(placement_id: int) -> Response | tuple[str, int]:
    """Pause or resume (closing has its own confirmation page)."""
    db = get_session()
    placement, company = _owned(Placement, placement_id)
    form = ConfirmForm()
    status = request.form.get("status", "")
    if not form.validate_on_submit() or status not in (
        PostingStatus.OPEN,
        PostingStatus.PAUSED,
    ):
        abort(400)
    try:
        services.set_status(
            db,
            posting=placement,
            company=company,
            status=status,
            actor=signed_in_user(),
        )
    except services.NotApproved:
        return _not_approved(company)
    except lifecycle.InvalidTransition:
        flash(_("A closed placement cannot be changed: copy it instead."), "error")
        return redirect(url_for("companies.placements"))
    db.commit()
    if status == PostingStatus.PAUSED:
        flash(_("The placement is paused: schools do not see it."), "success")
    else:
        flash(_("The placement is open again."), "success")
    return redirect(url_for("companies.placements"))


@bp.route("/placements/<int:placement_id>/close", methods=["GET", "POST"])
@cached_page
def placement_close(placement_id: int) -> Response | str:
    placement, company = _owned(Placement, placement_id)
    return _confirm_close(
        placement,
        company,
        kind="placement",
        listing="companies.placements",
        already_closed=_("The placement is already closed."),
        closed=_("The placement “%(title)s” is closed.", title=placement.title),
    )


@bp.route("/placements/<int:placement_id>/copy", methods=["POST"])
def placement_copy(placement_id: int) -> Response | tuple[str, int]:
    db = get_session()
    placement, company = _owned(Placement, placement_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        copy = services.copy_placement(
            db, placement=placement, company=company, actor=signed_in_user()
        )
    except services.NotApproved:
        return _not_approved(company)
    db.commit()
    flash(_("A copy is posted: check its dates and details."), "success")
    return redirect(url_for("companies.placement_edit", placement_id=copy.id))


# -- skill gaps ------------------------------------------------------------


@bp.route("/skill-gaps")
@cached_page
def skill_gaps() -> Response | str:
    company = _own_company()
    assert company.id is not None
    status = _choice(request.args.get("status"), PostingStatus)
    query = services.skill_gap_query(company_id=company.id, status=status)
    fmt = requested_format()
    if fmt:
        return columns_response(
            exports.SKILL_GAPS, _all_rows(query), fmt=fmt, filename=_("skill-gaps")
        )
    return render_template(
        "companies/skill_gaps.html",
        company=company,
        page=_page(query),
        status=status,
        statuses=STATUS_LABELS,
    )


@bp.route("/skill-gaps/new", methods=["GET", "POST"])
@cached_page
def skill_gap_new() -> Response | str | tuple[str, int]:
    db = get_session()
    company = _own_company()
    if not company.approved:
        return _not_approved(company)
    form = forms.SkillGapForm()
    if form.validate_on_submit():
        try:
            gap = services.create_skill_gap(
                db,
                company=company,
                data=form.data_for_service(),
                actor=signed_in_user(),
            )
        except services.NotApproved:
            return _not_approved(company)
        except services.UnknownOccupation:
            form.ssyk_code.errors = [*form.ssyk_code.errors, str(forms.UNKNOWN_SSYK)]
        else:
            db.commit()
            flash(_("The skill gap “%(title)s” is posted.", title=gap.title), "success")
            return redirect(url_for("companies.skill_gaps"))
    return render_template(
        "companies/skill_gap_form.html", form=form, company=company, gap=None
    )


@bp.route("/skill-gaps/<int:gap_id>/edit", methods=["GET", "POST"])
@cached_page
def skill_gap_edit(gap_id: int) -> Response | str:
    db = get_session()
    gap, company = _owned(SkillGap, gap_id)
    form = forms.SkillGapForm(obj=gap)
    if form.validate_on_submit():
        try:
            services.update_skill_gap(
                db,
                gap=gap,
                company=company,
                data=form.data_for_service(),
                actor=signed_in_user(),
            )
        except services.UnknownOccupation:
            form.ssyk_code.errors = [*form.ssyk_code.errors, str(forms.UNKNOWN_SSYK)]
        except StaleEdit as stale:
            show_stale(form, stale, version=form.version)
        else:
            db.commit()
            flash(_("The skill gap is saved."), "success")
            return redirect(url_for("companies.skill_gaps"))
    return render_template(
        "companies/skill_gap_form.html", form=form, company=company, gap=gap
    )


@bp.route("/skill-gaps/<int:gap_id>/close", methods=["GET", "POST"])
@cached_page
def skill_gap_close(gap_id: int) -> Response | str:
    gap, company = _owned(SkillGap, gap_id)
    return _confirm_close(
        gap,
        company,
        kind="skill_gap",
        listing="companies.skill_gaps",
        already_closed=_("The skill gap is already closed."),
        closed=_("The skill gap “%(title)s” is closed.", title=gap.title),
    )


# -- browsing schools' needs and programmes ----------------------------------


def _origin(company: Organisation) -> tuple[float, float] | None:
    if company.lat is not None and company.lon is not None:
        return (company.lat, company.lon)
    return coordinates(company.locality)


@bp.route("/needs")
@cached_page
def needs() -> Response | str:
    db = get_session()
    company = _own_company()
    origin = _origin(company)
    form = forms.NeedSearchForm(formdata=request.args)
    form.validate()

    def valid(field: Any) -> Any:
        return None if field.errors else field.data

    max_km = valid(form.km)
    if max_km is not None and origin is None:
        form.km.errors.append(
            _("Choose your locality in the company profile to search by distance.")
        )
        max_km = None
    what = valid(form.what) or "needs"
    fmt = requested_format()
    common = {
        "company": company,
        "form": form,
        "what": what,
        "has_filters": any(
            request.args.get(name) for name in ("q", "kind", "level", "locality", "km")
        )
        or bool(request.args.get("start") or request.args.get("end")),
    }
    if what == "programmes":
        hits = services.search_programmes(
            db,
            q=valid(form.q) or "",
            level=valid(form.level) or "",
            locality=valid(form.locality) or "",
            max_km=max_km,
            origin=origin,
        )
        if fmt:
            return columns_response(
                exports.PROGRAMMES,
                hits[:EXPORT_LIMIT],
                fmt=fmt,
                filename=_("programmes"),
            )
        number = page_number(request.args.get("page"))
        size = current_app.config["PAGE_SIZE"]
        hits_page = Page(
            items=hits[(number - 1) * size : number * size],
            page=number,
            per_page=size,
            total=len(hits),
        )
        return render_template("companies/needs.html", page=hits_page, **common)
    filters = services.NeedFilters(
        q=valid(form.q) or "",
        kind=valid(form.kind) or "",
        locality=valid(form.locality) or "",
        max_km=max_km,
        origin=origin,
        start=valid(form.start),
        end=valid(form.end),
    )
    query = services.needs_query(filters)
    if fmt:
        return columns_response(
            exports.need_columns(origin),
            _all_rows(query),
            fmt=fmt,
            filename=_("needs"),
        )
    page = _page(query)
    distances = {
        need.id: services.need_distance(need, origin) for need, _s, _p in page.items
    }
    return render_template(
        "companies/needs.html",
        page=page,
        distances=distances,
        offer_kinds=requests.need_kinds_offerable(db, company_id=company.id),
        **common,
    )


def _offer_error(error: requests.RequestError) -> str:
    if isinstance(error, requests.KindMismatch):
        return _("The placement is of another kind than the need.")
    if isinstance(error, (requests.NeedNotOpen, requests.PlacementNotOpen)):
        return _("The need or the placement is no longer open.")
    if isinstance(error, requests.NoFreePlaces):
        return _("The placement has not that many free places.")
    if isinstance(error, requests.TooManyStudents):
        return _("More students than the need has left without a place.")
    if isinstance(error, requests.PeriodsApart):
        return _("The periods of the need and the placement do not overlap.")
    if isinstance(error, requests.AlreadyAsked):
        return _(
            "This placement is already offered, requested or proposed for this need."
        )
    return _("This placement is not your company's.")


@bp.route("/needs/<int:need_id>/offer", methods=["GET", "POST"])
@cached_page
def offer(need_id: int) -> Response | str:
    """Offer places on one of the company's placements for a school's need."""
    db = get_session()
    company = _own_company()
    need = db.get(Need, need_id)
    if need is None or need.status != PostingStatus.OPEN:
        abort(404)
    school = db.get(Organisation, need.school_id)
    placements = requests.offerable_placements(
        db, company_id=company.id, kind=need.kind
    )
    form = forms.OfferForm()
    form.set_placements(
        [
            (
                p.id,
                ngettext(
                    "%(title)s (%(num)d free place)",
                    "%(title)s (%(num)d free places)",
                    requests.free_places(p),
                    title=p.title,
                ),
            )
            for p in placements
            if p.id is not None
        ]
    )
    if form.validate_on_submit():
        try:
            requests.make_offer(
                db, need_id=need_id, user=signed_in_user(), data=form.to_data()
            )
        except requests.RequestError as error:
            db.rollback()
            form.placement.errors = [_offer_error(error)]
        else:
            db.commit()
            flash(
                _("Your offer is sent. The school accepts or declines it."), "success"
            )
            return redirect(url_for("bookings.index"))
    return render_template(
        "companies/offer.html",
        need=need,
        school=school,
        form=form,
        placements=placements,
        uncovered=requests.uncovered_students(db, need=need),
    )


# -- the company page ------------------------------------------------------


@bp.route("/<int:company_id>")
@cached_page
def show(company_id: int) -> str:
    db = get_session()
    company = db.get(Organisation, company_id)
    if company is None or not services.may_view_company(current_user, company):
        abort(404)
    assert company.id is not None
    return render_template(
        "companies/show.html",
        company=company,
        industry=industry_label(company.sni_code),
        placements=services.open_placements(db, company_id=company.id),
        gaps=services.open_skill_gaps(db, company_id=company.id),
        may_change=may_change(current_user, company.id),
        ratings=company_ratings(db, company.id),
        comments=recent_school_comments(db, company.id),
    )
