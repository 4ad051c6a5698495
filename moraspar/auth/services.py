"""Accounts: passwords, sessions, invitations, resets and company registration."""

import contextlib
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path

from argon2 import Parameters, PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import bindparam
from sqlmodel import Session, func, select

from moraspar import audit, organisations
from moraspar.council.scope import add_to_areas
from moraspar.models import Organisation, OrgKind, Role, User, utcnow
from moraspar.reference.gazetteer import coordinates

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
_DATA = Path(__file__).resolve().parent.parent / "data"
COMMON_PASSWORDS_FILE = _DATA / "common-passwords.txt"

# argon2-cffi's named profiles; production uses RFC 9106's low-memory one
# (Argon2id, t=3, m=64 MiB, p=4). The test suite sets CHEAPEST.
HASH_PROFILES: dict[str, Parameters] = {
    "RFC_9106_LOW_MEMORY": profiles.RFC_9106_LOW_MEMORY,
    "CHEAPEST": profiles.CHEAPEST,
}
_hasher = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)
# Verified when the email is unknown, so a miss costs as much time as a hit.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def use_hash_profile(name: str) -> None:
    """Hash new passwords with the named profile (the PASSWORD_HASH_PROFILE
    setting); hashes made with other parameters still verify."""
    global _hasher, _DUMMY_HASH
    parameters = HASH_PROFILES[name]
    if _hasher.time_cost == parameters.time_cost and (
        _hasher.memory_cost == parameters.memory_cost
    ):
        return
    _hasher = PasswordHasher.from_parameters(parameters)
    _DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def hash_parameters() -> tuple[int, int, int]:
    """(time cost, memory in KiB, parallelism) that new hashes get."""
    return (_hasher.time_cost, _hasher.memory_cost, _hasher.parallelism)


class AccountError(Exception):
    """Base of the account errors; `field` names the form field to blame."""

    field: str | None = None


class EmailTaken(AccountError):
    field = "email"


class InvalidCredentials(AccountError):
    pass


class WeakPassword(AccountError):
    field = "password"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "too_short", "too_long", "same_as_email", "common"


class WrongPassword(AccountError):
    field = "current_password"


class InvalidToken(AccountError):
    def __init__(self, expired: bool = False) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


class OrgNumberTaken(AccountError):
    field = "org_number"


def normalise_email(email: str) -> str:
    return email.strip().lower()


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_policy(password: str, *, email: str = "") -> None:
    """NIST 800-63B style: length only, no composition rules."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword("too_short")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword("too_long")
    if email and password.strip().lower() == normalise_email(email):
        raise WeakPassword("same_as_email")
    if is_common_password(password):
        raise WeakPassword("common")


@functools.cache
def common_passwords() -> frozenset[str]:
    """The bundled list (see data/SOURCE.md), lower-cased."""
    text = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip())


def is_common_password(password: str) -> bool:
    """In the list; a listed word dressed up with digits and signs
    ("Sommar2024!!!!"); or made of three distinct characters or fewer
    ("abcabcabcabc")."""
    folded = password.strip().lower()
    listed = common_passwords()
    if folded in listed or "".join(folded.split()) in listed:
        return True
    letters = "".join(ch for ch in folded if ch.isalpha())
    if len(letters) >= 4 and letters in listed:
        return True
    return len(set(folded)) <= 3


def find_by_email(session: Session, email: str) -> User | None:
    query = select(User).where(func.lower(User.email) == normalise_email(email))
    return session.exec(query).first()


# Built once: every signed-in request loads its user by this statement.
_BY_SESSION_TOKEN = select(User).where(User.session_token == bindparam("token"))


def find_by_session_token(session: Session, token: str) -> User | None:
    user = session.exec(_BY_SESSION_TOKEN, params={"token": token}).first()
    if user is None or not user.active:
        return None
    return user


def create_user(
    session: Session,
    *,
    email: str,
    display_name: str,
    role: Role | str,
    organisation: Organisation | None,
    password: str | None = None,
    language: str = "sv",
    actor: User | None = None,
    password_hash: str | None = None,
) -> User:
    if find_by_email(session, email) is not None:
        raise EmailTaken()
    if password is not None:
        check_password_policy(password, email=email)
        password_hash = hash_password(password)
    user = User(
        email=normalise_email(email),
        display_name=display_name.strip(),
        role=str(role),
        organisation_id=organisation.id if organisation else None,
        password_hash=password_hash,
        language=language,
        session_token=new_session_token(),
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        user,
        actor=actor,
        action="user.create",
        role=user.role,
    )
    return user


def authenticate(session: Session, *, email: str, password: str) -> User:
    user = find_by_email(session, email)
    if user is None or not user.active or not user.password_hash:
        _burn(password)
        raise InvalidCredentials()
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError) as exc:
        raise InvalidCredentials() from exc
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    session.add(user)
    session.flush()
    return user


def verify_password(user: User, password: str) -> None:
    """Raise WrongPassword unless password is the user's current one."""
    try:
        _hasher.verify(user.password_hash or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError) as exc:
        raise WrongPassword() from exc


