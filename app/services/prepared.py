"""Prepared statements (预编译语句) of the online scan path, run on the DBAPI cursor of the request's transaction.

An online scan runs three statements. Through the ORM session each paid SQLAlchemy's whole
execution path (bind lookup, cache key, execution context, result metadata): sampled with
py-spy under load, a fifth of a gunicorn worker's CPU. A `Prepared` is a Core statement
compiled once per dialect and run straight on the cursor of the session's own connection, in
the same transaction, with the dialect's bind and result processors: it stores and reads what
the Core statement would, on SQLite and MariaDB alike. A driver error comes back as
SQLAlchemy's (IntegrityError, OperationalError…), and a lost connection is invalidated, so
callers and error handlers see what they would see from `db.session.execute`.

Only plain statements: no expanding IN lists (they are rendered per call).
"""
import weakref
from dataclasses import dataclass

from sqlalchemy import exc

from app.extensions import db


@dataclass(frozen=True)
class _Plan:
    text: str
    binds: tuple  # (name, bind processor or None), in the statement's order
    names: tuple  # the bind names alone, for a named paramstyle
    results: tuple  # (column index, result processor), only where one is needed


class Prepared:
    """A Core statement compiled once per dialect, executed on the session's DBAPI connection."""

    def __init__(self, statement, column_keys=None):
        self.statement = statement
        self.column_keys = column_keys  # for an INSERT: the columns every call supplies
        self._plans = weakref.WeakKeyDictionary()  # per dialect: each engine (each test app) has its own

    def rows(self, params):
        """Run a SELECT; its rows as tuples, with the columns' types applied."""
        cursor, plan = self._execute(params)
        try:
            fetched = cursor.fetchall()
        finally:
            cursor.close()
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
        cursor, _ = self._execute(params)
        try:
            return cursor.lastrowid
        finally:
            cursor.close()

    def _execute(self, params):
        connection = db.session.connection()  # begins the session's transaction if it has not begun
        dialect = connection.dialect
        plan = self._plans.get(dialect)
        if plan is None:
            plan = self._plans[dialect] = self._plan(dialect)
        values = [params[name] if process is None else process(params[name]) for name, process in plan.binds]
        values = tuple(values) if dialect.positional else dict(zip(plan.names, values))
        cursor = connection.connection.cursor()
        try:
            cursor.execute(plan.text, values)
        except dialect.loaded_dbapi.Error as error:
            cursor.close()
            disconnected = dialect.is_disconnect(error, connection.connection.dbapi_connection, cursor)
            if disconnected:
                connection.invalidate(error)
            raise exc.DBAPIError.instance(plan.text, values, error, dialect.loaded_dbapi.Error,
                                          connection_invalidated=disconnected, dialect=dialect) from error
        return cursor, plan

    def _plan(self, dialect):
        compiled = self.statement.compile(dialect=dialect, column_keys=self.column_keys)
        names = tuple(compiled.positiontup if dialect.positional else compiled.binds)
        binds = tuple((name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
                      for name in names)
        results = ()
        if self.statement.is_select:
            processors = (column.type.dialect_impl(dialect).result_processor(dialect, None)
                          for column in self.statement.selected_columns)
            results = tuple((index, process) for index, process in enumerate(processors) if process is not None)
        return _Plan(compiled.string, binds, names, results)
