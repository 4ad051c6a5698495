"""Every redirect built from what the client sent goes through safe_next.

Browsers drop tab, CR and LF from a URL before reading it, so "/\\t/evil.example"
is "//evil.example", another site; CR LF in a Location header is a 500 in
Werkzeug (after the change was saved).
"""

from typing import Any

import pytest
from sqlmodel import Session

from moraspar.models import MatchProposal, ProposalStatus, Role, User
from moraspar.web.redirects import safe_next
from tests.moraspar.security.owned import _proposal

HOSTILE = [
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/board\r\nSet-Cookie: session=stolen",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    " /board",
    "/board\x00",
    "/board\x7f",
    "board",
    "/" + "a" * 2001,
]


@pytest.mark.parametrize("target", HOSTILE)
def test_safe_next_refuses_other_sites_and_control_characters(target: str) -> None:
    assert safe_next(target) is None


@pytest.mark.parametrize(
    "target", ["/", "/council/board?locality=Mora&page=2", "/school/needs#top"]
)
def test_safe_next_keeps_paths_on_this_site(target: str) -> None:
    assert safe_next(target) == target


@pytest.mark.parametrize("target", HOSTILE[:4])
def test_language_choice_never_redirects_to_another_site(
    client: Any, auth: Any, db: Session, target: str
) -> None:
    user = auth.login(Role.TEACHER)
    response = client.post_form("/language", {"language": "en", "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    db.expire_all()
    assert db.get(User, user.id).language == "en"  # type: ignore[union-attr]


@pytest.mark.parametrize("target", HOSTILE[:4])
def test_council_decision_never_redirects_to_another_site(
    request: Any, client: Any, auth: Any, db: Session, make_school: Any, target: str
) -> None:
    proposal = _proposal(request, make_school())
    proposal.status = ProposalStatus.PROPOSED
    db.add(proposal)
    db.commit()
    auth.login(Role.COUNCIL)
    response = client.post_form(
        f"/council/proposals/{proposal.id}/decide",
        {"action": "defer", "next": target},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/council/board"
    db.expire_all()
    saved = db.get(MatchProposal, proposal.id)
    assert saved is not None and saved.status == ProposalStatus.DEFERRED


@pytest.mark.parametrize("target", HOSTILE[:4])
def test_council_bulk_decision_never_redirects_to_another_site(
    request: Any, client: Any, auth: Any, db: Session, make_school: Any, target: str
) -> None:
    proposal = _proposal(request, make_school())
    proposal.status = ProposalStatus.PROPOSED
    db.add(proposal)
    db.commit()
    auth.login(Role.COUNCIL)
    response = client.post_form(
        "/council/proposals/bulk",
        {"proposal": [proposal.id], "bulk_action": "defer", "next": target},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/council/board"
