"""Migration 7338e001e863 encrypts the birth dates a database already holds, on SQLite and MariaDB."""
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import load_only
from flask_migrate import downgrade, upgrade

from app import create_app
from app.extensions import db
from app.models import Worker
from tests.conftest import _drop_everything, _test_config
from tests.test_core import _a_row_for

BEFORE, ENCRYPTED = "c4b94460e5dd", "7338e001e863"
# More workers than the migration's batch, so it has to page through them.
N_WORKERS = 1201
CREATED = datetime(2020, 2, 23, 8)


@pytest.fixture
def old_database(backend, tmp_path):
    """Settings for an empty database: a file of its own on SQLite; on MariaDB the test database,
    rebuilt at the head revision afterwards for the tests that follow."""
    if backend["BACKEND"] == "sqlite":
        yield {**backend, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.db'}"}
        return
    url = backend["SQLALCHEMY_DATABASE_URI"]
    _drop_everything(url)
    try:
        yield backend
    finally:
        _drop_everything(url)
        app = create_app(_test_config(backend))
        with app.app_context():
            upgrade()
            db.engine.dispose()


def _birth(n):
    return None if n % 7 == 0 else date(1960, 1, 1) + timedelta(days=37 * n)


def _fill_every_table():
    """One row in every table at the older revision (as test_core's SQLite upgrade test does), and
    workers with and without a plain birth date."""
    tables = sa.MetaData()
    tables.reflect(db.engine)
    workers = tables.tables["workers"]
    with db.engine.begin() as connection:
        for table in tables.sorted_tables:
            if table.name != "alembic_version":
                connection.execute(table.insert().values(_a_row_for(table)))
        connection.execute(workers.insert(), [
            {"id": n, "name": f"w{n}", "id_number_mask": f"640104********{n % 10000:04d}", "birth_date": _birth(n),
             "created_at": CREATED, "updated_at": CREATED}
            for n in range(2, N_WORKERS + 2)])
    counts = {table.name: _count(table.name) for table in tables.sorted_tables}
    db.session.remove()  # an open read would hold MariaDB's metadata lock against the ALTERs
    return counts


def _count(name):
    return db.session.scalar(sa.text(f"SELECT COUNT(*) FROM {name}"))


def _worker_columns():
    db.session.remove()
    return {column["name"] for column in sa.inspect(db.engine).get_columns("workers")}


def test_birth_dates_held_at_the_older_revision_come_out_encrypted_and_back(old_database):
    app = create_app(_test_config(old_database))
    with app.app_context():
        upgrade(revision=BEFORE)
        counts = _fill_every_table()
        upgrade(revision=ENCRYPTED)
        assert "birth_date" not in _worker_columns() and "birth_date_cipher" in _worker_columns()
        # Only the columns this revision has: later revisions add columns the model maps (registered_checkpoint_id).
        workers = {w.id: w for w in db.session.scalars(
            sa.select(Worker).options(load_only(Worker.id, Worker.birth_date_cipher)).where(Worker.id > 1))}
        assert len(workers) == N_WORKERS
        assert all(workers[n].birth_date == _birth(n) for n in workers)
        stored = db.session.execute(sa.text("SELECT birth_date_cipher FROM workers WHERE id = 2")).scalar()
        assert _birth(2).isoformat().encode() not in bytes(stored)
        assert {name: _count(name) for name in counts} == counts  # nothing lost on the way
        if old_database["BACKEND"] == "sqlite":
            assert db.session.scalar(sa.text("PRAGMA foreign_keys")) == 1
        db.session.remove()

        downgrade(revision=BEFORE)
        assert "birth_date" in _worker_columns() and "birth_date_cipher" not in _worker_columns()
        back = dict(db.session.execute(sa.text("SELECT id, birth_date FROM workers WHERE id > 1")).all())
        assert {n: _as_date(value) for n, value in back.items()} == {n: _birth(n) for n in workers}
        db.session.remove()
        upgrade()  # and on to the head, over the same rows
        assert _count("workers") == counts["workers"]
        db.session.remove()
        db.engine.dispose()


def _as_date(value):
    return value if value is None or isinstance(value, date) else date.fromisoformat(str(value))
