"""What every feature asks of an organisation and what it posts: who may change
it, whether an organisation number is still free, and whether an edit was made
on what is stored now (edit versions).

Services-style: plain functions, the session passed in, named errors; no flask
(the form side of edit versions is in organisations/forms.py).

Edit versions. Needs, placements, skill gaps, programmes and organisation
profiles carry a `version`. An edit form carries the version it was read at;
saving claims the record with one conditional UPDATE ("set version to read + 1
where version is still read"), so of two edits of the same version exactly one
wins, on SQLite and PostgreSQL alike, and the row stays locked until the commit.
The loser gets StaleEdit with the fields the others changed, read from the
audit trail (every saved edit records its fields and new version).
"""

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, SQLModel, col, select, update

from moraspar.audit import entity_name
from moraspar.models import AuditEvent, Organisation, Role, User
from moraspar.reference import orgnumber

# Values per SQL IN (...), well below every database's parameter limit.
_CHUNK = 500


class NotOwner(Exception):
    """The user is neither a member of the owning organisation nor an admin;
    views answer 403."""


class OrgNumberTaken(Exception):
    """Another organisation already has this organisation number."""

    field = "org_number"


# -- ownership ---------------------------------------------------------------


def may_change(user: User, organisation_id: int | None) -> bool:
    """Members of the organisation, and admins, may change what it owns."""
    if user.role == Role.ADMIN:
        return True
    return user.organisation_id is not None and user.organisation_id == organisation_id


def check_owner(user: User, organisation_id: int | None) -> None:
    """NotOwner unless may_change(user, organisation_id)."""
    if not may_change(user, organisation_id):
        raise NotOwner()


# -- organisation numbers -----------------------------------------------------


def normalise_org_number(raw: str | None) -> str | None:
    """'5560360793' -> '556036-0793'; blank -> None. Raises
    orgnumber.InvalidOrgNumber for a malformed number or a wrong check digit."""
    if raw is None or not raw.strip():
        return None
    return orgnumber.normalise(raw)


def check_org_number_free(
    session: Session, number: str | None, *, except_id: int | None = None
) -> str | None:
    """The normalised number if no other organisation (than except_id) has it;
    OrgNumberTaken otherwise. A blank number is always free (None)."""
    normalised = normalise_org_number(number)
    if normalised is None:
        return None
    holder = by_org_number(session, [normalised]).get(normalised)
    if holder is not None and holder.id != except_id:
        raise OrgNumberTaken()
    return normalised


def by_org_number(session: Session, numbers: Sequence[str]) -> dict[str, Organisation]:
    """The organisations holding the given normalised numbers, by number: the
    same check for a whole file at once, in a few statements."""
    found: dict[str, Organisation] = {}
    for chunk in _chunks(numbers):
        query = select(Organisation).where(col(Organisation.org_number).in_(chunk))
        for organisation in session.exec(query):
            found[organisation.org_number or ""] = organisation
    return found


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


# -- edit versions -------------------------------------------------------------


class StaleEdit(Exception):
    """Someone else saved the record after the user read it. changes: the
    fields they changed, with the values stored now (field -> value)."""

    def __init__(self, changes: dict[str, Any], version: int) -> None:
        super().__init__(", ".join(changes) or "stale")
        self.changes = changes
        self.version = version  # what the form should carry to save over it


def claim_edit(
    session: Session, record: Any, *, read_version: int | None, guard: Any = None
) -> bool:
    """Bump record's version from read_version in one statement; whether it
    was still read_version (and guard, an extra SQL condition, held).

    On success the row is this transaction's until the commit; on failure
    nothing is written and record is reloaded with what is stored now.
    """
    if read_version is None:
        session.refresh(record)
        return False
    model = type(record)
    statement = (
        update(model)
        .where(col(model.id) == record.id)
        .where(col(model.version) == read_version)
        .values(version=col(model.version) + 1)
        .execution_options(synchronize_session=False)
    )
    if guard is not None:
        statement = statement.where(guard)
    if session.exec(statement).rowcount != 1:
        session.refresh(record)
        return False
    set_committed_value(record, "version", read_version + 1)
    return True


def stale_edit(session: Session, record: Any, *, read_version: int | None) -> StaleEdit:
    """StaleEdit for record (reloaded by claim_edit): the fields the edits
    saved after read_version changed, with their values now."""
    since = read_version or 0
    events = session.exec(
        select(AuditEvent)
        .where(AuditEvent.entity == entity_name(record))
        .where(AuditEvent.entity_id == record.id)
        .where(col(AuditEvent.action).endswith(".update"))
        .order_by(col(AuditEvent.id))
    ).all()
    names: list[str] = []
    for event in events:
        if int(event.details.get("version") or 0) <= since:
            continue
        for name in event.details.get("fields") or ():
            if name not in names and hasattr(record, name):
                names.append(name)
    return StaleEdit({name: getattr(record, name) for name in names}, record.version)


def snapshot(record: SQLModel, names: Iterable[str]) -> dict[str, Any]:
    """The values of names on record, to compare after an edit."""
    return {name: _copy(getattr(record, name)) for name in names}


def changed_fields(record: SQLModel, before: dict[str, Any]) -> list[str]:
    """The names in before whose value on record is now different."""
    return [name for name, value in before.items() if getattr(record, name) != value]


def _copy(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value
