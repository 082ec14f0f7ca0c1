"""The subscribe-message sender's throughput, and what queueing a message adds to the causing request.

Run from the repository root:

    .venv/bin/python bench/notify_bench.py [--count 10000] [--senders 1,4] [--db mariadb,sqlite]
                                           [--latency 0] [--samples 2000] [--enqueue-only]

For each database (MariaDB: the database `fangang_notify_bench` on 127.0.0.1:3306, root, dropped and
rebuilt; SQLite: a file in a temporary directory) it migrates the schema, queues --count messages
to 1,000 workers, starts the fake WeChat (tests/fake_wechat.py) in its own process, and for each
--senders value starts that many `flask notify run` processes and times the drain from WeChat's first
delivery to its last (process start-up is left out), checking that every message arrived exactly
once. Redis (--redis-url, default db 2 of 127.0.0.1:6379; nothing is flushed) holds the shared token.

Then, on the same database, the enqueue cost (goal: p99 ≤ 2 ms): --samples times each, interleaved,
a request-like transaction (update the worker, write an audit row, commit) without and with
outbox.to_worker (which reads the openid, spends a grant and inserts the message), and
to_worker + flush alone.
"""
import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.request import Request, urlopen

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MARIADB_URL = "mysql+pymysql://root@127.0.0.1:3306/fangang_notify_bench?charset=utf8mb4"
WORKERS = 1000
TEMPLATES = {"application_decided": "TPL-application_decided", "trip_assigned": "TPL-trip_assigned"}
GOAL_P99_MS = 2.0


def settings(database_url, fake_url, redis_url):
    """The environment of the app and its senders."""
    from app.crypto import generate_key

    return {"APP_ENV": "testing", "SECRET_KEY": "bench-secret", "DATA_KEY": generate_key(),
            "DATABASE_URL": database_url, "REDIS_URL": redis_url or "", "WECHAT_APP_ID": "wxbench0000000001",
            "WECHAT_APP_SECRET": "bench-secret", "WECHAT_API_BASE_URL": fake_url,
            "WECHAT_TEMPLATES": json.dumps(TEMPLATES), "NOTIFY_BATCH": "50", "NOTIFY_POLL_SECONDS": "0.5",
            "NOTIFY_LEASE_SECONDS": "60", "FLASK_APP": "wsgi"}


def make_app(env):
    """The app as the senders see it, built in this process."""
    os.environ.update(env)
    from app import create_app

    return create_app()


def rebuild_mariadb():
    """Drop and create the bench database (never `test`)."""
    import pymysql

    connection = pymysql.connect(host="127.0.0.1", port=3306, user="root")
    with connection.cursor() as cursor:
        cursor.execute("DROP DATABASE IF EXISTS fangang_notify_bench")
        cursor.execute("CREATE DATABASE fangang_notify_bench CHARACTER SET utf8mb4")
    connection.close()


def load(app, count):
    """Migrate, then 1,000 workers with openids and `count` queued messages, in batches of 1,000 rows."""
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from app.extensions import db
    from app.models import Message, Worker
    from app.models.base import utcnow
    from app.services.messaging import templates

    with app.app_context():
        upgrade()
        db.session.execute(insert(Worker), [{"openid": f"o-bench-{n}"} for n in range(WORKERS)])
        db.session.commit()
        ids = db.session.scalars(db.select(Worker.id).order_by(Worker.id)).all()
        now = utcnow()
        for start in range(0, count, 1000):
            rows = []
            for n in range(start, min(start + 1000, count)):
                rendered = templates.render("application_decided", {
                    "subject": f"m{n} 外出务工报名", "result": "通过", "note": "请按时出发", "decided_at": now,
                    "application_id": n})
                rows.append({"recipient_kind": "worker", "worker_id": ids[n % WORKERS],
                             "template": "application_decided",
                             "title": rendered.title, "body": rendered.body, "data": rendered.data,
                             "page": rendered.page, "delivery": "queued", "attempts": 0, "next_attempt_at": now,
                             "created_at": now})
            db.session.execute(insert(Message), rows)
            db.session.commit()
        return ids


def requeue(app):
    """Every message back to queued, for the next round."""
    from sqlalchemy import update

    from app.extensions import db
    from app.models import Message
    from app.models.base import utcnow

    with app.app_context():
        db.session.execute(update(Message).values(delivery="queued", attempts=0, sent_at=None, claimed_by=None,
                                                  claimed_until=None, next_attempt_at=utcnow()))
        db.session.commit()


