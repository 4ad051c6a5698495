"""Another organisation's ids, in URLs and in form fields, give 403 or 404.

Generic over the url_map: every route with an <int:...> argument is tried by a
user of the right role from another organisation, with GET and POST (the POST
carries a complete, valid form taken from the user's own record), and the
owner's record must come out unchanged. A new route with an id argument fails
test_every_id_route_is_covered until its argument gets a factory below, or the
route is listed as meant to be shared.
"""

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, url_for
from sqlmodel import Session, SQLModel, func, select

from moraspar.models import Organisation, OrgKind, Role
from moraspar.web import access
from tests.conftest import PASSWORD
from tests.moraspar.security.owned import ID_FACTORIES
from tests.moraspar.security.pages import (
    form_fields,
    int_args,
    role_for,
    route_app,
    rules,
)

# Routes meant to be opened across organisations, and why.
SHARED = {
    "companies.show": "a company's public profile, for every staff member",
    "schools.placement": "an open placement, for every school to ask for places",
    "schools.placement_request": (
        "a request for a company's placement; the service checks that the "
        "need is the teacher's school's (test_requests, test_request_pages)"
    ),
    "companies.offer": (
        "an offer for a school's need; the service checks that the placement "
        "is the company's (test_requests, test_request_pages)"
    ),
}
# Rules whose users act across organisations by design.
GLOBAL_RULES = {
    access.ADMIN: "admins administer every organisation",
    access.COUNCIL: "the council reviews the whole municipality",
}


def _id_routes(app: Flask) -> list[tuple[str, str, list[str]]]:
    found = []
    for rule in rules(app):
        names = int_args(rule)
        if names:
            found.append((rule.endpoint, rule.rule, names))
    return found


def _collect() -> list[str]:
    app = route_app()
    return sorted(
        {
            endpoint
            for endpoint, _rule, names in _id_routes(app)
            if endpoint not in SHARED
            and access.RULES.get(endpoint) not in GLOBAL_RULES
            and all(name in ID_FACTORIES for name in names)
        }
    )


def test_every_id_route_is_covered(app: Flask) -> None:
    uncovered = [
        f"{endpoint} {rule} ({', '.join(names)})"
        for endpoint, rule, names in _id_routes(app)
        if endpoint not in SHARED
        and access.RULES.get(endpoint) not in GLOBAL_RULES
        and not all(name in ID_FACTORIES for name in names)
    ]
    assert not uncovered, (
        "routes with ids that the IDOR test cannot try yet: add a factory to "
        f"ID_FACTORIES or list them in SHARED with a reason: {uncovered}"
    )


def _snapshot(db: Session, record: Any) -> dict[str, Any]:
    db.expire_all()
    fresh = db.get(type(record), record.id)
    assert fresh is not None, f"{type(record).__name__} {record.id} was deleted"
    values = fresh.model_dump()
    db.rollback()  # end the read: in-memory SQLite shares one connection
    return values


def _count(db: Session, model: type[SQLModel]) -> int:
    value = int(db.exec(select(func.count()).select_from(model)).one())
    db.rollback()
    return value


@pytest.mark.parametrize("endpoint", _collect())
def test_other_organisations_ids_in_urls(
    request: Any,
    app: Flask,
    client: Any,
    db: Session,
    make_organisation: Any,
    make_user: Any,
    endpoint: str,
) -> None:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    owned = [ID_FACTORIES[name] for name in int_args(rule)]
    role = role_for(endpoint)
    kind = owned[0].kind
    org_a, org_b = make_organisation(kind), make_organisation(kind)
    pairs = list(zip(int_args(rule), owned, strict=True))
    theirs = {n: o.make(request, org_a) for n, o in pairs}
    mine = {n: o.make(request, org_b) for n, o in pairs}
    user = make_user(role or owned[0].role, organisation=org_b)
    client.post_form("/login", {"email": user.email, "password": PASSWORD})
    with app.test_request_context():
        their_url = url_for(endpoint, **{n: r.id for n, r in theirs.items()})
        my_url = url_for(endpoint, **{n: r.id for n, r in mine.items()})

    payload: dict[str, str] = {"status": "paused"}
    if "GET" in (rule.methods or ()):
        # The owner gets through: so a 403 below is about ownership, not setup.
        own = client.get(my_url)
        assert own.status_code < 400, f"{endpoint}: own record gives {own.status_code}"
        if own.mimetype == "text/html":
            payload.update(form_fields(own.get_data(as_text=True))[0])
        payload.setdefault("title", "Taken over")

    before = {n: _snapshot(db, r) for n, r in theirs.items()}
    counts = {n: _count(db, type(r)) for n, r in theirs.items()}
    secret_title = next(
        (str(r.title) for r in theirs.values() if getattr(r, "title", None)), None
    )

    if "GET" in (rule.methods or ()):
        response = client.get(their_url)
        assert response.status_code in (403, 404), f"GET {their_url}"
        if secret_title:
            assert secret_title not in response.get_data(as_text=True)
    if "POST" in (rule.methods or ()):
        response = client.post_form(their_url, payload)
        assert response.status_code in (403, 404), f"POST {their_url}"

    for name, record in theirs.items():
        assert _snapshot(db, record) == before[name], f"{endpoint} changed {name}"
        assert _count(db, type(record)) == counts[name], f"{endpoint} made a copy"


