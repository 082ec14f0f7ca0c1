"""The floor under the online scan: the least work a correct scan needs, on this stack, with nothing else.

Served by bench/scan_bench.py in place of the app (`--app bench.floor_app:app`), against the same
database, Redis, gunicorn settings and wrk script, it answers what the target (500 scans/s) asks
of the machine before any of the app's own code runs. Per request it does what the real scan
cannot do without:

  - a plain Flask route (no APIFlask, marshmallow, Flask-Limiter or Flask-SQLAlchemy) and
    `json.loads` of the body;
  - one Redis GET for the bearer token (the app remembers tokens there);
  - the QR decoded and its Ed25519 signature verified (the app's own credentials module);
  - on one PyMySQL connection per process, no SQLAlchemy: one SELECT of the seat with its trip
    and passenger, one INSERT into scan_events, one INSERT into health_events, one COMMIT;
  - a small JSON answer.

`POST /api/checkin/v1/scans/batch` is the same for an upload: each QR verified once, one SELECT of
all the seats, one multi-row INSERT of the scans, one SELECT of their ids, one multi-row INSERT
of the health events, one COMMIT.

It does not authorize, judge health, read the health record or write the answer for replays,
so it is not a scan endpoint: it is the ceiling the real one works under. /healthz is the
app's: one SELECT 1 and one Redis PING.
"""
import hashlib
import json
import os
import uuid
from datetime import UTC, datetime

import pymysql
import redis
from flask import Flask, request

from app.services.credentials import credentials

DATABASE = dict(host="127.0.0.1", port=3306, user="root", password="", database="fangang_bench",
                charset="utf8mb4", autocommit=False)
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/3")

SEAT = ("SELECT seats.id, seats.seat_no, seats.status, trips.id, trips.status, trips.plate, "
        "trips.captain_worker_id, workers.id, workers.name, workers.id_number_mask "
        "FROM seats JOIN trips ON trips.id = seats.trip_id JOIN workers ON workers.id = seats.worker_id "
        "WHERE seats.id = %s")
INSERT_SCAN = ("INSERT INTO scan_events (client_event_id, kind, mode, scanned_at, received_at, device_id, actor_kind, "
               "actor_id, serial, trip_id, seat_id, worker_id, temperature, symptoms, verdict, reason, conflict, "
               "boarded_seat_id, answer) VALUES (%s, 'board', 'online', %s, %s, %s, 'worker', %s, %s, %s, %s, %s, %s, "
               "'[]', 'allow', 'ok', 0, %s, '{}')")
INSERT_SCANS = ("INSERT INTO scan_events (client_event_id, kind, mode, scanned_at, received_at, device_id, actor_kind, "
                "actor_id, serial, trip_id, seat_id, worker_id, temperature, symptoms, verdict, reason, conflict, "
                "boarded_seat_id, arrived_seat_id, answer) VALUES (" + ", ".join(["%s"] * 20) + ")")
# Only placeholders after VALUES: PyMySQL's executemany then sends one multi-row INSERT, not a statement a row.
INSERT_HEALTH = ("INSERT INTO health_events (worker_id, kind, occurred_at, recorded_at, temperature, symptoms, "
                 "actor_kind, actor_id, scan_event_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)")

app = Flask(__name__)
_state = {}


def _connections():
    """This process's MariaDB connection, Redis client and trusted public keys (made at first use, after fork)."""
    if not _state:
        _state["db"] = pymysql.connect(**DATABASE)
        _state["redis"] = redis.Redis.from_url(REDIS_URL)
        with _state["db"].cursor() as cursor:
            cursor.execute("SELECT kid, public_key FROM signing_keys")
            _state["keys"] = {kid: bytes(public_key) for kid, public_key in cursor.fetchall()}
        _state["db"].commit()
    return _state["db"], _state["redis"], _state["keys"]


@app.get("/healthz")
def healthz():
    """One SELECT 1 and one Redis PING, as the app's health check."""
    db, cache, _ = _connections()
    with db.cursor() as cursor:
        cursor.execute("SELECT 1")
    db.commit()
    cache.ping()
    return {"status": "ok"}


