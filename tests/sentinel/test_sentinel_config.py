"""REDIS_SENTINELS / REDIS_SENTINEL_MASTER as configuration, and the sentinel breaker's rules (no servers needed)."""
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from app.config import ConfigError, finalize, from_environment, sentinel_addresses
from app.redis_breaker import GuardedSentinelConnection, SentinelBreaker, breaker_of

PRODUCTION = {"APP_ENV": "production", "SECRET_KEY": "s" * 40, "DATA_KEY": "k",
              "SQLALCHEMY_DATABASE_URI": "mysql+pymysql://u@db/fangang", "WECHAT_APP_ID": "wx", "WECHAT_APP_SECRET": "x"}


def test_sentinels_are_read_as_host_port_pairs():
    assert sentinel_addresses("10.0.0.1:26379, 10.0.0.2:26380,[::1]:26381") == [
        ("10.0.0.1", 26379), ("10.0.0.2", 26380), ("::1", 26381)]
    assert sentinel_addresses(None) == [] and sentinel_addresses("") == []
    with pytest.raises(ConfigError, match="REDIS_SENTINELS"):
        sentinel_addresses("10.0.0.1")


def test_the_environment_names_the_sentinels_and_the_master(monkeypatch):
    monkeypatch.setenv("REDIS_SENTINELS", "a:1,b:2")
    monkeypatch.delenv("REDIS_SENTINEL_MASTER", raising=False)
    config = from_environment()
    assert (config["REDIS_SENTINELS"], config["REDIS_SENTINEL_MASTER"]) == ("a:1,b:2", "fangang")


def test_production_needs_redis_url_or_sentinels(tmp_path):
    with pytest.raises(ConfigError, match="REDIS_URL and REDIS_SENTINELS are both unset"):
        finalize({**from_environment(), **PRODUCTION, "REDIS_URL": None, "REDIS_SENTINELS": None}, tmp_path)
    config = finalize({**from_environment(), **PRODUCTION, "REDIS_URL": None, "REDIS_SENTINELS": "s1:26379"}, tmp_path)
    assert config["REDIS_SENTINELS"] == [("s1", 26379)]
    assert config["RATELIMIT_STORAGE_URI"] == "redis://"  # the pool given to the limiter says where


def test_with_sentinels_redis_url_gives_only_the_database_and_password(make_app):
    app = make_app(REDIS_URL="redis://:secret@ignored-host:1/3", REDIS_SENTINELS="127.0.0.1:1,127.0.0.1:2",
                   REDIS_SENTINEL_MASTER="fangang-test", REDIS_TIMEOUT=0.2)
    pool = app.extensions["redis"].connection_pool
    assert pool.service_name == "fangang-test"
    assert pool.connection_class is GuardedSentinelConnection
    assert (pool.connection_kwargs["db"], pool.connection_kwargs["password"]) == (3, "secret")
    assert "host" not in pool.connection_kwargs
    assert app.config["RATELIMIT_STORAGE_OPTIONS"]["connection_pool"] is pool
    assert [s.connection_pool.connection_kwargs["port"] for s in pool.sentinel_manager.sentinels] == [1, 2]


def test_no_sentinel_answers_opens_the_breaker_and_fails_at_once(make_app):
    app = make_app(REDIS_URL=None, REDIS_SENTINELS="127.0.0.1:1", REDIS_TIMEOUT=0.2, REDIS_BREAKER_SECONDS=30)
    client = app.extensions["redis"]
    with pytest.raises(RedisConnectionError):
        client.get("x")
    assert breaker_of(client).is_open
    with app.app_context():
        assert app.test_client().get("/healthz").json["redis"] == {"ok": False, "configured": True}


class TestSentinelBreaker:
    def make(self, where):
        breaker = SentinelBreaker(interval=60, lookup_interval=0)
        breaker.locate = where
        return breaker

    def test_open_breaker_lets_a_call_through_once_the_sentinels_name_a_new_primary(self):
        primary = [("10.0.0.1", 6379)]
        breaker = self.make(lambda: primary[0])
        breaker.failed(RedisConnectionError("refused"), ("10.0.0.1", 6379))
        assert not breaker.allow()  # same primary: wait the interval
        primary[0] = ("10.0.0.2", 6379)
        assert breaker.allow()  # moved: try it now

    def test_while_no_primary_is_named_it_stays_open(self):
        def nowhere():
            raise RedisConnectionError("No master found")
        breaker = self.make(nowhere)
        breaker.failed(RedisConnectionError("refused"), ("10.0.0.1", 6379))
        assert not breaker.allow()

    def test_recovery_is_announced_once(self):
        breaker, heard = self.make(lambda: None), []
        breaker.on_recovery.append(lambda: heard.append(1))
        breaker.succeeded()
        breaker.failed(RedisConnectionError("refused"))
        breaker.succeeded()
        breaker.succeeded()
        assert heard == [1]


def test_redis_back_puts_the_limiter_back_on_redis(make_app):
    from app.extensions import limiter
    app = make_app(REDIS_URL=None, REDIS_SENTINELS="127.0.0.1:1", REDIS_TIMEOUT=0.2)
    breaker = breaker_of(app.extensions["redis"])
    assert "_storage_dead" in vars(limiter)  # Flask-Limiter's own flag, which the hook clears (4.1)
    limiter._storage_dead = True  # as after a storage error
    breaker.failed(RedisConnectionError("refused"))
    breaker.succeeded()
    assert limiter._storage_dead is False

