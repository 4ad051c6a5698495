"""The business office's pages: users, organisations, approvals, audit log."""

from datetime import date

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
from flask_babel import force_locale
from werkzeug.wrappers import Response

from moraspar.admin import forms, services
from moraspar.auth.current import signed_in_user
from moraspar.auth.services import EmailTaken, Tokens
from moraspar.bookings import reminders, requests
from moraspar.council import services as council_services
from moraspar.db import get_session
from moraspar.formkit.choices import as_choices
from moraspar.formkit.confirm import ConfirmForm
from moraspar.formkit.ids import NOT_AN_OPTION
from moraspar.i18n import gettext as _
from moraspar.i18n import ngettext
from moraspar.imports import messages as import_messages
from moraspar.imports import services as imports
from moraspar.models import Council, Organisation, OrgKind, User
from moraspar.notifications import mail
from moraspar.organisations import OrgNumberTaken
from moraspar.reference.labels import org_kind_label
from moraspar.web.export import export_response
from moraspar.web.links import external_url
from moraspar.web.pagecache import cached_page
from moraspar.web.pagination import page_number, paginate

bp = Blueprint("admin", __name__)


@bp.route("/")
@cached_page
def home() -> str:
    overview = services.overview(get_session())
    return render_template(
        "admin/home.html",
        pending=overview.pending,
        counts=overview.counts,
        users=overview.users,
        recent=overview.recent,
    )


@bp.route("/users")
@cached_page
def users() -> str:
    search = request.args.get("q", "")[:100]
    role = request.args.get("role", "")
    if role not in ("", *dict(forms.ROLE_CHOICES)):
        role = ""
    page = paginate(
        get_session(),
        services.user_query(search=search, role=role),
        page=page_number(request.args.get("page")),
        per_page=current_app.config["PAGE_SIZE"],
    )
    return render_template(
        "admin/users.html",
        page=page,
        search=search,
        role=role,
        roles=forms.ROLE_CHOICES,
        confirm_form=ConfirmForm(),
    )


@bp.route("/users/invite", methods=["GET", "POST"])
@cached_page
def invite() -> Response | str:
    db = get_session()
    form = forms.InviteForm()
    organisations = services.organisations_for_select(db)
    # each kind's label looked up once: a region has hundreds of organisations
    kinds = {kind: org_kind_label(kind) for kind in {o.kind for o in organisations}}
    form.organisation_id.choices = as_choices(
        [
            ("", _("Choose an organisation")),
            *((o.id, f"{o.name} ({kinds[o.kind]})") for o in organisations),
        ]
    )
    if form.validate_on_submit():
        organisation = db.get(Organisation, form.organisation_id.data)
        if organisation is None:
            abort(400)
        try:
            user = services.invite_user(
                db,
                email=form.email.data or "",
                display_name=form.display_name.data or "",
                role=form.role.data or "",
                organisation=organisation,
                language=form.language.data or "sv",
                actor=signed_in_user(),
            )
        except EmailTaken:
            form.email.errors.append(_("An account with this email already exists."))
        except services.RoleDoesNotFitOrganisation:
            form.organisation_id.errors.append(
                _("This role cannot belong to that kind of organisation.")
            )
        else:
            link = external_url(
                "auth.accept_invite",
                token=Tokens(current_app.config["SECRET_KEY"]).make("invite", user),
            )
            # In the invited user's language, not the admin's.
            with force_locale(user.language):
                mail.enqueue(
                    db,
                    to=user.email,
                    subject=_("You are invited to Moraspår"),
                    body=render_template(
                        "email/invite.txt",
                        user=user,
                        organisation=organisation,
                        link=link,
                    ),
                )
            db.commit()
            flash(
                _("The invitation is sent to %(email)s.", email=user.email), "success"
            )
            return redirect(url_for("admin.users"))
    return render_template("admin/invite.html", form=form)


@bp.route("/users/<int:user_id>/active", methods=["GET", "POST"])
@cached_page
def user_active(user_id: int) -> Response | str:
    db = get_session()
    user = db.get(User, user_id)
    if user is None:
        abort(404)
    if user.anonymised_at is not None:
        flash(_("A deleted account cannot be reactivated."), "error")
        return redirect(url_for("admin.users"))
    form = ConfirmForm()
    activate = not user.active
    if form.validate_on_submit():
        try:
            services.set_user_active(
                db, user=user, active=activate, actor=signed_in_user()
            )
        except services.CannotDeactivateSelf:
            flash(_("You cannot deactivate your own account."), "error")
            return redirect(url_for("admin.users"))
        except services.AccountDeleted:
            flash(_("A deleted account cannot be reactivated."), "error")
            return redirect(url_for("admin.users"))
        db.commit()
        if activate:
            flash(_("%(name)s can sign in again.", name=user.display_name), "success")
        else:
            flash(
                _("%(name)s is deactivated and signed out.", name=user.display_name),
                "success",
            )
        return redirect(url_for("admin.users"))
    return render_template(
        "admin/confirm_active.html", form=form, user=user, activate=activate
    )


