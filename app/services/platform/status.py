"""Reachability of the services the app depends on, for /healthz."""
import logging

from sqlalchemy import text

from app.extensions import db, redis_client

log = logging.getLogger(__name__)


def check():
    """Return {"status", "database", "redis"}; status is "ok" only if every configured service answers."""
    report = {"database": _database(), "redis": _redis()}
    healthy = report["database"]["ok"] and report["redis"]["ok"] is not False
    report["status"] = "ok" if healthy else "unavailable"
    return report


def _database():
    try:
        db.session.execute(text("SELECT 1"))
        return {"ok": True, "backend": db.engine.dialect.name}
    except Exception as error:  # noqa: BLE001  any failure means "not reachable"
        db.session.rollback()
        log.warning("database unreachable: %s", type(error).__name__)
        return {"ok": False, "backend": db.engine.dialect.name}


def _redis():
    client = redis_client()
    if client is None:
        return {"ok": None, "configured": False}
    try:
        client.ping()
        return {"ok": True, "configured": True}
    except Exception as error:  # noqa: BLE001
        log.warning("redis unreachable: %s", type(error).__name__)
        return {"ok": False, "configured": True}
