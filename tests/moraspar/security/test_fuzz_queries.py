"""Every GET route, as every role, with hostile query strings: never a 500.

Routes come from the url_map; their id arguments point at records of one small
world (a school, a company, the council and a meeting), so views get past
"not found" to the code that reads the query string. Each example sends every
route a query string of its own: one odd value (NUL, a number past any integer
column, a broken date, odd Unicode...) under every argument name the views
read, then random pairs, repeated keys and broken percent-escapes.
"""

from datetime import date
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask, url_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from moraspar.models import (
    Council,
    CouncilMember,
    Meeting,
    MeetingItem,
    OrgKind,
    Role,
    User,
)
from tests.conftest import PASSWORD
from tests.moraspar.security.owned import _booking, _notification, _proposal
from tests.moraspar.security.pages import rules

ROLES = [None, Role.TEACHER, Role.COMPANY, Role.COUNCIL, Role.ADMIN]
# Each example requests all ~75 GET routes: 2 x 5 roles = 10 examples, 750
# requests, about 10 s of CPU.
EXAMPLES_PER_ROLE = 2

# Names the views read from query strings (and a few they do not).
ALL_NAMES = [
    "q", "page", "status", "kind", "level", "locality", "km", "start", "end",
    "from", "to", "group", "horizon", "programme", "entity", "role", "what",
    "when", "next", "industry", "sort", "id", "x",
]  # fmt: skip
NAMES = st.sampled_from([*ALL_NAMES, "format"])
CHARACTERS = st.characters(blacklist_categories=("Cs",))
VALUES = st.one_of(
    st.text(CHARACTERS, max_size=30),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(
        [
            "",
            "\x00",
            "a\x00b",
            "2147483648",
            "100000000000",
            "-1",
            "0",
            "1e309",
            "NaN",
            "2027-02-30",
            "9999-12-31",
            "0001-01-01",
            "csv",
            "xlsx",
            "//evil.example",
            "/\t/evil.example",
            "\u202eevil",
            "𝔐𝔬𝔯𝔞 🚜",
            "' OR 1=1 --",
            "%",
            "x" * 5000,
        ]
    ),
)
PAIRS = st.lists(st.tuples(st.one_of(NAMES, st.text(max_size=8)), VALUES), max_size=4)
RAW_TAILS = st.sampled_from(["", "&%", "&%zz=1", "&%ff%fe=%c3", "&=&&==", "&a=%00"])


def _encode(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)


QUERIES = st.builds(
    lambda value, pairs, tail: _encode([(n, value) for n in ALL_NAMES] + pairs) + tail,
    VALUES,
    PAIRS,
    RAW_TAILS,
)


def _world(request: Any, db: Session) -> dict[str, Any]:
    """One record for every id argument, and a user of every role."""
    make_organisation = request.getfixturevalue("make_organisation")
    make_user = request.getfixturevalue("make_user")
    school = make_organisation(OrgKind.SCHOOL)
    company = request.getfixturevalue("make_company")()
    municipality = make_organisation(OrgKind.MUNICIPALITY)
    users = {
        Role.TEACHER: make_user(Role.TEACHER, organisation=school),
        Role.COMPANY: make_user(Role.COMPANY, organisation=company),
        Role.COUNCIL: make_user(Role.COUNCIL, organisation=municipality),
        Role.ADMIN: make_user(Role.ADMIN, organisation=municipality),
    }
    proposal = _proposal(request, school)
    council = Council(name="Kompetensrådet", organisation_id=municipality.id)
    db.add(council)
    db.commit()
    db.add(CouncilMember(council_id=council.id, user_id=users[Role.COUNCIL].id))
    meeting = Meeting(council_id=council.id, title="Rådsmöte", held_on=date(2027, 3, 1))
    db.add(meeting)
    db.commit()
    item = MeetingItem(meeting_id=meeting.id, proposal_id=proposal.id)
    db.add(item)
    db.commit()
    ids = {
        "need_id": request.getfixturevalue("make_need")(school).id,
        "programme_id": request.getfixturevalue("make_programme")(school).id,
        "placement_id": request.getfixturevalue("make_placement")(company).id,
        "gap_id": request.getfixturevalue("make_skill_gap")(company).id,
        "proposal_id": proposal.id,
        "booking_id": _booking(request, school).id,
        "notification_id": _notification(request, school).id,
        "company_id": company.id,
        "organisation_id": company.id,
        "user_id": users[Role.TEACHER].id,
        "meeting_id": meeting.id,
        "council_id": council.id,
        "item_id": item.id,
        "run_id": 1,
        "version_id": 1,
        "list_name": "proposals",
        "token": "not-a-token",
    }
    return {"users": users, "ids": ids}


def _urls(app: Flask, ids: dict[str, Any]) -> list[str]:
    urls = []
    with app.test_request_context():
        for rule in rules(app):
            if "GET" not in (rule.methods or ()):
                continue
            values = {name: ids[name] for name in rule.arguments}
            urls.append(url_for(rule.endpoint, **values))
    urls.append("/static/css/app.css")
    return urls


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
def test_no_query_string_gives_a_500(
    request: Any, app: Flask, client: Any, db: Session, role: str | None
) -> None:
    world = _world(request, db)
    if role is not None:
        user: User = world["users"][role]
        response = client.post_form(
            "/login", {"email": user.email, "password": PASSWORD}
        )
        assert response.status_code == 302
    urls = _urls(app, world["ids"])
    assert len(urls) > 60  # every GET route of the app

    @settings(
        max_examples=EXAMPLES_PER_ROLE,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )
    @given(st.data())
    def get(data: st.DataObject) -> None:
        for url in urls:
            query = data.draw(QUERIES, label=url)
            response = client.get(url, query_string=query)
            assert response.status_code < 500, (role, url, query)
            response.close()

    get()
