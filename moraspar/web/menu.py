"""The main menu: each user sees the items their role may open."""

from dataclasses import dataclass

from flask import Flask

from moraspar.i18n import lazy_gettext as _l
from moraspar.web import access


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object  # a lazy string, translated when rendered


NAV: tuple[NavItem, ...] = (
    NavItem("schools.home", _l("My school")),
    NavItem("companies.home", _l("My company")),
    NavItem("council.home", _l("Council")),
    NavItem("gaps.index", _l("Skills gaps")),
    NavItem("meetings.index", _l("Meetings")),
    NavItem("admin.home", _l("Administration")),
    NavItem("bookings.index", _l("Bookings")),
    NavItem("notifications.index", _l("Notifications")),
)


def register_menu(app: Flask) -> None:
    app.context_processor(navigation)


def navigation() -> dict[str, object]:
    role = access.current_role()
    items = [
        item
        for item in NAV
        if role is not None and access.allows(access.RULES[item.endpoint], role)
    ]
    return {"nav_items": items}
