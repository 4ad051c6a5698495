"""Council meetings: prepare, order the agenda, decide, mark held, export."""

import io
import re
from datetime import date
from typing import Any
from urllib.parse import unquote

import pytest
from odf import teletype
from odf.opendocument import load
from odf.text import H, P
from openpyxl import load_workbook
from sqlmodel import col, select

from moraspar.models import (
    AuditEvent,
    Council,
    MatchProposal,
    Meeting,
    MeetingItem,
    ProposalStatus,
    Role,
    User,
)
from tests.conftest import default_council


@pytest.fixture
def council(db: Any) -> Council:
    """The factories' council, whose area has every school and company made."""
    c = default_council(db)
    c.name = "Kompetensrådet Mora"
    db.add(c)
    db.commit()
    return c


@pytest.fixture
def member(make_user: Any, council: Council) -> User:
    return make_user(Role.COUNCIL, councils=[council], language="en")


@pytest.fixture
def signed_in(auth: Any, member: User) -> None:
    auth.login(member)


@pytest.fixture
def meeting(db: Any, council: Council) -> Meeting:
    m = Meeting(council_id=council.id, title="Vårmöte", held_on=date(2027, 3, 4))
    db.add(m)
    db.commit()
    return m


@pytest.fixture
def proposals(
    db: Any,
    make_school: Any,
    make_company: Any,
    make_need: Any,
    make_placement: Any,
) -> list[MatchProposal]:
    school = make_school(name="Mora gymnasium")
    company = make_company(name="Mora Bil AB")
    need = make_need(school, title="APL fordon åk 2")
    rows = []
    for score, status, title in (
        (0.9, ProposalStatus.PROPOSED, "Bilverkstad"),
        (0.7, ProposalStatus.DEFERRED, "Däckcenter"),
        (0.95, ProposalStatus.DECLINED, "Lackering"),
    ):
        placement = make_placement(company, title=title, places=3)
        p = MatchProposal(
            need_id=need.id,
            placement_id=placement.id,
            score=score,
            status=status,
            parts={"text": score, "skills": 0.5},
        )
        db.add(p)
        rows.append(p)
    db.commit()
    return rows


def items_of(db: Any, meeting_id: int | None) -> list[MeetingItem]:
    db.expire_all()
    return list(
        db.exec(
            select(MeetingItem)
            .where(MeetingItem.meeting_id == meeting_id)
            .order_by(col(MeetingItem.position))
        ).all()
    )


def actions(db: Any) -> list[str]:
    return [e.action for e in db.exec(select(AuditEvent).order_by(AuditEvent.id))]


def test_create_meeting_for_own_council(
    client: Any, db: Any, signed_in: None, council: Council, make_user: Any
) -> None:
    other = Council(name="Programrådet El")
    db.add(other)
    db.commit()
    form = client.get("/meetings/new").get_data(as_text=True)
    assert "Kompetensrådet Mora" in form
    assert "Programrådet El" not in form  # not a member there
    response = client.post_form(
        "/meetings/new",
        {"title": "Höstmöte", "held_on": "2027-09-15", "council_id": council.id},
    )
    assert response.status_code == 302
    created = db.exec(select(Meeting)).one()
    assert (created.title, created.held_on, created.council_id) == (
        "Höstmöte",
        date(2027, 9, 15),
        council.id,
    )
    assert "meeting.create" in actions(db)
    # Another council's id is refused with a form error, nothing created.
    response = client.post_form(
        "/meetings/new",
        {"title": "Smyg", "held_on": "2027-09-15", "council_id": other.id},
    )
    assert response.status_code == 200
    assert len(db.exec(select(Meeting)).all()) == 1


def test_create_meeting_validation_keeps_input(
    client: Any, signed_in: None, council: Council
) -> None:
    html = client.post_form(
        "/meetings/new", {"title": "Utan datum", "council_id": council.id}
    ).get_data(as_text=True)
    assert "Enter the date of the meeting." in html
    assert 'value="Utan datum"' in html


