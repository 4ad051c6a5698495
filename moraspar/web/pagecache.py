"""Whole pages a signed-in user has just been shown, served again while
nothing in the database has changed.

Pages are read far more often than the data under them is written: a council
member reloads the board, a teacher pages back through the same search or
opens the same form again. The views marked `@cached_page` are the signed-in
pages whose GET writes nothing: the lists and home pages, the forms and the
confirm-first pages. The job queue's page shows rows that change without
raising the counter, so its key also holds their state (`cached_page_also`).
Not marked: answers that are not HTML, the links that come by mail, and the
few pages the demo links nowhere (turning a second factor off, a booking's
evaluation, the ranker's versions, a meeting item's decision). A test
follows every link of the demo as each role and checks that every marked
view is served again and writes nothing. Such a page is filed under
everything it depends on besides the data (the user, the browser session,
the address with its query, the language, the day) and the change counter
(`moraspar.changes`), read before the view reads anything. While the counter
stands still the page is served from the memo, with no view, no queries
beyond the user's and the counter's, and no rendering; any committed write
anywhere raises the counter and the next view renders afresh. A page also
ages out after PAGE_CACHE_SECONDS, so that its form tokens and its "today"
stay fresh.

Never cached: anything but a GET answered 200 with HTML, a request with
flashed messages waiting (the page would show them again), a session that
has no form token yet (the page would hand its token to another session),
and everyone signed out. Headers are not kept: the after-request hooks set
them again on every answer, the session cookie included.

The memo is per worker process (a bounded LRU of PAGE_CACHE_SIZE pages; 0
turns it off), so the workers stay stateless; every worker reads the same
counter from the database.
"""

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from flask import Flask, Response, current_app, g, request, session
from flask_babel import get_locale
from flask_login import current_user

from moraspar import changes
from moraspar.db import get_session
from moraspar.models import utcnow
from moraspar.web.memo import Memo

EXTENSION = "moraspar.pagecache"
_MARK = "_moraspar_cached_page"
_ALSO = "_moraspar_cached_page_also"
_P = ParamSpec("_P")
_R = TypeVar("_R")


@dataclass(frozen=True)
class Page:
    body: bytes
    content_type: str
    expires: float  # time.monotonic()


class PageCache(Memo[Page]):
    """The pages of one worker, each kept at most `seconds`."""

    def __init__(self, size: int, seconds: float) -> None:
        super().__init__(size)
        self.seconds = seconds

    def get(
        self, key: Hashable, fresh: Callable[[Page], bool] | None = None
    ) -> Page | None:
        now = time.monotonic()
        return super().get(
            key, lambda page: page.expires > now and (fresh is None or fresh(page))
        )

    def file(self, key: Hashable, body: bytes, content_type: str) -> None:
        self.put(key, Page(body, content_type, time.monotonic() + self.seconds))


def cached_page(view: Callable[_P, _R]) -> Callable[_P, _R]:
    """Mark a view whose GET answer depends only on the database, the user,
    the session, the address, the language and the day, and writes nothing."""
    setattr(view, _MARK, True)
    return view


def cached_page_also(
    also: Callable[[], Hashable],
) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """`cached_page` for a view that also shows data whose changes do not
    raise the change counter (the job runs, the queue): `also()`, a cheap
    read of that data's state, is part of the key, so the page is served
    again only while it stands still too."""

    def mark(view: Callable[_P, _R]) -> Callable[_P, _R]:
        setattr(view, _ALSO, also)
        return cached_page(view)

    return mark


def _key() -> tuple[Any, ...] | None:
    """What the page depends on besides the data, or None when it may not be
    cached."""
    if request.method != "GET" or "_flashes" in session:
        return None
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None or not getattr(view, _MARK, False):
        return None
    if not current_user.is_authenticated:
        return None
    # Read even when the page will not be filed (no form token yet), so that
    # a view runs the same statements on every view.
    counter = changes.current(get_session())
    token = session.get("csrf_token")
    if counter is None or token is None:
        return None
    clock = current_app.extensions.get("moraspar.clock", utcnow)
    also = getattr(view, _ALSO, None)
    return (
        also() if also is not None else None,
        counter,
        current_user.get_id(),
        token,
        request.full_path,
        request.script_root,
        str(get_locale()),
        clock().date(),
    )


def serve_cached() -> Response | None:
    """Before the view: the page from the memo, or None to render it (and
    note its key so that `keep` files it)."""
    cache: PageCache = current_app.extensions[EXTENSION]
    if cache.size <= 0:
        return None
    key = _key()
    if key is None:
        return None
    page = cache.get(key)
    if page is None:
        g.page_cache_key = key
        return None
    return Response(page.body, status=200, content_type=page.content_type)


def keep(response: Response) -> Response:
    """After the view: file a fresh 200 HTML page under the key noted for it."""
    key = g.pop("page_cache_key", None)
    if (
        key is None
        or response.status_code != 200
        or response.mimetype != "text/html"
        or response.is_streamed
        or "_flashes" in session
    ):
        return response
    cache: PageCache = current_app.extensions[EXTENSION]
    cache.file(key, response.get_data(), response.content_type or "text/html")
    return response


def register_page_cache(app: Flask) -> None:
    """Register after the access checks (a hit must never skip them) and
    before the menu badges (a hit needs no counts: the page holds them)."""
    app.extensions[EXTENSION] = PageCache(
        int(app.config["PAGE_CACHE_SIZE"]), float(app.config["PAGE_CACHE_SECONDS"])
    )
    app.before_request(serve_cached)
    app.after_request(keep)
