"""Where a form may send the user next: one rule for every redirect target."""

from urllib.parse import urlsplit

# Browsers drop tab, newline and carriage return from URLs before parsing them,
# so "/\t/evil.example" is read as "//evil.example": refuse every control
# character rather than strip them.
_MAX_LENGTH = 2000


def safe_next(target: str | None) -> str | None:
    """The target if it is a path on this site, else None.

    Refused: absolute and scheme-relative URLs, backslashes (some browsers read
    them as slashes), control characters and whitespace anywhere, and targets
    over 2,000 characters.
    """
    if not target or len(target) > _MAX_LENGTH:
        return None
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in target):
        return None
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
