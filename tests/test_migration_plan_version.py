"""Migration 5d2e8c41a7b3 adds plans.version (old plans start at 1) and drops it again, on SQLite and MariaDB."""
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app import create_app
from app.extensions import db
from tests.conftest import _test_config
from tests.test_core import _a_row_for
from tests.test_migration_birth_date import old_database  # noqa: F401  (the fixture)

BEFORE, VERSIONED = "7338e001e863", "5d2e8c41a7b3"


def _plan_columns():
    db.session.remove()
    return {column["name"] for column in sa.inspect(db.engine).get_columns("plans")}


def _counts(names):
    return {name: db.session.scalar(sa.text(f"SELECT COUNT(*) FROM {name}")) for name in names}


def test_plans_held_before_get_version_one_and_lose_it_on_the_way_down(old_database):  # noqa: F811
    app = create_app(_test_config(old_database))
    with app.app_context():
        upgrade(revision=BEFORE)
        tables = sa.MetaData()
        tables.reflect(db.engine)
        names = [table.name for table in tables.sorted_tables if table.name != "alembic_version"]
        with db.engine.begin() as connection:
            for table in tables.sorted_tables:
                if table.name != "alembic_version":
                    connection.execute(table.insert().values(_a_row_for(table)))
        counts = _counts(names)
        db.session.remove()  # an open read would hold MariaDB's metadata lock against the ALTER

        upgrade(revision=VERSIONED)
        assert "version" in _plan_columns()
        assert db.session.execute(sa.text("SELECT version FROM plans")).scalars().all() == [1]
        assert _counts(names) == counts
        if old_database["BACKEND"] == "sqlite":
            assert db.session.scalar(sa.text("PRAGMA foreign_keys")) == 1
        db.session.remove()

        downgrade(revision=BEFORE)
        assert "version" not in _plan_columns()
        assert _counts(names) == counts
        db.session.remove()
        upgrade()
        assert "version" in _plan_columns()
        db.session.remove()
        db.engine.dispose()
