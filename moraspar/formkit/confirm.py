"""The confirmation step every feature shares: a form that carries only CSRF."""

from wtforms import HiddenField

from moraspar.formkit.base import FlaskForm


class ConfirmForm(FlaskForm):
    """An empty form: the CSRF token on a confirmation step or a status button."""

    confirm = HiddenField(default="yes")
