"""Load benchmark of check-in: online scans (wrk + bench/scan.lua), offline batch upload, and /healthz.

Run from the repository root:

    .venv/bin/python bench/scan_bench.py [--connections 16] [--duration 30] [--workers 4]
                                         [--threads 1,4] [--passengers 5000]

It rebuilds the MariaDB database `fangang_bench` (migrations, seed, signing key), makes the
passengers, trips and captain tokens in-process with the app's own services, then for each
gunicorn configuration in --threads (1 = sync workers, N > 1 = gthread with N threads each)
starts gunicorn on 127.0.0.1:81xx and measures, against the same server:

  1. GET /healthz with wrk (the ceiling of this stack on this machine);
  2. online boarding scans, POST /api/checkin/v1/scans, with wrk and bench/scan.lua;
  3. offline batch upload, POST /api/checkin/v1/scans/batch, from concurrent Python uploaders.

Targets (issue 4, 2-core machine, MariaDB with innodb_flush_log_at_trx_commit=1): online at
least 500 scans/s at 16 connections with p99 at most 100 ms and no errors; batch ingest at
least 5,000 scans/s. Needs MariaDB on 127.0.0.1:3306 (root, no password), Redis on
127.0.0.1:6379 (db 3 is flushed) and wrk (`apt-get install -y wrk`).
"""
import argparse
import base64
import http.client
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BIN = ROOT / ".venv" / "bin"
DB_NAME = "fangang_bench"
DB_HOST, DB_PORT = "127.0.0.1", 3306
DATABASE_URL = f"mysql+pymysql://root@{DB_HOST}:{DB_PORT}/{DB_NAME}?charset=utf8mb4"
REDIS_URL = "redis://127.0.0.1:6379/3"
PORTS = range(8100, 8200)
COUNTY = ("640104", "兴庆区")
ONLINE_SEATS = 80  # the biggest vehicle the console accepts
SCAN_PATH = "/api/checkin/v1/scans"
BATCH_PATH = "/api/checkin/v1/scans/batch"

TARGET_ONLINE_RPS = 500
TARGET_P99_MS = 100
TARGET_BATCH_SPS = 5000

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "建国伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"


# --- environment -----------------------------------------------------------------------------


