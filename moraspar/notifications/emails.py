"""Emails rendered without Flask, in the recipient's language.

The notification services run in a request, in a CLI command and in a plain
thread (the concurrency test), so they cannot rely on Flask's render_template
or on Flask-Babel's request locale. This module renders the same templates
(templates/email/*.txt) with its own Jinja environment and the same Babel
catalogue, in the *recipient's* language rather than the actor's; services
other than notifications use `render_mail` for the same reason.

A template has two blocks, `subject` and `body`. For a notification the
variables are its params plus `link` (absolute) and `period` (formatted).
"""

import os
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from babel.support import NullTranslations, Translations
from jinja2 import Environment, FileSystemLoader

from moraspar.config import ENV_PREFIX
from moraspar.paths import template_folder, translations_folder
from moraspar.reference.locales import format_locale

DEFAULT_BASE_URL = "http://127.0.0.1:5000"  # the same default as config.py
LANGUAGES = ("sv", "en")
LOCAL_TIMEZONE = ZoneInfo("Europe/Stockholm")  # as BABEL_DEFAULT_TIMEZONE


def base_url() -> str:
    """The site's address for links in emails: MORASPAR_BASE_URL, as in config."""
    return (os.environ.get(f"{ENV_PREFIX}_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")


def template_name(kind: str) -> str:
    stem = kind if kind.startswith("proposal_") else f"proposal_{kind}"
    return f"email/{stem}.txt"


@lru_cache(maxsize=len(LANGUAGES))
def _environment(language: str) -> Environment:
    translations: NullTranslations = Translations.load(
        translations_folder(), [language], domain="messages"
    )
    env = Environment(
        loader=FileSystemLoader(template_folder()),
        extensions=["jinja2.ext.i18n"],
        autoescape=False,  # noqa: S701 - plain-text mail, never HTML  # nosec B701
        keep_trailing_newline=True,
    )
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    return env


def format_period(start: str | None, end: str | None, language: str) -> str:
    """ISO dates from a notification's params, written for the language."""

    def fmt(value: str) -> str:
        return format_date(
            date.fromisoformat(value), "medium", locale=format_locale(language)
        )

    if start and end:
        return f"{fmt(start)} – {fmt(end)}"
    one = start or end
    return fmt(one) if one else "–"


def format_moment(moment: datetime, language: str) -> tuple[str, str]:
    """(date, time) of a moment in Swedish time, written for the language."""
    local = moment.astimezone(LOCAL_TIMEZONE)
    return (
        format_date(local, "long", locale=format_locale(language)),
        format_time(local, "short", locale=format_locale(language)),
    )


def _supported(language: str) -> str:
    return language if language in LANGUAGES else LANGUAGES[0]


def render(
    kind: str,
    params: dict[str, Any],
    *,
    link: str,
    language: str,
    base: str | None = None,
) -> tuple[str, str]:
    """(subject, body) of the email for a notification, in language."""
    language = _supported(language)
    values = {
        **params,
        "link": f"{base if base is not None else base_url()}{link}",
        "period": format_period(params.get("start"), params.get("end"), language),
    }
    return render_mail(template_name(kind), values, language=language)


def render_mail(name: str, values: dict[str, Any], *, language: str) -> tuple[str, str]:
    """(subject, body) of the email template `name` (under templates/), in
    language; the values are the template's variables as they are."""
    template = _environment(_supported(language)).get_template(name)
    context = template.new_context(values)
    subject = "".join(template.blocks["subject"](context)).strip()
    body = "".join(template.blocks["body"](context)).strip() + "\n"
    # One line, and no header injection from a title or a name.
    return " ".join(subject.split())[:300], body
