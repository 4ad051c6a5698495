"""The base of every form: Flask-WTF's FlaskForm, taking files only in file fields.

Flask-WTF hands each field the posted files and the posted text together, so a
file part sent under a text field's name reached the field as a FileStorage
object, and the first str method a validator called on it ended in a 500.
Here such a part is taken out before the fields see it, and the field gets a
validation error instead.
"""

from typing import Any

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm as _FlaskForm
from werkzeug.datastructures import CombinedMultiDict, MultiDict
from wtforms import FileField

NOT_A_FILE = _l("This field takes text, not a file.")


class FlaskForm(_FlaskForm):
    class Meta(_FlaskForm.Meta):
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
