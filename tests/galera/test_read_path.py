"""DATABASE_READ_URL: the dashboard and the exports read through it; writes, and everything else, use the primary."""
import pytest
from sqlalchemy import event, func, select, text

from app import read_path
from app.extensions import db
from app.models import AuditLog, ScanEvent
from tests.builders import publish_trip, qr_of, scan_body
from tests.checkin.test_scans import SCANS, passenger
from tests.conftest import TEST_DATABASE_URL


@pytest.fixture
def read_app(make_app, backend):
    """An app whose read URL is the test database under a second engine (the cluster's read port in production)."""
    if backend["BACKEND"] == "sqlite":
        pytest.skip("the read path is for MariaDB (Galera's other nodes); SQLite runs without it")
    app = make_app(DATABASE_READ_URL=TEST_DATABASE_URL, DB_READ_SYNC_WAIT=1)
    with app.app_context():
        from app.services.office.reference_data import load_reference_data

        load_reference_data()
        yield app


@pytest.fixture
def statements(read_app):
    """Every statement sent, as (engine, first word), in order; "read" or "primary"."""
    seen = []
    for name, engine in (("read", db.engines[read_path.BIND]), ("primary", db.engine)):
        def record(conn, cursor, statement, parameters, context, executemany, name=name):
            seen.append((name, statement.split(None, 1)[0].upper()))
        event.listen(engine, "before_cursor_execute", record)
    return seen


def test_the_dashboard_reads_through_the_read_engine(read_app, statements):
    client = read_app.test_client()
    trip = publish_trip(client, passengers=2)
    statements.clear()
    response = client.get("/api/console/v1/stats", headers=trip["staff"])
    assert response.status_code == 200, response.json
    assert response.json["trips"]["total"] == 1
    assert sum(1 for name, _ in statements if name == "read") >= 5  # the counts
    assert {word for name, word in statements if name == "read"} <= {"SELECT", "WITH", "("}


def test_an_export_reads_there_and_writes_its_audit_record_on_the_primary(read_app, statements):
    client = read_app.test_client()
    trip = publish_trip(client, passengers=2)
    statements.clear()
    response = client.get(f"/api/console/v1/trips/{trip['trip']['id']}/manifest.xlsx", headers=trip["staff"])
    assert response.status_code == 200
    read_words = {word for name, word in statements if name == "read"}
    assert read_words and read_words <= {"SELECT", "WITH", "("}
    assert ("primary", "INSERT") in statements  # the audit record
    assert db.session.scalar(select(func.count()).select_from(AuditLog)
                             .where(AuditLog.action.like("export.%"))) == 1


def test_writes_and_ordinary_reads_never_use_the_read_engine(read_app, statements):
    client = read_app.test_client()
    trip = publish_trip(client, passengers=3)
    response = client.post(SCANS, json=scan_body(qr_of(client, passenger(trip), trip["trip"]["id"])),
                           headers=trip["captain"]["headers"])
    assert response.status_code == 200 and response.json["verdict"] == "allow"
    client.get(f"/api/checkin/v1/trips/{trip['trip']['id']}/manifest", headers=trip["captain"]["headers"])
    assert [entry for entry in statements if entry[0] == "read"] == []
    assert db.session.scalar(select(func.count()).select_from(ScanEvent)) == 1


def test_read_connections_wait_for_the_cluster(read_app):
    with db.engines[read_path.BIND].connect() as connection:
        assert connection.scalar(text("SELECT @@session.wsrep_sync_wait")) == 1
    with db.engine.connect() as connection:
        assert connection.scalar(text("SELECT @@session.wsrep_sync_wait")) == 0  # the primary: not needed


def test_without_a_read_url_there_is_no_read_engine(app):
    assert read_path.BIND not in db.engines


def test_the_read_engine_pings_before_use_and_keeps_the_primarys_options(read_app):
    engine = db.engines[read_path.BIND]
    assert engine.pool._pre_ping and engine.url == db.engine.url
    assert engine.pool._recycle == db.engine.pool._recycle == 1800
