"""Skill gaps (kompetensbehov) through the test client."""

from typing import Any

import pytest
from sqlmodel import select

from moraspar.models import AuditEvent, Organisation, Role, SkillGap


def _valid(**overrides: Any) -> dict[str, Any]:
    data = {
        "version": "1",  # what an edit form of a fresh skill gap carries
        "title": "CNC-operatörer",
        "description": "Vi behöver fler som kan programmera fleroperationsmaskiner.",
        "skills": "CNC-programmering, ritningsläsning",
        "ssyk_code": "7223",
        "headcount": "4",
        "horizon": "1-3",
    }
    data.update(overrides)
    return data


def _gaps(db: Any) -> list[SkillGap]:
    db.expire_all()
    return list(db.exec(select(SkillGap)).all())


def test_post_a_skill_gap(client: Any, auth: Any, db: Any) -> None:
    user = auth.login(Role.COMPANY, language="en")
    page = client.get("/company/skill-gaps/new").get_data(as_text=True)
    assert "js/tags.js" in page
    response = client.post_form("/company/skill-gaps/new", _valid())
    assert response.status_code == 302
    [gap] = _gaps(db)
    assert gap.company_id == user.organisation_id
    assert gap.skills == ["CNC-programmering", "ritningsläsning"]
    assert (gap.ssyk_code, gap.headcount, gap.horizon) == ("7223", 4, "1-3")
    assert " operatör" in gap.search_text
    assert db.exec(select(AuditEvent)).one().action == "skill_gap.create"
    listing = client.get("/company/skill-gaps").get_data(as_text=True)
    assert "CNC-operatörer" in listing
    assert "In 1–3 years" in listing


def test_ssyk_code_is_optional(client: Any, auth: Any, db: Any) -> None:
    auth.login(Role.COMPANY, language="en")
    response = client.post_form("/company/skill-gaps/new", _valid(ssyk_code=""))
    assert response.status_code == 302
    assert _gaps(db)[0].ssyk_code is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"ssyk_code": "72A3"}, "An SSYK code is four digits"),
        ({"ssyk_code": "72231"}, "An SSYK code is four digits"),
        ({"headcount": "0"}, "Enter at least one person"),
        ({"headcount": "1001"}, "At most 1,000 people"),
        ({"title": "x" * 201}, "At most 200 characters"),
        ({"horizon": "10-20"}, "Not a valid choice"),
    ],
)
def test_invalid_skill_gap_is_not_saved(
    client: Any, auth: Any, db: Any, overrides: dict[str, str], message: str
) -> None:
    auth.login(Role.COMPANY, language="en")
    response = client.post_form("/company/skill-gaps/new", _valid(**overrides))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page
    assert "CNC-programmering, ritningsläsning" in page
    assert _gaps(db) == []
    assert db.exec(select(AuditEvent)).all() == []


def test_edit_a_skill_gap(client: Any, auth: Any, db: Any, make_skill_gap: Any) -> None:
    user = auth.login(Role.COMPANY, language="en")
    gap = make_skill_gap(db.get(Organisation, user.organisation_id))
    response = client.post_form(
        f"/company/skill-gaps/{gap.id}/edit", _valid(headcount="7")
    )
    assert response.status_code == 302
    assert _gaps(db)[0].headcount == 7
    assert db.exec(select(AuditEvent)).one().action == "skill_gap.update"


def test_close_needs_confirmation_and_is_audited(
    client: Any, auth: Any, db: Any, make_skill_gap: Any
) -> None:
    user = auth.login(Role.COMPANY, language="en")
    gap = make_skill_gap(db.get(Organisation, user.organisation_id))
    url = f"/company/skill-gaps/{gap.id}/close"
    assert "Close the skill gap" in client.get(url).get_data(as_text=True)
    assert _gaps(db)[0].status == "open"
    assert client.post_form(url).status_code == 302
    assert _gaps(db)[0].status == "closed"
    event = db.exec(select(AuditEvent)).one()
    assert (event.action, event.entity_id) == ("skill_gap.closed", gap.id)


def test_another_company_may_not_change_a_skill_gap(
    client: Any, auth: Any, db: Any, make_company: Any, make_skill_gap: Any
) -> None:
    gap = make_skill_gap(make_company())
    auth.login(Role.COMPANY, language="en")
    assert client.get(f"/company/skill-gaps/{gap.id}/edit").status_code == 403
    edit = client.post_form(f"/company/skill-gaps/{gap.id}/edit", _valid())
    assert edit.status_code == 403
    assert client.post_form(f"/company/skill-gaps/{gap.id}/close").status_code == 403
    [saved] = _gaps(db)
    assert (saved.title, saved.status) == ("Fordonstekniker", "open")


def test_unapproved_company_cannot_post_a_skill_gap(
    client: Any, auth: Any, db: Any, make_company: Any, make_user: Any
) -> None:
    company = make_company(approved=False)
    auth.login(make_user(Role.COMPANY, company, language="en"))
    response = client.post_form("/company/skill-gaps/new", _valid())
    assert response.status_code == 403
    assert _gaps(db) == []


def test_export_skill_gaps(
    client: Any, auth: Any, db: Any, make_skill_gap: Any
) -> None:
    user = auth.login(Role.COMPANY, language="en")
    make_skill_gap(db.get(Organisation, user.organisation_id), title="Svetsare")
    response = client.get("/company/skill-gaps?format=csv")
    assert response.status_code == 200
    assert "Svetsare" in response.get_data().decode("utf-8-sig")
