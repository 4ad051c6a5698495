"""The database's change counter: one number that rises after every committed
write, so that a page rendered from the data can be served again until
anything changes (`moraspar.web.pagecache`).

Every Session in every process (web workers, the job worker, CLI commands,
tests) is watched: a flush that inserts, updates or deletes rows, or an
INSERT/UPDATE/DELETE statement run through a session, marks the session;
after its commit the counter is raised in a short transaction of its own.
Raising it after the commit, and reading it before a page reads its data,
means a page is never filed under a counter value that was current after
the data it shows had changed: at worst, for the instant between a commit
and its raise, a reader is served the page of just before the write. Rows of
the tables in `QUIET_TABLES` (sign-in attempts, scheduled job slots) change
nothing a page shows and do not raise it, or a scheduled job would empty
every cache once a minute.
"""

import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from moraspar.models import ChangeCounter

log = logging.getLogger(__name__)

QUIET_TABLES = frozenset({"login_attempt", "job_run", "change_counter"})
_WROTE = "moraspar.changes.wrote"
_TABLE = sa.Table("change_counter", ChangeCounter.metadata)
_READ = sa.select(_TABLE.c.value).where(_TABLE.c.id == 1)
_RAISE = _TABLE.update().where(_TABLE.c.id == 1).values(value=_TABLE.c.value + 1)


def current(session: Session) -> int | None:
    """The counter now (None where the schema has no counter row)."""
    value = session.execute(_READ).scalar()
    return None if value is None else int(value)


def _table_name(instance: Any) -> str | None:
    return getattr(instance, "__tablename__", None)


def _after_flush(session: Session, _context: UOWTransaction) -> None:
    changed = (*session.new, *session.dirty, *session.deleted)
    if any(_table_name(row) not in QUIET_TABLES for row in changed):
        session.info[_WROTE] = True


def _on_execute(state: ORMExecuteState) -> None:
    if state.is_select:
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) in QUIET_TABLES:
        return
    state.session.info[_WROTE] = True


def _after_commit(session: Session) -> None:
    # Releasing a savepoint fires after_commit too, while the transaction
    # around it (and SQLite's write lock) is still open: wait for the real one.
    if session.in_nested_transaction() or not session.info.pop(_WROTE, False):
        return
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, sa.Connection) else bind
    try:
        with engine.begin() as connection:
            if connection.execute(_RAISE).rowcount == 0:
                # emptied by hand (TRUNCATE): the row comes back
                connection.execute(_TABLE.insert().values(id=1, value=1))
    except sa.exc.DBAPIError:
        # The write itself is committed; cached pages age out after
        # PAGE_CACHE_SECONDS instead of at once.
        log.warning("the change counter could not be raised", exc_info=True)


def _after_rollback(session: Session) -> None:
    # A savepoint rolled back leaves the writes before it to the commit.
    if not session.in_nested_transaction():
        session.info.pop(_WROTE, None)


def watch_sessions() -> None:
    """Watch every Session (idempotent)."""
    if sa.event.contains(Session, "after_commit", _after_commit):
        return
    sa.event.listen(Session, "after_flush", _after_flush)
    sa.event.listen(Session, "do_orm_execute", _on_execute)
    sa.event.listen(Session, "after_commit", _after_commit)
    sa.event.listen(Session, "after_rollback", _after_rollback)
