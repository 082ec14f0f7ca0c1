"""Make COMMITs fail as a Galera node's do when another node won the certification race (error 1213)."""
import contextlib

import pymysql
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from app.extensions import db

DEADLOCK = (1213, "Deadlock found when trying to get lock; try restarting transaction")


@contextlib.contextmanager
def conflicts_at_commit(fail=(1,), error=DEADLOCK):
    """While inside, the COMMITs numbered in `fail` (1 = the first from now) raise `error`; yields the list of
    every COMMIT tried (True: failed). The transaction is rolled back on the server, as after a certification
    failure (the pool returns connections without a ROLLBACK: an open transaction left on one would be
    committed by its next user)."""
    engine = db.engine
    tried = []

    def _commit(connection):
        tried.append(len(tried) + 1 in fail)
        if tried[-1]:
            # The node has already thrown the transaction away when it answers 1213.
            connection.connection.dbapi_connection.rollback()
            raise OperationalError("COMMIT", None, pymysql.err.OperationalError(*error))

    event.listen(engine, "commit", _commit)
    try:
        yield tried
    finally:
        event.remove(engine, "commit", _commit)
