"""Ids past PostgreSQL's integer, in paths, query strings and forms of the
council's pages and the bookings, meetings and notifications beside them: "not
found" or ignored with a message, never a server error."""

from datetime import date
from typing import Any

import pytest
from sqlmodel import select

from moraspar.formkit.ids import MAX_ID, parse_id
from moraspar.models import Meeting, MeetingItem, Role
from tests.conftest import default_council

HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12", 12),
        (" 7 ", 7),
        (str(MAX_ID), MAX_ID),
        (str(MAX_ID + 1), None),
        (HUGE, None),
        ("0", None),
        ("-1", None),
        ("1e3", None),
        ("١٢", None),  # Arabic-Indic digits pass str.isdigit
        ("", None),
        (None, None),
    ],
)
def test_parse_id(raw: str | None, expected: int | None) -> None:
    assert parse_id(raw) == expected


@pytest.mark.parametrize(
    "url",
    [
        f"/council/proposals/{HUGE}",
        f"/council/runs/{HUGE}",
        f"/council/runs/{HUGE}/status",
        f"/council/runs/{MAX_ID + 1}",
        f"/bookings/{HUGE}.ics",
        f"/bookings/proposals/{HUGE}",
        f"/bookings/{HUGE}/evaluate",
        f"/meetings/{HUGE}",
        f"/meetings/1/items/{HUGE}/decide",
    ],
)
def test_an_id_past_the_range_in_the_path_is_not_found(
    client: Any, auth: Any, url: str
) -> None:
    auth.login(Role.ADMIN)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        f"/council/proposals/{HUGE}/decide",
        f"/council/proposals/{HUGE}/reverse",
        f"/notifications/{HUGE}/read",
    ],
)
def test_an_id_past_the_range_in_a_posted_path_is_not_found(
    client: Any, auth: Any, url: str
) -> None:
    auth.login(Role.ADMIN)
    assert client.post_form(url, {"action": "approve"}).status_code == 404


@pytest.mark.parametrize("programme", [HUGE, str(MAX_ID + 1), "-3", "abc"])
def test_board_ignores_a_programme_filter_that_names_none(
    client: Any, auth: Any, programme: str
) -> None:
    auth.login(Role.COUNCIL, language="en")

    response = client.get(f"/council/board?programme={programme}")

    assert response.status_code == 200
    assert "There is no such programme" in response.get_data(as_text=True)


def test_bulk_with_an_id_past_the_range_changes_nothing(client: Any, auth: Any) -> None:
    auth.login(Role.COUNCIL, language="en")

    response = client.post_form(
        "/council/proposals/bulk",
        {"proposal": [HUGE], "bulk_action": "approve"},
        follow_redirects=True,
    )

    assert response.status_code == 200
    assert "Choose one of the options in the list." in response.get_data(as_text=True)


def test_meeting_pickers_skip_ids_past_the_range(
    client: Any, auth: Any, db: Any
) -> None:
    council = default_council(db)
    meeting = Meeting(council_id=council.id, title="Vårmöte", held_on=date.today())
    db.add(meeting)
    db.commit()
    auth.login(Role.COUNCIL, language="en")

    for path, name in (("proposals", "proposal_id"), ("gaps", "gap_id")):
        response = client.post_form(
            f"/meetings/{meeting.id}/{path}", {name: [HUGE, "-1"]}
        )
        assert response.status_code == 302
    assert db.exec(select(MeetingItem)).all() == []