def fake_call(url, path, body=None):
    """GET (or POST a JSON body to) the fake WeChat's control endpoints."""
    data = None if body is None else json.dumps(body).encode()
    request = Request(url + path.lstrip("/"), data=data, headers={"Content-Type": "application/json"})
    with urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def drain(env, fake_url, senders, count):
    """Start `senders` processes and time WeChat's deliveries from the first to the `count`-th."""
    base = fake_call(fake_url, "/_fake/state")["deliveries"]
    processes = [subprocess.Popen([sys.executable, "-m", "flask", "notify", "run"], cwd=ROOT, env={**os.environ, **env},
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(senders)]
    first = last = None
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            done = fake_call(fake_url, "/_fake/state")["deliveries"] - base
            now = time.monotonic()
            if done > 0 and first is None:
                first = now
            if done >= count:
                last = now
                break
            time.sleep(0.05)
    finally:
        outputs = []
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            out, err = process.communicate(timeout=60)
            outputs.append((process.returncode, out.strip().splitlines()[-1:] or [err[-300:]]))
    if last is None:
        raise SystemExit(f"not drained in 10 minutes: {outputs}")
    bodies = fake_call(fake_url, "/_fake/deliveries")[base:]
    times = Counter(body["data"]["thing1"]["value"].split()[0] for body in bodies)
    return {"seconds": last - first, "rate": count / (last - first), "delivered": len(times),
            "duplicates": sum(1 for n in times.values() if n > 1), "outputs": outputs}


def enqueue_cost(app, worker_ids, samples):
    """p50/p99 (ms) of a request-like transaction without and with to_worker, and of to_worker + flush alone.

    The CPU time of the enqueue in this process is given too: on a shared machine the wall time
    mostly measures the wait for a core.
    """
    from sqlalchemy import insert, update

    from app.extensions import db
    from app.models import AuditLog, SubscriptionGrant, Worker
    from app.models.base import utcnow
    from app.services.messaging import outbox

    with app.app_context():
        workers = worker_ids[:50]
        db.session.execute(insert(SubscriptionGrant), [
            {"worker_id": w, "template": "trip_assigned", "template_id": TEMPLATES["trip_assigned"]}
            for w in workers for _ in range(samples // len(workers) + 2)])
        db.session.commit()
        plain, with_message, alone, alone_cpu = [], [], [], []
        for n in range(samples):
            worker = workers[n % len(workers)]
            for timings, enqueue in ((plain, False), (with_message, True)):
                started = time.perf_counter()
                db.session.execute(update(Worker).where(Worker.id == worker).values(updated_at=utcnow()))
                db.session.add(AuditLog(actor_kind="system", action="bench.event", object_type="worker",
                                            object_id=worker))
                if enqueue:
                    before, before_cpu = time.perf_counter(), time.process_time()
                    outbox.to_worker(worker, "trip_assigned", {
                        "departure": utcnow(), "place": "永宁县汽车站", "vehicle": "宁A12345 12座",
                        "captain_phone": "13912345678", "note": "请提前30分钟到达", "trip_id": n})
                    db.session.flush()
                    alone.append(time.perf_counter() - before)
                    alone_cpu.append(time.process_time() - before_cpu)
                db.session.commit()
                timings.append(time.perf_counter() - started)
    return {name: percentiles(values) for name, values in
            (("request", plain), ("request+enqueue", with_message), ("enqueue alone", alone),
             ("enqueue alone, this process's CPU", alone_cpu))}


def percentiles(values):
    """(p50, p99) in milliseconds."""
    ordered = sorted(values)
    return (statistics.median(ordered) * 1000, ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000)


def machine():
    """Cores, CPU model, Python, load average."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "?")
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}"


def start_fake(latency):
    """tests/fake_wechat.py in its own process; (process, base URL)."""
    process = subprocess.Popen([sys.executable, "-m", "tests.fake_wechat", "--latency", str(latency)], cwd=ROOT,
                               stdout=subprocess.PIPE, text=True)
    return process, process.stdout.readline().strip()


def run(database, args, tmp):
    """Load, drain with each sender count, measure the enqueue cost; print as it goes."""
    if database == "mariadb":
        rebuild_mariadb()
        url = MARIADB_URL
    else:
        url = f"sqlite:///{tmp}/notify_bench.db"
    fake, fake_url = start_fake(args.latency)
    try:
        env = settings(url, fake_url, args.redis_url)
        app = make_app(env)
        worker_ids = load(app, args.count)
        for senders in [] if args.enqueue_only else args.senders:
            requeue(app)
            result = drain(env, fake_url, senders, args.count)
            print(f"{database}: {args.count} messages, {senders} sender(s): {result['rate']:.0f} messages/s "
                  f"({result['seconds']:.1f} s), delivered {result['delivered']}, duplicates {result['duplicates']}",
                  flush=True)
        costs = enqueue_cost(app, worker_ids, args.samples)
        for name, (p50, p99) in costs.items():
            print(f"{database}: {name}: p50 {p50:.2f} ms, p99 {p99:.2f} ms ({args.samples} samples)", flush=True)
        added = costs["request+enqueue"][1] - costs["request"][1]
        alone = costs["enqueue alone"][1]
        print(f"{database}: enqueue p99 {alone:.2f} ms alone, +{added:.2f} ms on the request's p99: "
              f"{'goal met' if alone <= GOAL_P99_MS else 'GOAL MISSED'} (≤ {GOAL_P99_MS} ms)", flush=True)
    finally:
        fake.terminate()
        fake.wait()


def main():
    """Parse the options and run each database in turn."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--senders", default="1,4", type=lambda text: [int(n) for n in text.split(",")])
    parser.add_argument("--db", default="mariadb,sqlite", type=lambda text: text.split(","))
    parser.add_argument("--latency", type=float, default=0.0, help="the fake WeChat's answer time, seconds")
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/2")
    parser.add_argument("--enqueue-only", action="store_true", help="measure only the enqueue cost")
    args = parser.parse_args()
    print(f"notify_bench {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()}: {machine()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for database in args.db:
            run(database, args, tmp)
    print(f"done; {machine()}")


if __name__ == "__main__":
    main()
