"""The optional second factor: time-based one-time codes (RFC 6238) from an app.

Plain functions with the session passed in, like the other auth services; they
flush and never commit.

Secrets are stored encrypted (Fernet) under TOTP_KEY: one key, or several
separated by commas to rotate (the first encrypts, every one decrypts). In
development the key is derived from SECRET_KEY; production refuses to start
without TOTP_KEY. A secret stored in clear by an older version is encrypted
the first time it is read.
"""

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from sqlmodel import Session

from moraspar import audit
from moraspar.auth.services import verify_password
from moraspar.models import User

ISSUER = "Moraspår"
# Codes from the step before and after count too: phone clocks drift.
DRIFT_STEPS = 1


class InvalidCode(Exception):
    """The code is wrong, expired or was already used."""

    field = "code"


_PLAIN_SECRET = re.compile(r"[A-Z2-7]{16,64}")


class SecretKeyError(Exception):
    """A stored secret cannot be decrypted with any configured key."""


@dataclass(frozen=True)
class SecretBox:
    """Encrypts under the first key; decrypts under any."""

    keys: tuple[Fernet, ...]

    def seal(self, secret: str) -> str:
        return self.keys[0].encrypt(secret.encode()).decode()

    def open(self, stored: str) -> tuple[str, bool]:
        """(the secret, whether it should be sealed again under the first key)."""
        for index, key in enumerate(self.keys):
            try:
                return key.decrypt(stored.encode()).decode(), index > 0
            except InvalidToken:
                continue
        raise SecretKeyError()


def secret_box(config: Mapping[str, Any]) -> SecretBox:
    """The box for TOTP secrets, from the app's configuration."""
    configured = str(config.get("TOTP_KEY") or "")
    keys = [key.strip() for key in configured.split(",") if key.strip()]
    if not keys:
        digest = hashlib.sha256(f"moraspar.totp:{config['SECRET_KEY']}".encode())
        keys = [base64.urlsafe_b64encode(digest.digest()).decode()]
    return SecretBox(tuple(Fernet(key.encode()) for key in keys))


def secret_of(user: User, box: SecretBox) -> str:
    """The user's TOTP secret in clear. A secret stored in clear, or under an
    older key, is sealed again under the current one (the caller commits)."""
    stored = user.totp_secret
    if stored is None:
        raise ValueError("the account has no second factor")
    if _PLAIN_SECRET.fullmatch(stored):
        secret, reseal = stored, True
    else:
        secret, reseal = box.open(stored)
    if reseal:
        user.totp_secret = box.seal(secret)
    return secret


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_data_uri(uri: str) -> str:
    """The URI as a QR code, an SVG in a data: URI (the CSP allows data: images)."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, border=4)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code equals code, or None. Compared in constant time."""
    code = "".join(code.split())
    # ASCII digits only: "٣" and "③" are digits to str.isdigit, not to a TOTP.
    if not (code.isascii() and code.isdigit()) or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    step = totp.timecode(now)
    found = None
    for offset in range(-DRIFT_STEPS, DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(now, counter_offset=offset), code):
            found = step + offset
    return found


def enable(
    session: Session,
    *,
    user: User,
    secret: str,
    code: str,
    now: datetime,
    box: SecretBox,
) -> int:
    """Turn the second factor on once the user shows a code from the new secret.
    Returns the time step used, so the caller can refuse its replay."""
    step = matching_step(secret, code, now)
    if step is None:
        raise InvalidCode()
    user.totp_secret = box.seal(secret)
    session.add(user)
    session.flush()
    audit.record(session, user, actor=user, action="user.totp_enable")
    return step


def disable(session: Session, *, user: User, password: str) -> None:
    verify_password(user, password)
    user.totp_secret = None
    session.add(user)
    session.flush()
    audit.record(
        session,
        user,
        actor=user,
        action="user.totp_disable",
    )
