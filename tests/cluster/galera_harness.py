"""What the Galera failover proofs do beside the lead's `deploy/cluster/galera.GaleraCluster`.

The cluster starts, stops, kills and pauses its nodes and says which one HAProxy writes to; this
module cuts a node off the group, writes on one node directly, counts certification failures,
reads how a restarted node caught up, checks what each node stores, makes the passengers of the
races and sends two scans at one moment. Every question goes to a node's own client port, so a
node answers for itself, not through HAProxy.
"""
import http.client
import json
import re
import threading
import time
import uuid

import pymysql

from tests.faults import stack


def missing():
    """What the cluster and the app's redis-server need that this machine lacks."""
    from deploy.cluster.galera import missing as cluster_lacks

    return cluster_lacks() + [name for name in ("redis-server",) if name in stack.missing_binaries()]


def wait_primary(cluster, members, size, timeout):
    """Wait until every node of `members` is Synced in a Primary component of `size`; returns the seconds taken."""
    started = time.monotonic()
    cluster.wait_size(size, timeout=timeout, among=members)
    return time.monotonic() - started


def conflicts(members):
    """Galera's conflict counters summed over these nodes: {'cert': local transactions that failed certification
    (1213 at COMMIT), 'bf': local transactions aborted by a replicated one that won (1213 at their next statement)}."""
    statuses = [node.status() for node in members]
    return {"cert": sum(int(status["wsrep_local_cert_failures"]) for status in statuses),
            "bf": sum(int(status["wsrep_local_bf_aborts"]) for status in statuses)}


def isolate(node, on):
    """Cut the node off the group's network (gmcast.isolate=1: Galera drops every group connection both ways
    and refuses new ones, as a firewall between it and the others would), or join it back (0)."""
    with node.connect() as connection, connection.cursor() as cursor:
        cursor.execute(f"SET GLOBAL wsrep_provider_options = 'gmcast.isolate={1 if on else 0}'")


def make_probe(node):
    """A table outside the app's database for `try_write` (made while the cluster is whole, so it is everywhere)."""
    with node.connect() as connection, connection.cursor() as cursor:
        cursor.execute("CREATE DATABASE IF NOT EXISTS partition_probe")
        cursor.execute("CREATE TABLE IF NOT EXISTS partition_probe.writes "
                       "(id INT PRIMARY KEY AUTO_INCREMENT, at DOUBLE)")


def try_write(node):
    """Write one row on this node directly; None if it committed, else the MariaDB error as (code, message)."""
    try:
        with node.connect() as connection, connection.cursor() as cursor:
            cursor.execute("INSERT INTO partition_probe.writes (at) VALUES (%s)", (time.time(),))
        return None
    except pymysql.MySQLError as error:
        return error.args[0], str(error.args[1]) if len(error.args) > 1 else ""


def try_read(node):
    """Read the probe table on this node directly; None if it answered, else the MariaDB error as (code, message)."""
    try:
        with node.connect() as connection, connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM partition_probe.writes")
        return None
    except pymysql.MySQLError as error:
        return error.args[0], str(error.args[1]) if len(error.args) > 1 else ""


def haproxy_state(cluster, listener, node, want, timeout):
    """The node's state on one of HAProxy's ports once it starts with `want` ('DOWN', 'UP'), or as it is after
    `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        state = cluster.haproxy_servers().get((listener, node.name), "")
        if state.startswith(want) or time.monotonic() >= deadline:
            return state
        time.sleep(0.2)


def stored(node, client_event_ids):
    """Which of these scans the node holds."""
    return stack.stored_scans(node.connect, client_event_ids)


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
    return node.error_log.stat().st_size if node.error_log.exists() else 0


def state_transfer(node, offset):
    """How a node caught up after `offset` in its error log: ('IST, 398 write sets', 'SST' or None, the line).

    The joiner's SST script runs either way and logs which it did ("rsync IST completed on joiner" or
    "rsync SST completed on joiner"); "SST succeeded" and "IST received" appear after both, so they cannot tell.
    A node cut off and rejoined without a restart catches up by IST without running the script at all.
    """
    with open(node.error_log, "rb") as log:
        log.seek(offset)
        text = log.read().decode("utf-8", "replace")
    done = re.search(r"^.*\b(IST|SST) completed on joiner.*$", text, re.MULTILINE)
    kind = done.group(1) if done else ("IST" if "IST received" in text else None)
    if kind != "IST":
        return kind, done.group(0).strip() if done else ""
    span = re.search(r"^.*Prepared IST receiver for (\d+)-(\d+).*$", text, re.MULTILINE)
    if span is None:
        return "IST", done.group(0).strip() if done else ""
    return f"IST, {int(span.group(2)) - int(span.group(1)) + 1} write sets", span.group(0).strip()


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
