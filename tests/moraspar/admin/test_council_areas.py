"""The business office sets each council's area on /admin/councils: the
schools and companies whose work its members see, and whether new ones join."""

from typing import Any

import pytest
from sqlmodel import Session, select

from moraspar.formkit.ids import MAX_ID
from moraspar.models import (
    AuditEvent,
    Council,
    CouncilOrganisation,
    MatchProposal,
    Role,
)


def area_of(db: Session, council: Council) -> set[int]:
    db.expire_all()
    return set(
        db.exec(
            select(CouncilOrganisation.organisation_id).where(
                CouncilOrganisation.council_id == council.id
            )
        ).all()
    )


@pytest.fixture
def setting(db: Session, make_school: Any, make_company: Any) -> dict[str, Any]:
    """A council with one school and one company; another school and company
    outside its area."""
    council = Council(name="Kompetensrådet Mora")
    db.add(council)
    db.commit()
    return {
        "council": council,
        "inside": [
            make_school(name="Mora Gymnasium", councils=[council]),
            make_company(name="Morakniv AB", councils=[council]),
        ],
        "outside": [
            make_school(name="Orsa Skola", locality="Orsa", councils=[]),
            make_company(name="Orsa Bageri", locality="Orsa", councils=[]),
        ],
    }


def url(council: Council, query: str = "") -> str:
    return f"/admin/councils/{council.id}" + (f"?q={query}" if query else "")


def test_the_list_shows_each_council_with_its_area_in_swedish(
    client: Any, auth: Any, setting: dict[str, Any]
) -> None:
    auth.login(Role.ADMIN)
    page = client.get("/admin/councils").get_data(as_text=True)
    assert '<html lang="sv">' in page
    assert "Rådsområden" in page  # the nav link and the title
    assert "Kompetensrådet Mora" in page
    assert url(setting["council"]) in page


def test_the_area_form_ticks_the_areas_organisations_grouped_by_kind(
    client: Any, auth: Any, setting: dict[str, Any]
) -> None:
    auth.login(Role.ADMIN)
    page = client.get(url(setting["council"])).get_data(as_text=True)
    for org in setting["inside"]:
        assert f'value="{org.id}" id="organisation-{org.id}" checked' in page
    for org in setting["outside"]:
        assert f'value="{org.id}" id="organisation-{org.id}">' in page
    assert page.index("<legend>Skola") < page.index("Mora Gymnasium")
    assert page.index("Mora Gymnasium") < page.index("<legend>Företag")
    assert page.index("<legend>Företag") < page.index("Morakniv AB")


def test_an_admin_saves_an_area_and_the_member_sees_only_its_work(
    client: Any,
    auth: Any,
    db: Session,
    setting: dict[str, Any],
    make_need: Any,
    make_placement: Any,
    make_user: Any,
) -> None:
    council = setting["council"]
    mora_school, morakniv = setting["inside"]
    orsa_school, _bakery = setting["outside"]
    placement = make_placement(morakniv)
    proposals = {
        school.name: MatchProposal(
            need_id=make_need(school, title=f"Behov {school.locality}").id,
            placement_id=placement.id,
            score=0.8,
            students=1,
        )
        for school in (mora_school, orsa_school)
    }
    db.add_all(proposals.values())
    db.commit()
    member = make_user(Role.COUNCIL, councils=[council])
    admin = auth.login(Role.ADMIN)

    shown = [o.id for o in setting["inside"] + setting["outside"]]
    response = client.post_form(
        url(council),
        {
            "takes_new_organisations": "y",
            "organisations": [orsa_school.id, morakniv.id],
            "shown": shown,
        },
        follow_redirects=True,
    )

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "1 organisation har lagts till, 1 organisation har tagits bort" in page
    assert area_of(db, council) == {orsa_school.id, morakniv.id}
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "council.area")).one()
    assert (event.actor_id, event.entity, event.entity_id) == (
        admin.id,
        "council",
        council.id,
    )
    assert event.details["added"] == [orsa_school.id]
    assert event.details["removed"] == [mora_school.id]

    auth.logout()
    auth.login(member)
    page = client.get("/council/board?status=all").get_data(as_text=True)
    assert "Behov Orsa" in page
    assert "Behov Mora" not in page
    gone = proposals["Mora Gymnasium"].id
    assert client.get(f"/council/proposals/{gone}").status_code == 403


