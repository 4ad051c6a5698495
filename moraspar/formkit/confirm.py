"""The confirmation step every feature shares: a form that carries only CSRF."""

from flask_wtf import FlaskForm
from wtforms import HiddenField


class ConfirmForm(FlaskForm):
    """An empty form: the CSRF token on a confirmation step or a status button."""

    confirm = HiddenField(default="yes")
