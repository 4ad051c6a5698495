"""The business office's start page, from one service call."""

from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from moraspar.admin import services
from moraspar.models import Organisation, OrgKind, Role
from moraspar.reference.labels import KIND_LABELS, label


def test_overview_counts_organisations_and_lists_pending_companies(
    db: Session,
    make_company: Callable[..., Organisation],
    make_school: Callable[..., Organisation],
) -> None:
    waiting = make_company(approved=False, name="Väntande AB")
    make_company()
    make_school()

    overview = services.overview(db)

    assert [o.id for o in overview.pending] == [waiting.id]
    assert overview.counts == {
        OrgKind.SCHOOL: 1,
        OrgKind.COMPANY: 2,
        OrgKind.MUNICIPALITY: 0,
    }
    assert overview.users == 0


def test_admin_home_shows_the_overview(
    client: Any, auth: Any, make_company: Callable[..., Organisation]
) -> None:
    make_company(approved=False, name="Väntande AB")
    auth.login(Role.ADMIN, language="en")
    page = client.get("/admin/").get_data(as_text=True)
    assert "Väntande AB" in page
    assert "Companies waiting for approval" in page


def test_label_reads_a_stored_choice_and_leaves_unknown_values_as_they_are(
    app: Any,
) -> None:
    with app.test_request_context():
        assert label(KIND_LABELS, "study_visit") == "Studiebesök"
        assert label(KIND_LABELS, "okänd") == "okänd"
        assert label(KIND_LABELS, None) == ""