# --- ids in form fields ------------------------------------------------------------


def _owner_columns(table: sa.Table) -> list[str]:
    return [c for c in ("school_id", "company_id", "organisation_id") if c in table.c]


def _form_routes(app: Flask) -> list[str]:
    found = []
    for rule in rules(app):
        methods = rule.methods or set()
        if not {"GET", "POST"} <= methods or rule.arguments:
            continue
        if access.RULES.get(rule.endpoint) in GLOBAL_RULES:
            continue
        if access.RULES.get(rule.endpoint) is access.Access.PUBLIC:
            continue
        found.append(rule.endpoint)
    return found


def test_other_organisations_ids_in_form_fields(
    request: Any,
    app: Flask,
    db: Session,
    make_organisation: Any,
    make_user: Any,
) -> None:
    """A form field naming a record (programme_id, ...) refuses another
    organisation's record: whatever the form does, nothing of ours points at it."""
    tried = []
    for endpoint in _form_routes(app):
        role = role_for(endpoint) or Role.TEACHER
        kind = OrgKind.SCHOOL if role == Role.TEACHER else OrgKind.COMPANY
        org_a, org_b = make_organisation(kind), make_organisation(kind)
        user = make_user(role, organisation=org_b)
        client = app.test_client()
        client.post_form("/login", {"email": user.email, "password": PASSWORD})
        with app.test_request_context():
            url = url_for(endpoint)
        fields = form_fields(client.get(url).get_data(as_text=True))[0]
        for name in [n for n in fields if n in ID_FACTORIES]:
            tried.append(f"{endpoint}:{name}")
            owned = ID_FACTORIES[name]
            theirs = owned.make(request, org_a)
            owned.make(request, org_b)  # so the form has a choice of our own
            payload = {**fields, name: str(theirs.id), "title": "Pointing elsewhere"}
            response = client.post_form(url, payload)
            assert response.status_code < 500, endpoint
            _assert_nothing_points_at(db, name, theirs.id, org_b, endpoint)
    assert "schools.need_new:programme_id" in tried


def _assert_nothing_points_at(
    db: Session, name: str, their_id: int, ours: Organisation, endpoint: str
) -> None:
    db.expire_all()
    for table in SQLModel.metadata.sorted_tables:
        if name not in table.c:
            continue
        for owner in _owner_columns(table):
            query = (
                sa.select(sa.func.count())
                .select_from(table)
                .where(table.c[name] == their_id)
                .where(table.c[owner] == ours.id)
            )
            count = db.execute(query).scalar_one()
            db.rollback()
            assert count == 0, (
                f"{endpoint}: {table.name}.{name} of {ours.name} points at "
                "another organisation's record"
            )


def test_a_need_cannot_name_another_schools_programme(
    client: Any,
    db: Session,
    make_school: Any,
    make_user: Any,
    make_programme: Any,
    make_need: Any,
) -> None:
    """The hand-written case behind the generic test, with a valid form."""
    school_a, school_b = make_school(), make_school()
    theirs = make_programme(school_a)
    need = make_need(school_b)
    user = make_user(Role.TEACHER, organisation=school_b)
    client.post_form("/login", {"email": user.email, "password": PASSWORD})
    page = client.get(f"/school/needs/{need.id}/edit").get_data(as_text=True)
    fields = form_fields(page)[0]
    fields["programme_id"] = str(theirs.id)
    response = client.post_form(f"/school/needs/{need.id}/edit", fields)
    assert response.status_code in (200, 403, 404)
    db.expire_all()
    from moraspar.models import Need

    stored = db.get(Need, need.id)
    assert stored is not None
    assert stored.programme_id != theirs.id
