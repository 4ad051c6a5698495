"""Where the top-level folders are, in a checkout and in an installed wheel.

In a checkout templates/ and migrations/ sit beside the package; the wheel
carries them inside the package as _templates/ and _migrations/.
"""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    beside = _PACKAGE.parent / name
    if beside.is_dir():
        return beside
    return _PACKAGE / f"_{name}"


def template_folder() -> str:
    return str(_find("templates"))


def migrations_folder() -> str:
    return str(_find("migrations"))


def translations_folder() -> str:
    return str(_PACKAGE / "translations")
