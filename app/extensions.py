"""Extensions, created unbound and attached to the app in `create_app`."""
import hashlib
import time

import redis as redis_lib
from flask import current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase

from app.redis_breaker import breaker_of, make_pool, make_sentinel_pool


class Base(DeclarativeBase):
    """Declarative base shared by every model; constraints get stable names for migrations."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
limiter = Limiter(key_func=get_remote_address)


def per_token():
    """Rate-limit key for logged-in routes: the bearer token (hashed), else the client address."""
    header = request.headers.get("Authorization", "")
    if header:
        return "token:" + hashlib.sha256(header.encode("utf-8", "replace")).hexdigest()[:32]
    return get_remote_address()


def init_redis(app):
    """Create the app's Redis client when REDIS_SENTINELS or REDIS_URL is set; None means in-process fallbacks.

    With REDIS_SENTINELS the client talks to whichever node the sentinels name primary (master
    REDIS_SENTINEL_MASTER) and follows a failover; REDIS_URL then gives only the database number and
    password. Call before `limiter.init_app`: the rate limits use the same pool, hence the same
    timeouts and circuit breaker (`app.redis_breaker`).
    """
    url, sentinels = app.config.get("REDIS_URL"), app.config.get("REDIS_SENTINELS")
    timeout, breaker_seconds = app.config["REDIS_TIMEOUT"], app.config["REDIS_BREAKER_SECONDS"]
    if sentinels:
        pool = make_sentinel_pool(sentinels, app.config["REDIS_SENTINEL_MASTER"], url, timeout, breaker_seconds)
    elif url:
        pool = make_pool(url, timeout, breaker_seconds)
    else:
        app.extensions["redis"] = None
        return
    client = redis_lib.Redis(connection_pool=pool)
    app.extensions["redis"] = client
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"connection_pool": pool})
    breaker_of(client).on_recovery.append(_limiter_storage_back)


def _limiter_storage_back():
    """Redis answers again: let Flask-Limiter count in it from the next request on.

    After a storage error Flask-Limiter counts in process memory and looks at its storage again only
    after 1, 2, 4 … 32 s; the breaker has just seen Redis (or the new primary, after a failover)
    answer, so the limiter's own wait would only keep the limits per process longer.
    """
    limiter._storage_dead = False


def redis_client():
    """Return the current app's Redis client, or None when Redis is not configured."""
    return current_app.extensions.get("redis")


def enforce_sqlite_foreign_keys(app):
    """Make SQLite check foreign keys as MariaDB does (it ignores them unless asked, per connection).

    Otherwise code that breaks a reference passes every SQLite test and fails only on MariaDB.
    """
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "connect")
    def _foreign_keys_on(dbapi_connection, record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def ping_idle_connections(app):
    """pool_pre_ping for connections idle longer than DB_PING_IDLE_SECONDS only (one round trip saved a request).

    A connection that fails the ping is replaced before the request sees it, as with pool_pre_ping.
    """
    idle = app.config.get("DB_PING_IDLE_SECONDS")
    if idle is None:
        return
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _returned(dbapi_connection, record):
        # A connection just made needs no ping either: idle time counts from its making or its return.
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, proxy):
        if time.monotonic() - record.info.get("returned_at", 0.0) <= idle:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if engine.dialect.is_disconnect(error, dbapi_connection, None):
                raise DisconnectionError() from error  # the pool connects afresh and checks out again
            raise
