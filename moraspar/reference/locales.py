"""Which locale writes numbers and dates for each interface language.

The language code stays "sv" or "en" (catalogues, the html lang attribute);
English is written the British way: day/month/year and a 24-hour clock.
"""

FORMAT_LOCALES = {"sv": "sv_SE", "en": "en_GB"}


def format_locale(language: str | None) -> str:
    """The babel locale name for an interface language, Swedish when unknown."""
    return FORMAT_LOCALES.get(language or "", FORMAT_LOCALES["sv"])
