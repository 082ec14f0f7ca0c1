"""The read path (读路径) for heavy reads: the dashboard's counts and the Excel exports may read from other nodes.

On the Galera cluster HAProxy has a read port whose backends are the nodes that are not the writer;
DATABASE_READ_URL points there. Inside `heavy_reads()` (the services mark themselves with the
`@heavy_read` decorator) the request's session sends its plain SELECTs to that engine; everything else
(writes, SELECT … FOR UPDATE, text statements, the flush of an export's audit record) stays on the
primary, as does every statement outside the block. Unset, everything reads from the primary, as before.

Each read connection runs `SET SESSION wsrep_sync_wait = DB_READ_SYNC_WAIT` (default 1: the node waits
until it has applied every write the cluster committed before the read, so a count never misses a
scan acknowledged a moment ago); skipped on a server without the variable. The read engine keeps the
primary's timeouts and the request's deadline (`app.deadline`).
"""
import contextlib
import contextvars
import functools

from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event
from sqlalchemy.sql import Select
from sqlalchemy.sql.selectable import CompoundSelect

from app import deadline
from app.extensions import db

BIND = "read"
_reading = contextvars.ContextVar("heavy_reads", default=False)


class ReadRoutingSession(FlaskSession):
    """The session: inside `heavy_reads()` with a read engine configured, plain SELECTs go to that engine."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        """The primary, or the read engine for a plain SELECT inside `heavy_reads()`."""
        if _reading.get() and bind is None and not self._flushing and _plain_select(clause):
            engine = db.engines.get(BIND)
            if engine is not None:
                return engine
        return super().get_bind(mapper, clause=clause, bind=bind, **kwargs)


def _plain_select(clause):
    return isinstance(clause, (Select, CompoundSelect)) and clause._for_update_arg is None


@contextlib.contextmanager
def heavy_reads():
    """Send the plain SELECTs of this block to DATABASE_READ_URL when it is set."""
    token = _reading.set(True)
    try:
        yield
    finally:
        _reading.reset(token)


def heavy_read(function):
    """Decorate a service whose reads may come from the read path (stats, exports)."""
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with heavy_reads():
            return function(*args, **kwargs)

    return wrapper


def binds(config):
    """SQLALCHEMY_BINDS for DATABASE_READ_URL (empty when unset): config.finalize merges them.

    The primary's engine options, but a ping at every checkout: heavy reads are few, and a read node
    that HAProxy moved away from leaves dead connections in the pool that the ping replaces.
    """
    url = config.get("DATABASE_READ_URL")
    if not url:
        return {}
    return {BIND: {**(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}), "url": url, "pool_pre_ping": True}}


def init_app(app):
    """With a read engine configured: route heavy reads to it, and set up its connections (after db.init_app)."""
    if not app.config.get("DATABASE_READ_URL"):
        return
    db.session.session_factory.class_ = ReadRoutingSession  # the one session factory: process-wide, inert unset
    with app.app_context():
        primary, engine = db.engine, db.engines[BIND]
    sync_wait = int(app.config["DB_READ_SYNC_WAIT"])

    @event.listens_for(engine, "connect")
    def _causal_reads(dbapi_connection, record):
        if engine.dialect.name != "mysql":
            return
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SHOW VARIABLES LIKE 'wsrep_sync_wait'")
            if cursor.fetchone() is not None:  # MariaDB built without wsrep has no such variable
                cursor.execute("SET SESSION wsrep_sync_wait = %s", (sync_wait,))
        finally:
            cursor.close()

    if engine.url.drivername == "mysql+pymysql" and app.config["SQLALCHEMY_DATABASE_URI"].startswith("mysql+pymysql"):
        idle_read, write = app.config["DB_CONNECT_TIMEOUT"], app.config["DB_WRITE_TIMEOUT"]

        @event.listens_for(engine, "before_cursor_execute")
        def _bound_statement(conn, cursor, statement, parameters, context, executemany):
            deadline.bound(primary, cursor.connection)  # the primary's timeouts, the request's deadline

        @event.listens_for(engine, "checkin")
        def _idle_timeouts(dbapi_connection, record):
            if dbapi_connection is not None:
                dbapi_connection._read_timeout, dbapi_connection._write_timeout = idle_read, write
