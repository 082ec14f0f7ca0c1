"""Fixtures: backend → app → db → client, with builders for the common objects.

Every test runs on SQLite. With TEST_DATABASE_URL (MariaDB) set it runs again on
MariaDB, with Redis as well when TEST_REDIS_URL is set. REQUIRE_SERVICES=1 turns an
unreachable service into a failure instead of a skip.
"""
import contextlib
import os
import uuid

import pytest
import redis as redis_lib
import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app
from app.crypto import generate_key
from app.extensions import db, limiter
from app.services.office.reference_data import load_reference_data

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
BACKENDS = ["sqlite"] + (["mariadb"] if TEST_DATABASE_URL or REQUIRE_SERVICES else [])
# `make test` runs the two backends as two processes at once (TEST_BACKENDS=sqlite and =mariadb): the
# tests that take no backend run in the SQLite one only.
if os.environ.get("TEST_BACKENDS"):
    BACKENDS = [name for name in BACKENDS if name in os.environ["TEST_BACKENDS"].split(",")]
DATA_KEY = generate_key()


@sa.event.listens_for(sa.pool.Pool, "connect")
def _ids_skip_as_on_galera(dbapi_connection, record):
    """On MariaDB, make every connection hand out ids as a 3-node Galera cluster does (2, 5, 8, …).

    Galera sets auto_increment_increment to the cluster size and each node its own offset, so ids
    are never contiguous there; the MariaDB half of the suite runs the same way, so nothing that
    assumes `id + 1` or `max(id) == count` passes here and breaks on the cluster.
    """
    if type(dbapi_connection).__module__.startswith("pymysql"):
        cursor = dbapi_connection.cursor()
        cursor.execute("SET SESSION auto_increment_increment=3, auto_increment_offset=2")
        cursor.close()


def pytest_collection_modifyitems(config, items):
    """Without SQLite among the backends, leave out the tests that take no backend (the SQLite process runs them)."""
    if "sqlite" in BACKENDS:
        return
    kept, left = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        (kept if "backend" in params else left).append(item)
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = kept


def _unavailable(message):
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {message}", pytrace=False)
    pytest.skip(message)


def _check_services():
    if not TEST_DATABASE_URL:
        _unavailable("TEST_DATABASE_URL is not set")
    try:
        engine = sa.create_engine(TEST_DATABASE_URL)
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as error:  # noqa: BLE001
        _unavailable(f"MariaDB at TEST_DATABASE_URL is unreachable: {error}")
    if REQUIRE_SERVICES and not TEST_REDIS_URL:
        _unavailable("TEST_REDIS_URL is not set")
    if TEST_REDIS_URL:
        try:
            redis_lib.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=2).ping()
        except Exception as error:  # noqa: BLE001
            _unavailable(f"Redis at TEST_REDIS_URL is unreachable: {error}")


def _drop_everything(url):
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    metadata.reflect(engine)
    with engine.begin() as connection:
        connection.execute(sa.text("SET FOREIGN_KEY_CHECKS=0"))
        for table in metadata.sorted_tables:
            connection.execute(sa.text(f"DROP TABLE `{table.name}`"))
        connection.execute(sa.text("SET FOREIGN_KEY_CHECKS=1"))
    engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request, tmp_path_factory):
    """The storage a test runs on: a config mapping, with the schema migrated once."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "test.db"
        settings = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "REDIS_URL": None}
    else:
        _check_services()
        _drop_everything(TEST_DATABASE_URL)
        settings = {"SQLALCHEMY_DATABASE_URI": TEST_DATABASE_URL, "REDIS_URL": TEST_REDIS_URL}
    settings["BACKEND"] = request.param
    app = create_app(_test_config(settings))
    with app.app_context():
        upgrade()  # the real migrations build the schema, on both engines
        db.engine.dispose()
    return settings


def _test_config(settings, **overrides):
    return {
        "TESTING": True,
        "APP_ENV": "testing",
        "SECRET_KEY": "test-secret",
        "DATA_KEY": DATA_KEY,
        "WECHAT_APP_ID": None,
        "WECHAT_APP_SECRET": None,
        "RATELIMIT_KEY_PREFIX": f"fangang-test-{uuid.uuid4().hex[:12]}",
        "LOGIN_RATE_LIMIT": "1000 per minute",
        "STAFF_LOGIN_RATE_LIMIT": "1000 per minute",
        "PROFILE_RATE_LIMIT": "1000 per minute",
        "TRUST_LIST_CACHE_SECONDS": 0,
        **settings,
        **overrides,
    }


@pytest.fixture
def make_app(backend):
    """Build an app on the test backend with extra config; tables are emptied after the test."""
    apps = []

    def build(**overrides):
        app = create_app(_test_config(backend, **overrides))
        # Flask-Limiter keeps one storage per process (the last app's); start every test from zero.
        with app.app_context(), contextlib.suppress(redis_lib.RedisError):
            limiter.reset()
        apps.append(app)
        return app

    yield build
    on_backend = [a for a in apps if a.config["SQLALCHEMY_DATABASE_URI"] == backend["SQLALCHEMY_DATABASE_URI"]]
    if on_backend:
        with on_backend[0].app_context():
            _empty_tables()
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _empty_tables():
    db.session.remove()
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def app(make_app):
    """The app with reference data loaded, inside an app context."""
    app = make_app()
    with app.app_context():
        load_reference_data()
        yield app


@pytest.fixture
def mariadb_app(make_app, backend):
    """An app with reference data for tests where concurrent writers race (skipped on SQLite, which cannot)."""
    if backend["BACKEND"] == "sqlite":
        pytest.skip("concurrent writers only race on MariaDB")
    app = make_app()
    with app.app_context():
        load_reference_data()
    return app


@pytest.fixture
def client(app):
    """A test client of the app."""
    return app.test_client()

