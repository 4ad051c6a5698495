"""Pick lists that render their options without WTForms' general attribute
builder.

WTForms' Select widget builds each <option> through `html_params`, which
sorts, escapes and joins a dict per option; a search form with a hundred
industries and localities spent a fifth of the page's time there. An option
without extra attributes is written here directly, with the same markup
(`<option selected value="...">label</option>`, value and label escaped);
options with render_kw take WTForms' own path.
"""

from typing import Any

import wtforms
from markupsafe import Markup, escape
from wtforms import widgets


class Select(widgets.Select):
    @classmethod
    def render_option(cls, choice: Any, **kwargs: Any) -> Markup:
        if kwargs or choice.render_kw:
            return super().render_option(choice, **kwargs)
        value = choice.value
        if isinstance(value, bool):
            value = str(value)
        selected = " selected" if choice.selected else ""
        label = escape(choice.label or choice.value)
        # value and label are escaped above; selected is a constant
        return Markup(f'<option{selected} value="{escape(value)}">{label}</option>')  # noqa: S704  # nosec B704


class SelectField(wtforms.SelectField):
    widget = Select()


class SelectMultipleField(wtforms.SelectMultipleField):
    widget = Select(multiple=True)
