"""Rendered HTML of a repeated fragment (a review-board card), memoised by
every value it shows.

A card of the review board costs about a millisecond to render (reasons,
score parts, labels and numbers in the reader's language, buttons), and a
council member reloads the same twenty cards after every decision. `render`
hands the fragment's template only the values it is given, never the
request or ORM objects, and keys the memo on exactly those values plus the
language and the site's root: a hit is the HTML the template would render
now, so nothing needs invalidating. When a proposal, a name or a count
changes, the key changes and the stale entry ages out.

The memo is per worker process (a bounded LRU, FRAGMENT_MEMO_SIZE entries;
0 turns it off), so it adds nothing to share between gunicorn workers.
"""

import json
from typing import Any

from flask import Flask, current_app, request
from flask_babel import get_locale
from markupsafe import Markup

from moraspar.web.memo import Memo

EXTENSION = "moraspar.fragments"


class FragmentMemo(Memo[Markup]):
    """The rendered fragments of one worker."""


def _frozen(value: Any) -> Any:
    """A hashable stand-in for value with the same meaning: lists and dicts
    (stored reasons, score parts) as canonical JSON."""
    if isinstance(value, list | dict | tuple):
        return json.dumps(value, sort_keys=True, default=str)
    return value


def render(template: str, **values: Any) -> Markup:
    """The fragment template rendered with values (plain values only: text,
    numbers, dates, booleans, lists and dicts of those), from the memo when
    the same values were rendered before in the same language."""
    memo: FragmentMemo = current_app.extensions[EXTENSION]
    key = (
        template,
        str(get_locale()),
        request.script_root,
        tuple(sorted((name, _frozen(v)) for name, v in values.items())),
    )
    html = memo.get(key)
    if html is None:
        # the app's templates autoescape: what they render is safe HTML
        template_ = current_app.jinja_env.get_template(template)
        html = Markup(template_.render(values))  # noqa: S704  # nosec B704
        memo.put(key, html)
    return html


def register_fragments(app: Flask) -> None:
    app.extensions[EXTENSION] = FragmentMemo(int(app.config["FRAGMENT_MEMO_SIZE"]))
    app.jinja_env.globals["fragment"] = render
