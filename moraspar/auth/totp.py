"""The optional second factor: time-based one-time codes (RFC 6238) from an app.

Plain functions with the session passed in, like the other auth services; they
flush and never commit.
"""

import base64
import hmac
from datetime import datetime

import pyotp
import segno
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


def new_secret() -> str:
    return pyotp.random_base32()


def secret_of(user: User) -> str:
    """The user's TOTP secret, for an account that has one."""
    if user.totp_secret is None:
        raise ValueError("the account has no second factor")
    return user.totp_secret


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_data_uri(uri: str) -> str:
    """The URI as a QR code, an SVG in a data: URI (the CSP allows data: images)."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, border=4)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step whose code equals code, or None. Compared in constant time."""
    code = "".join(code.split())
    if not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    step = totp.timecode(now)
    found = None
    for offset in range(-DRIFT_STEPS, DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(now, counter_offset=offset), code):
            found = step + offset
    return found


def enable(
    session: Session, *, user: User, secret: str, code: str, now: datetime
) -> int:
    """Turn the second factor on once the user shows a code from the new secret.
    Returns the time step used, so the caller can refuse its replay."""
    step = matching_step(secret, code, now)
    if step is None:
        raise InvalidCode()
    user.totp_secret = secret
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
