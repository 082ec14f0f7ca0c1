"""Every table has a primary key: Galera replicates rows by it (a table without one is not safely replicated)."""
import sqlalchemy as sa

from app.extensions import db


def test_every_model_table_has_a_primary_key(app):
    tables = db.metadata.sorted_tables
    assert len(tables) > 20  # the models were imported
    assert [table.name for table in tables if not table.primary_key.columns] == []


def test_every_migrated_table_has_a_primary_key(app, backend):
    inspector = sa.inspect(db.engine)
    names = inspector.get_table_names()
    assert "alembic_version" in names and "scan_events" in names  # the migrated schema, not the models
    assert [name for name in names if not inspector.get_pk_constraint(name)["constrained_columns"]] == []
    if backend["BACKEND"] == "mariadb":
        # As the server sees it, every base table of this schema (what Galera looks at).
        rows = db.session.execute(sa.text(
            "SELECT t.table_name FROM information_schema.tables t WHERE t.table_schema = DATABASE() "
            "AND t.table_type = 'BASE TABLE' AND NOT EXISTS (SELECT 1 FROM information_schema.table_constraints c "
            "WHERE c.table_schema = t.table_schema AND c.table_name = t.table_name "
            "AND c.constraint_type = 'PRIMARY KEY')")).scalars().all()
        assert rows == []
        assert db.session.scalar(sa.text("SELECT COUNT(*) FROM information_schema.tables "
                                         "WHERE table_schema = DATABASE()")) == len(names)
