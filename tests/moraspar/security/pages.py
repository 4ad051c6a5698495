"""Helpers for the security tests: routes from the url_map, forms from pages."""

import functools
from html.parser import HTMLParser

from flask import Flask
from werkzeug.routing import IntegerConverter, Rule

from moraspar import create_app
from moraspar.models import Role
from moraspar.web import access

# Which role and organisation kind play "a user of the same role" for a rule.
ROLE_FOR_RULE = {
    access.TEACHER: Role.TEACHER,
    access.COMPANY: Role.COMPANY,
    access.COUNCIL: Role.COUNCIL,
    access.ADMIN: Role.ADMIN,
    access.STAFF: Role.TEACHER,
}


def role_for(endpoint: str) -> str | None:
    """A role allowed to open endpoint (None: anonymous)."""
    rule = access.RULES[endpoint]
    if rule is access.Access.PUBLIC:
        return None
    if rule is access.Access.SIGNED_IN:
        return Role.TEACHER
    assert isinstance(rule, frozenset)
    if rule in ROLE_FOR_RULE:
        return ROLE_FOR_RULE[rule]
    return sorted(str(r) for r in rule if r != Role.ADMIN)[0]


@functools.cache
def route_app() -> Flask:
    """An app for reading the url_map while tests are collected."""
    return create_app({"TESTING": True, "DATABASE_URL": "sqlite://"})


def int_args(rule: Rule) -> list[str]:
    return [
        name
        for name, converter in rule._converters.items()
        if isinstance(converter, IntegerConverter)
    ]


def rules(app: Flask) -> list[Rule]:
    return sorted(
        (r for r in app.url_map.iter_rules() if r.endpoint != "static"),
        key=lambda r: (r.endpoint, r.rule),
    )


class FormFields(HTMLParser):
    """The fields of the post forms inside <main>, with their current values."""

    def __init__(self) -> None:
        super().__init__()
        self.in_main = False
        self.in_form = False
        self.select: str | None = None
        self.textarea: str | None = None
        self.fields: dict[str, str] = {}
        self.kinds: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "main":
            self.in_main = True
        elif tag == "form" and self.in_main:
            self.in_form = a.get("method", "get").lower() == "post"
        if not (self.in_main and self.in_form):
            return
        name = a.get("name")
        if tag == "input" and name and name != "csrf_token":
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "file", "image", "reset"):
                if kind == "submit" and a.get("value"):
                    self.fields.setdefault(name, a["value"])
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                self.kinds.setdefault(name, kind)
                return
            self.fields[name] = a.get("value", "")
            self.kinds[name] = kind
        elif tag == "select" and name:
            self.select = name
            self.kinds[name] = "select"
        elif tag == "option" and self.select:
            if "selected" in a or self.select not in self.fields:
                self.fields[self.select] = a.get("value", "")
        elif tag == "textarea" and name:
            self.textarea = name
            self.kinds[name] = "textarea"
            self.fields[name] = ""
        elif tag == "button" and name and a.get("value"):
            self.fields.setdefault(name, a["value"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "main":
            self.in_main = False
        elif tag == "form":
            self.in_form = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.fields[self.textarea] += data


def form_fields(page: str) -> tuple[dict[str, str], dict[str, str]]:
    """(name → current value, name → input type) of the page's post forms."""
    parser = FormFields()
    parser.feed(page)
    return parser.fields, parser.kinds