def test_the_flag_is_saved_and_confirmed(
    client: Any, auth: Any, db: Session, setting: dict[str, Any]
) -> None:
    council = setting["council"]
    auth.login(Role.ADMIN)
    ids = [o.id for o in setting["inside"]]
    response = client.post_form(
        url(council), {"organisations": ids, "shown": ids}, follow_redirects=True
    )
    assert "Nya skolor och företag läggs inte längre till" in response.get_data(
        as_text=True
    )
    db.expire_all()
    saved = db.get(Council, council.id)
    assert saved is not None and saved.takes_new_organisations is False
    assert area_of(db, council) == set(ids)


def test_a_filtered_save_leaves_the_organisations_not_shown(
    client: Any, auth: Any, db: Session, setting: dict[str, Any]
) -> None:
    council = setting["council"]
    mora_school, morakniv = setting["inside"]
    orsa_school, bakery = setting["outside"]
    auth.login(Role.ADMIN)

    page = client.get(url(council, "orsa")).get_data(as_text=True)
    assert "Orsa Bageri" in page and "Orsa Skola" in page
    assert "Morakniv AB" not in page and "Mora Gymnasium" not in page

    response = client.post_form(
        url(council, "orsa"),
        {
            "takes_new_organisations": "y",
            "organisations": [bakery.id],
            "shown": [orsa_school.id, bakery.id],
        },
    )

    assert response.status_code == 302
    assert response.headers["Location"].endswith(url(council, "orsa"))
    assert area_of(db, council) == {mora_school.id, morakniv.id, bakery.id}


def test_the_filter_ignores_case_and_swedish_letters(
    client: Any, auth: Any, setting: dict[str, Any], make_company: Any
) -> None:
    make_company(name="Älvdalens Såg AB", locality="Älvdalen", councils=[])
    auth.login(Role.ADMIN)
    page = client.get(url(setting["council"], "ÄLVDAL")).get_data(as_text=True)
    assert "Älvdalens Såg AB" in page
    assert "Orsa Bageri" not in page


@pytest.mark.parametrize(
    "bad",
    ["abc", "-1", str(MAX_ID + 1), "999999", "municipality"],
)
def test_bad_ids_are_refused_with_a_form_error(
    client: Any,
    auth: Any,
    db: Session,
    setting: dict[str, Any],
    make_organisation: Any,
    bad: str,
) -> None:
    council = setting["council"]
    before = area_of(db, council)
    if bad == "municipality":
        # an organisation, but not a school or company: no place in an area
        bad = str(make_organisation("municipality", name="Mora kommun").id)
    auth.login(Role.ADMIN)

    for data in ({"organisations": [bad]}, {"shown": [bad]}):
        response = client.post_form(url(council), data)
        assert response.status_code == 200
        assert "Välj ett av alternativen i listan." in response.get_data(as_text=True)
    assert area_of(db, council) == before
    assert (
        db.exec(select(AuditEvent).where(AuditEvent.action == "council.area")).first()
        is None
    )


def test_a_post_without_csrf_token_changes_nothing(
    client: Any, auth: Any, db: Session, setting: dict[str, Any]
) -> None:
    council = setting["council"]
    before = area_of(db, council)
    auth.login(Role.ADMIN)
    response = client.post(
        url(council), data={"shown": [o.id for o in setting["inside"]]}
    )
    assert response.status_code == 400
    assert area_of(db, council) == before


@pytest.mark.parametrize("role", [Role.TEACHER, Role.COMPANY, Role.COUNCIL])
def test_only_admins_may_open_or_save_areas(
    client: Any, auth: Any, db: Session, setting: dict[str, Any], role: str
) -> None:
    council = setting["council"]
    before = area_of(db, council)
    auth.login(role)
    assert client.get("/admin/councils").status_code == 403
    assert client.get(url(council)).status_code == 403
    response = client.post_form(
        url(council), {"shown": [o.id for o in setting["inside"]]}
    )
    assert response.status_code == 403
    assert area_of(db, council) == before


def test_an_unknown_council_is_not_found(client: Any, auth: Any) -> None:
    auth.login(Role.ADMIN)
    assert client.get("/admin/councils/4242").status_code == 404


def test_the_list_counts_without_a_query_per_council(
    client: Any, auth: Any, db: Session, count_queries: Any
) -> None:
    auth.login(Role.ADMIN)
    client.get("/admin/councils")
    count_queries.statements.clear()
    client.get("/admin/councils")
    first = count_queries.count
    db.add_all(Council(name=f"Råd {n}") for n in range(5))
    db.commit()
    count_queries.statements.clear()
    client.get("/admin/councils")
    assert count_queries.count <= first
