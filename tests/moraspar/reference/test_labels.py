"""Every status, action and audit code a person sees has a label in both
languages, in the one table of moraspar/reference/labels.py."""

import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from sqlmodel import Session

from moraspar import lifecycle
from moraspar.council.services import ACTIONS
from moraspar.models import AuditEvent, PostingStatus, Role, User
from moraspar.reference import labels

ROOT = Path(__file__).resolve().parents[3]
CATALOGUE = ROOT / "moraspar/translations/sv/LC_MESSAGES/messages.po"
LITERAL_ACTION = re.compile(r'action="([a-z_]+\.[a-z_]+)"')


def _codes_the_code_writes() -> set[str]:
    """Literal audit actions in the source, and the ones built from parts."""
    codes: set[str] = set()
    for path in (ROOT / "moraspar").rglob("*.py"):
        codes.update(LITERAL_ACTION.findall(path.read_text(encoding="utf-8")))
    for entity in lifecycle.ENTITY.values():
        verbs = [*PostingStatus, "copy", "expire", "create", "update"]
        codes.update(f"{entity}.{verb}" for verb in verbs)
    codes.update(f"proposal.{action}" for action in ACTIONS)
    return codes


def test_every_audit_action_the_code_writes_has_a_label() -> None:
    codes = _codes_the_code_writes()
    assert {"proposal.confirm", "meeting_item.decide", "import.csv"} <= codes
    assert sorted(codes - set(labels.ACTION_LABELS)) == []


def test_every_label_has_a_swedish_translation() -> None:
    with CATALOGUE.open("rb") as f:
        catalogue = read_po(f)
    missing = []
    for name, table in labels.TABLES.items():
        for code, text in table.items():
            message = catalogue.get(str(getattr(text, "_args", [text])[0]))
            if message is None or not message.string:
                missing.append(f"{name}:{code}")
    assert missing == []


def test_a_code_without_a_label_is_refused_where_it_would_show(app: Flask) -> None:
    with app.test_request_context("/"):
        with pytest.raises(labels.UnlabelledCode, match=r"proposal\.teleport"):
            labels.action_label("proposal.teleport")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert labels.action_label("proposal.teleport") == "proposal.teleport"


def test_the_audit_log_reads_in_words_not_codes(
    client: Any, auth: Any, db: Session, make_user: Callable[..., User]
) -> None:
    admin = auth.login(Role.ADMIN)
    entities = {
        "proposal.confirm": "match_proposal",
        "meeting_item.decide": "meeting_item",
        "import.csv": "import",
        "need.paused": "need",
    }
    codes = list(entities)
    for code, entity in entities.items():
        db.add(
            AuditEvent(
                actor_id=admin.id,
                action=code,
                entity=entity,
                entity_id=None if entity == "import" else 7,
            )
        )
    db.commit()
    page = client.get("/admin/audit").get_data(as_text=True)
    for code in codes:
        assert code not in page
    assert "#None" not in page and "#7" not in page
    for words in (
        "Bekräftat av skolan eller företaget",
        "Mötesbeslut antecknat",
        "Företag och praktikplatser importerade",
        "Behov pausat",
        "Dagordningspunkt 7",
    ):
        assert words in page


def test_the_new_password_field_is_labelled_in_swedish(client: Any, auth: Any) -> None:
    auth.login(Role.TEACHER)
    page = client.get("/password").get_data(as_text=True)
    assert "Nytt lösenord" in page
    assert "New password" not in page
