"""Precompiled statements (预编译语句) of the online scan path, run on the DBAPI cursor of the request's transaction.

An online scan runs three statements. Through the ORM session each paid SQLAlchemy's whole
execution path (bind lookup, cache key, execution context, result metadata): sampled with
py-spy under load, a fifth of a gunicorn worker's CPU. A `Precompiled` is a Core statement
compiled once per dialect and run straight on the cursor of the session's own connection, in
the same transaction, with the dialect's bind and result processors and the columns' Python
defaults: it stores and reads what the Core statement would, on SQLite and MariaDB alike. (The
driver still sends the SQL with its values each time: nothing is prepared on the server.)

A driver error comes back as SQLAlchemy's (IntegrityError, OperationalError…), with the engine's
hide_parameters honoured; on a lost connection the connection and the rest of the pool are
invalidated, as SQLAlchemy does. What is skipped is SQLAlchemy's event hooks: cursor events
(echo, statement counters) and handle_error listeners do not see these statements; the
request's deadline (`app.deadline.bound`) is applied here instead.

Only plain statements: no expanding IN lists (they are rendered per call).
"""
import weakref
from dataclasses import dataclass

from sqlalchemy import exc

from app import deadline
from app.extensions import db


@dataclass(frozen=True)
class _Plan:
    text: str
    binds: tuple  # (name, bind processor or None, default for a missing value or None), in the statement's order
    names: tuple  # the bind names alone, for a named paramstyle
    results: tuple  # (column index, result processor), only where one is needed


class Precompiled:
    """A Core statement compiled once per dialect, executed on the session's DBAPI connection."""

    def __init__(self, statement, column_keys=None):
        self.statement = statement
        self.column_keys = column_keys  # for an INSERT: the columns it writes (a missing value takes the default)
        self._plans = weakref.WeakKeyDictionary()  # per dialect: each engine (each test app) has its own

    def rows(self, params):
        """Run a SELECT; its rows as tuples, with the columns' types applied."""
        fetched, plan = self._execute(params, lambda cursor: cursor.fetchall())
        if not plan.results:
            return fetched
        rows = []
        for row in fetched:
            row = list(row)
            for index, process in plan.results:
                row[index] = process(row[index])
            rows.append(tuple(row))
        return rows

    def insert(self, params):
        """Run an INSERT of one row; the new row's id."""
        return self._execute(params, lambda cursor: cursor.lastrowid)[0]

    def _execute(self, params, read):
        connection = db.session.connection()  # begins the session's transaction if it has not begun
        dialect = connection.dialect
        plan = self._plans.get(dialect)
        if plan is None:
            plan = self._plans[dialect] = self._plan(dialect)
        values = [_value(params, name, default) if process is None else process(_value(params, name, default))
                  for name, process, default in plan.binds]
        values = tuple(values) if dialect.positional else dict(zip(plan.names, values))
        cursor = None
        try:
            cursor = connection.connection.cursor()
            deadline.bound(connection.engine, cursor.connection)  # what the skipped cursor event would do
            cursor.execute(plan.text, values)
            return read(cursor), plan
        except dialect.loaded_dbapi.Error as error:
            raise _wrapped(connection, error, plan.text, values, cursor) from error
        finally:
            if cursor is not None:
                cursor.close()

    def _plan(self, dialect):
        compiled = self.statement.compile(dialect=dialect, column_keys=self.column_keys)
        names = tuple(compiled.positiontup if dialect.positional else compiled.binds)
        table_columns = self.statement.table.columns if self.statement.is_insert else {}
        binds = tuple((name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect),
                       _python_default(table_columns.get(name)))
                      for name in names)
        results = ()
        if self.statement.is_select:
            processors = (column.type.dialect_impl(dialect).result_processor(dialect, None)
                          for column in self.statement.selected_columns)
            results = tuple((index, process) for index, process in enumerate(processors) if process is not None)
        return _Plan(compiled.string, binds, names, results)


def _python_default(column):
    """A column's Python-side default as a function of nothing, or None when it has none."""
    default = column.default if column is not None else None
    if default is None:
        return None
    if default.is_scalar:
        return lambda: default.arg
    if default.is_callable:
        return lambda: default.arg(None)  # SQLAlchemy wraps a no-argument callable to take a context
    return None


def _value(params, name, default):
    if name in params or default is None:
        return params[name]  # no value and no default: a KeyError, as a bug should be
    return default()


def _wrapped(connection, error, statement, values, cursor):
    """SQLAlchemy's exception for a driver error, after invalidating what a lost connection spoiled."""
    dialect = connection.dialect
    disconnected = dialect.is_disconnect(error, connection.connection.dbapi_connection, cursor)
    if disconnected and not connection.invalidated:
        # As SQLAlchemy does: the server went away for every pooled connection, not just this one.
        connection.engine.pool._invalidate(connection.connection, error)
        connection.invalidate(error)
    return exc.DBAPIError.instance(statement, values, error, dialect.loaded_dbapi.Error,
                                   hide_parameters=connection.engine.hide_parameters,
                                   connection_invalidated=disconnected, dialect=dialect)