def bench_env(data_key, database_url=DATABASE_URL):
    """The environment the app sees, in this process, the flask CLI and gunicorn (`database_url`: another
    server's, e.g. bench/cluster_bench.py's cluster)."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("WECHAT_APP_ID", "WECHAT_APP_SECRET", "PROXY_COUNT", "FLASK_APP")}
    env.update({
        "APP_ENV": "development",
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        # Set here so nothing is written to instance/data.key; every process shares it.
        "DATA_KEY": data_key,
        "LOGIN_RATE_LIMIT": "100000 per minute",
        "PROFILE_RATE_LIMIT": "100000 per minute",
        "STAFF_LOGIN_RATE_LIMIT": "100000 per minute",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def mariadb(database=None, host=DB_HOST, port=DB_PORT):
    import pymysql
    return pymysql.connect(host=host, port=port, user="root", password="", database=database,
                           charset="utf8mb4", autocommit=True)


def server_settings(host=DB_HOST, port=DB_PORT):
    with mariadb(host=host, port=port) as conn, conn.cursor() as cur:
        cur.execute("SELECT @@version, @@innodb_flush_log_at_trx_commit, @@sync_binlog, @@log_bin, "
                    "@@innodb_buffer_pool_size, @@max_connections")
        version, flush, sync_binlog, log_bin, pool, max_conn = cur.fetchone()
    return {"version": version, "innodb_flush_log_at_trx_commit": int(flush), "sync_binlog": int(sync_binlog),
            "log_bin": int(log_bin), "innodb_buffer_pool_mb": int(pool) // 2**20, "max_connections": int(max_conn)}


def recreate_database(env, host=DB_HOST, port=DB_PORT, flush_redis=True):
    """Drop and rebuild DB_NAME on the server at host:port (migrations, seed, signing key), flushing the
    bench's Redis db unless `flush_redis` is false (a second server's data beside the first's)."""
    with mariadb(host=host, port=port) as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
        cur.execute(f"CREATE DATABASE {DB_NAME} CHARACTER SET utf8mb4")
    if flush_redis:
        import redis
        redis.Redis.from_url(REDIS_URL).flushdb()
    for command in (["db", "upgrade"], ["seed"], ["keys", "ensure"]):
        result = subprocess.run([str(BIN / "flask"), "--app", "wsgi", *command], cwd=ROOT, env=env,
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise SystemExit(f"flask {' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")


# --- data --------------------------------------------------------------------------------------


def make_app(env):
    """The app, configured from the bench environment (in this process)."""
    os.environ.update(env)
    from app import create_app
    return create_app()


def make_passengers(label, count, seats, destination, rng):
    """Insert `count` consenting workers with a green declaration and an approved application for
    today, plan them into vehicles of `seats` seats at load factor 1.0 and publish the plan, all
    through the app's planning service. Returns [(trip, captain_token, [(seat, qr)])].

    Call inside an app context. Workers, declarations and applications are bulk-inserted (what
    the mini-program would have done one request at a time); planning, publishing, tokens and
    QR signing use the services the HTTP API uses, so the server accepts what comes out.
    """
    from sqlalchemy import insert, select

    from app import crypto
    from app.extensions import db
    from app.models import Application, HealthEvent, Seat, StaffUser, Trip, Worker
    from app.models.base import utcnow
    from app.models.worker import BIRTH_DATE_CONTEXT
    from app.services.accounts import staff
    from app.services.credentials import credentials, signing
    from app.services.platform import tokens
    from app.services.platform.timeutil import local_today
    from app.services.transport import plans

    now = utcnow()
    today = local_today()
    prefix = f"bench-{label}-{uuid.uuid4().hex[:6]}-"
    rows = []
    for index in range(count):
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        rows.append({
            "openid": f"{prefix}{index}", "created_at": now, "updated_at": now, "consent_version": "2020-02-v1",
            "consent_at": now, "name": name, "id_number_mask": f"{COUNTY[0]}********{rng.randrange(10000):04d}",
            "gender": rng.choice(("男", "女")),
            "birth_date_cipher": crypto.cipher().encrypt(f"{rng.randrange(1970, 2000)}-01-01", BIRTH_DATE_CONTEXT),
            "hometown_county": COUNTY[1], "skills": ["普工"],
        })
    for chunk in _chunks(rows, 2000):
        db.session.execute(insert(Worker), chunk)
    worker_ids = db.session.scalars(select(Worker.id).where(Worker.openid.like(prefix + "%")).order_by(Worker.id)).all()
    events = [{"worker_id": worker_id, "kind": "declaration", "occurred_at": now - timedelta(hours=1),
               "recorded_at": now - timedelta(hours=1), "temperature": 36.5, "symptoms": [],
               "contact_with_case": False, "places": ["宁夏银川市"], "actor_kind": "worker", "actor_id": worker_id}
              for worker_id in worker_ids]
    applications = [{"worker_id": worker_id, "direction": "outbound", "county_code": COUNTY[0], "origin": COUNTY[1],
                     "origin_address": f"{COUNTY[1]}汽车站", "destination_city": destination,
                     "destination_address": "工业园区", "employer_name": f"示例企业{worker_id % 12}",
                     "earliest_departure": today, "latest_departure": today, "volunteer_captain": False,
                     "status": "approved", "active_worker_id": worker_id, "created_at": now, "updated_at": now}
                    for worker_id in worker_ids]
    for chunk in _chunks(events, 2000):
        db.session.execute(insert(HealthEvent), chunk)
    for chunk in _chunks(applications, 2000):
        db.session.execute(insert(Application), chunk)
    db.session.commit()

    planner = db.session.scalar(select(StaffUser).where(StaffUser.username == "bench-planner"))
    if planner is None:
        planner = staff.create_staff("bench-planner", base64.b64encode(os.urandom(18)).decode(), "county_operator",
                                     "压测编班", county_code=COUNTY[0], by=staff.CLI)
    plan, unplaced = plans.create_plan(planner, {
        "date_from": today, "date_to": today, "load_factor": 1.0, "departure_time": None,
        "vehicle_types": [{"name": f"压测{seats}座", "seats": seats, "count": count // seats + 10}],
        "notice": "压测数据"})
    if unplaced:
        raise SystemExit(f"{len(unplaced)} passengers left unplaced: {unplaced[:3]}")
    plans.publish(planner, plan.id)

    private_key = signing.private_key_of(signing.active_key())
    trips = db.session.scalars(select(Trip).where(Trip.plan_id == plan.id, Trip.status == "published")
                               .order_by(Trip.id)).all()
    result = []
    for trip in trips:
        token, _ = tokens.issue_token("worker", trip.captain_worker_id)
        valid_from, valid_until = signing.validity_window(trip.departure_date)
        seats_of_trip = db.session.scalars(select(Seat).where(Seat.trip_id == trip.id, Seat.status == "assigned")
                                           .order_by(Seat.seat_no)).all()
        # What signing.issue_for_seat does, with the private key decrypted once.
        qrs = [(seat.id, credentials.issue_credential(private_key, serial=seat.serial, trip_id=trip.id,
                                                      worker_id=seat.worker_id, valid_from=valid_from,
                                                      valid_until=valid_until)) for seat in seats_of_trip]
        result.append((trip.id, token, qrs))
    db.session.commit()
    return result


def _chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def prepare(env, configs, args, workdir):
    """Make every configuration's passengers; returns {label: {"pairs": path, "batch": [...]}}."""
    rng = random.Random(args.seed)
    app = make_app(env)
    data = {}
    with app.app_context():
        for number, label in enumerate(configs):
            started = time.perf_counter()
            online = make_passengers(label, args.passengers, ONLINE_SEATS, f"压测城市{number}-在线", rng)
            pairs = [(token, qr) for _, token, qrs in online for _, qr in qrs]
            rng.shuffle(pairs)
            path = workdir / f"pairs-{label}.tsv"
            path.write_text("".join(f"{token}\t{qr}\n" for token, qr in pairs))
            batch_seats = args.batch_size // 2
            batch = make_passengers(label + "-batch", args.batch_trips * batch_seats, batch_seats,
                                    f"压测城市{number}-离线", rng)
            data[label] = {"pairs": path, "pair_count": len(pairs), "online_trips": len(online), "batch": batch}
            print(f"  [{label}] {len(pairs)} passengers on {len(online)} trips of {ONLINE_SEATS} seats for online "
                  f"scans → {path}; {sum(len(q) for _, _, q in batch)} on {len(batch)} trips of {batch_seats} "
                  f"seats for batches ({time.perf_counter() - started:.1f} s)")
    from app.extensions import db
    with app.app_context():
        db.engine.dispose()
    return data


# --- gunicorn ------------------------------------------------------------------------------------


def free_port(used):
    for port in PORTS:
        if port in used:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise SystemExit("no free port in 8100-8199")


class Gunicorn:
    """gunicorn in its own session, stopped (TERM, then KILL) on exit, error or Ctrl-C."""

    def __init__(self, env, workers, threads, port, log_path, wsgi_app="wsgi:app", driver="pymysql"):
        self.port, self.log_path = port, log_path
        env = {**env, "WEB_CONCURRENCY": str(workers), "GUNICORN_THREADS": str(threads)}
        if driver != "pymysql":
            env["DATABASE_URL"] = DATABASE_URL.replace("+pymysql", f"+{driver}")
        self.log = open(log_path, "w")
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", wsgi_app],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.base = f"http://127.0.0.1:{port}"

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"gunicorn not ready after {timeout} s; see {self.log_path}")

    def worker_pids(self):
        out = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout
        return [int(pid) for pid in out.split()]

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


# --- CPU accounting -----------------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds():
    """(busy, stolen) CPU seconds of the whole machine since boot (all cores, /proc/stat). Stolen time is
    time the hypervisor gave our virtual CPUs to someone else: a noisy host."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, idle, iowait, irq, softirq, steal = (int(value) for value in fields[:8])
    return (user + nice + system + irq + softirq) / _TICK, steal / _TICK


def _busy_seconds():
    return _cpu_seconds()[0]


def _stat_seconds(pid):
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None, 0.0
    rest = raw[raw.rindex(")") + 2:].split()
    return raw[raw.index("(") + 1:raw.rindex(")")], (int(rest[11]) + int(rest[12])) / _TICK


def _named_seconds(names):
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            name, seconds = _stat_seconds(entry.name)
            if name in names:
                total += seconds
    return total


def mariadb_seconds():
    """CPU seconds MariaDB's server has used since it started (when it runs on this machine)."""
    return _named_seconds(("mariadbd", "mysqld"))


def _own_seconds():
    """CPU of this process and its finished children (wrk, the flask CLI)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


class CpuMeter:
    """Where the machine's CPU went during a measurement, in cores: gunicorn, MariaDB, Redis, the
    load generator (wrk or the Python uploaders) and everything else. On a shared machine, other
    people's work skews the figures: "other" says how much."""

    def __init__(self, server):
        self.server = server

    def _sample(self):
        pids = [self.server.process.pid, *self.server.worker_pids()]
        busy, stolen = _cpu_seconds()
        return {"busy": busy, "stolen": stolen, "gunicorn": sum(_stat_seconds(pid)[1] for pid in pids),
                "mariadb": mariadb_seconds(), "redis": _named_seconds(("redis-server",)),
                "client": _own_seconds()}

    def __enter__(self):
        self.wall, self.before = time.perf_counter(), self._sample()
        return self

    def __exit__(self, *exc):
        wall = time.perf_counter() - self.wall
        after = self._sample()
        delta = {key: max(0.0, after[key] - self.before[key]) / wall for key in after}
        self.cores = {key: delta[key] for key in ("gunicorn", "mariadb", "redis", "client")}
        self.cores["other"] = max(0.0, delta["busy"] - sum(self.cores.values()))
        self.cores["total"] = delta["busy"]
        self.cores["stolen"] = delta["stolen"]
        return False

    def text(self):
        return "CPU in cores: " + ", ".join(f"{name} {value:.2f}" for name, value in self.cores.items())


def wait_for_quiet(max_wait, threshold=0.25):
    """Wait (at most max_wait s) until the machine idles: busy below `threshold` cores over 2 s."""
    deadline = time.monotonic() + max_wait
    warned = False
    while True:
        before = _busy_seconds()
        time.sleep(2)
        busy = (_busy_seconds() - before) / 2
        if busy < threshold:
            return busy
        if time.monotonic() >= deadline:
            print(f"  WARNING: the machine is busy with other work ({busy:.2f} cores); measuring anyway")
            return busy
        if not warned:
            print(f"  the machine is busy with other work ({busy:.2f} cores); waiting up to {max_wait} s for it "
                  f"to settle ...")
            warned = True


# --- measurements ------------------------------------------------------------------------------


def run_wrk(args, url, seconds, script=None, script_args=()):
    command = ["wrk", f"-t{args.wrk_threads}", f"-c{args.connections}", f"-d{seconds}s", "--latency",
               "--timeout", "10s"]
    if script:
        command += ["-s", str(script)]
    command.append(url)
    if script_args:
        command += ["--", *script_args]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"wrk failed: {result.stderr or result.stdout}")
    return result.stdout


def parse_wrk(output):
    """Requests/s, latency percentiles, non-2xx and socket errors from wrk's own text output."""
    def number(pattern, default=0.0):
        match = re.search(pattern, output)
        return float(match.group(1)) if match else default

    def ms(label):
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        if not match:
            return None
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return {
        "rps": number(r"Requests/sec:\s+([\d.]+)"),
        "requests": int(number(r"(\d+) requests in")),
        "p50_ms": ms("50"), "p90_ms": ms("90"), "p99_ms": ms("99"),
        "non2xx": int(number(r"Non-2xx or 3xx responses: (\d+)")),
        "socket_errors": sum(int(n) for n in socket_errors.groups()) if socket_errors else 0,
    }


def measure_healthz(args, server):
    return parse_wrk(run_wrk(args, server.base + "/healthz", args.duration))


def measure_scans(args, server, pairs_path, device_id):
    output = run_wrk(args, server.base, args.duration, ROOT / "bench" / "scan.lua",
                     [str(pairs_path), device_id, args.order, str(args.wrk_threads)])
    line = next((line for line in output.splitlines() if line.startswith("SCAN_RESULT ")), None)
    if line is None:
        raise SystemExit(f"bench/scan.lua printed no result:\n{output}")
    result = json.loads(line[len("SCAN_RESULT "):])
    result["socket_errors"] = result["connect"] + result["read"] + result["write"] + result["timeout"]
    result["errors"] = result["non2xx"] + result["socket_errors"]
    return result


def verdict_mix(device_id, host=DB_HOST, port=DB_PORT):
    with mariadb(DB_NAME, host, port) as conn, conn.cursor() as cur:
        cur.execute("SELECT verdict, reason, COUNT(*) FROM scan_events WHERE device_id = %s "
                    "GROUP BY verdict, reason ORDER BY COUNT(*) DESC", (device_id,))
        return [(verdict, reason, int(count)) for verdict, reason, count in cur.fetchall()]


def batch_body(qrs, device_id):
    """One offline upload: every passenger boarded, then every passenger arrived."""
    start = datetime.now(UTC) - timedelta(minutes=30)
    scans = []
    for kind, offset in (("board", 0), ("arrive", 15 * 60)):
        for number, (_, qr) in enumerate(qrs):
            moment = start + timedelta(seconds=offset + number)
            scans.append({"qr": qr, "kind": kind, "temperature": 36.5, "symptoms": [],
                          "client_event_id": str(uuid.uuid4()), "scanned_at": moment.isoformat(),
                          "device_id": device_id})
    return json.dumps({"scans": scans})


def measure_batch(args, server, trips, device_id):
    """Uploaders in threads, each sending whole trips (board + arrive) until none are left."""
    bodies = [(token, batch_body(qrs, device_id), 2 * len(qrs)) for _, token, qrs in trips]
    queue = list(reversed(bodies))
    lock = threading.Lock()
    results = {"scans": 0, "requests": 0, "bad_status": 0, "verdicts": {}, "latencies": []}

    def uploader():
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        while True:
            with lock:
                if not queue:
                    break
                token, body, count = queue.pop()
            started = time.perf_counter()
            try:
                conn.request("POST", BATCH_PATH, body=body, headers={
                    "Content-Type": "application/json", "Authorization": f"Bearer {token}"})
                response = conn.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
                with lock:
                    results["bad_status"] += 1
                continue
            elapsed = time.perf_counter() - started
            with lock:
                results["requests"] += 1
                results["latencies"].append(elapsed)
                if response.status != 200:
                    results["bad_status"] += 1
                    continue
                for answer in json.loads(payload)["results"]:
                    key = f"{answer['verdict']}:{answer['reason']}"
                    results["verdicts"][key] = results["verdicts"].get(key, 0) + 1
                    results["scans"] += 1
        conn.close()

    threads = [threading.Thread(target=uploader) for _ in range(args.uploaders)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    latencies = sorted(results["latencies"]) or [0]
    return {**results, "seconds": wall, "sps": results["scans"] / wall if wall else 0,
            "batch_p50_s": latencies[len(latencies) // 2], "batch_max_s": latencies[-1]}


# --- report --------------------------------------------------------------------------------------


def config_label(threads):
    return "sync" if threads == 1 else f"gthread{threads}"


def describe(args, threads):
    kind = "sync" if threads == 1 else f"gthread × {threads} threads"
    return f"{args.workers} workers, {kind}"


def print_summary(args, settings, results):
    labels = list(results)
    rows = []

    def row(name, values, fmt="{}"):
        rows.append((name, [fmt.format(value) if value is not None else "-" for value in values]))

    def met(flag):
        return "met" if flag else "NOT met"

    online_ok = {}
    for label in labels:
        r = results[label]
        s = r["scan"]
        online_ok[label] = (s["rps"] >= TARGET_ONLINE_RPS and s["p99_ms"] <= TARGET_P99_MS and s["errors"] == 0)
    row("gunicorn", [results[label]["describe"] for label in labels])
    row("healthz req/s", [results[label]["healthz"]["rps"] for label in labels], "{:.0f}")
    row("healthz p99 ms", [results[label]["healthz"]["p99_ms"] for label in labels], "{:.1f}")
    row("scan req/s", [results[label]["scan"]["rps"] for label in labels], "{:.0f}")
    row("scan p50 ms", [results[label]["scan"]["p50_ms"] for label in labels], "{:.1f}")
    row("scan p90 ms", [results[label]["scan"]["p90_ms"] for label in labels], "{:.1f}")
    row("scan p99 ms", [results[label]["scan"]["p99_ms"] for label in labels], "{:.1f}")
    row("scan errors (non-2xx+socket)", [f"{results[label]['scan']['errors']} "
                                         f"({results[label]['scan']['non2xx']}+{results[label]['scan']['socket_errors']})"
                                         for label in labels])
    row("scan verdicts allow/deny/isolate", ["/".join(str(sum(count for verdict, _, count in results[label]["mix"]
                                                           if verdict == wanted))
                                                   for wanted in ("allow", "deny", "isolate")) for label in labels])
    row("  of which already_boarded", [sum(count for _, reason, count in results[label]["mix"]
                                           if reason == "already_boarded") for label in labels])
    row("scan / healthz", [results[label]["scan"]["rps"] / results[label]["healthz"]["rps"]
                           if results[label]["healthz"]["rps"] else None for label in labels], "{:.2f}")
    row("CPU cores during scans: gunicorn/db/wrk", [
        "{gunicorn:.2f}/{mariadb:.2f}/{client:.2f}".format(**results[label]["scan"]["cpu"]) for label in labels])
    row("CPU by others+stolen: hz/scan/batch", [
        "/".join(f"{results[label][phase]['cpu']['other'] + results[label][phase]['cpu']['stolen']:.2f}"
                 for phase in ("healthz", "scan", "batch")) for label in labels])
    row("batch scans/s", [results[label]["batch"]["sps"] for label in labels], "{:.0f}")
    row("batch upload p50 / max s", [f"{results[label]['batch']['batch_p50_s']:.2f} / "
                                     f"{results[label]['batch']['batch_max_s']:.2f}" for label in labels])
    row("CPU cores during batch: gunicorn/db/py", [
        "{gunicorn:.2f}/{mariadb:.2f}/{client:.2f}".format(**results[label]["batch"]["cpu"]) for label in labels])
    row("batch failed requests", [results[label]["batch"]["bad_status"] for label in labels])
    row(f"online ≥{TARGET_ONLINE_RPS}/s, p99 ≤{TARGET_P99_MS} ms, 0 err",
        [met(online_ok[label]) for label in labels])
    row(f"batch ≥{TARGET_BATCH_SPS:,}/s", [met(results[label]["batch"]["sps"] >= TARGET_BATCH_SPS)
                                           for label in labels])

    width = max(len(name) for name, _ in rows) + 2
    column = max(14, *(len(value) + 2 for _, values in rows for value in values))
    print()
    print("=" * (width + column * len(labels)))
    print(f"SUMMARY  {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}  {machine()}  commit {git_commit()}")
    if args.app != "wsgi:app" or args.driver != "pymysql":
        print(f"VARIANT: app {args.app}, driver {args.driver}")
    print(f"MariaDB {settings['version']}, innodb_flush_log_at_trx_commit={settings['innodb_flush_log_at_trx_commit']}"
          f", sync_binlog={settings['sync_binlog']}, log_bin={settings['log_bin']}; wrk -t{args.wrk_threads} "
          f"-c{args.connections} -d{args.duration}s on the same machine; order={args.order}; "
          f"batch: {args.uploaders} uploaders × {args.batch_size} scans")
    print("-" * (width + column * len(labels)))
    print("".ljust(width) + "".join(label.rjust(column) for label in labels))
    for name, values in rows:
        print(name.ljust(width) + "".join(value.rjust(column) for value in values))
    print("=" * (width + column * len(labels)))
    noisy = [f"{label} {phase}" for label in labels for phase in ("healthz", "scan", "batch")
             if results[label][phase]["cpu"]["other"] + results[label][phase]["cpu"]["stolen"] > 0.2]
    if noisy:
        print(f"WARNING: other work on the machine (or the hypervisor) took more than 0.2 cores during: "
              f"{', '.join(noisy)}; those figures are low. Run again on a quiet machine.")


def git_commit():
    result = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True)
    return result.stdout.strip() or "?"


def machine():
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"


# --- main ------------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--duration", type=int, default=30, help="seconds of each wrk run (default 30)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (WEB_CONCURRENCY, default 4)")
    parser.add_argument("--threads", default="1,4",
                        help="comma-separated GUNICORN_THREADS to compare: 1 = sync workers, N = gthread (default 1,4)")
    parser.add_argument("--passengers", type=int, default=20000,
                        help="passengers with a QR for the online scans, per configuration (default 20000: "
                             "enough that a 30 s run at the 500/s target boards each at most once)")
    parser.add_argument("--order", choices=("sequential", "random"), default="sequential",
                        help="sequential: no passenger twice until the pairs run out; random: with replacement")
    parser.add_argument("--uploaders", type=int, default=4, help="concurrent batch uploaders (default 4)")
    parser.add_argument("--batch-size", type=int, default=500, help="scans per batch: board + arrive (default 500)")
    parser.add_argument("--batch-trips", type=int, default=16, help="batches (one trip each) per configuration")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--app", default="wsgi:app",
                        help="the WSGI app gunicorn serves (default wsgi:app; another module on PYTHONPATH lets "
                             "you measure a variant)")
    parser.add_argument("--driver", default="pymysql",
                        help="the SQLAlchemy MySQL driver gunicorn uses: pymysql (default, as in requirements) or "
                             "mysqldb (mysqlclient, if installed) to compare")
    parser.add_argument("--wait-quiet", type=int, default=120,
                        help="before each measurement wait up to this many seconds for other work on the machine "
                             "to stop (default 120; 0 = do not wait)")
    parser.add_argument("--hold", action="store_true",
                        help="after preparing, start gunicorn (first configuration) and wait for Ctrl-C: "
                             "drive it with wrk and bench/scan.lua and profile it (py-spy)")
    args = parser.parse_args()
    threads_list = [int(value) for value in args.threads.split(",") if value.strip()]
    configs = [config_label(threads) for threads in threads_list]

    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: install it with  apt-get install -y wrk  (Debian package 'wrk')")
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))

    settings = server_settings()
    print(f"machine: {machine()}")
    print(f"MariaDB {settings['version']}: innodb_flush_log_at_trx_commit={settings['innodb_flush_log_at_trx_commit']}"
          f" (1 = durable commits), sync_binlog={settings['sync_binlog']}, log_bin={settings['log_bin']}, "
          f"buffer pool {settings['innodb_buffer_pool_mb']} MiB")
    if settings["innodb_flush_log_at_trx_commit"] != 1:
        print("WARNING: innodb_flush_log_at_trx_commit is not 1: commits are not durable, "
              "so the figures are not those the targets ask for")
    expected = args.duration * TARGET_ONLINE_RPS
    if args.order == "sequential" and args.passengers < expected * 1.3:
        print(f"note: {args.passengers} passengers; at {TARGET_ONLINE_RPS}/s a {args.duration} s run scans about "
              f"{expected}, and each wrk thread walks its own share: once a share runs out its repeats are "
              f"already_boarded (cheaper refusals; the summary counts them)")

    env = bench_env(base64.urlsafe_b64encode(os.urandom(32)).decode())
    workdir = Path(tempfile.mkdtemp(prefix="fangang-scan-bench-"))
    print(f"preparing database {DB_NAME} (migrations, seed, signing key) and Redis db 3 ...")
    started = time.perf_counter()
    recreate_database(env)
    data = prepare(env, configs, args, workdir)
    print(f"prepared in {time.perf_counter() - started:.1f} s; files and gunicorn logs in {workdir}")

    results = {}
    used_ports = set()
    server = None
    try:
        for threads, label in zip(threads_list, configs):
            port = free_port(used_ports)
            used_ports.add(port)
            print(f"\n[{label}] gunicorn {describe(args, threads)} on 127.0.0.1:{port}")
            server = Gunicorn(env, args.workers, threads, port, workdir / f"gunicorn-{label}.log", args.app,
                              args.driver)
            server.wait_ready()
            if args.hold:
                print(f"  holding for profiling: master pid {server.process.pid}, workers {server.worker_pids()}, "
                      f"pairs {data[label]['pairs']}, {server.base}. Ctrl-C (or SIGTERM) stops it.", flush=True)
                while True:
                    signal.pause()
            run_wrk(args, server.base + "/healthz", 3)  # warm-up: imports, DB and Redis connections per worker
            wait_for_quiet(args.wait_quiet)
            with CpuMeter(server) as cpu:
                healthz = measure_healthz(args, server)
            healthz["cpu"] = cpu.cores
            print(f"  healthz: {healthz['rps']:.0f} req/s, p50 {healthz['p50_ms']:.1f} ms, "
                  f"p99 {healthz['p99_ms']:.1f} ms, non-2xx {healthz['non2xx']}, socket errors {healthz['socket_errors']}")
            print(f"           {cpu.text()}")
            device = f"wrk-{label}"
            wait_for_quiet(args.wait_quiet)
            with CpuMeter(server) as cpu:
                scan = measure_scans(args, server, data[label]["pairs"], device)
            scan["cpu"] = cpu.cores
            print(f"  scans:   {scan['rps']:.0f} req/s, p50 {scan['p50_ms']:.1f} ms, p90 {scan['p90_ms']:.1f} ms, "
                  f"p99 {scan['p99_ms']:.1f} ms, max {scan['max_ms']:.0f} ms, {scan['requests']} requests, "
                  f"non-2xx {scan['non2xx']}, socket errors {scan['socket_errors']}")
            print(f"           {cpu.text()}")
            mix = verdict_mix(device)
            stored = sum(count for *_, count in mix)
            print(f"  stored scan events: {stored} (" + ", ".join(f"{verdict}/{reason} {count}"
                                                              for verdict, reason, count in mix) + ")")
            wait_for_quiet(args.wait_quiet)
            with CpuMeter(server) as cpu:
                batch = measure_batch(args, server, data[label]["batch"], f"batch-{label}")
            batch["cpu"] = cpu.cores
            print(f"  batch:   {batch['sps']:.0f} scans/s ({batch['scans']} scans in {batch['requests']} uploads, "
                  f"{batch['seconds']:.1f} s; upload p50 {batch['batch_p50_s']:.2f} s, max {batch['batch_max_s']:.2f} s,"
                  f" failed {batch['bad_status']}); answers: "
                  + ", ".join(f"{key} {count}" for key, count in sorted(batch["verdicts"].items())))
            print(f"           {cpu.text()}")
            results[label] = {"describe": describe(args, threads), "healthz": healthz, "scan": scan,
                              "batch": batch, "mix": mix}
            server.stop()
            server = None
    except KeyboardInterrupt:
        print("\ninterrupted")
        return 130
    finally:
        if server is not None:
            server.stop()
    print_summary(args, settings, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
