"""The app's task queue (Huey); mail delivery and a model refresh after a commit.

QUEUE_URL chooses the storage: a SQLite file (the default, for `make run` on
one machine), redis://... (production: web and workers on several machines),
or memory:// (one process).

Under TESTING the jobs run at once, in the calling thread, so tests stay
deterministic (and a test that turns that off gets a queue in memory, which it
runs with `huey.execute(huey.dequeue())`); a job scheduled for later waits in
that queue's schedule.

A commit that changed postings (needs, placements, skill gaps, programmes,
organisations) or the score weights schedules a refresh of the matching model,
debounced: see `tasks.enqueue_model_refresh`.
"""

import logging
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_app_context
from huey import Huey
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage
from sqlalchemy import event
from sqlmodel import Session

from moraspar.config import ConfigError
from moraspar.jobs import tasks
from moraspar.models import (
    Need,
    Organisation,
    Placement,
    Programme,
    RankerWeights,
    SkillGap,
)
from moraspar.notifications import mail

log = logging.getLogger(__name__)
QUEUE_NAME = "moraspar"


def make_queue(url: str, *, immediate: bool) -> Huey:
    storage: type[Any]
    options: dict[str, Any] = {}
    if url.startswith(("redis://", "rediss://", "unix://")):
        storage, options = RedisStorage, {"url": url}
    elif url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        storage, options = SqliteStorage, {"filename": str(path)}
    elif url == "memory://":
        storage = MemoryStorage
    else:
        raise ConfigError(
            "MORASPAR_QUEUE_URL must be sqlite:///PATH, redis://HOST:PORT/DB "
            "or memory://"
        )
    return Huey(
        QUEUE_NAME,
        results=False,
        utc=True,
        immediate=immediate,
        storage_class=storage,
        **options,
    )


def register_jobs(app: Flask) -> None:
    testing = bool(app.config["TESTING"])
    # A test that turns `immediate` off gets a queue in memory, never a file.
    url = "memory://" if testing else app.config["QUEUE_URL"]
    huey = make_queue(url, immediate=testing or bool(app.config["JOBS_IMMEDIATE"]))
    app.extensions["moraspar.queue"] = huey
    app.extensions["moraspar.jobs"] = tasks.register(huey, app)
    if not event.contains(Session, "after_commit", _deliver_after_commit):
        event.listen(Session, "after_commit", _deliver_after_commit)
    if not event.contains(Session, "after_flush", _note_posting_changes):
        event.listen(Session, "after_flush", _note_posting_changes)
        event.listen(Session, "after_commit", _refresh_after_commit)
        event.listen(Session, "after_soft_rollback", _forget_posting_changes)


def queue(app: Flask) -> Huey:
    huey: Huey = app.extensions["moraspar.queue"]
    return huey


def _deliver_after_commit(session: Session) -> None:
    """Mail added in a committed transaction goes now, not at the next sweep."""
    if session.in_nested_transaction():
        return  # a savepoint released: the transaction around it is still open
    if not session.info.pop(mail.ENQUEUED, False) or not has_app_context():
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        tasks.enqueue_delivery(app)
    except Exception:  # the queue is down: the sweep every minute sends it
        log.exception("could not enqueue mail delivery")


# What the matching model is fitted on (moraspar.ranking.served.postings),
# and with (the active weights).
POSTINGS = (Need, Placement, SkillGap, Programme, Organisation, RankerWeights)
POSTINGS_CHANGED = "moraspar.postings_changed"


def _note_posting_changes(session: Session, _context: Any) -> None:
    if session.info.get(POSTINGS_CHANGED):
        return
    changed = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(record, POSTINGS) for record in changed):
        session.info[POSTINGS_CHANGED] = True


def _forget_posting_changes(session: Session, _previous: Any) -> None:
    session.info.pop(POSTINGS_CHANGED, None)


def _refresh_after_commit(session: Session) -> None:
    """Postings changed in a committed transaction: refit the model soon."""
    if session.in_nested_transaction():
        return  # a savepoint released: the transaction around it is still open
    if not session.info.pop(POSTINGS_CHANGED, False) or not has_app_context():
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        tasks.enqueue_model_refresh(app)
    except Exception:  # the queue is down: the sweep every 15 minutes refits
        log.exception("could not enqueue a refresh of the matching model")
