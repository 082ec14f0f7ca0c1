"""A deadline for every request: a hung database ends the request in a 503 before gunicorn's timeout.

gunicorn kills a worker whose request overruns GUNICORN_TIMEOUT, and its client gets gunicorn's
own error or a closed connection. So each request gets REQUEST_DEADLINE_SECONDS (below that
timeout, `config.finalize` checks) from the moment a worker starts it, and every statement it
sends to MariaDB waits at most DB_READ_TIMEOUT, and never past that deadline: a statement that
times out is a lost connection (OperationalError), answered 503 with Retry-After; a statement
due after the deadline is not sent.

Outside a request (the `flask` commands: migrations, purge) a statement's answer may take as long
as it takes: an ALTER of a big table can run for minutes, and MariaDB does not roll back DDL cut
off half-way. Connecting, and the ping of an idle pooled connection, wait at most DB_CONNECT_TIMEOUT
(the connection's own read timeout, set in `config.finalize` and restored when it returns to the
pool).

PyMySQL reads `_read_timeout` / `_write_timeout` before each socket read and write; it has no
public setter, so these are set directly (tests/test_deadline.py fails if that stops working).
"""
import time
import weakref

from flask import g, has_request_context
from sqlalchemy import event

from app.errors import Unavailable
from app.extensions import db

_TIMEOUTS = weakref.WeakKeyDictionary()  # engine → (DB_READ_TIMEOUT, DB_WRITE_TIMEOUT, REQUEST_DEADLINE_SECONDS)


def init_app(app):
    """Start each request's clock; on MySQL through PyMySQL, bound every statement by it."""
    seconds = app.config["REQUEST_DEADLINE_SECONDS"]

    @app.before_request
    def _start_clock():
        g.deadline = time.monotonic() + seconds

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("mysql+pymysql"):
        return
    with app.app_context():
        engine = db.engine
    read, write = app.config["DB_READ_TIMEOUT"], app.config["DB_WRITE_TIMEOUT"]
    idle_read = app.config["DB_CONNECT_TIMEOUT"]
    _TIMEOUTS[engine] = (read, write, seconds)

    @event.listens_for(engine, "before_cursor_execute")
    def _bound_statement(conn, cursor, statement, parameters, context, executemany):
        bound(conn.engine, cursor.connection)

    @event.listens_for(engine, "checkin")
    def _idle_timeouts(dbapi_connection, record):
        if dbapi_connection is not None:
            dbapi_connection._read_timeout, dbapi_connection._write_timeout = idle_read, write


def bound(engine, dbapi_connection):
    """Set the read and write timeouts of the next statement on a PyMySQL connection.

    Raises Unavailable (503) in a request whose deadline has passed. Statements run straight on
    the cursor (`services.precompiled`) call this themselves: they skip SQLAlchemy's events.
    """
    timeouts = _TIMEOUTS.get(engine)
    if timeouts is None or not hasattr(dbapi_connection, "_read_timeout"):
        return
    read, write, seconds = timeouts
    if not has_request_context():
        dbapi_connection._read_timeout, dbapi_connection._write_timeout = None, write
        return
    left = g.setdefault("deadline", time.monotonic() + seconds) - time.monotonic()
    if left <= 0:
        raise Unavailable("unavailable", "服务暂时不可用，请稍后再试")
    dbapi_connection._read_timeout, dbapi_connection._write_timeout = min(read, left), min(write, left)