def _burn(password: str) -> None:
    with contextlib.suppress(VerificationError):
        _hasher.verify(_DUMMY_HASH, password)


def rotate_session_token(session: Session, user: User) -> None:
    """Sign the user out everywhere: old sessions and remember cookies stop working."""
    user.session_token = new_session_token()
    session.add(user)
    session.flush()


def change_password(
    session: Session, *, user: User, current_password: str, new_password: str
) -> None:
    try:
        _hasher.verify(user.password_hash or _DUMMY_HASH, current_password)
    except (VerificationError, InvalidHashError) as exc:
        raise WrongPassword() from exc
    set_password(session, user=user, password=new_password)
    audit.record(session, user, actor=user, action="user.password")


def set_password(session: Session, *, user: User, password: str) -> None:
    check_password_policy(password, email=user.email)
    user.password_hash = hash_password(password)
    rotate_session_token(session, user)


def _token_fingerprint(user: User) -> str:
    # A one-way digest of the user's current secrets: the link dies when the
    # password changes or the session token rotates (which setting a password
    # does, so a link works once), and reveals neither.
    material = f"{user.id}:{user.session_token}:{user.password_hash or ''}"
    return hashlib.sha256(material.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Tokens:
    """Signed, time-limited links that carry the user id and a fingerprint of
    the account's secrets, never a secret itself."""

    secret_key: str

    def _serializer(self, purpose: str) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.secret_key, salt=f"moraspar.{purpose}")

    def make(self, purpose: str, user: User) -> str:
        return self._serializer(purpose).dumps([user.id, _token_fingerprint(user)])

    def load(self, session: Session, purpose: str, token: str, max_age: int) -> User:
        try:
            user_id, fingerprint = self._serializer(purpose).loads(
                token, max_age=max_age
            )
        except SignatureExpired as exc:
            raise InvalidToken(expired=True) from exc
        except (BadSignature, ValueError, TypeError) as exc:
            raise InvalidToken() from exc
        user = session.get(User, user_id) if isinstance(user_id, int) else None
        if (
            user is None
            or not user.active
            or not isinstance(fingerprint, str)
            or not hmac.compare_digest(_token_fingerprint(user), fingerprint)
        ):
            raise InvalidToken()
        return user


def set_active(session: Session, *, user: User, active: bool, actor: User) -> None:
    user.active = active
    rotate_session_token(session, user)
    audit.record(
        session,
        user,
        actor=actor,
        action="user.activate" if active else "user.deactivate",
    )


def set_language(session: Session, *, user: User, language: str) -> None:
    user.language = language
    session.add(user)
    session.flush()


def register_company(
    session: Session,
    *,
    company_name: str,
    org_number: str,
    locality: str,
    contact_name: str,
    email: str,
    password: str,
    language: str = "sv",
) -> User:
    """A company signs itself up; it may post only after an admin approves it."""
    try:
        number = organisations.check_org_number_free(session, org_number)
    except organisations.OrgNumberTaken as taken:
        raise OrgNumberTaken() from taken
    # The password is judged and hashed before the address is looked up, so a
    # taken address answers no sooner and no differently than a free one.
    check_password_policy(password, email=email)
    password_hash = hash_password(password)
    if find_by_email(session, email) is not None:
        raise EmailTaken()
    position = coordinates(locality)
    company = Organisation(
        kind=OrgKind.COMPANY,
        name=company_name.strip(),
        org_number=number,
        locality=locality,
        lat=position[0] if position else None,
        lon=position[1] if position else None,
        contact_name=contact_name.strip(),
        contact_email=normalise_email(email),
        approved=False,
    )
    session.add(company)
    session.flush()
    # Unapproved, the company posts nothing yet; once approved, its postings
    # are already in the areas of the councils that take new organisations.
    add_to_areas(session, company)
    user = create_user(
        session,
        email=email,
        display_name=contact_name,
        role=Role.COMPANY,
        organisation=company,
        password_hash=password_hash,
        language=language,
    )
    audit.record(
        session,
        company,
        actor=user,
        action="organisation.register",
    )
    return user


def admins(session: Session) -> list[User]:
    query = select(User).where(User.role == Role.ADMIN).where(User.active == True)  # noqa: E712
    return list(session.exec(query).all())
