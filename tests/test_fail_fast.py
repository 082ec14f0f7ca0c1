"""Issue 11, section 4: a dependency that hangs or is gone costs a bounded wait, then a JSON 503 with Retry-After.

A "hung" service here is a socket that listens and never answers: the kernel accepts the
connection, as it does for a stopped (SIGSTOP) server. A "gone" one is a port nothing listens on.
The same faults on real servers, under gunicorn and load, are in tests/faults/.
"""
import socket
import time

import pytest
from sqlalchemy import text

from app.config import ConfigError, finalize
from app.extensions import db, limiter, redis_client
from app.redis_breaker import breaker_of
from app.services.platform import cache, tokens
from app.services.platform.wechat import TokenStorage
from tests.builders import login


@pytest.fixture
def hung_port():
    """A port that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield listener.getsockname()[1]


@pytest.fixture
def gone_port():
    """A port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def test_a_hung_redis_costs_one_timeout_per_interval_not_one_per_call(make_app, hung_port):
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{hung_port}/0", REDIS_TIMEOUT=0.3, REDIS_BREAKER_SECONDS=1.0)
    with app.app_context():
        breaker_of(redis_client()).succeeded()  # make_app's limiter reset tried Redis already
        first, first_took = timed(lambda: cache.get_bytes("k"))
        assert first is None and 0.25 <= first_took < 1.0
        assert breaker_of(redis_client()).is_open
        _, rest_took = timed(lambda: [cache.get_bytes("k") or tokens.recall("t") for _ in range(50)])
        assert rest_took < 0.2  # the breaker is open: nothing waits
        time.sleep(1.05)
        _, probe_took = timed(lambda: cache.get_bytes("k"))
        assert 0.25 <= probe_took < 1.0  # one probe after the interval, which times out again
        _, after_took = timed(lambda: [cache.get_bytes("k") for _ in range(20)])
        assert after_took < 0.2


def test_while_redis_is_skipped_the_qr_cache_works_in_process_and_tokens_are_not_cached(make_app, gone_port):
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{gone_port}/0")
    with app.app_context():
        cache.set_bytes("png", b"image", ttl=60)
        assert cache.get_bytes("png") == b"image"  # in process meanwhile
        cache.set_bytes("token:x", b"who", ttl=60, shared=True)
        assert cache.get_bytes("token:x", shared=True) is None  # a logout elsewhere could not reach it


def test_a_gone_redis_fails_at_once(make_app, gone_port):
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{gone_port}/0", REDIS_BREAKER_SECONDS=0.01)
    with app.app_context():
        _, took = timed(lambda: [cache.get_bytes("k") for _ in range(20)])
        assert took < 0.5  # redis-py alone retried ten times, with backoff, every call


def test_logins_are_rate_limited_in_process_and_do_not_wait_while_redis_hangs(make_app, hung_port):
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{hung_port}/0", REDIS_TIMEOUT=0.3, LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    try:
        answers = [timed(lambda n=n: client.post("/api/mp/v1/session", json={"code": f"dev:r{n}"}))
                   for n in range(4)]
    finally:
        limiter._storage_dead = False  # Flask-Limiter keeps this per process; the next app starts healthy
    assert [response.status_code for response, _ in answers] == [201, 201, 201, 429]
    assert sum(took for _, took in answers) < 2.0  # at most a timeout or two, not one per login
    assert answers[3][0].json["error"]["code"] == "rate_limited"


def test_wechat_token_storage_stays_in_process_while_redis_is_unreachable(make_app, gone_port):
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{gone_port}/0")
    with app.app_context():
        storage = TokenStorage(redis_client(), prefix="test")
        storage.set("access_token", "ACCESS", 7200)
        assert storage.get("access_token") == "ACCESS"
        storage.delete("access_token")
        assert storage.get("access_token") is None


def test_healthz_503_has_the_error_shape_retry_after_and_the_report(make_app, gone_port):
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{gone_port}/0", RETRY_AFTER_SECONDS=7)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.headers["Retry-After"] == "7"
    assert response.json["error"]["code"] == "unavailable" and response.json["error"]["message"]
    assert response.json["redis"]["ok"] is False and response.json["database"]["ok"] is True


