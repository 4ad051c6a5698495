"""Translation look-ups: the request's catalogue is found once per request,
for the lazy texts of forms as for templates, and the texts still follow the
user's language."""

from typing import Any

import flask_babel
from flask import Flask
from sqlmodel import Session

from moraspar.i18n import gettext, lazy_gettext, ngettext
from moraspar.models import Role


def test_a_form_page_looks_its_translations_up_once(
    client: Any, auth: Any, db: Session, translation_lookups: list[int]
) -> None:
    user = auth.login(Role.TEACHER)
    calls = translation_lookups
    pages = {}
    for language in ("sv", "en"):
        user.language = language
        db.add(user)
        db.commit()
        calls.clear()
        pages[language] = client.get("/school/needs/new").get_data(as_text=True)
        # The form's labels, help texts and choices are a few hundred strings.
        assert len(calls) <= 2, (language, len(calls))
    assert "Antal elever" in pages["sv"]
    assert "Number of students" not in pages["sv"]
    assert "Number of students" in pages["en"]


def test_the_look_ups_translate_as_flask_babel_does(app: Flask) -> None:
    with app.test_request_context(), flask_babel.force_locale("sv"):
        assert gettext("Title") == flask_babel.gettext("Title") == "Rubrik"
        assert str(lazy_gettext("Title")) == "Rubrik"
        text = "At most %(max)d characters."
        assert gettext(text, max=5) == flask_babel.gettext(text, max=5)
        assert "5" in gettext(text, max=5)
        for n in (1, 3):
            assert ngettext("%(num)d week", "%(num)d weeks", n) == flask_babel.ngettext(
                "%(num)d week", "%(num)d weeks", n
            )
    # Outside any app context: flask_babel's untranslated fallback.
    assert gettext("Title") == "Title"