def test_pick_proposals_best_first_and_add(
    client: Any,
    db: Any,
    signed_in: None,
    meeting: Meeting,
    proposals: list[MatchProposal],
) -> None:
    html = client.get(f"/meetings/{meeting.id}/proposals").get_data(as_text=True)
    assert html.index("Bilverkstad") < html.index("Däckcenter")  # best first
    assert "Lackering" not in html  # declined: not pickable
    html = client.get(f"/meetings/{meeting.id}/proposals?status=deferred").get_data(
        as_text=True
    )
    assert "Däckcenter" in html and "Bilverkstad" not in html

    ids = [p.id for p in proposals]  # the declined one is ignored
    response = client.post_form(
        f"/meetings/{meeting.id}/proposals", {"proposal_id": ids}
    )
    assert response.status_code == 302
    items = items_of(db, meeting.id)
    assert [i.proposal_id for i in items] == [proposals[0].id, proposals[1].id]
    assert [i.position for i in items] == [0, 1]
    # Adding again does not duplicate.
    client.post_form(f"/meetings/{meeting.id}/proposals", {"proposal_id": ids})
    assert len(items_of(db, meeting.id)) == 2


def test_add_gaps_reorder_and_remove(
    client: Any,
    db: Any,
    signed_in: None,
    meeting: Meeting,
    make_company: Any,
    make_skill_gap: Any,
    proposals: list[MatchProposal],
) -> None:
    company = make_company(name="Orsa Omsorg AB", locality="Orsa")
    gap = make_skill_gap(company, title="Undersköterskor", headcount=4)
    client.post_form(
        f"/meetings/{meeting.id}/proposals", {"proposal_id": [proposals[0].id]}
    )
    html = client.get(f"/meetings/{meeting.id}/gaps?locality=Orsa").get_data(
        as_text=True
    )
    assert "Undersköterskor" in html
    client.post_form(f"/meetings/{meeting.id}/gaps", {"gap_id": [gap.id]})
    first, second = items_of(db, meeting.id)
    assert (first.proposal_id, second.skill_gap_id) == (proposals[0].id, gap.id)

    client.post_form(
        f"/meetings/{meeting.id}/items/{second.id}/move", {"direction": "up"}
    )
    assert [i.id for i in items_of(db, meeting.id)] == [second.id, first.id]

    client.post_form(f"/meetings/{meeting.id}/items/{second.id}/remove")
    remaining = items_of(db, meeting.id)
    assert [(i.id, i.position) for i in remaining] == [(first.id, 0)]
    assert actions(db).count("meeting.update") >= 4


def _agenda(
    db: Any,
    meeting: Meeting,
    *,
    proposal_id: int | None = None,
    skill_gap_id: int | None = None,
) -> MeetingItem:
    item = MeetingItem(
        meeting_id=meeting.id,
        position=0,
        proposal_id=proposal_id,
        skill_gap_id=skill_gap_id,
    )
    db.add(item)
    db.commit()
    return item


def test_record_decision_text_and_approve_through_council_service(
    client: Any,
    db: Any,
    member: User,
    signed_in: None,
    meeting: Meeting,
    proposals: list[MatchProposal],
) -> None:
    item = _agenda(db, meeting, proposal_id=proposals[0].id)
    url = f"/meetings/{meeting.id}/items/{item.id}/decide"
    response = client.post_form(
        url, {"decision": "Rådet tillstyrker.", "outcome": "approve"}
    )
    assert response.status_code == 302
    db.expire_all()
    assert db.get(MeetingItem, item.id).decision == "Rådet tillstyrker."
    proposal = db.get(MatchProposal, proposals[0].id)
    assert proposal.status == ProposalStatus.APPROVED
    assert proposal.comment == "Rådet tillstyrker."
    assert proposal.decided_by_id == member.id
    assert {"meeting_item.decide", "proposal.approve"} <= set(actions(db))