@pytest.mark.parametrize("kind", ["hung", "gone"])
def test_an_unreachable_database_is_a_quick_json_503_with_retry_after(make_app, kind, hung_port, gone_port):
    port = hung_port if kind == "hung" else gone_port
    app = make_app(SQLALCHEMY_DATABASE_URI=f"mysql+pymysql://root@127.0.0.1:{port}/x?charset=utf8mb4",
                   DB_CONNECT_TIMEOUT=0.5)
    client = app.test_client()
    for path in ("/healthz", "/api/mp/v1/session"):
        response, took = timed(lambda: client.post(path, json={"code": "dev:a"}) if "session" in path
                               else client.get(path))
        assert response.status_code == 503 and took < 2.5, (path, took)
        assert int(response.headers["Retry-After"]) > 0 and response.json["error"]["code"] == "unavailable"


def test_request_deadline_must_be_below_gunicorn_timeout(monkeypatch, tmp_path):
    settings = {"APP_ENV": "development", "SQLALCHEMY_DATABASE_URI": "sqlite://", "DATA_KEY": "x" * 43,
                "REQUEST_DEADLINE_SECONDS": 15.0}
    monkeypatch.setenv("GUNICORN_TIMEOUT", "10")
    with pytest.raises(ConfigError, match="REQUEST_DEADLINE_SECONDS"):
        finalize(dict(settings), str(tmp_path))
    monkeypatch.setenv("GUNICORN_TIMEOUT", "30")
    assert finalize(dict(settings), str(tmp_path))["REQUEST_DEADLINE_SECONDS"] == 15.0


def test_mysql_connections_get_connect_read_and_write_timeouts(tmp_path):
    settings = {"APP_ENV": "development", "DATA_KEY": "x" * 43, "DB_CONNECT_TIMEOUT": 2.0, "DB_READ_TIMEOUT": 4.0,
                "DB_WRITE_TIMEOUT": 6.0, "REQUEST_DEADLINE_SECONDS": 15.0,
                "SQLALCHEMY_DATABASE_URI": "mysql+pymysql://root@127.0.0.1/x"}
    connect_args = finalize(settings, str(tmp_path))["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]
    # Connecting and idle pings are bounded by the connect timeout; statements get the read timeout per request.
    assert connect_args == {"connect_timeout": 2.0, "read_timeout": 2.0, "write_timeout": 6.0}


def _statement_route(app, *statements):
    """A route running these statements in turn (a number: that many seconds of work in Python)."""
    def run():
        for statement in statements:
            if isinstance(statement, float):
                time.sleep(statement)
            else:
                db.session.execute(text(statement))
        return {"ok": True}

    app.add_url_rule("/_test/statements", "test_statements", run)


def _needs_mariadb(backend):
    if backend["BACKEND"] != "mariadb":
        pytest.skip("statement timeouts are PyMySQL's")


def test_a_statement_waits_at_most_db_read_timeout_then_503(make_app, backend):
    _needs_mariadb(backend)
    app = make_app(DB_READ_TIMEOUT=1.0)
    _statement_route(app, "SELECT SLEEP(3)")
    response, took = timed(lambda: app.test_client().get("/_test/statements"))
    assert response.status_code == 503 and 0.9 <= took < 2.5
    assert response.headers["Retry-After"] and response.json["error"]["code"] == "unavailable"
    with app.app_context():  # the pool replaced the connection it gave up on
        assert db.session.execute(text("SELECT 1")).scalar() == 1


def test_statements_stop_at_the_request_deadline(make_app, backend):
    _needs_mariadb(backend)
    app = make_app(DB_READ_TIMEOUT=5.0, REQUEST_DEADLINE_SECONDS=1.5)
    _statement_route(app, "SELECT SLEEP(0.6)", "SELECT SLEEP(0.6)", "SELECT SLEEP(0.6)", "SELECT SLEEP(0.6)")
    response, took = timed(lambda: app.test_client().get("/_test/statements"))
    assert response.status_code == 503 and took < 2.2
    assert response.json["error"]["code"] == "unavailable"


def test_no_statement_is_sent_past_the_deadline(make_app, backend):
    _needs_mariadb(backend)
    app = make_app(REQUEST_DEADLINE_SECONDS=0.5)
    _statement_route(app, "SELECT 1", 0.6, "SELECT 2")
    response, took = timed(lambda: app.test_client().get("/_test/statements"))
    assert response.status_code == 503 and took < 1.5
    assert response.headers["Retry-After"] and response.json["error"]["code"] == "unavailable"


def test_outside_a_request_statements_may_run_long(make_app, backend):
    """The flask commands (migrations, purge) are not cut off: DDL cut half-way is not rolled back."""
    _needs_mariadb(backend)
    app = make_app(DB_READ_TIMEOUT=0.3)
    with app.app_context():
        assert db.session.execute(text("SELECT SLEEP(0.8)")).scalar() == 0