@bp.route("/users/<int:user_id>/two-factor", methods=["GET", "POST"])
def user_two_factor_off(user_id: int) -> Response | str:
    db = get_session()
    user = db.get(User, user_id)
    if user is None:
        abort(404)
    if not user.totp_secret:
        flash(
            _(
                "%(name)s does not use two-step sign-in: there is nothing to turn off.",
                name=user.display_name,
            ),
            "info",
        )
        return redirect(url_for("admin.users"))
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            services.turn_off_two_factor(db, user=user, actor=signed_in_user())
        except services.CannotTurnOffOwnTwoFactor:
            flash(
                _("Turn your own two-step sign-in off on your profile page."),
                "error",
            )
            return redirect(url_for("admin.users"))
        db.commit()
        flash(
            _(
                "Two-step sign-in is off for %(name)s, who is signed out and "
                "can now sign in with the password alone.",
                name=user.display_name,
            ),
            "success",
        )
        return redirect(url_for("admin.users"))
    return render_template("admin/confirm_two_factor_off.html", form=form, user=user)


@bp.route("/organisations")
@cached_page
def organisations() -> str:
    kind = request.args.get("kind", "")
    if kind not in ("", *OrgKind):
        kind = ""
    page = paginate(
        get_session(),
        services.organisation_query(kind=kind),
        page=page_number(request.args.get("page")),
        per_page=current_app.config["PAGE_SIZE"],
    )
    return render_template(
        "admin/organisations.html",
        page=page,
        kind=kind,
        kinds=forms.ORG_KIND_CHOICES,
        confirm_form=ConfirmForm(),
    )


@bp.route("/organisations/new", methods=["GET", "POST"])
@cached_page
def organisation_new() -> Response | str:
    form = forms.OrganisationForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            organisation = services.create_organisation(
                db, data=form.data_for_service(), actor=signed_in_user()
            )
        except OrgNumberTaken:
            form.org_number.errors.append(
                _("An organisation with this number is already registered.")
            )
        else:
            db.commit()
            flash(_("%(name)s is added.", name=organisation.name), "success")
            return redirect(url_for("admin.organisations"))
    return render_template("admin/organisation_new.html", form=form)


@bp.route("/organisations/<int:organisation_id>/approve", methods=["POST"])
def approve_company(organisation_id: int) -> Response:
    db = get_session()
    organisation = db.get(Organisation, organisation_id)
    if organisation is None or organisation.kind != OrgKind.COMPANY:
        abort(404)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    services.approve_company(db, organisation=organisation, actor=signed_in_user())
    db.commit()
    flash(
        _("%(name)s is approved and can now post.", name=organisation.name), "success"
    )
    return redirect(url_for("admin.organisations"))


@bp.route("/councils")
@cached_page
def councils() -> str:
    summaries = council_services.area_summaries(get_session())
    return render_template("admin/councils.html", summaries=summaries)


@bp.route("/councils/<int:council_id>", methods=["GET", "POST"])
@cached_page
def council_area(council_id: int) -> Response | str:
    db = get_session()
    council = db.get(Council, council_id)
    if council is None:
        abort(404)
    query = request.args.get("q", "")[:100]
    candidates = council_services.area_candidates(db)
    form = forms.CouncilAreaForm(
        known={o.id for o in candidates if o.id is not None},
        data={"takes_new_organisations": council.takes_new_organisations},
    )
    if form.validate_on_submit():
        try:
            change = council_services.save_area(
                db,
                council=council,
                data=form.data_for_service(),
                actor=signed_in_user(),
            )
        except council_services.UnknownOrganisation:
            form.organisations.errors = [*form.organisations.errors, NOT_AN_OPTION]
        else:
            db.commit()
            flash(_area_message(council, change), "success")
            return redirect(
                url_for("admin.council_area", council_id=council.id, q=query or None)
            )
    members = council_services.area_ids(db, council=council)
    shown = council_services.matching_name(candidates, query)
    groups = [
        (kind, [(o, o.id in members) for o in shown if o.kind == kind])
        for kind in (OrgKind.SCHOOL, OrgKind.COMPANY)
    ]
    return render_template(
        "admin/council_area.html",
        council=council,
        form=form,
        groups=groups,
        query=query,
        total=len(candidates),
        shown_count=len(shown),
        in_area=len(members),
    )