def test_decline_needs_a_reason_and_text_only_leaves_proposal(
    client: Any,
    db: Any,
    signed_in: None,
    meeting: Meeting,
    proposals: list[MatchProposal],
) -> None:
    item = _agenda(db, meeting, proposal_id=proposals[1].id)
    url = f"/meetings/{meeting.id}/items/{item.id}/decide"
    html = client.post_form(url, {"decision": "Nej.", "outcome": "decline"}).get_data(
        as_text=True
    )
    assert "Choose why the proposal is declined." in html
    db.expire_all()
    assert db.get(MatchProposal, proposals[1].id).status == ProposalStatus.DEFERRED

    client.post_form(url, {"decision": "Diskuterades, beslut i maj.", "outcome": ""})
    db.expire_all()
    assert db.get(MeetingItem, item.id).decision == "Diskuterades, beslut i maj."
    assert db.get(MatchProposal, proposals[1].id).status == ProposalStatus.DEFERRED


def test_decision_refused_by_council_rules_changes_nothing(
    client: Any,
    db: Any,
    signed_in: None,
    meeting: Meeting,
    proposals: list[MatchProposal],
) -> None:
    # The council's rules: a declined proposal cannot be approved.
    item = _agenda(db, meeting, proposal_id=proposals[2].id)
    html = client.post_form(
        f"/meetings/{meeting.id}/items/{item.id}/decide",
        {"decision": "Godkänn ändå.", "outcome": "approve"},
    ).get_data(as_text=True)
    assert "cannot be decided that way" in html
    db.expire_all()
    assert db.get(MeetingItem, item.id).decision == ""
    assert db.get(MatchProposal, proposals[2].id).status == ProposalStatus.DECLINED


def test_mark_held_fixes_the_agenda(
    client: Any,
    db: Any,
    signed_in: None,
    meeting: Meeting,
    proposals: list[MatchProposal],
) -> None:
    confirm = client.get(f"/meetings/{meeting.id}/held").get_data(as_text=True)
    assert "Yes, mark as held" in confirm
    client.post_form(f"/meetings/{meeting.id}/held")
    db.expire_all()
    assert db.get(Meeting, meeting.id).status == "held"
    assert "meeting.held" in actions(db)
    client.post_form(
        f"/meetings/{meeting.id}/proposals", {"proposal_id": [proposals[0].id]}
    )
    assert items_of(db, meeting.id) == []


def test_export_odt_and_xlsx(
    client: Any,
    db: Any,
    signed_in: None,
    meeting: Meeting,
    proposals: list[MatchProposal],
    make_company: Any,
    make_skill_gap: Any,
) -> None:
    gap = make_skill_gap(make_company(name="Orsa Omsorg AB"), title="Undersköterskor")
    first = _agenda(db, meeting, proposal_id=proposals[0].id)
    first.decision = "Tillstyrks."
    db.add(first)
    db.add(
        MeetingItem(
            meeting_id=meeting.id,
            position=1,
            skill_gap_id=gap.id,
            decision="Skolan utreder ett spår.",
        )
    )
    db.commit()

    response = client.get(f"/meetings/{meeting.id}/minutes.odt")
    assert response.status_code == 200
    # Named in the reader's language, with an ASCII twin for old clients.
    disposition = response.headers["Content-Disposition"]
    assert "Vårmöte minutes.odt" in unquote(disposition)
    assert 'filename="2027-03-04-Varmote-minutes.odt"' in disposition
    assert response.mimetype == "application/vnd.oasis.opendocument.text"
    document = load(io.BytesIO(response.data))
    texts = [
        teletype.extractText(e)
        for e in document.getElementsByType(H) + document.getElementsByType(P)
    ]
    text = "\n".join(texts)
    assert "Vårmöte" in text
    assert "Kompetensrådet Mora" in text
    assert "APL fordon åk 2" in text and "Bilverkstad" in text
    assert "Decision: Tillstyrks." in text
    assert "Skill gap: Undersköterskor (Orsa Omsorg AB)" in text
    assert "Decision: Skolan utreder ett spår." in text

    response = client.get(f"/meetings/{meeting.id}/export/proposals?format=xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("Item", "Need")
    assert rows[1][1] == "APL fordon åk 2"
    assert rows[1][3] == "Bilverkstad"
    assert rows[1][-1] == "Tillstyrks."
    assert len(rows) == 2

    response = client.get(f"/meetings/{meeting.id}/export/gaps?format=xlsx")
    rows = list(
        load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True)
    )
    assert rows[1][1] == "Undersköterskor"
    assert rows[1][-1] == "Skolan utreder ett spår."

    assert client.get(f"/meetings/{meeting.id}/export/other").status_code == 404
    assert (
        client.get(f"/meetings/{meeting.id}/export/gaps?format=pdf").status_code == 400
    )


