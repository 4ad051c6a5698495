"""The audit trail: who did what to which record, written beside the change."""

from typing import Any

from sqlmodel import Session

from moraspar.models import AuditEvent, User


def record(
    session: Session,
    *,
    actor: User | None,
    action: str,
    entity: str,
    entity_id: int | None,
    **details: Any,
) -> AuditEvent:
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        action=action,
        entity=entity,
        entity_id=entity_id,
        details=details,
    )
    session.add(event)
    return event