@app.post("/api/checkin/v1/scans")
def scan():
    """Verify the QR, read its seat, store the scan and its health event, commit."""
    db, cache, keys = _connections()
    body = json.loads(request.get_data())
    token = request.headers.get("Authorization", "").removeprefix("Bearer ")
    cache.get("fangang:cache:token:" + hashlib.sha256(token.encode()).hexdigest())
    payload, signed, signature = credentials.decode_credential(body["qr"])
    public_key = keys.get(payload.kid)
    if public_key is None or not credentials.verify_signature(public_key, signed, signature):
        return {"verdict": "deny", "reason": "invalid"}, 200
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    with db.cursor() as cursor:
        cursor.execute(SEAT, (payload.serial,))
        row = cursor.fetchone()
        if row is None:
            db.rollback()
            return {"verdict": "deny", "reason": "invalid"}, 200
        seat_id, seat_no, _, trip_id, _, plate, captain_id, worker_id, name, mask = row
        try:
            cursor.execute(INSERT_SCAN, (body["client_event_id"] or str(uuid.uuid4()), now, now, body["device_id"],
                                         captain_id, seat_id, trip_id, seat_id, worker_id, body["temperature"],
                                         seat_id))
        except pymysql.err.IntegrityError:
            db.rollback()
            return {"verdict": "deny", "reason": "already_boarded"}, 200
        cursor.execute(INSERT_HEALTH, (worker_id, "boarding", now, now, body["temperature"], "[]", "captain", captain_id,
                                       cursor.lastrowid))
    db.commit()
    return {"verdict": "allow", "reason": "ok",
            "passenger": {"name": name[0] + "*" + name[-1:], "id_last4": mask[-4:], "seat": seat_no, "trip": trip_id,
                          "plate": plate}}


@app.post("/api/checkin/v1/scans/batch")
def scan_batch():
    """The same work for an upload, in set statements."""
    db, cache, keys = _connections()
    scans = json.loads(request.get_data())["scans"]
    token = request.headers.get("Authorization", "").removeprefix("Bearer ")
    cache.get("fangang:cache:token:" + hashlib.sha256(token.encode()).hexdigest())
    verified = {}
    for text in {item["qr"] for item in scans}:
        payload, signed, signature = credentials.decode_credential(text)
        public_key = keys.get(payload.kid)
        if public_key is not None and credentials.verify_signature(public_key, signed, signature):
            verified[text] = payload.serial
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    with db.cursor() as cursor:
        serials = sorted(set(verified.values())) or [0]
        cursor.execute(SEAT.replace("= %s", "IN %s"), (serials,))
        seats = {row[0]: row for row in cursor.fetchall()}
        rows, results = [], []
        for item in scans:
            seat = seats.get(verified.get(item["qr"]))
            if seat is None:
                results.append({"client_event_id": item["client_event_id"], "verdict": "deny", "reason": "invalid"})
                continue
            seat_id, seat_no, _, trip_id, _, plate, captain_id, worker_id, name, mask = seat
            rows.append((item["client_event_id"], item["kind"], "offline", item["scanned_at"][:19].replace("T", " "), now,
                         item["device_id"], "worker", captain_id, seat_id, trip_id, seat_id, worker_id,
                         item["temperature"], "[]", "allow", "ok", 0, seat_id if item["kind"] == "board" else None,
                         seat_id if item["kind"] == "arrive" else None, "{}"))
            results.append({"client_event_id": item["client_event_id"], "verdict": "allow", "reason": "ok",
                            "passenger": {"name": name[0] + "*" + name[-1:], "id_last4": mask[-4:], "seat": seat_no,
                                          "trip": trip_id, "plate": plate}})
        if rows:
            cursor.executemany(INSERT_SCANS, rows)
            cursor.execute("SELECT id, worker_id, scanned_at, temperature, actor_id FROM scan_events "
                           "WHERE client_event_id IN %s", ([row[0] for row in rows],))
            cursor.executemany(INSERT_HEALTH, [(worker_id, "boarding", scanned_at, now, temperature, "[]", "captain",
                                                actor_id, event_id)
                                               for event_id, worker_id, scanned_at, temperature, actor_id
                                               in cursor.fetchall()])
    db.commit()
    return {"results": results}
