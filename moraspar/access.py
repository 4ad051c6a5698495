"""Who may open which route: the one table, enforced before every request.

Every endpoint must appear in RULES. An endpoint missing from the table is
refused (fail closed) and the access-matrix test names it.
"""

from collections.abc import Mapping
from enum import Enum

from moraspar.models import Role


class Access(Enum):
    PUBLIC = "public"  # anonymous visitors too
    SIGNED_IN = "signed_in"  # any active user


TEACHER = frozenset({Role.TEACHER, Role.ADMIN})
COMPANY = frozenset({Role.COMPANY, Role.ADMIN})
COUNCIL = frozenset({Role.COUNCIL, Role.ADMIN})
ADMIN = frozenset({Role.ADMIN})
STAFF = frozenset({Role.TEACHER, Role.COMPANY, Role.COUNCIL, Role.ADMIN})

Rule = Access | frozenset[Role]

RULES: Mapping[str, Rule] = {
    "static": Access.PUBLIC,
    "main.healthz": Access.PUBLIC,
    "main.set_language": Access.PUBLIC,
    "main.privacy": Access.PUBLIC,
    "main.accessibility": Access.PUBLIC,
    "main.home": Access.SIGNED_IN,
    "auth.login": Access.PUBLIC,
    "auth.register": Access.PUBLIC,
    "auth.reset_request": Access.PUBLIC,
    "auth.reset_password": Access.PUBLIC,
    "auth.accept_invite": Access.PUBLIC,
    "auth.logout": Access.SIGNED_IN,
    "auth.change_password": Access.SIGNED_IN,
    "auth.profile": Access.SIGNED_IN,
    "schools.home": TEACHER,
    "companies.home": COMPANY,
    "council.home": COUNCIL,
    "admin.home": ADMIN,
    "admin.users": ADMIN,
    "admin.invite": ADMIN,
    "admin.user_active": ADMIN,
    "admin.organisations": ADMIN,
    "admin.organisation_new": ADMIN,
    "admin.approve_company": ADMIN,
    "admin.audit": ADMIN,
}


def rule_for(endpoint: str | None) -> Rule | None:
    if endpoint is None:
        return None
    return RULES.get(endpoint)


def allows(rule: Rule, role: str | None) -> bool:
    """Whether a user with role (None = anonymous) may open a route with rule."""
    if rule is Access.PUBLIC:
        return True
    if role is None:
        return False
    if rule is Access.SIGNED_IN:
        return True
    assert isinstance(rule, frozenset)
    return role in rule
