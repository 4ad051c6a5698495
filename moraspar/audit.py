"""The audit trail: who did what to which record, written beside the change."""

import re
from typing import Any

from sqlmodel import Session, SQLModel

from moraspar.models import AuditEvent, User


def entity_name(record: SQLModel) -> str:
    """The record's kind as the trail names it: MatchProposal -> "match_proposal"."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(record).__name__).lower()


def record(
    session: Session,
    target: SQLModel | None = None,
    /,
    *,
    actor: User | None,
    action: str,
    entity: str | None = None,
    entity_id: int | None = None,
    **details: Any,
) -> AuditEvent:
    """Add an event about `target` (or about a named entity with no row, such
    as "system" or "demo"). The target is flushed first if it has no id yet."""
    if target is not None:
        if getattr(target, "id", None) is None:
            session.add(target)
            session.flush()
        entity = entity or entity_name(target)
        entity_id = target.id  # type: ignore[attr-defined]
    if entity is None:
        raise ValueError("audit.record needs a target or an entity name")
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        action=action,
        entity=entity,
        entity_id=entity_id,
        details=details,
    )
    session.add(event)
    return event
