"""Write conflicts (写冲突): a write that loses a race on Galera is run again, a bounded number of times.

On a Galera cluster each node certifies a transaction against the ones other nodes committed at the
same moment; the loser gets MariaDB error 1213 ("Deadlock found…") at COMMIT, or at any statement
when a replicated write aborts it. The transaction is gone, nothing of it stored: the client is
expected to run it again. So every view (every POST/PUT/PATCH/DELETE, and the GETs that write: an
export's audit record) is wrapped once, in the factory (`init_app`): on 1213 it rolls the session
back, waits a few jittered milliseconds and runs the view again, up to DB_CONFLICT_RETRIES times,
then answers 503 `write_conflict` with Retry-After.

Only 1213 is retried. Not 1205 (lock wait timeout): it comes after innodb_lock_wait_timeout (50 s by
default), past the request's deadline, so a statement times out first (`app.deadline`); should it ever
come, running again would wait as long again. Never a lost connection either: a COMMIT whose
connection died may or may not have been applied.

A re-run is safe only when the first run committed nothing. A Session `after_commit` event notes any
commit while the view runs; a view that conflicts after one of its commits went through is not
run again (503 `write_conflict`, and an error in the log naming the view) unless it is marked
`@rerunnable`: each of its commits is idempotent (the scan upload: every step is keyed by the scan's
client_event_id, so a step stored by the first run is replayed, not stored twice).

`run_with_retries` gives the `flask` commands the same retries around one unit of work.
"""
import contextvars
import functools
import logging
import random
import time

from flask import current_app, g, request
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.errors import WRITE_CONFLICT_MESSAGE, Unavailable
from app.extensions import db

log = logging.getLogger(__name__)

ER_LOCK_DEADLOCK = 1213  # Galera's certification failure, and InnoDB's own deadlock
PAUSE_SECONDS = (0.005, 0.05)  # jittered: two writers that collided do not collide again in step


def is_write_conflict(error):
    """True when a database error is a deadlock / certification conflict (1213), the one worth running again."""
    orig = getattr(error, "orig", None)
    args = getattr(orig, "args", None)
    return isinstance(error, OperationalError) and bool(args) and args[0] == ER_LOCK_DEADLOCK


def write_conflict():
    """The 503 answered when a write still conflicts after its retries (or cannot be run again)."""
    return Unavailable("write_conflict", WRITE_CONFLICT_MESSAGE)


def rerunnable(view):
    """Mark a view whose commits are each idempotent: it may run again after some of them went through."""
    view.rerunnable_after_commit = True
    return view


_committed = contextvars.ContextVar("committed_in_view", default=False)


@event.listens_for(Session, "after_commit")
def _note_commit(session):
    # Fired for a savepoint's release as well (outbox messages use one): that stores nothing yet.
    if not session.in_nested_transaction():
        _committed.set(True)  # a ContextVar, not flask.g: well under a microsecond a commit


def init_app(app):
    """Wrap every view once (call after the blueprints are registered).

    Writes above all, but reads that write are wrapped too: an export commits its audit record, and so
    does a passenger's view of the trip (the captain's phone, read in full). A view that writes nothing never sees a 1213 and pays a try block.
    """
    for endpoint, view in list(app.view_functions.items()):
        if endpoint != "static" and not getattr(view, "retries_conflicts", False):
            app.view_functions[endpoint] = _retrying(view)


def _retrying(view):
    """`view`, run again on a write conflict; without one it costs a try block and a ContextVar set (no
    flask proxy lookups, microseconds each: the scan path is hot)."""
    again_after_commit = getattr(view, "rerunnable_after_commit", False)

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        attempt = 0
        while True:
            _committed.set(False)
            try:
                return view(*args, **kwargs)
            except OperationalError as error:
                if not is_write_conflict(error):
                    raise
                db.session.rollback()
                if _committed.get() and not again_after_commit:
                    log.error("write conflict after a commit in %s: not run again", request.endpoint)
                    raise write_conflict() from None
                attempt += 1
                pause = random.uniform(*PAUSE_SECONDS)
                retries = current_app.config["DB_CONFLICT_RETRIES"]
                if attempt > retries or time.monotonic() + pause >= g.get("deadline", float("inf")):
                    log.warning("write conflict in %s: giving up after %d tries", request.endpoint, attempt)
                    raise write_conflict() from None
                log.warning("write conflict in %s: try %d of %d", request.endpoint, attempt + 1, retries + 1)
                time.sleep(pause)

    wrapper.retries_conflicts = True
    return wrapper


def run_with_retries(work, retries=None, label=None):
    """Call `work()` (one transaction, committed inside), again after a 1213, up to DB_CONFLICT_RETRIES times.

    For the `flask` commands; `work` must commit at most once, or be idempotent per commit.
    """
    retries = current_app.config["DB_CONFLICT_RETRIES"] if retries is None else retries
    for attempt in range(retries + 1):
        try:
            return work()
        except OperationalError as error:
            if not is_write_conflict(error) or attempt == retries:
                raise
            db.session.rollback()
            log.warning("write conflict in %s: try %d of %d", label or getattr(work, "__name__", "a job"),
                        attempt + 2, retries + 1)
            time.sleep(random.uniform(*PAUSE_SECONDS))
