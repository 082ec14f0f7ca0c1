"""What the Galera failover proofs read and do beside the lead's `deploy/cluster/galera.GaleraCluster`.

The cluster starts and stops its nodes; this module asks them what they are (wsrep status, which
one HAProxy sends writes to, how a restarted node caught up), checks what they store, makes the
passengers the proofs scan, and sends two scans at one moment. Every question goes to a node's
own client port with pymysql, so a dead or isolated node answers for itself, not through HAProxy.
"""
import http.client
import json
import re
import shutil
import threading
import time
import uuid
from pathlib import Path

import pymysql
from sqlalchemy.engine import make_url

from tests.faults import stack

GALERA_PROVIDER = Path("/usr/lib/galera/libgalera_smm.so")
BINARIES = stack.BINARIES + ("haproxy", "rsync")
NODE_COUNT = 3


def missing():
    """What the cluster needs that this machine lacks (programs and the Galera library)."""
    absent = [name for name in BINARIES if shutil.which(name) is None and not Path("/usr/sbin", name).exists()]
    return absent + ([] if GALERA_PROVIDER.exists() else [str(GALERA_PROVIDER)])


def nodes(cluster):
    """The cluster's three nodes, in order."""
    return [cluster.node(index) for index in range(1, NODE_COUNT + 1)]


def connect_url(url, timeout=2):
    """A pymysql connection to where a SQLAlchemy URL points (through HAProxy or to a node)."""
    parts = make_url(url)
    return pymysql.connect(host=parts.host, port=parts.port, user=parts.username, password=parts.password or "",
                           database=parts.database, connect_timeout=timeout, read_timeout=timeout, autocommit=True)


def writer_index(cluster):
    """The 1-based index of the node HAProxy sends writes to now: asked through the writer port itself."""
    with connect_url(cluster.writer_url("fangang")) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT @@port")
        port = cursor.fetchone()[0]
    for index, node in enumerate(nodes(cluster), start=1):
        if node.port == port:
            return index
    raise AssertionError(f"HAProxy's writer answers from port {port}, no node of the cluster")


def wsrep(node, timeout=2):
    """The node's wsrep status variables ({'wsrep_cluster_size': '3', ...}), or None if it does not answer."""
    try:
        connection = node.connect()
    except pymysql.MySQLError:
        return None
    try:
        with connection.cursor() as cursor:
            cursor.execute("SHOW GLOBAL STATUS LIKE 'wsrep%'")
            return dict(cursor.fetchall())
    except pymysql.MySQLError:
        return None
    finally:
        connection.close()


def in_primary(node, size):
    """Whether the node is Synced in a Primary component of `size` nodes."""
    status = wsrep(node)
    return bool(status) and status.get("wsrep_cluster_status") == "Primary" \
        and status.get("wsrep_local_state_comment") == "Synced" and int(status.get("wsrep_cluster_size", 0)) == size


def wait_primary(members, size, timeout):
    """Wait until every node of `members` is Synced in a Primary component of `size`; returns the seconds taken."""
    started = time.monotonic()
    stack.wait_until(lambda: all(in_primary(node, size) for node in members), timeout,
                     f"{len(members)} nodes Synced in a Primary component of {size}")
    return time.monotonic() - started


def counter(members, name):
    """The sum of one wsrep status counter over these nodes."""
    return sum(int(wsrep(node)[name]) for node in members)


def isolate(node, on):
    """Cut the node off the group's network (gmcast.isolate=1: Galera drops every group connection both ways
    and refuses new ones, as a firewall between it and the others would), or join it back (0)."""
    with node.connect() as connection, connection.cursor() as cursor:
        cursor.execute(f"SET GLOBAL wsrep_provider_options = 'gmcast.isolate={1 if on else 0}'")


def try_write(node):
    """Write one row on this node directly; returns None if it committed, else the MariaDB error (code, text)."""
    try:
        with node.connect("fangang") as connection, connection.cursor() as cursor:
            cursor.execute("CREATE TABLE IF NOT EXISTS partition_probe (id INT PRIMARY KEY AUTO_INCREMENT, at DOUBLE)")
            cursor.execute("INSERT INTO partition_probe (at) VALUES (%s)", (time.time(),))
        return None
    except pymysql.MySQLError as error:
        return error.args[0], str(error.args[1]) if len(error.args) > 1 else ""


def stored(node, client_event_ids):
    """Which of these scans the node holds."""
    found, ids = set(), list(client_event_ids)
    with node.connect("fangang") as connection, connection.cursor() as cursor:
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            cursor.execute("SELECT client_event_id FROM scan_events WHERE client_event_id IN "
                           f"({', '.join(['%s'] * len(chunk))})", chunk)
            found.update(row[0] for row in cursor.fetchall())
    return found