def test_index_lists_own_councils_meetings_only(
    client: Any, db: Any, signed_in: None, meeting: Meeting
) -> None:
    other = Council(name="Programrådet El")
    db.add(other)
    db.commit()
    db.add(
        Meeting(council_id=other.id, title="Annat råds möte", held_on=date(2027, 1, 1))
    )
    db.commit()
    html = client.get("/meetings/").get_data(as_text=True)
    assert "Vårmöte" in html
    assert "Annat råds möte" not in html


def test_non_member_and_teacher_are_refused(
    client: Any, auth: Any, meeting: Meeting
) -> None:
    auth.login(Role.COUNCIL, councils=[])  # a council member, but not of this one
    assert client.get(f"/meetings/{meeting.id}").status_code == 403
    assert client.get(f"/meetings/{meeting.id}/minutes.odt").status_code == 403
    auth.logout()
    auth.login(Role.TEACHER)
    assert client.get("/meetings/").status_code == 403
    assert client.get(f"/meetings/{meeting.id}").status_code == 403


def test_admin_sees_every_council(
    client: Any, auth: Any, meeting: Meeting, council: Council
) -> None:
    auth.login(Role.ADMIN, language="en")
    html = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    assert "Vårmöte" in html
    form = client.get("/meetings/new").get_data(as_text=True)
    assert re.search(r"<option[^>]*>Kompetensrådet Mora</option>", form)


def test_pickers_offer_only_the_councils_own_area(
    client: Any,
    db: Any,
    signed_in: None,
    meeting: Meeting,
    make_school: Any,
    make_company: Any,
    make_need: Any,
    make_placement: Any,
    make_skill_gap: Any,
) -> None:
    other = Council(name="Programrådet El")
    db.add(other)
    db.commit()
    school = make_school(name="Älvdalens skola", councils=[other])
    company = make_company(name="Älvdalens El AB", councils=[other])
    need = make_need(school, title="Annat råds behov")
    proposal = MatchProposal(
        need_id=need.id, placement_id=make_placement(company, title="Elplats").id
    )
    db.add(proposal)
    db.commit()
    gap = make_skill_gap(company, title="Elektriker i Älvdalen")

    proposals_page = client.get(f"/meetings/{meeting.id}/proposals").get_data(
        as_text=True
    )
    gaps_page = client.get(f"/meetings/{meeting.id}/gaps").get_data(as_text=True)
    client.post_form(
        f"/meetings/{meeting.id}/proposals", {"proposal_id": [proposal.id]}
    )
    client.post_form(f"/meetings/{meeting.id}/gaps", {"gap_id": [gap.id]})

    assert "Annat råds behov" not in proposals_page
    assert "Elektriker i Älvdalen" not in gaps_page
    assert items_of(db, meeting.id) == []


def test_declining_for_another_reason_needs_the_decision_to_say_which(
    client: Any,
    db: Any,
    signed_in: None,
    meeting: Meeting,
    proposals: list[MatchProposal],
) -> None:
    item = _agenda(db, meeting, proposal_id=proposals[0].id)
    url = f"/meetings/{meeting.id}/items/{item.id}/decide"

    response = client.post_form(
        url, {"decision": "  ", "outcome": "decline", "decline_reason": "other"}
    )

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Declining for another reason needs a comment." in html
    assert 'href="#decline_reason"' in html  # listed in the error summary
    db.expire_all()
    assert db.get(MatchProposal, proposals[0].id).status == ProposalStatus.PROPOSED

    said = client.post_form(
        url,
        {
            "decision": "Avslås: platsen flyttar.",
            "outcome": "decline",
            "decline_reason": "other",
        },
    )
    assert said.status_code == 302
    db.expire_all()
    proposal = db.get(MatchProposal, proposals[0].id)
    assert proposal.status == ProposalStatus.DECLINED
    assert proposal.decline_reason == "other"
    assert proposal.comment == "Avslås: platsen flyttar."
