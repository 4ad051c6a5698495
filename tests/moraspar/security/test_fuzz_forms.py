"""Every form, driven by hypothesis with odd text: no input gives a 500.

Forms are found in the url_map (routes that take GET and POST), their field
names by reading the rendered page, the user by the access table. Routes with
ids get a record of the user's own organisation (the IDOR test's factories).
"""

from typing import Any

import pytest
from flask import Flask, url_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from moraspar.models import OrgKind, Role, User
from tests.conftest import PASSWORD
from tests.moraspar.security.owned import ID_FACTORIES
from tests.moraspar.security.pages import (
    form_fields,
    int_args,
    role_for,
    route_app,
    rules,
)

# Routes whose form cannot be reached from here, and why.
SKIPPED = {
    "auth.login_code": "needs the password step first; test_totp covers it",
}

# Routes whose id names another organisation's record by design (test_idor's
# SHARED): the user has the route's own role, the record another owner.
ACROSS = {"companies.offer"}

# Pages shown only to users who have turned the second factor on.
NEEDS_SECOND_FACTOR = {"auth.two_factor_disable"}


def _with_second_factor(db: Session, user: User) -> None:
    user.totp_secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    db.add(user)
    db.commit()


CHARACTERS = st.characters(blacklist_categories=("Cs",))  # UTF-8 cannot carry them
ODD = st.sampled_from(
    [
        "",
        " ",
        "\u202eevil\u202c",  # right-to-left override
        "\u200f\u200e\u200b\ufeff",  # marks and zero-width characters
        "\x01\x07\x1b[31m\x7f",  # control characters
        "e\u0301\u0308\u0327" * 50,  # stacked combining marks
        "𝔐𝔬𝔯𝔞 🚜 مورا 莫拉",
        "' OR 1=1 --",
        "<script>alert(1)</script>",
        "{{ 7*7 }}{% raw %}",
        "-1",
        "0",
        "99999999999999999999999",
        "1e309",
        "NaN",
        "2027-02-30",
        "19121212-1212",
        "../../etc/passwd",
        "%s%n%x",
    ]
)
HUGE = st.builds(lambda ch, n: ch * n, CHARACTERS, st.integers(9_000, 11_000))
VALUE = st.one_of(st.text(CHARACTERS, max_size=60), ODD, HUGE)


def _form_routes() -> list[str]:
    app = route_app()
    found = []
    for rule in rules(app):
        if not {"GET", "POST"} <= (rule.methods or set()):
            continue
        if rule.endpoint in SKIPPED:
            continue
        if set(rule.arguments) - set(int_args(rule)):
            continue  # string arguments (signed tokens): nothing to fuzz past them
        if not all(name in ID_FACTORIES for name in int_args(rule)):
            continue  # test_idor names the missing factory
        found.append(rule.endpoint)
    return found


@pytest.mark.parametrize("endpoint", _form_routes())
def test_no_input_gives_a_500(
    request: Any,
    app: Flask,
    client: Any,
    make_organisation: Any,
    make_user: Any,
    db: Session,
    endpoint: str,
) -> None:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    role = role_for(endpoint)
    if role is not None:
        owned = [ID_FACTORIES[name] for name in int_args(rule)]
        if owned and endpoint not in ACROSS:
            role = owned[0].role
        kinds = {
            Role.TEACHER: OrgKind.SCHOOL,
            Role.COMPANY: OrgKind.COMPANY,
        }
        organisation = make_organisation(kinds.get(role, OrgKind.MUNICIPALITY))
        user = make_user(role, organisation=organisation)
        client.post_form("/login", {"email": user.email, "password": PASSWORD})
        if endpoint in NEEDS_SECOND_FACTOR:
            _with_second_factor(db, user)
        ids = {
            name: factory.make(
                request,
                make_organisation(factory.kind) if endpoint in ACROSS else organisation,
            ).id
            for name, factory in zip(int_args(rule), owned, strict=True)
        }
    else:
        ids = {}
    with app.test_request_context():
        url = url_for(endpoint, **ids)
    page = client.get(url)
    assert page.status_code == 200, f"{endpoint}: {page.status_code}"
    # Confirmation forms have no fields: they are posted with the token only.
    names = sorted(form_fields(page.get_data(as_text=True))[1])
    token = client.csrf_token()

    @settings(
        max_examples=15,
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )
    @given(st.fixed_dictionaries({name: VALUE for name in names}))
    def post(values: dict[str, str]) -> None:
        response = client.post(url, data={"csrf_token": token, **values})
        assert response.status_code < 500, (endpoint, values)

    post()
