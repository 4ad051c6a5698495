"""Translation look-ups: the request's catalogue found once per request.

flask_babel's own `gettext` and `lazy_gettext` look the domain, the locale
and the catalogue up again for every string, and a form page translates a
few hundred (labels, help texts, choices). Here the catalogue is kept on `g`
beside the locale object flask_babel chose for the request; after a change
of language (flask_babel's refresh drops that locale) the next string finds
the new catalogue. Templates use the same look-up
(`moraspar.extensions.install_template_translations`). The results are
flask_babel's: the same catalogue, the same formatting of variables.
"""

from typing import Any

from flask import g
from flask_babel import LazyString, get_locale, get_translations


def translations() -> Any:
    """The catalogue for the request's locale (flask_babel's untranslated
    fallback outside an app context). Plain attribute reads on the one g
    object: each read through the g proxy costs as much as the look-up it
    saves."""
    try:
        ctx = g._get_current_object()
    except RuntimeError:
        return get_translations()
    chosen = getattr(ctx.__dict__.get("_flask_babel"), "babel_locale", None)
    cached = ctx.__dict__.get("_template_translations")
    if cached is not None and chosen is not None and cached[0] is chosen:
        return cached[1]
    found = get_translations()
    ctx._template_translations = (get_locale(), found)
    return found


def gettext(string: str, **variables: Any) -> str:
    """`string` in the request's language, with `variables` filled in."""
    text: str = translations().ugettext(string)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """The singular or plural form for `num` (also `%(num)d`), translated."""
    variables.setdefault("num", num)
    text: str = translations().ungettext(singular, plural, num)
    return text % variables


def lazy_gettext(string: str, **variables: Any) -> LazyString:
    """`gettext` when the string is used, for texts made at import time."""
    return LazyString(gettext, string, **variables)