def _area_message(council: Council, change: council_services.AreaChange) -> str:
    if not change.changed:
        return _("Nothing changed in the area of %(name)s.", name=council.name)
    parts = [
        ngettext(
            "%(num)d organisation added",
            "%(num)d organisations added",
            len(change.added),
        ),
        ngettext(
            "%(num)d organisation removed",
            "%(num)d organisations removed",
            len(change.removed),
        ),
    ]
    message = _(
        "The area of %(name)s is saved: %(changes)s.",
        name=council.name,
        changes=", ".join(parts),
    )
    if change.flag_changed:
        message += " " + (
            _("New schools and companies will join it.")
            if council.takes_new_organisations
            else _("New schools and companies will no longer join it.")
        )
    return message


@bp.route("/unanswered")
@cached_page
def unanswered() -> str:
    page = reminders.unanswered(
        get_session(),
        today=date.today(),
        workdays=int(current_app.config["REMINDER_UNANSWERED_WORKDAYS"]),
        page=page_number(request.args.get("page")),
        per_page=current_app.config["PAGE_SIZE"],
    )
    return render_template(
        "admin/unanswered.html",
        page=page,
        workdays=current_app.config["REMINDER_UNANSWERED_WORKDAYS"],
    )


@bp.route("/routing", methods=["GET", "POST"])
@cached_page
def routing() -> Response | str:
    """Per kind: whether teachers' requests go through the council first."""
    db = get_session()
    form = forms.RoutingForm()
    if form.validate_on_submit():
        changed = requests.set_routes(
            db, choices=form.to_choices(), actor=signed_in_user()
        )
        db.commit()
        if changed:
            flash(_("Where requests go is saved."), "success")
        else:
            flash(_("Nothing was changed."), "info")
        return redirect(url_for("admin.routing"))
    if request.method == "GET":
        form.fill(requests.routes(db))
    return render_template("admin/routing.html", form=form)


@bp.route("/audit")
@cached_page
def audit() -> str:
    entity = request.args.get("entity", "")[:40]
    page = paginate(
        get_session(),
        services.audit_query(entity=entity),
        page=page_number(request.args.get("page")),
        per_page=50,
    )
    return render_template("admin/audit.html", page=page, entity=entity)


# Most problems the import report lists at once; the rest are counted.
IMPORT_REPORT_LIMIT = 200


@bp.route("/import", methods=["GET", "POST"])
@cached_page
def import_csv() -> Response | str:
    form = forms.ImportForm()
    errors: list[imports.RowError] = []
    if form.validate_on_submit():
        upload = form.file.data
        parsed = imports.parse_file(upload.read())
        db = get_session()
        try:
            summary = imports.apply_import(
                db,
                parsed=parsed,
                actor=signed_in_user(),
                filename=upload.filename or "",
            )
        except imports.ImportRejected as rejected:
            db.rollback()
            errors = rejected.errors
        else:
            db.commit()
            flash(
                _(
                    "Import done. Companies added: %(created)s, updated: "
                    "%(updated)s, unchanged: %(unchanged)s. Placements added: "
                    "%(placements)s, already there: %(existing)s.",
                    created=summary.companies_created,
                    updated=summary.companies_updated,
                    unchanged=summary.companies_unchanged,
                    placements=summary.placements_created,
                    existing=summary.placements_existing,
                ),
                "success",
            )
            if parsed.ignored_columns:
                flash(
                    _(
                        "These columns were not recognised and were ignored: "
                        "%(columns)s.",
                        columns=", ".join(parsed.ignored_columns),
                    ),
                    "info",
                )
            if parsed.warnings:
                flash(import_messages.describe_warnings(parsed.warnings), "warning")
            return redirect(url_for("admin.import_csv"))
    report = [
        (error.row, error.column, import_messages.describe(error))
        for error in errors[:IMPORT_REPORT_LIMIT]
    ]
    return render_template(
        "admin/import.html",
        form=form,
        report=report,
        error_count=len(errors),
        max_rows=imports.MAX_ROWS,
    )


@bp.route("/import/template.csv")
def import_template() -> Response:
    return export_response(
        imports.TEMPLATE_HEADERS, [], fmt="csv", filename=_("import-template")
    )
