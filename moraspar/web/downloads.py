"""Every download's file name: in the reader's language, safe on every system.

One function, `attach`, sets Content-Disposition for every file the app hands
out (exports, meeting minutes, calendar files, the own-data file). Following
RFC 6266 it sends two names: `filename="..."`, ASCII only, for clients that
know nothing else, and `filename*=UTF-8''...` (RFC 5987) with the real name,
åäö and all, which every current browser prefers.

Both names leave out what Windows, macOS or Linux refuse or misread in a file
name: / \\ : * ? " < > |, control characters, leading or trailing dots and
spaces, and Windows' reserved device names (CON, NUL, COM1 …).
"""

import re
import unicodedata
from typing import TypeVar
from urllib.parse import quote

from werkzeug.wrappers import Response

R = TypeVar("R", bound=Response)

# Refused by Windows (and / by every system); control characters confuse shells.
_FORBIDDEN = re.compile(r'[/\\:*?"<>|\x00-\x1f\x7f]+')
_NOT_ASCII_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])$", re.IGNORECASE)
# Most file systems allow 255 bytes; leave room for "(2)" a browser may add.
_MAX_BYTES = 200
FALLBACK_STEM = "moraspar"


def _split(name: str) -> tuple[str, str]:
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or not re.fullmatch(r"[A-Za-z0-9]{1,8}", extension):
        return name, ""
    return stem, "." + extension.lower()


def _finish(stem: str, extension: str) -> str:
    stem = stem.strip(" .-")
    if not stem or _RESERVED.match(stem):
        stem = f"{FALLBACK_STEM}-{stem}" if stem else FALLBACK_STEM
    while len((stem + extension).encode("utf-8")) > _MAX_BYTES:
        stem = stem[:-1].rstrip(" .-")
    return stem + extension


def safe_filename(name: str) -> str:
    """name, NFC-normalised, with what no operating system accepts replaced."""
    stem, extension = _split(unicodedata.normalize("NFC", name.strip()))
    stem = " ".join(_FORBIDDEN.sub("-", stem).split())
    return _finish(stem, extension)


def ascii_filename(name: str) -> str:
    """The ASCII fallback: Företag i Älvdalen.csv → Foretag-i-Alvdalen.csv."""
    stem, extension = _split(safe_filename(name))
    folded = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    return _finish(_NOT_ASCII_SAFE.sub("-", folded), extension)


def content_disposition(name: str) -> str:
    safe = safe_filename(name)
    return (
        f'attachment; filename="{ascii_filename(safe)}"; '
        f"filename*=UTF-8''{quote(safe, safe='')}"
    )


def attach(response: R, name: str) -> R:
    """response as a download called name (with its extension). Downloads
    can hold contact details: they stay out of shared caches."""
    response.headers["Content-Disposition"] = content_disposition(name)
    response.headers["Cache-Control"] = "private, no-store"
    return response
