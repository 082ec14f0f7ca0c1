"""Configuration, health check, docs, migrations and reference data."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import LargeBinary, func, select, text

from app.config import ConfigError, finalize, from_environment
from app.crypto import FieldCipher
from app.extensions import db
from app.models import Checkpoint, County, Enterprise, Park
from app.services.office.reference_data import load_reference_data


def test_production_refuses_default_secrets(make_app):
    with pytest.raises(ConfigError) as refused:
        make_app(APP_ENV="production", SECRET_KEY="dev-insecure-secret-key-change-me", DATA_KEY=None,
                 WECHAT_APP_ID=None, WECHAT_APP_SECRET=None, REDIS_URL=None)
    message = str(refused.value)
    for problem in ("SECRET_KEY", "DATA_KEY", "WECHAT_APP_ID", "REDIS_URL"):
        assert problem in message


def test_development_generates_a_data_key_once(tmp_path):
    settings = {**from_environment(), "APP_ENV": "development", "DATA_KEY": None}
    one = finalize(dict(settings), str(tmp_path))["DATA_KEY"]
    two = finalize(dict(settings), str(tmp_path))["DATA_KEY"]
    key_file = tmp_path / "data.key"
    assert one == two and key_file.read_text().strip() == one
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    FieldCipher(one)  # a usable key


def test_healthz_reports_database_and_redis(client, backend):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json
    assert body["status"] == "ok" and body["database"]["ok"] is True
    if backend.get("REDIS_URL"):
        assert body["redis"] == {"ok": True, "configured": True}
    else:
        assert body["redis"] == {"ok": None, "configured": False}


def test_healthz_is_503_when_redis_is_down(make_app):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")
    with app.app_context():
        response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["redis"]["ok"] is False and response.json["database"]["ok"] is True


def test_openapi_document_and_docs_page(client):
    spec = client.get("/openapi.json").json
    assert spec["info"]["title"] == "返岗通 Fangang API"
    for path in ("/api/mp/v1/session", "/api/mp/v1/me", "/api/mp/v1/health-declarations",
                 "/api/mp/v1/applications", "/healthz"):
        assert path in spec["paths"]
    page = client.get("/docs")
    assert page.status_code == 200 and b"/docs-assets/swagger-ui-bundle.js" in page.data
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200


def _same_binary(context, inspected_column, metadata_column, inspected_type, metadata_type):
    # MariaDB reports LargeBinary(128) back as TINYBLOB: the same column, not a change.
    if isinstance(metadata_type, LargeBinary) and "BLOB" in type(inspected_type).__name__.upper():
        return False
    return None  # let Alembic decide everything else


def test_migrations_match_the_models(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"render_as_batch": True, "compare_type": _same_binary})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_reference_data_loads_once(app):
    assert load_reference_data() == 0  # the fixture loaded it already
    assert db.session.scalar(select(func.count()).select_from(County)) == 6
    names = set(db.session.scalars(select(Checkpoint.name)))
    assert "银川河东国际机场" in names and "银川火车站" in names
    assert db.session.scalar(select(func.count()).select_from(Park)) >= 5
    assert db.session.scalar(select(func.count()).select_from(Enterprise)) >= 3


def test_seed_command_is_idempotent(app):
    result = app.test_cli_runner().invoke(args=["seed"])
    assert result.exit_code == 0 and "0 new rows" in result.output


def test_mariadb_connections_are_pinged_only_after_sitting_idle(tmp_path, monkeypatch):
    settings = {**from_environment(), "APP_ENV": "testing", "DATA_KEY": "k",
                "SQLALCHEMY_DATABASE_URI": "mysql+pymysql://root@127.0.0.1/x"}
    config = finalize(dict(settings), str(tmp_path))
    assert config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is False and config["DB_PING_IDLE_SECONDS"] == 1.0
    explicit = finalize({**settings, "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True}}, str(tmp_path))
    assert explicit["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True and "DB_PING_IDLE_SECONDS" not in explicit
    monkeypatch.setenv("DB_PING_IDLE_SECONDS", "5")
    assert finalize(dict(settings), str(tmp_path))["DB_PING_IDLE_SECONDS"] == 5.0


def test_a_connection_the_server_dropped_while_idle_is_replaced(make_app, backend):
    if backend["BACKEND"] != "mariadb":
        pytest.skip("the server dropping a connection needs MariaDB")
    app = make_app(DB_PING_IDLE_SECONDS=0.0)
    with app.app_context():
        victim, killer = db.engine.connect(), db.engine.connect()
        victim_id = victim.execute(text("SELECT CONNECTION_ID()")).scalar()
        victim.commit()
        killer.execute(text(f"KILL {int(victim_id)}"))
        killer.commit()
        victim.close(), killer.close()  # both back in the pool, the first one dead
        for _ in range(3):  # the dead one is pinged at checkout and replaced before any query sees it
            assert db.session.execute(text("SELECT 1")).scalar() == 1
            db.session.remove()


def test_gunicorn_workers_take_the_loaded_app_out_of_the_collectors_sight():
    import gc
    import runpy
    from pathlib import Path

    settings = runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py"))
    gc.unfreeze()
    try:
        settings["post_worker_init"](worker=None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_scans_are_spared_a_default_rate_limit_other_routes_get(make_app):
    from app.extensions import limiter

    client = make_app(RATELIMIT_DEFAULT="3 per minute").test_client()
    try:
        assert [client.get("/healthz").status_code for _ in range(4)][-1] == 429
        for path in ("/api/checkin/v1/scans", "/api/checkin/v1/scans/batch"):
            statuses = {client.post(path, json={}, headers={"Authorization": "Bearer nobody"}).status_code
                        for _ in range(5)}
            assert statuses == {401}
    finally:
        # The limiter is one object for every app in this process: later apps must not inherit the default.
        limiter.limit_manager.set_default_limits([])


def test_no_cookie_session_is_opened_or_set(app, client):
    import flask

    response = client.get("/healthz", headers={"Cookie": "session=forged.value"})
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    with app.test_request_context("/"):
        with pytest.raises(RuntimeError):
            flask.session["user"] = "someone"


def test_foreign_keys_hold_on_sqlite_as_on_mariadb(app):
    """A row that refers to nothing is refused on both backends, so the SQLite run catches it too."""
    import sqlalchemy as sa

    from app.models import HealthEvent
    from app.models.base import utcnow

    db.session.add(HealthEvent(worker_id=10**8, kind="self_declaration", occurred_at=utcnow(), actor_kind="worker"))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


def _a_row_for(table):
    """Values for a table's required columns: 1 for numbers and "x" for text, so references between rows hold."""
    import datetime as dt

    import sqlalchemy as sa
    from sqlalchemy.dialects import mysql

    samples = [(sa.Boolean, False), (sa.Integer, 1), (sa.Numeric, 1), (sa.Float, 1.0),
               (sa.DateTime, dt.datetime(2020, 2, 23)), (sa.Date, dt.date(2020, 2, 23)), (sa.Time, dt.time(8)),
               (sa.LargeBinary, b"x"), (sa.JSON, "[]"), (sa.Text, "[]"), (mysql.LONGTEXT, "[]"),
               (sa.String, "x")]
    # MariaDB's JSON is LONGTEXT checked by json_valid, hence "[]" for any text.
    # What MariaDB reflects (TINYBLOB, BINARY...) is not always a subclass of the generic types.
    by_python_type = {bytes: b"x", str: "x", int: 1}
    row = {}
    for column in table.columns:
        if column.nullable and not column.primary_key:
            continue
        row[column.name] = next((value for kind, value in samples if isinstance(column.type, kind)), None)
        if row[column.name] is None:
            row[column.name] = by_python_type[column.type.python_type]
    return row


def test_migrations_run_over_a_sqlite_database_holding_data(tmp_path):
    """A developer's embedded database (`make run`) upgrades with rows in every table, foreign keys on."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from app import create_app
    from tests.conftest import DATA_KEY

    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "DATA_KEY": DATA_KEY, "REDIS_URL": None,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'dev.db'}"})
    with app.app_context():
        upgrade(revision="9f81139f5638")  # staff, plans, trips and seats: the next revision rebuilds trips
        tables = sa.MetaData()
        tables.reflect(db.engine)
        with db.engine.begin() as connection:
            for table in tables.sorted_tables:
                if table.name != "alembic_version":
                    connection.execute(table.insert().values(_a_row_for(table)))
        upgrade()
        assert db.session.scalar(sa.text("SELECT COUNT(*) FROM seats")) == 1
        assert db.session.scalar(sa.text("PRAGMA foreign_keys")) == 1
        db.session.remove()
        db.engine.dispose()
