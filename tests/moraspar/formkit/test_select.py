"""The pick lists' fast option markup is WTForms' own, escaped the same way."""

from typing import Any

import wtforms
from flask import Flask
from werkzeug.datastructures import MultiDict
from wtforms import SelectChoice

from moraspar.formkit.base import FlaskForm
from moraspar.formkit.choices import as_choices
from moraspar.formkit.select import SelectField, SelectMultipleField

CHOICES = as_choices(
    [("", "All"), ("a&b", 'Fish "&" <chips>'), ("mora", "Mora"), ("å", "Å")]
)
MARKED = [
    SelectChoice("x", "X", render_kw={"data-kind": "apl"}),
    SelectChoice("y", "Y"),
]


def _forms(app: Flask, data: dict[str, Any]) -> tuple[Any, Any]:
    class Fast(FlaskForm):
        class Meta:
            csrf = False

        one = SelectField(choices=CHOICES)
        many = SelectMultipleField(choices=CHOICES)
        marked = SelectField(choices=MARKED)

    class Plain(FlaskForm):
        class Meta:
            csrf = False

        one = wtforms.SelectField(choices=CHOICES)
        many = wtforms.SelectMultipleField(choices=CHOICES)
        marked = wtforms.SelectField(choices=MARKED)

    with app.test_request_context():
        formdata = MultiDict(data)
        return Fast(formdata=formdata), Plain(formdata=formdata)


def test_options_render_as_wtforms_renders_them(app: Flask) -> None:
    for data in (
        {},
        {"one": "a&b", "many": ["mora", "å"], "marked": "x"},
        {"one": "<script>", "marked": "y"},
    ):
        fast, plain = _forms(app, data)
        for name in ("one", "many", "marked"):
            assert str(fast[name]()) == str(plain[name]()), (name, data)


def test_labels_and_values_are_escaped(app: Flask) -> None:
    fast, _ = _forms(app, {"one": "a&b"})
    html = str(fast.one())
    assert (
        '<option selected value="a&amp;b">Fish &#34;&amp;&#34; &lt;chips&gt;</option>'
        in html
    )
