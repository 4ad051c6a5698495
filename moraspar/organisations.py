"""What every feature asks of an organisation: who may change its postings and
profile, and whether an organisation number is still free.

Services-style: plain functions, the session passed in, named errors; no flask.
"""

from collections.abc import Iterable, Sequence

from sqlmodel import Session, col, select

from moraspar.models import Organisation, Role, User
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
