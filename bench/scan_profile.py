"""Where an online scan spends its time: SQL statements per request and a cProfile of the handler.

Run from the repository root after bench/scan_bench.py has built the `fangang_bench` database:

    .venv/bin/python bench/scan_profile.py [--scans 500] [--batch 500] [--top 40]

It makes its own passengers (one plan, 80-seat trips), then sends boarding scans through the
app's test client (the whole Flask/APIFlask/marshmallow/SQLAlchemy path, no HTTP server),
counting every SQL statement by its shape, and profiles them with cProfile. With --batch N it
also profiles one offline upload of N scans (N/2 boards and N/2 arrivals).
"""
import argparse
import cProfile
import io
import json
import os
import pstats
import random
import re
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import scan_bench  # noqa: E402

# Functions worth reading in the profile: the project's own, commits, schemas, auth, Ed25519.
PROJECT = (r"/(app|checkin)/|session.py.*\((commit|flush)\)|marshmallow/schema.py.*\((load|dump)\)|"
           r"apiflask/scaffold.py|webargs/core.py.*\(parse\)|flask_httpauth.py.*authenticate|verify'|"
           r"json/__init__.py.*(dumps|loads)|flask/json/provider.py.*(dumps|response)")


def shape(statement):
    """A statement with its literals and parameter lists folded, to count statements by kind."""
    text = " ".join(statement.split())
    text = re.sub(r"'(?:[^'\\]|\\.)*'|\b\d+(?:\.\d+)?\b|\bNULL\b", "?", text)  # literals the driver inlined
    text = re.sub(r"%\(\w+\)s|%s|\?", "?", text)
    text = re.sub(r"\(\?(, \?)*\)", "(?…)", text)
    text = re.sub(r"SELECT .*? FROM", "SELECT … FROM", text, count=1)
    return text[:150]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=500)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()

    import base64
    env = scan_bench.bench_env(os.environ.get("DATA_KEY") or base64.urlsafe_b64encode(os.urandom(32)).decode())
    # The database was made with another DATA_KEY: the signing key must be readable, so make a fresh one.
    app = scan_bench.make_app(env)
    from sqlalchemy import event
    from sqlalchemy.pool import base as pool_reset

    from app.extensions import db
    from app.services.credentials import signing

    rng = random.Random(2)
    with app.app_context():
        signing.rotate_key()
        online = scan_bench.make_passengers("profile", max(args.scans, 80), 80, "压测城市-剖析", rng)
        # Two trips: one upload timed without the profiler, one profiled.
        batch = scan_bench.make_passengers("profile-batch", 2 * max(1, args.batch // 2), max(1, args.batch // 2),
                                           "压测城市-剖析离线", rng) if args.batch else []
        engine = db.engine
    pairs = [(token, qr) for _, token, qrs in online for _, qr in qrs][:args.scans]

    statements = Counter()
    counting = {"on": False}

    # Counted where every statement reaches the driver: the scan's precompiled statements
    # (app/services/scanning/precompiled.py) run on the DBAPI cursor, past SQLAlchemy's cursor events.
    import pymysql.connections
    query = pymysql.connections.Connection.query

    def _counted_query(connection, sql, unbuffered=False):
        if counting["on"]:
            statements[shape(sql if isinstance(sql, str) else sql.decode("utf-8", "replace"))] += 1
        return query(connection, sql, unbuffered)

    pymysql.connections.Connection.query = _counted_query

    # Round trips that are not statements: COMMIT, the rollback that resets a connection returned
    # to the pool, and the ping pool_pre_ping sends at every checkout.
    @event.listens_for(engine, "commit")
    def _commit(conn):
        if counting["on"]:
            statements["(COMMIT)"] += 1

    @event.listens_for(engine.pool, "reset")
    def _reset(dbapi_connection, record, reset_state=None):
        # The pool sends ROLLBACK only if configured to and the connection's transaction is not over.
        sent = engine.pool._reset_on_return is pool_reset.reset_rollback and not (
            reset_state is not None and reset_state.transaction_was_reset)
        if counting["on"] and sent:
            statements["(ROLLBACK: connection returned to the pool)"] += 1

    @event.listens_for(engine.pool, "checkout")
    def _checkout(dbapi_connection, record, proxy):
        if counting["on"] and engine.pool._pre_ping:
            statements["(ping: pool_pre_ping at checkout)"] += 1

    client = app.test_client()

    def scan(token, qr):
        body = {"qr": qr, "kind": "board", "temperature": 36.5, "symptoms": [], "client_event_id": str(uuid.uuid4()),
                "scanned_at": datetime.now(UTC).isoformat(), "device_id": "profile"}
        response = client.post("/api/checkin/v1/scans", json=body, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.json

    for token, qr in pairs[:5]:  # warm-up: imports, schema caches, the trust list
        scan(token, qr)
    pairs = pairs[5:]
    # A third of the scans unprofiled, for honest wall-clock and CPU figures.
    plain, pairs = pairs[:len(pairs) // 3], pairs[len(pairs) // 3:]
    wall, cpu, db_cpu = time.perf_counter(), time.process_time(), scan_bench.mariadb_seconds()
    for token, qr in plain:
        scan(token, qr)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    db_cpu = scan_bench.mariadb_seconds() - db_cpu
    print(f"online, unprofiled: {len(plain)} scans, {wall / len(plain) * 1000:.2f} ms wall, "
          f"{cpu / len(plain) * 1000:.2f} ms CPU of this process and {db_cpu / len(plain) * 1000:.2f} ms of "
          f"MariaDB's each (the rest of the wall time is round trips)")
    counting["on"] = True
    profiler = cProfile.Profile()
    verdicts = Counter()
    started = time.perf_counter()
    profiler.enable()
    for token, qr in pairs:
        verdicts[scan(token, qr)["verdict"]] += 1
    profiler.disable()
    elapsed = time.perf_counter() - started
    counting["on"] = False
    n = len(pairs)
    print(f"online: {n} scans in {elapsed:.2f} s in-process = {elapsed / n * 1000:.2f} ms each "
          f"({n / elapsed:.0f}/s on one core, under the profiler); verdicts {dict(verdicts)}")
    print(f"SQL statements and other round trips per scan: {sum(statements.values()) / n:.1f}")
    for text, count in statements.most_common():
        print(f"  {count / n:5.2f}  {text}")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.top)
    print(out.getvalue())
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(args.top)
    print(out.getvalue())
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(PROJECT, 40)
    print("project functions, commit/flush, schema load/dump, auth, by cumulative time:")
    print(out.getvalue())

    if batch:
        _, token, qrs = batch[1]
        body = json.loads(scan_bench.batch_body(qrs, "profile-batch-plain"))
        wall, cpu = time.perf_counter(), time.process_time()
        response = client.post("/api/checkin/v1/scans/batch", json=body, headers={"Authorization": f"Bearer {token}"})
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        n = len(body["scans"])
        print(f"batch, unprofiled: {n} scans in {wall:.2f} s = {n / wall:.0f} scans/s in-process, "
              f"{cpu / n * 1000:.3f} ms CPU of this process per scan")
        _, token, qrs = batch[0]
        body = json.loads(scan_bench.batch_body(qrs, "profile-batch"))
        statements.clear()
        counting["on"] = True
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        response = client.post("/api/checkin/v1/scans/batch", json=body, headers={"Authorization": f"Bearer {token}"})
        profiler.disable()
        elapsed = time.perf_counter() - started
        counting["on"] = False
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        n = len(body["scans"])
        print(f"batch: {n} scans in {elapsed:.2f} s = {n / elapsed:.0f} scans/s in-process; "
              f"answers {Counter(r['verdict'] for r in response.json['results'])}")
        print(f"SQL statements and other round trips for the upload of {n} scans: {sum(statements.values())}")
        for text, count in statements.most_common(25):
            print(f"  {count:5d}  {text}")
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(PROJECT, args.top)
        print("project functions, commit/flush, schema load/dump, auth, by cumulative time:")
        print(out.getvalue())


if __name__ == "__main__":
    sys.exit(main())
