"""Every route × every role × anonymous, against the one access table."""

from typing import Any

import pytest
from flask import Flask
from werkzeug.routing import IntegerConverter

from moraspar.models import Role
from moraspar.web import access

ROLES: list[str | None] = [None, *[str(r) for r in Role]]


def _routes(app: Flask) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every rule; ids that exist nowhere."""
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        values = {arg: 999_999 for arg in rule.arguments}
        for name, converter in rule._converters.items():
            if not isinstance(converter, IntegerConverter):
                values[name] = "x" * 12
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **values)
        method = "GET" if "GET" in (rule.methods or ()) else "POST"
        routes.append((rule.endpoint, method, url))
    return sorted(routes)


def test_every_route_has_a_declared_rule(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(endpoints - set(access.RULES))
    assert not missing, f"routes without an access rule: {missing}"
    stale = sorted(set(access.RULES) - endpoints)
    assert not stale, f"access rules for routes that do not exist: {stale}"


def test_undeclared_route_is_refused(app: Flask, client: Any, auth: Any) -> None:
    app.add_url_rule("/undeclared", "undeclared", lambda: "secret")
    auth.login(Role.ADMIN)
    assert client.get("/undeclared").status_code == 403


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
def test_access_matrix(app: Flask, client: Any, auth: Any, role: str | None) -> None:
    if role is not None:
        auth.login(role)
    token = client.csrf_token()
    failures = []
    for endpoint, method, url in _routes(app):
        if endpoint in ("auth.logout",):
            continue  # would end the session the matrix runs in
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": token})
        allowed = access.allows(access.RULES[endpoint], role)
        to_login = response.status_code == 302 and "/login" in response.headers.get(
            "Location", ""
        )
        if allowed:
            public = access.RULES[endpoint] is access.Access.PUBLIC
            ok = response.status_code != 403 and response.status_code < 500
            ok = ok and (public or not to_login)
        elif role is None:
            ok = to_login
        else:
            ok = response.status_code == 403
        if not ok:
            failures.append((endpoint, method, url, response.status_code))
    assert not failures, f"{role or 'anonymous'}: {failures}"


# -- two councils: each member sees their own council's work only -------------


def _council_work(
    db: Any,
    name: str,
    *,
    make_school: Any,
    make_company: Any,
    make_need: Any,
    make_placement: Any,
    make_skill_gap: Any,
    make_user: Any,
) -> dict[str, Any]:
    """A council with a school and a company in its area, a proposal, a
    booking, a finished run, a meeting and a skill gap, and a member."""
    from datetime import date

    from moraspar.models import (
        Booking,
        Council,
        MatchProposal,
        MatchRun,
        Meeting,
        ProposalStatus,
        RunStatus,
    )

    council = Council(name=f"Rådet {name}")
    db.add(council)
    db.commit()
    area = [council]
    school = make_school(name=f"Skolan {name}", councils=area)
    company = make_company(name=f"Företaget {name}", councils=area)
    need = make_need(
        school, title=f"Behov {name}", start_date=None, end_date=None, students=4
    )
    placement = make_placement(company, title=f"Plats {name}", places=3)
    proposal = MatchProposal(
        need_id=need.id, placement_id=placement.id, score=0.8, students=1
    )
    booked_placement = make_placement(company, title=f"Bokad {name}", places=3)
    booked = MatchProposal(
        need_id=need.id,
        placement_id=booked_placement.id,
        score=0.7,
        students=1,
        status=ProposalStatus.BOOKED,
    )
    run = MatchRun(council_id=council.id, status=RunStatus.DONE, total=5, progress=5)
    meeting = Meeting(council_id=council.id, title=f"Möte {name}", held_on=date.today())
    db.add_all([proposal, booked, run, meeting])
    db.commit()
    booking = Booking(
        proposal_id=booked.id,
        need_id=need.id,
        placement_id=booked_placement.id,
        students=1,
        start_date=date(2027, 2, 1),
        end_date=date(2027, 5, 14),
    )
    db.add(booking)
    db.commit()
    make_skill_gap(company, title=f"Kompetensbehov {name}")
    return {
        "name": name,
        "member": make_user(Role.COUNCIL, councils=area),
        "ids": {
            "proposal": proposal.id,
            "run": run.id,
            "booking": booking.id,
            "meeting": meeting.id,
        },
    }


def _pages(ids: dict[str, int]) -> list[str]:
    return [
        f"/council/proposals/{ids['proposal']}",
        f"/council/runs/{ids['run']}",
        f"/council/runs/{ids['run']}/status",
        f"/bookings/{ids['booking']}.ics",
        f"/meetings/{ids['meeting']}",
    ]


LISTS = [
    "/council/board?status=all",
    "/council/allocation",
    "/council/runs",
    "/gaps/",
    "/bookings/?when=upcoming",
    "/meetings/",
]


@pytest.fixture
def two_councils(
    db: Any,
    make_school: Any,
    make_company: Any,
    make_need: Any,
    make_placement: Any,
    make_skill_gap: Any,
    make_user: Any,
) -> list[dict[str, Any]]:
    factories = {
        "make_school": make_school,
        "make_company": make_company,
        "make_need": make_need,
        "make_placement": make_placement,
        "make_skill_gap": make_skill_gap,
        "make_user": make_user,
    }
    return [_council_work(db, name, **factories) for name in ("Alfa", "Beta")]


@pytest.mark.parametrize("me", [0, 1], ids=["alfa-member", "beta-member"])
def test_council_members_see_only_their_own_councils_work(
    client: Any, auth: Any, db: Any, two_councils: list[dict[str, Any]], me: int
) -> None:
    mine, theirs = two_councils[me], two_councils[1 - me]
    auth.login(mine["member"])

    for url in _pages(mine["ids"]):
        assert client.get(url).status_code == 200, url
    for url in _pages(theirs["ids"]):
        assert client.get(url).status_code == 403, url
    for url in LISTS:
        page = client.get(url).get_data(as_text=True)
        assert theirs["name"] not in page, url
        assert f'/council/runs/{theirs["ids"]["run"]}"' not in page, url
    board = client.get("/council/board?status=all").get_data(as_text=True)
    assert f"Behov {mine['name']}" in board
    gaps = client.get("/gaps/").get_data(as_text=True)
    assert f"Kompetensbehov {mine['name']}" in gaps
    bookings = client.get("/bookings/?when=upcoming").get_data(as_text=True)
    assert f"Bokad {mine['name']}" in bookings


def test_a_member_cannot_decide_another_councils_proposals(
    client: Any, auth: Any, db: Any, two_councils: list[dict[str, Any]]
) -> None:
    from moraspar.models import MatchProposal, ProposalStatus

    alfa, beta = two_councils
    auth.login(alfa["member"])
    theirs = beta["ids"]["proposal"]

    single = client.post_form(
        f"/council/proposals/{theirs}/decide", {"action": "approve"}
    )
    bulk = client.post_form(
        "/council/proposals/bulk", {"proposal": [theirs], "bulk_action": "approve"}
    )
    reverse = client.post_form(
        f"/council/proposals/{theirs}/reverse", {"reason": "Fel"}
    )

    assert single.status_code == 403 and reverse.status_code == 403
    assert bulk.status_code == 302
    db.expire_all()
    proposal = db.get(MatchProposal, theirs)
    assert proposal is not None and proposal.status == ProposalStatus.PROPOSED


def test_admins_see_every_councils_work(
    client: Any, auth: Any, two_councils: list[dict[str, Any]]
) -> None:
    auth.login(Role.ADMIN)
    for work in two_councils:
        for url in _pages(work["ids"]):
            assert client.get(url).status_code == 200, url
    board = client.get("/council/board?status=all").get_data(as_text=True)
    assert "Behov Alfa" in board and "Behov Beta" in board
