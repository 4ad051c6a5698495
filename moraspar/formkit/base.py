"""The base of every form: Flask-WTF's FlaskForm, taking files only in file
fields, with WTForms' own messages read once per language.

Flask-WTF hands each field the posted files and the posted text together, so a
file part sent under a text field's name reached the field as a FileStorage
object, and the first str method a validator called on it ended in a 500.
Here such a part is taken out before the fields see it, and the field gets a
validation error instead.

Flask-WTF also reads WTForms' message catalogue ("Not a valid choice." in
Swedish) from disk on every request that builds a form; here each language's
catalogue is read once per process.
"""

from functools import lru_cache
from typing import Any

from babel import support
from flask import request
from flask_babel import get_locale
from flask_wtf import FlaskForm as _FlaskForm
from werkzeug.datastructures import CombinedMultiDict, MultiDict
from wtforms import FileField
from wtforms.i18n import messages_path

from moraspar.i18n import lazy_gettext as _l

NOT_A_FILE = _l("This field takes text, not a file.")


@lru_cache(maxsize=16)
def wtforms_messages(locale: str) -> support.NullTranslations:
    """WTForms' own messages in `locale` (a babel locale name); untranslated
    where WTForms has no catalogue for it."""
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class FlaskForm(_FlaskForm):
    class Meta(_FlaskForm.Meta):
        def get_translations(self, form: Any) -> Any:
            return wtforms_messages(str(get_locale()))

        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            formdata = super().wrap_formdata(form, formdata)
            if not isinstance(formdata, CombinedMultiDict) or not request.files:
                return formdata
            refused = {
                name
                for name in request.files
                if name in form._fields and not isinstance(form[name], FileField)
            }
            form._files_refused = refused
            if not refused:
                return formdata
            files = MultiDict(
                (name, file)
                for name, file in request.files.items(multi=True)
                if name not in refused
            )
            return CombinedMultiDict((files, request.form))

    def validate(self, extra_validators: Any = None) -> bool:
        valid: bool = super().validate(extra_validators)
        for name in getattr(self, "_files_refused", ()):
            self[name].errors = [*self[name].errors, NOT_A_FILE]
            valid = False
        return valid