def boardings(node, client_event_ids):
    """For the seats these scans were about: {seat_id: (scans that boarded it, boarding health events of its rider)}."""
    ids = list(client_event_ids)
    with node.connect("fangang") as connection, connection.cursor() as cursor:
        cursor.execute("SELECT seat_id, worker_id, COUNT(boarded_seat_id) FROM scan_events WHERE client_event_id IN "
                       f"({', '.join(['%s'] * len(ids))}) GROUP BY seat_id, worker_id", ids)
        seats = cursor.fetchall()
        workers = [worker for _, worker, _ in seats]
        cursor.execute("SELECT worker_id, COUNT(*) FROM health_events WHERE kind = 'boarding' AND worker_id IN "
                       f"({', '.join(['%s'] * len(workers))}) GROUP BY worker_id", workers)
        health = dict(cursor.fetchall())
    return {seat: (boarded, health.get(worker, 0)) for seat, worker, boarded in seats}


def log_offset(node):
    """Where the node's error log ends now (read it from there after a restart with `state_transfer`)."""
    path = error_log(node)
    return path.stat().st_size if path.exists() else 0


def error_log(node):
    """The node's error log (asked of the node while it runs, remembered for when it does not)."""
    path = getattr(node, "_h4_error_log", None)
    if path is None:
        with node.connect() as connection, connection.cursor() as cursor:
            cursor.execute("SELECT @@log_error, @@datadir")
            log, datadir = cursor.fetchone()
        path = Path(log) if Path(log).is_absolute() else Path(datadir) / log
        node._h4_error_log = path
    return path


def state_transfer(node, offset):
    """How a restarted node caught up, from its error log after `offset`: 'IST', 'SST' or None, and the line."""
    with open(error_log(node), "rb") as log:
        log.seek(offset)
        text = log.read().decode("utf-8", "replace")
    ist = re.search(r"^.*(IST received|Receiving IST).*$", text, re.MULTILINE)
    # A joiner always prepares an SST request; a full copy shows as the SST script's data received.
    sst = re.search(r"^.*(SST received|SST succeeded|rsync SST completed).*$", text, re.MULTILINE)
    if ist and not re.search(r"Receiving IST: 0 writesets", text):
        return "IST", ist.group(0).strip()
    if sst:
        return "SST", sst.group(0).strip()
    if ist:
        return "IST", ist.group(0).strip()
    return None, ""


def race_seats(database_url, redis_url, data_key, count):
    """One trip of `count` passengers and its two scanners: [(captain token, vice-captain token, QR)] for each seat
    not held by the captain or the vice-captain, made as tests/faults' passengers are (bench.scan_bench)."""
    import random

    from app import create_app
    from app.extensions import db
    from app.models import Seat, Trip
    from app.services.platform import tokens
    from bench.scan_bench import make_passengers

    app = create_app({"APP_ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis_url,
                      "DATA_KEY": data_key, "WECHAT_APP_ID": None, "WECHAT_APP_SECRET": None})
    with app.app_context():
        [(trip_id, captain_token, qrs)] = make_passengers("race", count, count, "竞态演练城市", random.Random(16))
        trip = db.session.get(Trip, trip_id)
        vice_token, _ = tokens.issue_token("worker", trip.vice_captain_worker_id)
        crew = {trip.captain_worker_id, trip.vice_captain_worker_id}
        riders = {seat.id: seat.worker_id for seat in db.session.query(Seat).filter(Seat.trip_id == trip_id)}
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return [(captain_token, vice_token, qr) for seat_id, qr in qrs if riders[seat_id] not in crew]


def race(ports_and_tokens, qr):
    """Board one QR from several scanners at one moment (a barrier, connections opened beforehand).

    `ports_and_tokens`: [(gunicorn port, scanner token)]. Returns [(client_event_id, status, body)] in that order.
    """
    barrier = threading.Barrier(len(ports_and_tokens))
    results = [None] * len(ports_and_tokens)

    def board(slot, port, token):
        event_id = str(uuid.uuid4())
        body = json.dumps({"qr": qr, "kind": "board", "temperature": 36.5, "symptoms": [],
                           "client_event_id": event_id, "device_id": f"race-{slot}",
                           "scanned_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
        status, parsed = None, None
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            connection.connect()
            barrier.wait(30)
            connection.request("POST", stack.SCAN_PATH, body=body, headers={
                "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            response = connection.getresponse()
            status, parsed = response.status, json.loads(response.read())
        except (OSError, http.client.HTTPException, ValueError, threading.BrokenBarrierError):
            pass
        finally:
            connection.close()
        results[slot] = (event_id, status, parsed)

    threads = [threading.Thread(target=board, args=(slot, port, token))
               for slot, (port, token) in enumerate(ports_and_tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    return results
